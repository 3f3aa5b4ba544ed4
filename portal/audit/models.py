"""The append-only audit log, and the access log customers see: which staff member was shown their
data, when, and on which page."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import UTCDateTime, db, utcnow


class AuditRecord(db.Model):
    """Who did what to which thing, when, from where. Rows are only ever inserted."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))  # "customer:12", "staff:3", "anonymous", "system"
    action: Mapped[str] = mapped_column(String(60), index=True)
    target: Mapped[str] = mapped_column(String(100), default="")  # "customer:12", "outbox:5"
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    client_address: Mapped[str | None] = mapped_column(String(64))


class CustomerDataView(db.Model):
    """A staff member was shown a customer's data. Customers see these on My data.

    The staff member and ticket are named by key only: the log knows no feature's tables beyond
    their names, and keeps working whatever those features become."""

    __tablename__ = "customer_data_views"
    __table_args__ = (Index("ix_customer_data_views_customer", "customer_id", "viewed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    staff = relationship("StaffMember", lazy="raise")
    ticket = relationship("Ticket", lazy="raise")
