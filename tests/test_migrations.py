"""The migrations build exactly the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from portal.auth.services import find_link
from portal.db import db
from portal.hashing import sha256
from portal.staff.services import find_password_link
from tests.helpers import make_test_app, separate_database


@contextmanager
def empty_database(tmp_path):
    """Yield the URL of a database nobody has touched: a new SQLite file or a new PG database."""
    with separate_database(tmp_path, "migrations") as url:
        yield url


def test_migrations_match_models(tmp_path):
    with empty_database(tmp_path) as url:
        app = make_test_app(tmp_path, DATABASE_URL=url)
        with app.app_context():
            upgrade()
            with db.engine.connect() as connection:
                differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
            assert differences == []
            tables = set(inspect(db.engine).get_table_names())
            assert {"customers", "contact_points", "orders", "consent_entries", "data_changes", "email_links",
                    "customer_sessions", "audit_log", "outbox_messages", "outbox_attempts"} <= tables
            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
            db.engine.dispose()


def test_links_of_the_two_old_tables_still_work_after_they_become_one(tmp_path, clock):
    """Migration 0005 copies sign-in and staff password links into ``email_links``: a link e-mailed
    just before the upgrade opens the same page after it, and its token is still only a hash."""
    with empty_database(tmp_path) as url:
        app = make_test_app(tmp_path, DATABASE_URL=url)
        with app.app_context():
            upgrade(revision="0004")
            now = clock.now().replace(tzinfo=None)
            later = now + timedelta(minutes=10)
            with db.engine.begin() as connection:
                connection.execute(text(
                    "INSERT INTO staff_members (id, email, full_name, role, is_active, failed_sign_in_count, "
                    "created_at) VALUES (7, 'lan@khoingo.net', 'Lan', 'care', :yes, 0, :now)"),
                    {"yes": True, "now": now})
                connection.execute(text(
                    "INSERT INTO sign_in_links (id, token_hash, code_hash, nonce_hash, address_key, email, "
                    "created_at, expires_at, wrong_code_count) VALUES (3, :token, 'c', 'n', 'k', 'x@example.vn', "
                    ":now, :later, 1)"), {"token": sha256("customer-token"), "now": now, "later": later})
                connection.execute(text(
                    "INSERT INTO staff_password_links (id, staff_id, token_hash, purpose, created_at, expires_at) "
                    "VALUES (1, 7, :token, 'reset', :now, :later)"), {"token": sha256("staff-token"), "now": now,
                                                                       "later": later})
            upgrade()
            customer_link = find_link("customer-token")
            staff_link = find_password_link("staff-token")
            assert (customer_link.id, customer_link.wrong_code_count) == (3, 1)
            assert customer_link.is_usable(clock.now())
            assert (staff_link.id, staff_link.purpose, staff_link.staff_id) == (4, "staff_reset", 7)
            assert staff_link.email == "lan@khoingo.net"
            assert staff_link.expires_at == clock.now() + timedelta(minutes=10)
            db.session.remove()
            downgrade(revision="0004")
            with db.engine.connect() as connection:
                assert connection.execute(text("SELECT purpose FROM staff_password_links")).scalars().all() == ["reset"]
                assert connection.execute(text("SELECT id FROM sign_in_links")).scalars().all() == [3]
            db.engine.dispose()


def test_consents_of_the_old_table_become_ledger_entries(tmp_path, clock):
    """Migration 0009 turns each row of ``consents`` into an entry (a withdrawal into a second one),
    and going back makes the latest entry per purpose the purpose's row again."""
    with empty_database(tmp_path) as url:
        app = make_test_app(tmp_path, DATABASE_URL=url)
        with app.app_context():
            upgrade(revision="0008")
            now = clock.now().replace(tzinfo=None)
            later = now + timedelta(days=3)
            with db.engine.begin() as connection:
                connection.execute(text(
                    "INSERT INTO customers (id, full_name, notes, source, created_at) "
                    "VALUES (5, 'An', '', 'phone', :now)"), {"now": now})
                connection.execute(text(
                    "INSERT INTO consents (customer_id, purpose, is_granted, method, evidence, given_at, withdrawn_at) "
                    "VALUES (5, 'surveys', :yes, 'sms', 'sms-1', :now, NULL), "
                    "(5, 'promotions', :no, 'recorded_call', 'call-2.mp3', :now, :later)"),
                    {"yes": True, "no": False, "now": now, "later": later})
            upgrade(revision="0009")
            with db.engine.connect() as connection:
                rows = connection.execute(text(
                    "SELECT purpose, granted, method, evidence, recorded_at FROM consent_entries "
                    "ORDER BY purpose, recorded_at")).all()
            assert [(row[0], bool(row[1]), row[2], row[3]) for row in rows] == [
                ("promotions", True, "recorded_call", "call-2.mp3"),
                ("promotions", False, "recorded_call", "call-2.mp3"), ("surveys", True, "sms", "sms-1")]
            downgrade(revision="0008")
            with db.engine.connect() as connection:
                rows = connection.execute(text(
                    "SELECT purpose, is_granted, withdrawn_at IS NOT NULL FROM consents ORDER BY purpose")).all()
            assert [(row[0], bool(row[1]), bool(row[2])) for row in rows] == [("promotions", False, True),
                                                                                ("surveys", True, False)]
            db.engine.dispose()


