"""The declarative base, naming convention, the one aware-UTC datetime type and the one enum type."""

from __future__ import annotations

from datetime import datetime, timezone

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, String
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


def read_plain(statement, parameters: dict | None = None):
    """Run a read of plain columns on the session's connection. The ORM's work per statement (flush
    first, find the bind, prepare to build objects) costs a few times what a small indexed read
    does, and the reads every page starts with need none of it: they select columns, not objects,
    before anything is changed."""
    return db.session.connection().execute(statement, parameters or {})


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
