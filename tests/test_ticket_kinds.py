"""Request kinds as modules: what each registered kind declares, and the contract a new kind relies
on — a kind registered here, with its own form, details table, outcome rule and partials, is filed,
routed, clocked, shown and resolved by the core without any change to it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from flask_babel import lazy_gettext as _l
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from portal.db import db
from portal.enums import Department, Priority, TicketStatus
from portal.tickets import services
from portal.tickets.forms import RequestMessageForm
from portal.tickets.kinds import KINDS, RequestKind, UnknownKind, all_kinds, customer_kinds, get_kind, register
from portal.tickets.models import Ticket
from tests.factories import make_customer, make_staff
from tests.helpers import csrf_token, page_text, sign_in, sign_in_staff

DECREE_DAYS = {"question": 10, "access": 10, "correction": 10, "other": 10, "consent_withdrawal": 15,
               "restriction": 15, "erasure": 20, "leak_complaint": 15, "misuse_report": 15}


def test_every_kind_declares_its_queue_and_the_decrees_clock():
    assert {str(kind) for kind in all_kinds()} == set(DECREE_DAYS)
    for kind in all_kinds():
        assert kind.legal_days == DECREE_DAYS[kind] and kind.extension_days == kind.legal_days
        assert isinstance(kind.department, Department) and isinstance(kind.priority, Priority)
    assert {str(kind) for kind in customer_kinds()} == {"question", "access", "restriction", "other", "leak_complaint",
                                                        "misuse_report"}
    assert get_kind("leak_complaint").department is Department.BOARD
    assert get_kind("leak_complaint").priority is Priority.HIGH


def test_a_kind_is_its_code():
    kind = get_kind("question")
    assert kind == "question" and str(kind) == "question" and {kind: 1}["question"] == 1
    assert get_kind(kind) is kind
    with pytest.raises(UnknownKind):
        get_kind("nonsense")


def test_a_ticket_reads_its_kind_back_and_an_unknown_kind_cannot_be_stored(app):
    ticket, _created = services.create_ticket(kind="access", body="Bản sao", requester_email="a@example.vn",
                                              customer_id=None, locale="vi", now=datetime.now(timezone.utc))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).kind is get_kind("access")
    ticket.kind = "nonsense"
    with pytest.raises(Exception, match="nonsense"):
        db.session.flush()
    db.session.rollback()


# --- a kind of the tests' own --------------------------------------------------------------------


class _OwnBase(DeclarativeBase):
    """Kept out of the portal's metadata, so the migrations' check never sees this table."""


class ParcelDetails(_OwnBase):
    __tablename__ = "test_parcel_details"

    ticket_id: Mapped[int] = mapped_column(primary_key=True)
    parcel: Mapped[str] = mapped_column(String(40))


class ParcelForm(RequestMessageForm):
    parcel = StringField(_l("Parcel number"), validators=[InputRequired(), Length(max=40)])


class ParcelTrace(RequestKind):
    code = "parcel_trace"
    position = 5
    title = "Trace my parcel"
    department = Department.SALES
    priority = Priority.HIGH
    legal_days = 5
    customer_form = ParcelForm
    detail_model = ParcelDetails
    customer_partial = "kinds/parcel_customer.html"
    staff_partial = "kinds/parcel_staff.html"

    def first_message(self, form) -> str:
        return f"{form.message.data.strip()} (parcel {form.parcel.data})"

    def details_from(self, form):
        return ParcelDetails(parcel=form.parcel.data)

    def outcome_problem(self, ticket, status, reason):
        if status is TicketStatus.RESOLVED and not any(entry.kind == "staff_reply" for entry in ticket.entries):
            return "Tell the customer where the parcel is before resolving."
        return None


PARTIALS = {"kinds/parcel_customer.html": '<p class="parcel">Parcel {{ details.parcel }}</p>',
            "kinds/parcel_staff.html": "<p>Trace {{ details.parcel }} for {{ ticket.reference }}</p>"}


@pytest.fixture
def parcel_kind(app):
    """Register the kind, its table and its partials for one test, as a new module would."""
    register(ParcelTrace)
    _OwnBase.metadata.create_all(db.engine)
    loader = app.jinja_env.loader
    app.jinja_env.loader = ChoiceLoader([DictLoader(PARTIALS), loader])
    yield get_kind("parcel_trace")
    app.jinja_env.loader = loader
    KINDS.pop("parcel_trace")
    db.session.remove()
    _OwnBase.metadata.drop_all(db.engine)


def test_a_registered_kind_is_filed_routed_shown_and_resolved_by_the_core(app, client, parcel_kind, clock):
    clock.current = datetime(2027, 3, 1, 3, 0, tzinfo=timezone.utc)  # Monday, 10:00 in Ho Chi Minh City
    make_customer()
    seller = make_staff("sales", name="Trần Văn Sales")
    sign_in(client, "an.nguyen@example.vn")

    new_page = page_text(client.get("/requests/new"))
    assert 'href="/requests/new/parcel_trace"' in new_page and "Trace my parcel" in new_page
    form_page = page_text(client.get("/requests/new/parcel_trace"))
    assert 'name="parcel"' in form_page and 'name="message"' in form_page
    key = re.search(r'name="submission_key" type="hidden" value="([0-9a-f]{32})"', form_page).group(1)
    refused = client.post("/requests/new/parcel_trace", data={
        "csrf_token": csrf_token(client, "/requests/new/parcel_trace"), "submission_key": key,
        "message": "Chưa nhận được hàng"})
    assert refused.status_code == 400 and db.session.scalars(select(Ticket)).all() == []
    filed = client.post("/requests/new/parcel_trace", data={
        "csrf_token": csrf_token(client, "/requests/new/parcel_trace"), "submission_key": key,
        "message": "Chưa nhận được hàng", "parcel": "VN-778899"})
    assert filed.status_code == 303

    ticket = db.session.scalars(select(Ticket)).one()
    assert ticket.kind is parcel_kind
    assert (ticket.department, ticket.priority, ticket.assignee_id) == (Department.SALES, Priority.HIGH, seller.id)
    assert ticket.due_at.astimezone(timezone(timedelta(hours=7))).date().isoformat() == "2027-03-06"
    assert ticket.entries[1].body == "Chưa nhận được hàng (parcel VN-778899)"
    assert services.details_of(ticket).parcel == "VN-778899"
    assert '<p class="parcel">Parcel VN-778899</p>' in page_text(client.get(f"/requests/{ticket.reference}"))

    staff = app.test_client()
    sign_in_staff(staff, seller, clock=clock)
    board_page = page_text(staff.get(f"/board/tickets/{ticket.reference}"))
    assert f"Trace VN-778899 for {ticket.reference}" in board_page
    assert "Trace my parcel" in page_text(staff.get("/board/?view=department"))

    with pytest.raises(services.TicketRuleError, match="where the parcel is"):
        services.change_status(ticket, seller, TicketStatus.RESOLVED, clock.now())
    db.session.rollback()
    services.add_staff_entry(ticket, seller, "Hàng đang ở bưu cục Quận 3.", True, clock.now())
    services.change_status(ticket, seller, TicketStatus.RESOLVED, clock.now())
    db.session.commit()
    assert db.session.get(Ticket, ticket.id).status is TicketStatus.RESOLVED


def test_the_settings_page_lists_a_registered_kind(app, parcel_kind, clock):
    admin = app.test_client()
    sign_in_staff(admin, make_staff("admin"), clock=clock)
    page = page_text(admin.get("/board/settings"))
    assert 'name="department_parcel_trace"' in page and 'name="fulfil_parcel_trace"' in page


@pytest.mark.parametrize("code", ["nonsense", "erasure", "correction", "../question", "QUESTION"])
def test_a_kind_customers_cannot_file_has_no_page(client, customer, code):
    sign_in(client, "an.nguyen@example.vn")
    assert client.get(f"/requests/new/{code}").status_code == 404
    response = client.post(f"/requests/new/{code}", data={"csrf_token": csrf_token(client, "/requests/new"),
                                                          "message": "Xin chào", "submission_key": "a" * 32})
    assert response.status_code == 404
    assert db.session.scalars(select(Ticket)).all() == []