def test_complaints_filed_before_the_third_party_keys_are_found_by_them(tmp_path, clock):
    """Migration 0021 fills the keys of the complaints already filed: the name without case (Vietnamese
    capitals too) or spaces, the web address as host and path."""
    with empty_database(tmp_path) as url:
        app = make_test_app(tmp_path, DATABASE_URL=url)
        with app.app_context():
            upgrade(revision="0020")
            now = clock.now().replace(tzinfo=None)
            with db.engine.begin() as connection:
                connection.execute(text(
                    "INSERT INTO tickets (id, kind, status, department, priority, requester_email, requester_locale, "
                    "created_at, received_at, acknowledge_due_at, due_at, updated_at, version) VALUES "
                    "(1, 'leak_complaint', 'open', 'board', 'high', 'an@example.vn', 'vi', :now, :now, :now, :now, "
                    ":now, 1), (2, 'leak_complaint', 'open', 'board', 'high', 'an@example.vn', 'vi', :now, :now, "
                    ":now, :now, :now, 1)"), {"now": now})
                connection.execute(text(
                    "INSERT INTO leak_complaint_details (ticket_id, leaked, third_party_name, third_party_url) "
                    "VALUES (1, '[]', 'ĐỖ Văn  Bảo', 'https://www.Lua-Dao.vn/tin/1/'), (2, '[]', NULL, NULL)"))
            upgrade(revision="0021")
            with db.engine.connect() as connection:
                keys = connection.execute(text("SELECT third_party_name_key, third_party_url_key "
                                               "FROM leak_complaint_details ORDER BY ticket_id")).all()
            assert [tuple(row) for row in keys] == [("đỗvănbảo", "lua-dao.vn/tin/1"), ("", "")]
            db.engine.dispose()


@pytest.mark.parametrize("command", [["db", "upgrade"], ["demo", "load"]])
def test_setup_commands_run_on_a_fresh_database(tmp_path, command):
    """`make run` does `flask db upgrade` then `flask demo load`; both work on an empty database."""
    with empty_database(tmp_path) as url:
        app = make_test_app(tmp_path, DATABASE_URL=url)
        runner = app.test_cli_runner()
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        if command == ["demo", "load"]:
            first = runner.invoke(args=command)
            again = runner.invoke(args=command)
            assert first.exit_code == 0 and "an.nguyen@example.vn" in first.output, first.output
            assert "already" in again.output
            assert "giamdoc@khoingo.net" in first.output and "giamdoc@khoingo.net" in again.output
            with app.app_context():
                from portal.account.models import Customer
                from portal.hashing import verify_password
                from portal.staff.models import StaffMember
                from portal.tickets.models import Ticket

                assert db.session.query(Customer).count() == 12
                assert db.session.query(Ticket).count() == 5
                board = db.session.query(StaffMember).filter_by(email="giamdoc@khoingo.net").one()
                printed = re.search(r"giamdoc@khoingo.net\s+board\s+(\S+)", again.output).group(1)
                assert verify_password(board.password_hash, printed)  # the latest printed password works
        with app.app_context():
            db.engine.dispose()
