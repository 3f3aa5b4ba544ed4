"""Who may do what: the role × action table and the one rule about departments. Pure: no web, no
database. Objects ask these (``ticket.can_be_worked_by(member)``), views gate on them, queries turn
them into conditions; the README shows the same table and a test checks every cell.
"""

from __future__ import annotations

from portal.enums import Department, Role

PERMISSIONS: dict[str, frozenset[Role]] = {
    "queue.own_department": frozenset({Role.BOARD, Role.SALES, Role.CARE}),
    "queue.all": frozenset({Role.BOARD, Role.ADMIN}),
    "ticket.view_thread": frozenset({Role.BOARD, Role.SALES, Role.CARE}),
    "ticket.work": frozenset({Role.BOARD, Role.SALES, Role.CARE}),
    "ticket.route": frozenset({Role.BOARD, Role.SALES, Role.CARE, Role.ADMIN}),
    "customer.view": frozenset({Role.BOARD, Role.SALES, Role.CARE}),
    "customer.find": frozenset({Role.BOARD, Role.SALES, Role.CARE}),
    "customer.edit": frozenset({Role.BOARD, Role.SALES, Role.CARE}),
    "restriction.lift": frozenset({Role.BOARD, Role.CARE}),
    "evidence.view": frozenset({Role.BOARD}),
    "incident.manage": frozenset({Role.BOARD}),
    "inspection.export": frozenset({Role.BOARD}),
    "access.review": frozenset({Role.BOARD}),
    "dashboard.view": frozenset({Role.BOARD, Role.ADMIN}),
    "settings.edit": frozenset({Role.ADMIN}),
    "staff.manage": frozenset({Role.ADMIN}),
}


def can(role: Role, action: str) -> bool:
    return role in PERMISSIONS[action]


def departments_worked_by(role: Role) -> frozenset[Department]:
    """The queues whose tickets a role works: the board works every queue, sales and care their own,
    the administrator none (they manage the system, not customers' requests)."""
    if role is Role.BOARD:
        return frozenset(Department)
    if role in (Role.SALES, Role.CARE):
        return frozenset({Department(role)})
    return frozenset()


def works_department(role: Role, department: Department) -> bool:
    return department in departments_worked_by(role)


def roles_working(department: Department) -> frozenset[Role]:
    """The roles whose members can be given a ticket of ``department``."""
    return frozenset(role for role in Role if works_department(role, department))


def sees_every_queue(role: Role) -> bool:
    return can(role, "queue.all")
