"""Complaints are compared by keys of the third party they name, stored beside the name and the web
address and indexed (with the phone): the name without case or spaces, the address as host and path

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 23:30:00.000000

"""
from urllib.parse import urlsplit

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


# The keys as this revision defines them (portal/tickets/kinds/leak_complaint.py keeps them since).
def _name_key(name):
    return "".join((name or "").split()).casefold()


def _url_key(url):
    if not url:
        return ""
    parts = urlsplit(url.strip())
    host = parts.netloc.rpartition("@")[2].lower().removeprefix("www.")
    return f"{host}{parts.path}".rstrip("/").lower()


def upgrade():
    with op.batch_alter_table('leak_complaint_details', schema=None) as batch_op:
        batch_op.add_column(sa.Column('third_party_name_key', sa.String(length=400), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('third_party_url_key', sa.String(length=500), nullable=False, server_default=''))
    details = sa.table('leak_complaint_details', sa.column('ticket_id', sa.Integer),
                       sa.column('third_party_name', sa.String), sa.column('third_party_url', sa.String),
                       sa.column('third_party_name_key', sa.String), sa.column('third_party_url_key', sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(details.c.ticket_id, details.c.third_party_name, details.c.third_party_url)
                              .where(sa.or_(details.c.third_party_name.is_not(None),
                                            details.c.third_party_url.is_not(None)))).all()
    for ticket_id, name, url in rows:
        connection.execute(details.update().where(details.c.ticket_id == ticket_id)
                           .values(third_party_name_key=_name_key(name), third_party_url_key=_url_key(url)))
    with op.batch_alter_table('leak_complaint_details', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leak_complaint_details_third_party_name_key'), ['third_party_name_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_leak_complaint_details_third_party_url_key'), ['third_party_url_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_leak_complaint_details_third_party_phone'), ['third_party_phone'], unique=False)


def downgrade():
    with op.batch_alter_table('leak_complaint_details', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leak_complaint_details_third_party_phone'))
        batch_op.drop_index(batch_op.f('ix_leak_complaint_details_third_party_url_key'))
        batch_op.drop_index(batch_op.f('ix_leak_complaint_details_third_party_name_key'))
        batch_op.drop_column('third_party_url_key')
        batch_op.drop_column('third_party_name_key')
