"""One table of e-mailed links; request kinds listed by the code, not by a CHECK constraint

Customer sign-in links and staff password links become rows of ``email_links`` (their rows are
copied over); the e-mail-change and erasure confirmations of later features use it too. The CHECK
constraint on ``tickets.kind`` goes: the registry of request kinds is where kinds are listed, so a
new kind needs no migration unless it brings a table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 13:35:01.819400

"""
from alembic import op
import sqlalchemy as sa

import portal.db


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

KINDS = ("question", "access", "correction", "consent_withdrawal", "erasure", "restriction", "leak_complaint",
         "misuse_report", "other")


def _times():
    return [sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column('expires_at', portal.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column('used_at', portal.db.UTCDateTime(timezone=True), nullable=True),
            sa.Column('voided_at', portal.db.UTCDateTime(timezone=True), nullable=True)]


def upgrade():
    op.create_table(
        'email_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=20), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('address_key', sa.String(length=64), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('next_path', sa.String(length=500), nullable=True),
        sa.Column('code_hash', sa.String(length=64), nullable=True),
        sa.Column('nonce_hash', sa.String(length=64), nullable=True),
        sa.Column('wrong_code_count', sa.Integer(), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        *_times(),
        sa.ForeignKeyConstraint(['created_by_id'], ['staff_members.id'],
                                name=op.f('fk_email_links_created_by_id_staff_members')),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_email_links_customer_id_customers')),
        sa.ForeignKeyConstraint(['staff_id'], ['staff_members.id'], name=op.f('fk_email_links_staff_id_staff_members')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_email_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_email_links_token_hash')),
    )
    with op.batch_alter_table('email_links', schema=None) as batch_op:
        batch_op.create_index('ix_email_links_address', ['purpose', 'address_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_email_links_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_email_links_staff_id'), ['staff_id'], unique=False)

    _copy_links_into()

    with op.batch_alter_table('sign_in_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_links_address_key'))
        batch_op.drop_index(batch_op.f('ix_sign_in_links_customer_id'))
    op.drop_table('sign_in_links')
    with op.batch_alter_table('staff_password_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_password_links_staff_id'))
    op.drop_table('staff_password_links')

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_tickets_kind_known'), type_='check')


def _copy_links_into() -> None:
    """Sign-in links keep their ids; staff links follow them. A staff link's address key is the
    member's id: it is only ever looked up by token, and voided by member."""
    op.execute(
        "INSERT INTO email_links (id, purpose, token_hash, address_key, email, customer_id, next_path, code_hash, "
        "nonce_hash, wrong_code_count, data, created_at, expires_at, used_at, voided_at) "
        "SELECT id, 'sign_in', token_hash, address_key, email, customer_id, next_path, code_hash, nonce_hash, "
        "wrong_code_count, '{}', created_at, expires_at, used_at, voided_at FROM sign_in_links")
    op.execute(
        "INSERT INTO email_links (id, purpose, token_hash, address_key, email, staff_id, created_by_id, "
        "wrong_code_count, data, created_at, expires_at, used_at, voided_at) "
        "SELECT (SELECT COALESCE(MAX(id), 0) FROM sign_in_links) + s.id, 'staff_' || s.purpose, s.token_hash, "
        "'staff:' || s.staff_id, m.email, s.staff_id, s.created_by_id, 0, '{}', s.created_at, s.expires_at, "
        "s.used_at, s.voided_at FROM staff_password_links s JOIN staff_members m ON m.id = s.staff_id")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval(pg_get_serial_sequence('email_links', 'id'), "
                   "(SELECT COALESCE(MAX(id), 0) + 1 FROM email_links), false)")


def downgrade():
    kinds = ", ".join(f"'{kind}'" for kind in KINDS)
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_check_constraint('kind_known', f"kind IN ({kinds})")

    op.create_table(
        'staff_password_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('purpose', sa.String(length=10), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        *_times(),
        sa.ForeignKeyConstraint(['created_by_id'], ['staff_members.id'],
                                name=op.f('fk_staff_password_links_created_by_id_staff_members')),
        sa.ForeignKeyConstraint(['staff_id'], ['staff_members.id'],
                                name=op.f('fk_staff_password_links_staff_id_staff_members')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_password_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_staff_password_links_token_hash')),
    )
    with op.batch_alter_table('staff_password_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_password_links_staff_id'), ['staff_id'], unique=False)

    op.create_table(
        'sign_in_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('nonce_hash', sa.String(length=64), nullable=False),
        sa.Column('address_key', sa.String(length=64), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('next_path', sa.String(length=500), nullable=True),
        *_times(),
        sa.Column('wrong_code_count', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_sign_in_links_customer_id_customers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_sign_in_links_token_hash')),
    )
    with op.batch_alter_table('sign_in_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_links_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_links_address_key'), ['address_key'], unique=False)

    op.execute("INSERT INTO sign_in_links (id, token_hash, code_hash, nonce_hash, address_key, email, customer_id, "
               "next_path, created_at, expires_at, used_at, voided_at, wrong_code_count) "
               "SELECT id, token_hash, code_hash, nonce_hash, address_key, email, customer_id, next_path, created_at, "
               "expires_at, used_at, voided_at, wrong_code_count FROM email_links WHERE purpose = 'sign_in'")
    op.execute("INSERT INTO staff_password_links (staff_id, token_hash, purpose, created_by_id, created_at, "
               "expires_at, used_at, voided_at) "
               "SELECT staff_id, token_hash, substr(purpose, 7), created_by_id, created_at, expires_at, used_at, "
               "voided_at FROM email_links WHERE purpose IN ('staff_invite', 'staff_reset')")

    with op.batch_alter_table('email_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_links_staff_id'))
        batch_op.drop_index(batch_op.f('ix_email_links_customer_id'))
        batch_op.drop_index('ix_email_links_address')
    op.drop_table('email_links')
