"""An insider-leak alert: a member was shown the data of unusually many customers on one day."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import UTCDateTime, db


class OversightAlert(db.Model):
    """Raised once per member per local day (the unique pair), with what it was raised on: the
    number of different customers, the member's usual number and the thresholds in force."""

    __tablename__ = "oversight_alerts"
    __table_args__ = (UniqueConstraint("staff_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"))
    day: Mapped[date] = mapped_column(Date)  # the local day (Asia/Ho_Chi_Minh)
    distinct_customers: Mapped[int] = mapped_column(Integer)
    usual: Mapped[float] = mapped_column(Float)  # different customers a day, on average, before
    threshold_customers: Mapped[int] = mapped_column(Integer)
    threshold_factor: Mapped[float] = mapped_column(Float)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)

    staff = relationship("StaffMember", lazy="raise")
