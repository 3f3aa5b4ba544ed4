"""How the portal uses its database connections (portal/db.py): plain statements outside the ORM's
transaction, the check of a pooled connection before use, SQLite's write-ahead log, and the index
that keeps My data's version one step however often a customer is viewed."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, text, update

from portal import db as database
from portal.account.models import Customer
from portal.auth.services import _session_statement
from portal.db import db, read_plain, write_plain
from tests.factories import make_customer
from tests.helpers import ON_POSTGRESQL, drop_portal_connections, outbox, request_link, sign_in

only_on_postgresql = pytest.mark.skipif(not ON_POSTGRESQL, reason="a server's connections to drop: PostgreSQL "
                                        "(PORTAL_TEST_DATABASE_URL)")
only_on_sqlite = pytest.mark.skipif(ON_POSTGRESQL, reason="SQLite's own journal and query plan")


def notes_of(customer_id: int) -> str:
    db.session.expire_all()
    return db.session.scalar(select(Customer.notes).where(Customer.id == customer_id))


# --- plain statements -------------------------------------------------------------------------------


def test_a_plain_read_inside_the_requests_transaction_sees_what_it_wrote(app):
    customer = make_customer()
    customer.notes = "đã sửa"
    db.session.flush()
    assert read_plain(select(Customer.notes).where(Customer.id == customer.id)).scalar() == "đã sửa"
    db.session.rollback()
    assert notes_of(customer.id) == ""


def test_a_plain_write_with_no_transaction_open_is_committed_at_once(app):
    customer_id = make_customer().id
    db.session.commit()  # no transaction open now
    write_plain(update(Customer).where(Customer.id == customer_id).values(notes="ghi ngay"))
    db.session.rollback()
    assert notes_of(customer_id) == "ghi ngay"


def test_a_plain_write_inside_the_requests_transaction_goes_with_it(app):
    customer_id = make_customer().id
    db.session.get(Customer, customer_id)  # the transaction now holds a connection
    write_plain(update(Customer).where(Customer.id == customer_id).values(notes="bị hủy"))
    db.session.rollback()
    assert notes_of(customer_id) == ""


def test_a_kept_page_is_served_without_opening_a_transaction(app, client):
    make_customer()
    sign_in(client, "an.nguyen@example.vn")
    assert client.get("/my-data").status_code == 200  # drawn and kept
    began = []
    listener = lambda session, transaction, connection: began.append(connection)  # noqa: E731
    event.listen(db.session, "after_begin", listener)
    try:
        again = client.get("/my-data")
    finally:
        event.remove(db.session, "after_begin", listener)
    assert again.status_code == 200 and "Nguyễn Văn An" in again.get_data(as_text=True)
    assert began == []


# --- pooled connections a server has dropped ------------------------------------------------------------


@only_on_postgresql
def test_a_form_sent_after_the_server_dropped_the_connections_is_not_lost(app, client):
    make_customer()
    request_link(client, "an.nguyen@example.vn")  # the pool now holds a connection
    drop_portal_connections()
    response = request_link(client, "an.nguyen@example.vn")
    assert response.status_code == 303
    assert len(outbox("an.nguyen@example.vn")) == 2


@only_on_postgresql
def test_a_page_read_on_a_connection_idle_past_the_check_is_served_after_a_drop(app, client, monkeypatch):
    make_customer()
    sign_in(client, "an.nguyen@example.vn")
    drop_portal_connections()
    monkeypatch.setattr(database, "RECENTLY_RETURNED_SECONDS", 0.0)  # as if a second had passed
    assert client.get("/my-data").status_code == 200


# --- SQLite ------------------------------------------------------------------------------------------------


@only_on_sqlite
def test_sqlite_keeps_a_write_ahead_log(app):
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"


@only_on_sqlite
def test_my_datas_version_is_one_step_down_an_index_however_often_the_customer_was_viewed(app):
    statement = str(_session_statement().compile(db.engine))
    plan = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", ("key",)).all()
    assert "ix_customer_data_views_customer_latest" in " ".join(str(row[-1]) for row in plan)
