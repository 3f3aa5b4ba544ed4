"""The database: the declarative base and naming convention, the aware-UTC datetime and enum types, and
how connections are used (a write-ahead log on SQLite, a check before use, plain statements)."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from functools import partial

from flask import g, has_request_context, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, String, event, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator
from werkzeug.routing import IntegerConverter

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Store aware datetimes as UTC; SQLite forgets the zone, so it is put back on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class EnumText(TypeDecorator):
    """An enumeration stored as its short string value and read back as the member.

    The column stays a plain VARCHAR (a CHECK constraint from :meth:`TitledEnum.check` keeps its
    values), so adding a member needs no type change; code compares members, never strings, and a
    value that is not a member cannot be written.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum_class, length: int | None = None):
        self.enum_class = enum_class
        super().__init__(length or max(len(member.value) for member in enum_class))

    def process_bind_param(self, value, dialect):
        return None if value is None else self.enum_class(value).value

    def process_result_value(self, value, dialect):
        return None if value is None else self.enum_class(value)

    @property
    def python_type(self):
        return self.enum_class


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


# The largest id an INTEGER column holds on every database the portal runs on (PostgreSQL's is 32-bit).
MAX_ROW_ID = 2**31 - 1


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in every route: a number no row can have (past MAX_ROW_ID) matches no page, so it
    is a 404 rather than a database error."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(url_map, *args, **kwargs)


def insert_skipping_existing(table, unique_columns: list[str]):
    """``INSERT ... ON CONFLICT (unique_columns) DO NOTHING`` for this session's database (PostgreSQL
    or SQLite): of two transactions inserting the same row, one stores it and the other skips it."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=unique_columns)


def init_engine(app) -> None:
    """What the portal asks of its database connections, beyond Flask-SQLAlchemy's defaults: a
    write-ahead log on SQLite, a liveness check before use on a server (:func:`_check_before_use`),
    and the per-request connection for plain statements (:func:`plain_connection`)."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _write_ahead_log)
    else:
        event.listen(engine, "connect", _note_return)
        event.listen(engine, "checkin", _note_return)
        event.listen(engine, "checkout", partial(_check_before_use, engine.dialect))
    app.teardown_appcontext(_close_plain_connection)


def _write_ahead_log(connection, _record) -> None:
    """SQLite keeps a write-ahead log rather than a rollback journal: pages read while another
    process commits (no reader waits for the writer), and a commit costs one flush of the log instead
    of the journal's several. Durability is unchanged: ``synchronous`` stays FULL, the log is flushed
    at every commit."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # kept in the file; said again for a file made elsewhere
    cursor.close()


# A pooled connection given back this recently was working then; see _check_before_use.
RECENTLY_RETURNED_SECONDS = 1.0


def _note_return(_dbapi_connection, record) -> None:
    record.info["returned_at"] = time.monotonic()


def _check_before_use(dialect, dbapi_connection, record, _proxy) -> None:
    """Test a pooled connection to a server before it is used (a restarted server costs no failed
    page): always before a request that changes something, and otherwise when it has been idle for
    more than a second. A page read on a connection that was working a moment ago skips the round
    trip; a restart in that moment costs at most one such page per process an error (the pool is
    then renewed), never a form's submission."""
    idle = time.monotonic() - record.info.get("returned_at", 0.0)
    reading = has_request_context() and request.method in ("GET", "HEAD")
    if reading and idle < RECENTLY_RETURNED_SECONDS:
        return
    try:
        dialect.do_ping(dbapi_connection)
    except dialect.loaded_dbapi.Error as error:
        raise exc.InvalidatePoolError() from error  # the pool connects afresh and tries again


def plain_connection():
    """The connection for the plain statements a request starts with (the session, versions of the
    data a kept page shows) and for writes of one statement (a view in the access log).

    Inside the ORM session's transaction it is that transaction's connection, so a read sees what
    the request has written and a write commits with the rest. Outside one, it is a connection of
    the request's own in autocommit mode: each statement is its own transaction, and a page served
    from what it read costs no BEGIN, COMMIT or ROLLBACK (on PostgreSQL, three round trips of the
    four a kept page took). It is given back when the request (the app context) ends."""
    if db.session().info.get(_ON_A_CONNECTION):
        return db.session.connection()
    connection = g.get("_plain_connection")
    if connection is None:
        connection = g._plain_connection = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    return connection


# Set in the ORM session's ``info`` while its transaction holds a connection (it has read or
# written): from then on plain statements go through that transaction.
_ON_A_CONNECTION = "on_a_connection"


@event.listens_for(db.session, "after_begin")
def _note_connection(session, _transaction, _connection) -> None:
    session.info[_ON_A_CONNECTION] = True


@event.listens_for(db.session, "after_transaction_end")
def _note_end(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_ON_A_CONNECTION, None)


def _close_plain_connection(_error) -> None:
    connection = g.pop("_plain_connection", None)
    if connection is not None:
        connection.close()


def read_plain(statement, parameters: dict | None = None):
    """Run a read of plain columns (see :func:`plain_connection`). The ORM's work per statement
    (flush first, find the bind, prepare to build objects) costs a few times what a small indexed
    read does, and the reads every page starts with need none of it."""
    return plain_connection().execute(statement, parameters or {})


def write_plain(statement, parameters=None) -> None:
    """Run a write that is whole in one statement (see :func:`plain_connection`): committed with the
    request's transaction if there is one, and at once, on its own, if not."""
    plain_connection().execute(statement, parameters or {})
