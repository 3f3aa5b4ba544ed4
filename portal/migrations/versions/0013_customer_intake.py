"""Customers come in from the board and from the sales system: a record's key in the sales system
(unique), "import" as where a change in the history came from and as a source of data, the board's
record page in the access log, and sessions of an address held by several records.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 16:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

OLD_SOURCES = "'phone', 'web_form', 'portal', 'staff'"
NEW_SOURCES = "'phone', 'web_form', 'portal', 'staff', 'import'"
OLD_PAGES = "'ticket', 'queue', 'search'"
NEW_PAGES = "'ticket', 'queue', 'search', 'record'"


def _replace_check(table: str, name: str, column: str, values: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f'ck_{table}_{name}'), type_='check')
        batch_op.create_check_constraint(op.f(f'ck_{table}_{name}'), sa.text(f"{column} IN ({values})"))


def upgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_customers_external_id'), ['external_id'])
    _replace_check('data_changes', 'via_known', 'via', NEW_SOURCES)
    with op.batch_alter_table('customer_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('several_records', sa.Boolean(), server_default=sa.false(), nullable=False))
    _replace_check('customers', 'source_known', 'source', NEW_SOURCES)
    _replace_check('contact_points', 'source_known', 'source', NEW_SOURCES)
    _replace_check('customer_data_views', 'page_known', 'page', NEW_PAGES)


def downgrade():
    # Rows that only the new values allow go back to the nearest old ones.
    op.execute("UPDATE customers SET source = 'staff' WHERE source = 'import'")
    op.execute("UPDATE contact_points SET source = 'staff' WHERE source = 'import'")
    op.execute("UPDATE customer_data_views SET page = 'search' WHERE page = 'record'")
    _replace_check('customer_data_views', 'page_known', 'page', OLD_PAGES)
    _replace_check('contact_points', 'source_known', 'source', OLD_SOURCES)
    _replace_check('customers', 'source_known', 'source', OLD_SOURCES)
    with op.batch_alter_table('customer_sessions', schema=None) as batch_op:
        batch_op.drop_column('several_records')
    op.execute("UPDATE data_changes SET via = 'staff' WHERE via = 'import'")
    _replace_check('data_changes', 'via_known', 'via', OLD_SOURCES)
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_customers_external_id'), type_='unique')
        batch_op.drop_column('external_id')
