"""What the customer's rights leave behind: copies downloaded, objections, what an erasure keeps and
until when, and the suppression list that keeps an erased customer off marketing."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import EnumText, UTCDateTime, db, utcnow
from portal.enums import Purpose, TitledEnum


class CopyFormat(TitledEnum):
    JSON = "json", _l("file (JSON)")
    PRINT = "print", _l("printable page")


class DataCopy(db.Model):
    """The customer downloaded a copy of their data (shown to them on My data)."""

    __tablename__ = "data_copies"
    __table_args__ = (CopyFormat.check("format", "format_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    made_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    format: Mapped[CopyFormat] = mapped_column(EnumText(CopyFormat, 10))


class Objection(db.Model):
    """The customer objects to one purpose of processing: staff applied it from their request."""

    __tablename__ = "objections"
    __table_args__ = (Purpose.check("purpose", "purpose_known"),
                      Index("uq_objections_customer_purpose", "customer_id", "purpose", unique=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    purpose: Mapped[Purpose] = mapped_column(EnumText(Purpose, 20))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))


class RetainedCategory(TitledEnum):
    WARRANTY = "warranty", _l("Your name, phone numbers and addresses, for the open warranty")
    ACCOUNTING = "accounting", _l("Your name and your orders, on our invoices and accounting records")


class RetainedData(db.Model):
    """What an erasure keeps because the law or an open warranty requires it, restricted from every
    other use, and the day ``flask worker`` erases it."""

    __tablename__ = "retained_data"
    __table_args__ = (
        RetainedCategory.check("category", "category_known"),
        Index("ix_retained_data_due", "until", postgresql_where=text("erased_at IS NULL"),
              sqlite_where=text("erased_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    category: Mapped[RetainedCategory] = mapped_column(EnumText(RetainedCategory, 20))
    until: Mapped[date] = mapped_column(Date)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def reason(self):
        return REASONS[self.category]


REASONS = {
    RetainedCategory.WARRANTY: _l("We still owe you repairs and maintenance under the warranty of your order "
                                  "(the contract: Law 91/2025 Art. 19(1)(d))."),
    RetainedCategory.ACCOUNTING: _l("The law on accounting requires us to keep invoices and accounting records "
                                    "for the period it sets."),
}


class Suppression(db.Model):
    """An address or phone number never to be used for marketing again: only a keyed hash of it."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
