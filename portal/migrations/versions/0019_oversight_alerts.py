"""Insider-leak alerts: one row per member per local day (unique), with the count, the usual and the
thresholds it was raised on; an index of the access log by day and member, which the alert and the
review of a member's access read


Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 19:25:06.200828

"""
from alembic import op
import sqlalchemy as sa

import portal.db


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('oversight_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('distinct_customers', sa.Integer(), nullable=False),
    sa.Column('usual', sa.Float(), nullable=False),
    sa.Column('threshold_customers', sa.Integer(), nullable=False),
    sa.Column('threshold_factor', sa.Float(), nullable=False),
    sa.Column('raised_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_members.id'], name=op.f('fk_oversight_alerts_staff_id_staff_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oversight_alerts')),
    sa.UniqueConstraint('staff_id', 'day', name=op.f('uq_oversight_alerts_staff_id'))
    )
    with op.batch_alter_table('customer_data_views', schema=None) as batch_op:
        batch_op.create_index('ix_customer_data_views_day_staff', ['viewed_on', 'staff_id', 'customer_id'], unique=False)



def downgrade():
    with op.batch_alter_table('customer_data_views', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_data_views_day_staff')

    op.drop_table('oversight_alerts')
