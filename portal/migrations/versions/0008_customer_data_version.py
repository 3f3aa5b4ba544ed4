"""A version on each customer's record, moved on by every change to it: pages drawn from the record
are kept (portal/page_cache.py) only while it has not moved

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 15:17:41.498917

"""
from alembic import op
import sqlalchemy as sa

import portal.db


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data_version', sa.Integer(), server_default='1', nullable=False))



def downgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('data_version')

