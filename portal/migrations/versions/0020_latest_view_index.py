"""An index of the access log by customer and id: a customer's latest view (what My data is kept
under) is found in one step, however often the customer has been viewed

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 23:10:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customer_data_views', schema=None) as batch_op:
        batch_op.create_index('ix_customer_data_views_customer_latest', ['customer_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('customer_data_views', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_data_views_customer_latest')
