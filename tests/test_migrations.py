"""The migrations build exactly the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from portal.db import db
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
            assert {"customers", "contact_points", "orders", "consents", "data_changes", "sign_in_links",
                    "customer_sessions", "audit_log", "outbox_messages", "outbox_attempts"} <= tables
            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
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
