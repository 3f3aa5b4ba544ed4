"""Consent becomes a ledger: every grant and withdrawal an entry of its own, with how, who recorded it
and the privacy notice it was given under. The old one-row-per-purpose table is carried over (a
withdrawal becomes a second entry) and dropped.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 16:45:00

"""
from alembic import op
import sqlalchemy as sa

import portal.db


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('consent_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('granted', sa.Boolean(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('evidence', sa.String(length=400), nullable=False),
    sa.Column('recorded_at', portal.db.UTCDateTime(), nullable=False),
    sa.Column('actor_kind', sa.String(length=10), nullable=False),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('notice_version', sa.String(length=20), nullable=True),
    sa.CheckConstraint("actor_kind IN ('customer', 'staff', 'system')", name=op.f('ck_consent_entries_actor_kind_known')),
    sa.CheckConstraint("method IN ('web_form', 'recorded_call', 'sms', 'email', 'portal')", name=op.f('ck_consent_entries_method_known')),
    sa.CheckConstraint("purpose IN ('support', 'delivery', 'notices', 'warranty', 'surveys', 'promotions')", name=op.f('ck_consent_entries_purpose_known')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_consent_entries_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_entries'))
    )
    with op.batch_alter_table('consent_entries', schema=None) as batch_op:
        batch_op.create_index('ix_consent_entries_customer_purpose', ['customer_id', 'purpose', 'recorded_at'], unique=False)

    columns = "customer_id, purpose, granted, method, evidence, recorded_at, actor_kind, actor_name"
    op.execute(f"INSERT INTO consent_entries ({columns}) SELECT customer_id, purpose, "
               "(is_granted OR withdrawn_at IS NOT NULL), method, evidence, given_at, 'staff', '' FROM consents")
    op.execute(f"INSERT INTO consent_entries ({columns}) SELECT customer_id, purpose, "
               "(1 = 0), method, evidence, withdrawn_at, 'staff', '' FROM consents WHERE withdrawn_at IS NOT NULL")

    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index('uq_consents_customer_purpose')
    op.drop_table('consents')


def downgrade():
    op.create_table('consents',
    sa.Column('id', sa.INTEGER(), nullable=False),
    sa.Column('customer_id', sa.INTEGER(), nullable=False),
    sa.Column('purpose', sa.VARCHAR(length=20), nullable=False),
    sa.Column('is_granted', sa.BOOLEAN(), nullable=False),
    sa.Column('method', sa.VARCHAR(length=20), nullable=False),
    sa.Column('evidence', sa.VARCHAR(length=400), nullable=False),
    sa.Column('given_at', portal.db.UTCDateTime(), nullable=False),
    sa.Column('withdrawn_at', portal.db.UTCDateTime(), nullable=True),
    sa.CheckConstraint("method IN ('web_form', 'recorded_call', 'sms', 'email')", name=op.f('ck_consents_method_known')),
    sa.CheckConstraint("purpose IN ('support', 'delivery', 'notices', 'warranty', 'surveys', 'promotions')", name=op.f('ck_consents_purpose_known')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_consents_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents'))
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index('uq_consents_customer_purpose', ['customer_id', 'purpose'], unique=True)
    # The latest entry per purpose becomes the purpose's row (entries given on this portal included).
    op.execute(
        "INSERT INTO consents (customer_id, purpose, is_granted, method, evidence, given_at, withdrawn_at) "
        "SELECT e.customer_id, e.purpose, e.granted, CASE WHEN e.method = 'portal' THEN 'web_form' ELSE e.method END, "
        "e.evidence, e.recorded_at, CASE WHEN e.granted THEN NULL ELSE e.recorded_at END FROM consent_entries e "
        "WHERE NOT EXISTS (SELECT 1 FROM consent_entries later WHERE later.customer_id = e.customer_id "
        "AND later.purpose = e.purpose AND (later.recorded_at > e.recorded_at "
        "OR (later.recorded_at = e.recorded_at AND later.id > e.id)))")
    with op.batch_alter_table('consent_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_entries_customer_purpose')
    op.drop_table('consent_entries')
