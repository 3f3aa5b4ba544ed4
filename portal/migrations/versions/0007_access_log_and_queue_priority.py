"""Access log by page and local day; "customer replied" marker; queues ordered by priority

``customer_data_views`` gains the page that showed the data (a ticket, a queue, a search), the
member's name and role as they were, the ticket's reference and the local day (Asia/Ho_Chi_Minh) of
the view; existing rows, all from ticket pages, are filled in from the staff and ticket tables. Its
index becomes (customer, day, staff), which My data reads a page of days from.

``tickets`` gains ``customer_replied_at``, and the queue indexes gain the priority before the due
date, since the queues list the most urgent first.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:00:00.000000

"""
from datetime import timezone
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa

import portal.db


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

LOCAL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
QUEUE_INDEXES = {  # name: (columns before, columns after)
    'ix_tickets_queue': (['department', 'status', 'due_at', 'id'], ['department', 'status', 'priority', 'due_at', 'id']),
    'ix_tickets_assignee': (['assignee_id', 'status', 'due_at', 'id'],
                            ['assignee_id', 'status', 'priority', 'due_at', 'id']),
    'ix_tickets_status_due': (['status', 'due_at', 'id'], ['status', 'priority', 'due_at', 'id']),
}


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_replied_at', portal.db.UTCDateTime(timezone=True), nullable=True))
        for name, (before, after) in QUEUE_INDEXES.items():
            batch_op.drop_index(name)
            batch_op.create_index(name, after, unique=False)

    with op.batch_alter_table('customer_data_views', schema=None) as batch_op:
        batch_op.add_column(sa.Column('staff_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('staff_role', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('page', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('ticket_reference', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('viewed_on', sa.Date(), nullable=True))

    _fill_in_the_views()

    with op.batch_alter_table('customer_data_views', schema=None) as batch_op:
        for column in ('staff_name', 'staff_role', 'page', 'viewed_on'):
            batch_op.alter_column(column, existing_type=_existing_type(column), nullable=False)
        batch_op.create_check_constraint(op.f('ck_customer_data_views_page_known'),
                                         "page IN ('ticket', 'queue', 'search')")
        batch_op.create_check_constraint(op.f('ck_customer_data_views_staff_role_known'),
                                         "staff_role IN ('board', 'sales', 'care', 'admin')")
        batch_op.drop_index('ix_customer_data_views_customer')
        batch_op.create_index('ix_customer_data_views_customer_day', ['customer_id', 'viewed_on', 'staff_id'],
                              unique=False)


def _existing_type(column: str):
    return {'staff_name': sa.String(length=200), 'staff_role': sa.String(length=10), 'page': sa.String(length=10),
            'viewed_on': sa.Date()}[column]


def _fill_in_the_views() -> None:
    """Every view logged so far was a ticket page's: name the member and role as they are now (the
    best record there is), the ticket by its reference, and the local day of the view."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT v.id, v.viewed_at, m.full_name, m.role, t.id AS ticket_id, t.created_at "
        "FROM customer_data_views v JOIN staff_members m ON m.id = v.staff_id "
        "LEFT JOIN tickets t ON t.id = v.ticket_id"
    ).columns(viewed_at=portal.db.UTCDateTime(), created_at=portal.db.UTCDateTime())).all()
    updates = [{"id": row.id, "name": row.full_name, "role": row.role,
                "reference": f"KN-{row.created_at.year}-{row.ticket_id:06d}" if row.ticket_id else None,
                "day": row.viewed_at.astimezone(timezone.utc).astimezone(LOCAL_ZONE).date()} for row in rows]
    if updates:
        bind.execute(sa.text("UPDATE customer_data_views SET staff_name = :name, staff_role = :role, page = 'ticket', "
                             "ticket_reference = :reference, viewed_on = :day WHERE id = :id"
                             ).bindparams(sa.bindparam("day", type_=sa.Date())), updates)


def downgrade():
    with op.batch_alter_table('customer_data_views', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_data_views_customer_day')
        batch_op.create_index('ix_customer_data_views_customer', ['customer_id', 'viewed_at'], unique=False)
        batch_op.drop_constraint(op.f('ck_customer_data_views_staff_role_known'), type_='check')
        batch_op.drop_constraint(op.f('ck_customer_data_views_page_known'), type_='check')
        for column in ('viewed_on', 'ticket_reference', 'page', 'staff_role', 'staff_name'):
            batch_op.drop_column(column)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        for name, (before, after) in QUEUE_INDEXES.items():
            batch_op.drop_index(name)
            batch_op.create_index(name, before, unique=False)
        batch_op.drop_column('customer_replied_at')
