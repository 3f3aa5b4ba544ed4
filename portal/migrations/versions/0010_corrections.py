"""Customers correct their own data: a version on each contact point, where each change was made,
a proposed full name, and the details of correction requests

``contact_points.version`` is checked by every change (two tabs: the second save is refused);
``data_changes.via`` says where a change was made (the portal, the staff); ``customers.
proposed_full_name`` waits for staff's decision; ``correction_details`` holds what a correction
request is about (the changes, the proposed name and the decision on it).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import portal.db


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

SOURCES = "'phone', 'web_form', 'portal', 'staff'"


def upgrade():
    with op.batch_alter_table('contact_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proposed_full_name', sa.String(length=200), nullable=True))

    with op.batch_alter_table('data_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('via', sa.String(length=20), nullable=True))
        batch_op.create_check_constraint(op.f('ck_data_changes_via_known'), f"via IN ({SOURCES})")

    op.create_table(
        'correction_details',
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.Column('proposed_name', sa.String(length=200), nullable=True),
        sa.Column('name_decision', sa.String(length=10), nullable=True),
        sa.Column('name_reason', sa.Text(), nullable=True),
        sa.Column('name_decided_at', portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('name_decided_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("name_decision IN ('approved', 'rejected')",
                           name=op.f('ck_correction_details_name_decision_known')),
        sa.CheckConstraint("name_decision IS NULL OR name_decision = 'approved' OR name_reason IS NOT NULL",
                           name=op.f('ck_correction_details_rejection_has_reason')),
        sa.ForeignKeyConstraint(['name_decided_by_id'], ['staff_members.id'],
                                name=op.f('fk_correction_details_name_decided_by_id_staff_members')),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_correction_details_ticket_id_tickets')),
        sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_correction_details')),
    )


def downgrade():
    op.drop_table('correction_details')
    with op.batch_alter_table('data_changes', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_data_changes_via_known'), type_='check')
        batch_op.drop_column('via')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('proposed_full_name')
    with op.batch_alter_table('contact_points', schema=None) as batch_op:
        batch_op.drop_column('version')
