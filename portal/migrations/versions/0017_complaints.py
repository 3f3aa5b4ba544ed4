"""Leak complaints and misuse reports filed by customers: their detail tables, with the board's answer

``leak_complaint_details`` holds what leaked, where it was seen and when; ``misuse_report_details``
what kind of misuse and when. Both hold the board's answer (finding, reason, remedy), which a complaint
needs before it is resolved. ``complaint_evidence`` lists the files sent with a leak complaint (kept
on disk under random names, with their size, type and SHA-256).

Revision ID: 0017
Revises: 0014
Create Date: 2026-11-30 18:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import portal.db


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0014'
branch_labels = None
depends_on = None

FINDINGS = "'confirmed', 'not_confirmed', 'unclear'"
MISUSES = "'abuse', 'security', 'credentials'"
COMPLETE = ("finding IS NULL OR (finding_reason IS NOT NULL AND remedy IS NOT NULL"
            " AND answered_at IS NOT NULL)")


def _answer_columns(table: str) -> list:
    return [
        sa.Column('finding', sa.String(length=20), nullable=True),
        sa.Column('finding_reason', sa.Text(), nullable=True),
        sa.Column('remedy', sa.Text(), nullable=True),
        sa.Column('answered_at', portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('answered_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint(f"finding IN ({FINDINGS})", name=op.f(f'ck_{table}_finding_known')),
        sa.CheckConstraint(COMPLETE, name=op.f(f'ck_{table}_finding_is_complete')),
        sa.ForeignKeyConstraint(['answered_by_id'], ['staff_members.id'],
                                name=op.f(f'fk_{table}_answered_by_id_staff_members')),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f(f'fk_{table}_ticket_id_tickets')),
        sa.PrimaryKeyConstraint('ticket_id', name=op.f(f'pk_{table}')),
    ]


def upgrade():
    op.create_table(
        'leak_complaint_details',
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('leaked', sa.JSON(), nullable=False),
        sa.Column('leaked_other', sa.String(length=200), nullable=True),
        sa.Column('third_party_name', sa.String(length=200), nullable=True),
        sa.Column('third_party_phone', sa.String(length=20), nullable=True),
        sa.Column('third_party_url', sa.String(length=500), nullable=True),
        sa.Column('seen_on', sa.Date(), nullable=True),
        *_answer_columns('leak_complaint_details'),
    )
    op.create_table(
        'misuse_report_details',
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('misuse', sa.String(length=20), nullable=True),
        sa.Column('happened_on', sa.Date(), nullable=True),
        sa.CheckConstraint(f"misuse IN ({MISUSES})", name=op.f('ck_misuse_report_details_misuse_known')),
        *_answer_columns('misuse_report_details'),
    )
    op.create_table(
        'complaint_evidence',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('stored_name', sa.String(length=64), nullable=False),
        sa.Column('original_name', sa.String(length=200), nullable=False),
        sa.Column('content_type', sa.String(length=40), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("content_type IN ('image/jpeg', 'image/png', 'application/pdf')",
                           name=op.f('ck_complaint_evidence_type_known')),
        sa.ForeignKeyConstraint(['ticket_id'], ['leak_complaint_details.ticket_id'],
                                name=op.f('fk_complaint_evidence_ticket_id_leak_complaint_details')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_evidence')),
        sa.UniqueConstraint('stored_name', name=op.f('uq_complaint_evidence_stored_name')),
    )
    with op.batch_alter_table('complaint_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_evidence_ticket_id'), ['ticket_id'], unique=False)


def downgrade():
    op.drop_table('complaint_evidence')
    op.drop_table('misuse_report_details')
    op.drop_table('leak_complaint_details')
