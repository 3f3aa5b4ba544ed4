"""Which queue a new ticket goes to, and to whom in it: rules only, no web."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from portal.db import db
from portal.enums import Department, Priority, Role
from portal.staff.models import StaffMember
from portal.tickets.kinds import RequestKind
from portal.tickets.models import OPEN_STATUSES, Ticket


@dataclass(frozen=True)
class Route:
    department: Department
    priority: Priority


def route_for(kind: RequestKind, routing: dict) -> Route:
    rule = routing[kind]
    return Route(Department(rule["department"]), Priority(rule["priority"]))


def least_loaded_member(department: Department) -> StaffMember | None:
    """The active member of ``department`` with the fewest open tickets (oldest account on a tie)."""
    load = (
        select(func.count(Ticket.id))
        .where(Ticket.assignee_id == StaffMember.id, Ticket.status.in_(OPEN_STATUSES))
        .correlate(StaffMember)
        .scalar_subquery()
    )
    statement = (
        select(StaffMember)
        .where(StaffMember.role == Role(department), StaffMember.is_active.is_(True))
        .order_by(load, StaffMember.id)
        .limit(1)
    )
    return db.session.scalars(statement).first()
