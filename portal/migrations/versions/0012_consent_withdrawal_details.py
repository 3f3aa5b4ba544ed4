"""Consent-withdrawal requests keep which purposes they carry to the company's partners.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 17:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('consent_withdrawal_details',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('purposes', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_consent_withdrawal_details_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_consent_withdrawal_details'))
    )


def downgrade():
    op.drop_table('consent_withdrawal_details')
