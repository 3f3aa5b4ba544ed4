"""Legal clocks: calendar overrides both ways, receipt, longer period, missed acknowledgements

``days_off`` becomes ``calendar_overrides``: each row is a day off (its rows are copied over as
such) or a day worked. Tickets get ``received_at`` (when their clocks started; the filing for the
tickets already there), the longer legal period with its reason, and ``acknowledge_escalated_at``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import portal.db


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

UNACKNOWLEDGED = "first_response_at IS NULL AND acknowledge_escalated_at IS NULL"


def upgrade():
    op.create_table(
        'calendar_overrides',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('is_working_day', sa.Boolean(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_overrides')),
    )
    op.execute("INSERT INTO calendar_overrides (day, is_working_day, name) SELECT day, false, name FROM days_off")
    op.drop_table('days_off')

    when = portal.db.UTCDateTime(timezone=True)
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('received_at', when, nullable=True))
        batch_op.add_column(sa.Column('longer_period_at', when, nullable=True))
        batch_op.add_column(sa.Column('longer_period_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('acknowledge_escalated_at', when, nullable=True))
    op.execute("UPDATE tickets SET received_at = created_at")
    op.execute("UPDATE tickets SET extension_reason = '' WHERE extended_at IS NOT NULL AND extension_reason IS NULL")
    op.execute("UPDATE tickets SET extended_at = updated_at WHERE extended_at IS NULL AND extension_reason IS NOT NULL")
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.alter_column('received_at', existing_type=when, nullable=False)
        batch_op.create_check_constraint('due_after_receipt', 'due_at >= received_at')
        batch_op.create_check_constraint('extension_has_reason',
                                         '(extended_at IS NULL) = (extension_reason IS NULL)')
        batch_op.create_check_constraint('longer_period_has_reason',
                                         '(longer_period_at IS NULL) = (longer_period_reason IS NULL)')
        batch_op.create_index('ix_tickets_unacknowledged', ['acknowledge_due_at'], unique=False,
                              postgresql_where=sa.text(UNACKNOWLEDGED), sqlite_where=sa.text(UNACKNOWLEDGED))


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_unacknowledged')
        batch_op.drop_constraint(batch_op.f('ck_tickets_longer_period_has_reason'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_tickets_extension_has_reason'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_tickets_due_after_receipt'), type_='check')
        batch_op.drop_column('acknowledge_escalated_at')
        batch_op.drop_column('longer_period_reason')
        batch_op.drop_column('longer_period_at')
        batch_op.drop_column('received_at')

    op.create_table(
        'days_off',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('day', name=op.f('pk_days_off')),
    )
    # Days worked have no place in the old table: only the days off go back.
    op.execute("INSERT INTO days_off (day, name) SELECT day, name FROM calendar_overrides WHERE NOT is_working_day")
    op.drop_table('calendar_overrides')
