"""The append-only audit log, and the access log customers see: which staff member was shown their
data, when, and on which page."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import EnumText, UTCDateTime, db, utcnow
from portal.enums import Role, ViewedPage


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
    """A staff page showed a customer's data to a staff member. Customers see these on My data.

    One row per customer per page shown: the ticket page (with the ticket), or a queue or search
    page listing the customer. The member's name and role are kept as they were at that moment (the
    customer is told who looked and in which role), and the local day the view fell on, which My
    data groups by. The staff member and ticket are named by key only: the log knows no feature's
    tables beyond their names, and keeps working whatever those features become."""

    __tablename__ = "customer_data_views"
    __table_args__ = (
        ViewedPage.check("page", "page_known"),
        Role.check("staff_role", "staff_role_known"),
        Index("ix_customer_data_views_customer_day", "customer_id", "viewed_on", "staff_id"),
        # each member's customers per day (the insider-leak alert, the review of a member's access)
        Index("ix_customer_data_views_day_staff", "viewed_on", "staff_id", "customer_id"),
        # a customer's latest view (the version My data is kept under): one step down the index
        Index("ix_customer_data_views_customer_latest", "customer_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"))
    staff_name: Mapped[str] = mapped_column(String(200))
    staff_role: Mapped[Role] = mapped_column(EnumText(Role, 10))
    page: Mapped[ViewedPage] = mapped_column(EnumText(ViewedPage, 10))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    ticket_reference: Mapped[str | None] = mapped_column(String(20))
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    viewed_on: Mapped[date] = mapped_column(Date)  # the local day (Asia/Ho_Chi_Minh) of viewed_at

    staff = relationship("StaffMember", lazy="raise")
    ticket = relationship("Ticket", lazy="raise")
