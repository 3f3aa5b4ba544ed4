"""The permission table (portal.access.PERMISSIONS), cell by cell, and the gate on the staff admin page.

The expected table is written out here on purpose: changing who may do what must change this file too.
"""

from __future__ import annotations

import pytest

from portal.enums import Role
from portal.permissions import PERMISSIONS, can
from tests.factories import make_staff
from tests.helpers import sign_in, sign_in_staff

B, S, C, A = Role.BOARD, Role.SALES, Role.CARE, Role.ADMIN

#                          board  sales  care   admin
EXPECTED: dict[str, tuple[bool, bool, bool, bool]] = {
    "queue.own_department": (True, True, True, False),
    "queue.all": (True, False, False, True),
    "ticket.view_thread": (True, True, True, False),
    "ticket.work": (True, True, True, False),
    "ticket.route": (True, True, True, True),
    "customer.view": (True, True, True, False),
    "customer.find": (True, True, True, False),
    "customer.edit": (True, True, True, False),
    "restriction.lift": (True, False, True, False),
    "evidence.view": (True, False, False, False),
    "incident.manage": (True, False, False, False),
    "inspection.export": (True, False, False, False),
    "access.review": (True, False, False, False),
    "dashboard.view": (True, False, False, True),
    "settings.edit": (False, False, False, True),
    "staff.manage": (False, False, False, True),
}
COLUMNS = (B, S, C, A)
CELLS = [(action, role, allowed) for action, row in EXPECTED.items() for role, allowed in zip(COLUMNS, row,
                                                                                               strict=True)]


def test_the_table_has_exactly_the_expected_actions_and_roles():
    assert set(PERMISSIONS) == set(EXPECTED)
    assert set(COLUMNS) == set(Role)
    for action, roles in PERMISSIONS.items():
        assert roles <= set(Role), action


@pytest.mark.parametrize("action, role, allowed", CELLS, ids=[f"{a}-{r.value}" for a, r, _ in CELLS])
def test_permission_cell(action, role, allowed):
    assert can(role, action) is allowed


@pytest.mark.parametrize("role, status", [(B, 404), (S, 404), (C, 404), (A, 200)])
def test_staff_admin_page_is_only_for_administrators(client, clock, role, status):
    member = make_staff(role.value)
    sign_in_staff(client, member, clock=clock)
    assert client.get("/staff/").status_code == 200
    assert client.get("/staff/admin/members").status_code == status


def test_staff_admin_page_sends_anonymous_visitors_to_staff_sign_in(client):
    response = client.get("/staff/admin/members")
    assert response.status_code == 302 and response.headers["Location"].startswith("/staff/sign-in")


def test_a_signed_in_customer_is_not_staff(client, customer):
    sign_in(client, "an.nguyen@example.vn")
    for path in ("/staff/", "/staff/admin/members"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/staff/sign-in")
