"""A counter the board's lists are kept under: moved on by every commit that changes what they show
(portal/board_version.py)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 17:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('change_counters',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_change_counters'))
    )


def downgrade():
    op.drop_table('change_counters')
