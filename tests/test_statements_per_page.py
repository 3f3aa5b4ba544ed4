"""Every page runs at most six SQL statements — the access-log inserts of a staff page included — and
as many with a large record and a long queue as with a small one."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from portal.account.models import ContactPoint, DataChange
from portal.db import db
from portal.enums import Channel
from portal.incidents.models import AffectedCustomer, BreachIncident, IncidentComplaint
from portal.page_cache import PAGES
from portal.tickets import services
from tests.factories import make_customer, make_staff, new_ticket, pickup_everywhere
from tests.helpers import counted_statements, sign_in, sign_in_staff

MAX_STATEMENTS = 6
# Pages that are steps of a sign-in (they need the step before) or only move to another page.
NOT_PAGES_OF_DATA = {"static", "auth.open_link", "auth.sign_in_for", "auth.continue_sign_in",
                     "staff.open_password_link", "staff.set_password", "staff.code", "staff.enrol",
                     "account.confirm_email",
                     # file downloads, not pages (measured in tests/test_complaints.py)
                     "complaints.customer_evidence", "complaints.board_evidence"}


def pages(world: dict) -> dict[str, tuple[str, str]]:
    """Each page: who opens it, and its address."""
    reference, member = world["reference"], world["care_id"]
    return {
        "main.index": ("visitor", "/"), "main.health": ("visitor", "/healthz"),
        "auth.sign_in": ("visitor", "/sign-in"), "auth.link_sent": ("visitor", "/sign-in/sent"),
        "staff.sign_in": ("visitor", "/staff/sign-in"),
        "account.my_data": ("customer", "/my-data"), "requests.index": ("customer", "/requests/"),
        "account.edit_contact": ("customer", f"/my-data/contacts/{world['phone_id']}"),
        "account.remove_contact": ("customer", f"/my-data/contacts/{world['phone_id']}/remove"),
        "account.add_contact": ("customer", "/my-data/contacts/new/address"),
        "account.edit_notes": ("customer", "/my-data/notes"), "account.propose_name": ("customer", "/my-data/name"),
        "requests.show": ("customer", f"/requests/{reference}"), "requests.new": ("customer", "/requests/new"),
        "requests.new_of_kind": ("customer", "/requests/new/question"),
        "rights.copy": ("customer", "/my-data/copy"), "rights.delete": ("customer", "/my-data/delete"),
        "staff.home": ("care", "/staff/"), "board.queue": ("care", "/board/?view=department"),
        "board.ticket": ("care", f"/board/tickets/{reference}"), "board.dashboard": ("board", "/board/dashboard"),
        "board.settings": ("admin", "/board/settings"), "staff.members": ("admin", "/staff/admin/members"),
        "staff.member": ("admin", f"/staff/admin/members/{member}"),
        "staff.deactivate": ("admin", f"/staff/admin/members/{member}/deactivate"),
        "privacy.current_notice": ("visitor", "/privacy"), "privacy.notice": ("customer", "/privacy/1"),
        "privacy.your_rights": ("customer", "/your-rights"),
        "auth.choose_record": ("customer", "/sign-in/records"),
        "customers.search": ("care", "/board/customers/?q=an"), "customers.new": ("care", "/board/customers/new"),
        "customers.record": ("care", f"/board/customers/{world['customer'].id}"),
        "customers.edit": ("care", f"/board/customers/{world['customer'].id}/edit"),
        "incidents.index": ("board", "/board/incidents/"), "incidents.new": ("board", "/board/incidents/new"),
        "incidents.show": ("board", f"/board/incidents/{world['incident_id']}"),
        "incidents.customers": ("board", f"/board/incidents/{world['incident_id']}/customers?q=an"),
        "incidents.raise_complaint": ("board", f"/board/incidents/raise/{world['complaint']}"),
        "incidents.notice": ("board", f"/board/incidents/{world['incident_id']}/notice"),
        "incidents.record": ("board", f"/board/incidents/{world['incident_id']}/record?lang=en"),
        "inspection.index": ("board", "/board/inspection"),
        "oversight.index": ("board", "/board/oversight"),
        "oversight.member": ("board", f"/board/oversight/members/{member}"),
        "incidents.customer_notice": ("board", f"/board/incidents/{world['incident_id']}/notify"),
    }


def grow(world: dict, now: datetime) -> None:
    """Make everything a page lists larger: the record's lists, the customer's requests and thread,
    the queue, the access log."""
    customer = world["customer"]
    for number in range(20):
        db.session.add(ContactPoint(customer_id=customer.id, channel=Channel.PHONE, kind="office",
                                    value=f"028 3800 {number:04d}", value_normalized=f"+84283800{number:04d}",
                                    source="phone"))
        db.session.add(DataChange(customer_id=customer.id, actor_kind="staff", actor_name="Lan", field="phone:office",
                                  old_value=None, new_value=str(number), changed_at=now))
    db.session.commit()
    for number in range(25):
        new_ticket("access" if number % 2 else "question", customer=customer, email="an.nguyen@example.vn",
                   body=f"Yêu cầu {number}", now=now - timedelta(days=number % 9))
        new_ticket(email=f"khach{number}@example.vn", body="Khách khác", now=now)
    for number in range(25):
        other = make_customer(f"nguoi{number}@example.vn")
        db.session.add(AffectedCustomer(incident_id=world["incident_id"], customer_id=other.id, source="picked"))
        complaint = new_ticket("leak_complaint", customer=other, email=f"nguoi{number}@example.vn", now=now)
        db.session.add(IncidentComplaint(incident_id=world["incident_id"], ticket_id=complaint.id,
                                         added_by_id=world["board_id"]))
    db.session.commit()
    for number in range(12):  # the register of incidents, and the open ones a complaint can join
        db.session.add(BreachIncident(title=f"Sự cố {number}", discovered_at=now - timedelta(hours=number * 10),
                                      created_by_id=world["board_id"], categories=["name", "phone"]))
    db.session.commit()
    ticket = world["ticket"]
    for number in range(15):
        services.add_customer_message(ticket, f"Tin nhắn {number}", now)
    for number in range(20):
        affected = make_customer(f"bi.anh.huong{number}@example.vn", order=f"DH-AH-{number}")
        db.session.add(AffectedCustomer(incident_id=world["incident_id"], customer_id=affected.id, source="picked"))
    db.session.commit()


@pytest.fixture
def world(app, clock):
    pickup_everywhere()
    customer = make_customer()
    ticket = new_ticket(customer=customer, email="an.nguyen@example.vn")
    team = {role: make_staff(role) for role in ("care", "board", "admin")}
    incident = BreachIncident(title="Lộ dữ liệu", discovered_at=clock.now(), created_by_id=team["board"].id,
                              categories=["name"])
    db.session.add(incident)
    db.session.flush()
    db.session.add_all([AffectedCustomer(incident_id=incident.id, customer_id=customer.id, source="picked"),
                        IncidentComplaint(incident_id=incident.id, ticket_id=ticket.id, added_by_id=team["board"].id)])
    db.session.commit()
    complaint = new_ticket("leak_complaint", customer=customer, email="an.nguyen@example.vn")
    clients = {"visitor": app.test_client()}
    clients["customer"] = app.test_client()
    sign_in(clients["customer"], "an.nguyen@example.vn")
    for role, member in team.items():
        clients[role] = app.test_client()
        sign_in_staff(clients[role], member, clock=clock)
    return {"customer": customer, "phone_id": customer.contact_points[1].id,
            "ticket": ticket, "reference": ticket.reference, "care_id": team["care"].id, "incident_id": incident.id,
            "board_id": team["board"].id, "complaint": complaint.reference,
            "clients": clients}


def measure(world: dict) -> dict[str, tuple[int, int]]:
    """Each page's statements drawn from the database (no kept pages) and served again (kept)."""
    counts = {}
    for endpoint, (who, path) in pages(world).items():
        client = world["clients"][who]
        assert client.get(path).status_code == 200, endpoint  # the first may write "last seen"
        PAGES.clear()
        with counted_statements() as drawn:
            response = client.get(path)
        assert response.status_code == 200, (endpoint, response.status_code)
        with counted_statements() as kept:
            response = client.get(path)
        assert response.status_code == 200, (endpoint, response.status_code)
        counts[endpoint] = (len(drawn), len(kept))
    return counts


def test_every_page_is_measured_here(app, world):
    listed = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    assert listed - NOT_PAGES_OF_DATA == set(pages(world))


def test_no_page_runs_more_than_six_statements_whatever_the_size_of_the_data(world, clock):
    small = measure(world)
    assert max(max(counts) for counts in small.values()) <= MAX_STATEMENTS, small
    grow(world, clock.now().astimezone(timezone.utc))
    large = measure(world)
    assert large == small
