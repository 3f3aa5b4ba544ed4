"""Breach incidents: the complaints raised into each, the customers affected, the notices' state

``breach_incidents`` holds what the notice to the authority and the written record say, the 72-hour
clock's start (``discovered_at``) and the notices' state; ``incident_complaints`` the complaints each
incident was raised from; ``incident_affected_customers`` one row per affected customer per incident,
with when their notice joined the outbox. The access log learns two pages: an incident's page and a
board member's review of a colleague's access history.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 19:20:13.453031

"""
from alembic import op
import sqlalchemy as sa

import portal.db


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

OLD_PAGES = "'ticket', 'queue', 'search', 'record'"
NEW_PAGES = "'ticket', 'queue', 'search', 'record', 'incident', 'review'"


def _replace_page_check(values: str) -> None:
    with op.batch_alter_table('customer_data_views', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_customer_data_views_page_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_customer_data_views_page_known'), sa.text(f"page IN ({values})"))


def upgrade():
    _replace_page_check(NEW_PAGES)
    op.create_table('breach_incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('discovered_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('occurred_from', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('occurred_until', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('place', sa.Text(), nullable=False),
    sa.Column('acts', sa.Text(), nullable=False),
    sa.Column('parties', sa.Text(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('volume', sa.Text(), nullable=False),
    sa.Column('consequences', sa.Text(), nullable=False),
    sa.Column('measures', sa.Text(), nullable=False),
    sa.Column('authority_notified_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('authority_notified_by_id', sa.Integer(), nullable=True),
    sa.Column('authority_reference', sa.String(length=100), nullable=True),
    sa.Column('customers_notice_started_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('customers_notice_started_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('closed_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_breach_incidents_status_known')),
    sa.ForeignKeyConstraint(['authority_notified_by_id'], ['staff_members.id'], name=op.f('fk_breach_incidents_authority_notified_by_id_staff_members')),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_members.id'], name=op.f('fk_breach_incidents_created_by_id_staff_members')),
    sa.ForeignKeyConstraint(['customers_notice_started_by_id'], ['staff_members.id'], name=op.f('fk_breach_incidents_customers_notice_started_by_id_staff_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_breach_incidents'))
    )
    op.create_table('incident_affected_customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('added_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('notice_queued_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("source IN ('complaint', 'picked', 'imported')", name=op.f('ck_incident_affected_customers_source_known')),
    sa.ForeignKeyConstraint(['added_by_id'], ['staff_members.id'], name=op.f('fk_incident_affected_customers_added_by_id_staff_members')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_incident_affected_customers_customer_id_customers')),
    sa.ForeignKeyConstraint(['incident_id'], ['breach_incidents.id'], name=op.f('fk_incident_affected_customers_incident_id_breach_incidents')),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox_messages.id'], name=op.f('fk_incident_affected_customers_outbox_id_outbox_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_affected_customers')),
    sa.UniqueConstraint('incident_id', 'customer_id', name='uq_incident_affected_customers_one_row')
    )
    with op.batch_alter_table('incident_affected_customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_affected_customers_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_incident_affected_customers_waiting', ['incident_id', 'notice_queued_at'], unique=False)

    op.create_table('incident_complaints',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('added_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['staff_members.id'], name=op.f('fk_incident_complaints_added_by_id_staff_members')),
    sa.ForeignKeyConstraint(['incident_id'], ['breach_incidents.id'], name=op.f('fk_incident_complaints_incident_id_breach_incidents')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_incident_complaints_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('incident_id', 'ticket_id', name=op.f('pk_incident_complaints'))
    )
    with op.batch_alter_table('incident_complaints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_complaints_ticket_id'), ['ticket_id'], unique=False)



def downgrade():
    with op.batch_alter_table('incident_complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_complaints_ticket_id'))

    op.drop_table('incident_complaints')
    with op.batch_alter_table('incident_affected_customers', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_affected_customers_waiting')
        batch_op.drop_index(batch_op.f('ix_incident_affected_customers_customer_id'))

    op.drop_table('incident_affected_customers')
    op.drop_table('breach_incidents')
    op.execute("DELETE FROM customer_data_views WHERE page IN ('incident', 'review')")
    _replace_page_check(OLD_PAGES)
