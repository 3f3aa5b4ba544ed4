"""A hostile-input and privacy sweep of the breach-incident pages, the inspection pack, the review of
staff access and the evidence files, through HTTP against the real database: forged or missing form
tokens, odd ids, odd dates, odd files and markup change nothing and get a clear answer; nobody but the
board reaches these pages."""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
import zlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditRecord, CustomerDataView
from portal.db import db
from portal.incidents import services
from portal.incidents.models import AffectedCustomer, AffectedSource, BreachIncident, IncidentComplaint
from portal.outbox.models import OutboxMessage
from portal.oversight.models import OversightAlert
from portal.tickets.kinds.leak_complaint import EvidenceFile, LeakComplaintDetails
from portal.tickets.models import Ticket
from tests.factories import make_customer, make_staff, new_ticket
from tests.helpers import (
    CSRF_FIELD,
    NEW_INCIDENT,
    counted_statements,
    create_incident,
    csrf_token,
    english,
    incident_form,
    local_input,
    page_text,
    sign_in,
    sign_in_staff,
    staff_client,
)

XSS = '"><script>alert("x")</script><img src=x onerror=alert(1)>'
TOO_LARGE = "99999999999999999999"


def state() -> dict:
    """What a refused request must leave as it was: the incidents, their lists and complaints, the
    audit log (all of it) and the alerts."""
    db.session.expire_all()
    incidents = db.session.scalars(select(BreachIncident).order_by(BreachIncident.id))
    return {
        "incidents": [(i.id, i.version, i.title, i.status, i.discovered_at, i.authority_notified_at,
                       i.authority_reference, i.closed_at) for i in incidents],
        "affected": list(db.session.execute(select(AffectedCustomer.id, AffectedCustomer.incident_id,
                                                   AffectedCustomer.customer_id).order_by(AffectedCustomer.id))),
        "complaints": db.session.scalar(select(func.count()).select_from(IncidentComplaint)),
        "audit": db.session.scalar(select(func.count()).select_from(AuditRecord)),
        "alerts": db.session.scalar(select(func.count()).select_from(OversightAlert)),
    }


# --- form tokens -------------------------------------------------------------------------------------


NEW_ROUTES = ("/board/incidents", "/board/inspection", "/board/oversight", "/board/complaints")


def test_every_post_of_these_parts_refuses_a_missing_or_foreign_token_even_from_the_board(app, board, clock):
    incident = create_incident(board, clock)
    make_customer()
    services.add_affected(incident, [1], AffectedSource.PICKED, None, clock.now())
    db.session.commit()
    ticket = new_ticket("leak_complaint", email="la@example.vn")
    foreign = csrf_token(app.test_client(), "/staff/sign-in")
    values = {"incident_id": incident.id, "affected_id": 1, "reference": ticket.reference}
    before = state()
    checked = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or not rule.rule.startswith(NEW_ROUTES):
            continue
        path = app.url_map.bind("localhost").build(rule.endpoint, {k: values[k] for k in rule.arguments})
        form = {"title": "x", "reason": "Đóng vì nhầm lẫn hoàn toàn", "customer_id": "1", "incident": str(incident.id),
                "date_from": "2026-01-01", "date_to": "2026-01-02", "language": "vi", "finding": "confirmed",
                "edit-version": str(incident.version), "close-version": str(incident.version),
                "close-reason": "Đóng vì nhầm lẫn hoàn toàn"}
        for forged in (None, foreign, "garbage"):
            data = dict(form)
            if forged is not None:
                data["csrf_token"] = data["close-csrf_token"] = data["edit-csrf_token"] = forged
            response = board.post(path, data=data)
            assert response.status_code == 400, (path, forged, response.status_code)
            assert "This form has expired" in page_text(response), path
        checked.append(rule.rule)
    assert len(checked) >= 9, checked
    assert state() == before


# --- odd ids -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["0", "2147483648", TOO_LARGE])
def test_odd_ids_in_the_address_are_not_found(app, board, clock, number):
    incident = create_incident(board, clock)
    page_token = csrf_token(board, f"/board/incidents/{incident.id}")
    before = state()
    for path in (f"/board/incidents/{number}", f"/board/incidents/{number}/customers",
                 f"/board/incidents/{number}/notice", f"/board/incidents/{number}/record",
                 f"/board/oversight/members/{number}"):
        assert board.get(path).status_code == 404, path
    for path in (f"/board/incidents/{number}/edit", f"/board/incidents/{number}/close",
                 f"/board/incidents/{number}/authority-notice", f"/board/incidents/{number}/customers/pick",
                 f"/board/incidents/{number}/customers/import",
                 f"/board/incidents/{incident.id}/customers/{number}/remove"):
        response = board.post(path, data={"csrf_token": page_token, "customer_id": "1"})
        assert response.status_code == 404, path
    assert state() == before


@pytest.mark.parametrize("who", ["board", "care", "customer"])
def test_an_id_no_row_can_have_is_not_found_on_any_page_of_the_portal(app, clock, who):
    """Every route with an ``<int:...>`` part (portal.db.RowIdConverter): a number past the database's
    integers is no page (404), whoever asks, never a database error."""
    make_customer("an@example.vn")
    client = english(app.test_client())
    if who == "customer":
        sign_in(client, "an@example.vn")
    else:
        sign_in_staff(client, make_staff(who), clock=clock)
    rules = [rule for rule in app.url_map.iter_rules()
             if "GET" in rule.methods and any(type(converter).__name__ == "RowIdConverter"
                                               for converter in rule._converters.values())]
    assert len(rules) >= 8, [rule.rule for rule in rules]  # customers, corrections, incidents, oversight, ...
    for rule in rules:
        values = {name: TOO_LARGE if type(converter).__name__ == "RowIdConverter" else "KN-2026-000001"
                  for name, converter in rule._converters.items()}
        path = re.sub(r"<(?:[^>:]+:)?([^>]+)>", lambda part, values=values: values[part.group(1)], rule.rule)
        assert client.get(path).status_code == 404, path


def test_a_customer_of_incident_a_cannot_be_removed_through_incident_b(board, clock):
    an = make_customer()
    first, second = create_incident(board, clock, title="A"), create_incident(board, clock, title="B")
    services.add_affected(first, [an.id], AffectedSource.PICKED, None, clock.now())
    db.session.commit()
    row = db.session.scalars(select(AffectedCustomer.id)).one()
    path = f"/board/incidents/{second.id}/customers"
    before = state()
    response = board.post(f"{path}/{row}/remove", data={"csrf_token": csrf_token(board, path)})
    assert response.status_code == 404
    assert state() == before


@pytest.mark.parametrize("customer_id", ["", "abc", "-1", "1.5", TOO_LARGE, "0x1", "١"])
def test_picking_a_customer_that_does_not_exist_changes_nothing(board, clock, customer_id):
    incident = create_incident(board, clock)
    path = f"/board/incidents/{incident.id}/customers"
    before = state()
    response = board.post(f"{path}/pick", data={"csrf_token": csrf_token(board, path), "customer_id": customer_id},
                          follow_redirects=True)
    assert response.status_code == 200
    assert "There is no such customer" in page_text(response) or "Reload the page" in page_text(response)
    assert state() == before


def test_raising_into_a_closed_or_unknown_incident_changes_nothing(board, clock):
    ticket = new_ticket("leak_complaint", email="la@example.vn")
    incident = create_incident(board, clock)
    path = f"/board/incidents/raise/{ticket.reference}"
    before = state()
    for value in ("999", "abc", TOO_LARGE, "-1", ""):
        response = board.post(path, data={"csrf_token": csrf_token(board, path), "incident": value})
        assert response.status_code == 400, value
    response = board.post(path, data={"csrf_token": csrf_token(board, path), "incident": [str(incident.id), "999"]})
    assert state() == before or response.status_code == 303


@pytest.mark.parametrize("page", ["-1", "0", "abc", "99999", TOO_LARGE, "1e3"])
def test_odd_page_numbers_show_a_page(board, clock, page):
    an = make_customer()
    incident = create_incident(board, clock)
    services.add_affected(incident, [an.id], AffectedSource.PICKED, None, clock.now())
    db.session.commit()
    response = board.get(f"/board/incidents/{incident.id}/customers", query_string={"page": page})
    assert response.status_code == 200


def test_query_strings_with_arrays_are_read_as_one_value(board, clock):
    make_customer()
    incident = create_incident(board, clock)
    response = board.get(f"/board/incidents/{incident.id}/customers?q=an.nguyen@example.vn&q=x&page=1&page=2")
    assert response.status_code == 200 and "Nguyễn Văn An" in page_text(response)
    assert board.get(f"{NEW_INCIDENT}?complaint=1&complaint=abc").status_code == 200
    assert board.get(f"/board/incidents/{incident.id}/notice?lang=en&lang=fr").status_code == 200


@pytest.mark.parametrize("before", ["2026-01-01." + TOO_LARGE, "2026-01-01.-" + TOO_LARGE, "9999-12-31.1",
                                    "0001-01-01.1", "x", "2026-13-01.1", "2026-01-01"])
def test_an_odd_history_cursor_is_not_found_or_shows_a_page(app, board, clock, before):
    member = make_staff("care", name="Lê Care")
    response = board.get(f"/board/oversight/members/{member.id}", query_string={"before": before})
    assert response.status_code in (200, 404)


# --- odd dates and text ---------------------------------------------------------------------------------


@pytest.mark.parametrize("moment, message", [
    ("0001-01-01T00:00", "too long ago"),
    ("1899-12-31T23:59", "too long ago"),
    ("9999-12-31T23:59", "in the future"),
    ("28/11/2026 14:30", "Give a date and a time"),
    ("2026-02-30T10:00", "Give a date and a time"),
    ("2026-11-28T25:00", "Give a date and a time"),
    ("2026-11-28T10:00Z", "Give a date and a time"),
    ("1732700000", "Give a date and a time"),
    ("", "Give the date and time the violation was discovered"),
])
def test_a_discovery_at_an_odd_moment_is_refused_with_a_message(board, clock, moment, message):
    before = state()
    response = board.post(NEW_INCIDENT, data=incident_form(board, clock, discovered_at=moment))
    assert response.status_code == 400
    assert message in page_text(response)
    assert state() == before


@pytest.mark.parametrize("moment", ["0001-01-01T00:00", "1899-12-31T23:59", "9999-12-31T23:59"])
def test_an_odd_moment_of_the_notice_or_an_edit_is_refused(board, clock, moment):
    incident = create_incident(board, clock)
    path = f"/board/incidents/{incident.id}"
    page = page_text(board.get(path))
    csrf = CSRF_FIELD.search(page).group(1)
    before = state()
    response = board.post(f"{path}/authority-notice", data={
        "notice-csrf_token": csrf, "notice-version": str(incident.version), "notice-sent_at": moment,
        "notice-reference": "CV-1"})
    assert response.status_code == 400
    data = {f"edit-{key}": value for key, value in incident_form(board, clock, occurred_from=moment).items()}
    data.update({"edit-csrf_token": csrf, "edit-version": str(incident.version)})
    assert board.post(f"{path}/edit", data=data).status_code == 400
    assert state() == before


@pytest.mark.parametrize("changes, message", [
    ({"title": "a\x00b"}, "invisible control characters"),
    ({"acts": "a\x1bb"}, "invisible control characters"),
    ({"title": "x" * 201}, "at most 200 characters"),
    ({"measures": "x" * 4001}, "at most 4000 characters"),
    ({"categories": ["nope"]}, "Choose among the options listed"),
    ({"categories": []}, "Tick at least one category"),
    ({"complaints": ["abc"]}, "Choose among the options listed"),
    ({"complaints": ["999"]}, "Choose among the options listed"),
    ({"title": XSS + "\x00", "acts": XSS, "categories": ["name", XSS]}, "invisible control characters"),
])
def test_bad_text_or_choices_in_a_new_incident_change_nothing(board, clock, changes, message):
    before = state()
    response = board.post(NEW_INCIDENT, data=incident_form(board, clock, **changes))
    assert response.status_code == 400
    assert message in page_text(response)
    assert "<script>alert" not in page_text(response) and "<img src=x" not in page_text(response)
    assert state() == before


def test_bad_text_in_the_notice_and_the_close_changes_nothing(board, clock):
    incident = create_incident(board, clock)
    path = f"/board/incidents/{incident.id}"
    csrf = CSRF_FIELD.search(page_text(board.get(path))).group(1)
    before = state()
    for reference in ("CV\x00-1", "x" * 101, "   "):
        response = board.post(f"{path}/authority-notice", data={
            "notice-csrf_token": csrf, "notice-version": str(incident.version),
            "notice-sent_at": local_input(clock.now() - timedelta(hours=1)), "notice-reference": reference})
        assert response.status_code == 400, reference
    for reason in ("Lý do\x00 đóng sự cố", "x" * 4001, "ngắn"):
        response = board.post(f"{path}/close", data={"close-csrf_token": csrf, "close-version": str(incident.version),
                                                     "close-reason": reason})
        assert response.status_code == 400, reason
    for version in ("abc", "", TOO_LARGE, "-1"):
        response = board.post(f"{path}/close", data={"close-csrf_token": csrf, "close-version": version,
                                                     "close-reason": "Đóng vì đây là báo nhầm"})
        assert response.status_code in (400, 409), version
    assert state() == before


def test_markup_in_every_text_field_is_shown_as_text_everywhere(app, board, clock):
    an = make_customer(name=XSS)
    ticket = new_ticket("leak_complaint", customer=an, email="an.nguyen@example.vn")
    texts = {name: f"{name} {XSS}" for name in ("place", "acts", "parties", "volume", "consequences", "measures")}
    incident = create_incident(board, clock, title=XSS[:200], complaints=[str(ticket.id)], **texts)
    path = f"/board/incidents/{incident.id}"
    csrf = CSRF_FIELD.search(page_text(board.get(path))).group(1)
    assert board.post(f"{path}/authority-notice", data={
        "notice-csrf_token": csrf, "notice-version": str(incident.version),
        "notice-sent_at": local_input(clock.now() - timedelta(hours=1)),
        "notice-reference": XSS[:100]}).status_code == 303
    pages = ["/board/incidents/", path, f"{path}/customers", f"{path}/notice", f"{path}/record",
             f"{path}/notice?lang=en", f"{path}/record?lang=en", f"/board/tickets/{ticket.reference}",
             f"/board/incidents/raise/{ticket.reference}", f"{NEW_INCIDENT}?complaint={ticket.id}"]
    for page in pages:
        text = page_text(board.get(page))
        assert "<script>alert" not in text and "<img src=x" not in text, page
    pack = board.post("/board/inspection/pack", data={
        "csrf_token": csrf_token(board, "/board/inspection"), "date_from": str(clock.now().date() - timedelta(days=2)),
        "date_to": str(clock.now().date()), "language": "en"})
    assert pack.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(pack.get_data()))
    summary = archive.read("summary.html").decode()
    assert "<script>alert" not in summary and "<img src=x" not in summary
    for name in archive.namelist():
        if name.endswith(".csv"):
            for row in csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"), newline="")):
                assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row), (name, row)


def test_a_title_that_looks_like_a_formula_is_text_in_the_pack(board, clock):
    create_incident(board, clock, title='=HYPERLINK("http://evil.example","x")', measures="+1", volume="-2",
                    parties="@SUM(1)")
    pack = board.post("/board/inspection/pack", data={
        "csrf_token": csrf_token(board, "/board/inspection"), "date_from": str(clock.now().date() - timedelta(days=2)),
        "date_to": str(clock.now().date()), "language": "vi"})
    breaches = zipfile.ZipFile(io.BytesIO(pack.get_data())).read("breaches.csv").decode("utf-8-sig")
    assert "'=HYPERLINK" in breaches and '\n=HYPERLINK' not in breaches and ',=HYPERLINK' not in breaches


# --- the inspection pack's odd ranges -------------------------------------------------------------------


@pytest.mark.parametrize("date_from, date_to, message", [
    ("0001-01-01", "0001-01-05", "too long ago"),
    ("1899-12-30", "1900-01-05", "too long ago"),
    ("2026-01-01", "9999-12-31", "at most 400 days"),
    ("01/11/2026", "30/11/2026", "Not a valid date"),
    ("2026-11-01", "", "Enter the last day"),
])
def test_an_odd_range_gets_a_message_and_no_pack(board, clock, date_from, date_to, message):
    before = state()
    response = board.post("/board/inspection/pack", data={
        "csrf_token": csrf_token(board, "/board/inspection"), "date_from": date_from, "date_to": date_to,
        "language": "en"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert message in page_text(response)
    assert state() == before


def test_a_pack_in_an_unknown_language_is_refused(board, clock):
    before = state()
    response = board.post("/board/inspection/pack", data={
        "csrf_token": csrf_token(board, "/board/inspection"), "date_from": str(clock.now().date()),
        "date_to": str(clock.now().date()), "language": ["fr", "en"]})
    assert response.status_code == 400 and state() == before


# --- files of affected customers -----------------------------------------------------------------------


def upload(client, incident, content: bytes, name: str = "khach.csv"):
    path = f"/board/incidents/{incident.id}/customers"
    return client.post(f"{path}/import",
                       data={"csrf_token": csrf_token(client, path), "file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("content, message", [
    ("email\nan.nguyen@example.vn\n".encode("utf-16"), "not a CSV text file"),
    ("email\nan.nguyen@example.vn\n".encode("utf-16-le"), "not a CSV text file"),
    (b"\xff\xfe\xfd\x00\x01\x02" * 100, "not a CSV text file"),
    (b"\x1f\x8b\x08\x00" + bytes(range(256)) * 10, "not a CSV text file"),
    (b"\xef\xbb\xbf\xef\xbb\xbf", "The file is empty"),
    (b'"an.nguyen@example.vn\n', "cannot be read as CSV"),
    (b"email\n" + b"a@example.vn\n" * (services.MAX_IMPORT_ROWS + 1), "more than 20000 rows"),
])
def test_a_strange_file_gets_a_clear_message_and_adds_nothing(board, clock, content, message):
    make_customer()
    incident = create_incident(board, clock)
    before = state()
    response = upload(board, incident, content)
    assert response.status_code == 400
    assert message in page_text(response)
    assert state() == before


def test_a_file_of_exactly_20000_rows_with_a_bom_is_read(board, clock):
    an = make_customer()
    incident = create_incident(board, clock)
    content = b"\xef\xbb\xbfemail\r\n" + b"an.nguyen@example.vn\r\n" * services.MAX_IMPORT_ROWS
    response = upload(board, incident, content)
    assert response.status_code == 200, page_text(response)[:2000]
    assert "Rows read: 20000" in page_text(response)
    assert db.session.scalars(select(AffectedCustomer.customer_id)).all() == [an.id]


def test_a_refused_file_is_explained_in_vietnamese(app, clock):
    client = staff_client(app, make_staff("board", name="Đỗ Minh Quân"), clock)
    incident = create_incident(client, clock)
    response = upload(client, incident, "e\n".encode("utf-16"))
    assert response.status_code == 400
    assert "Không có khách nào được thêm" in page_text(response) or "không phải" in page_text(response).lower()


def test_formula_and_markup_cells_are_listed_as_text(board, clock):
    make_customer()
    incident = create_incident(board, clock)
    cells = io.StringIO()
    csv.writer(cells).writerows([["email"], ['=cmd|" /C calc"!A0'], [XSS], ["+84 90"], ["@SUM(A1)"]])
    response = upload(board, incident, cells.getvalue().encode())
    text = page_text(response)
    assert response.status_code == 200, text
    assert "Rows that match no customer: 4" in text and "=cmd|&#34; /C calc&#34;!A0" in text
    assert "<script>alert" not in text and "<img src=x" not in text
    assert db.session.scalar(select(func.count()).select_from(AffectedCustomer)) == 0


# --- who reaches what --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["care", "sales", "admin"])
def test_no_one_but_the_board_reaches_any_of_these_pages_or_files(app, board, clock, role):
    an = make_customer()
    ticket = new_ticket("leak_complaint", customer=an, email="an.nguyen@example.vn")
    incident = create_incident(board, clock, complaints=[str(ticket.id)])
    client = staff_client(app, make_staff(role, name=f"Nhân viên {role}"), clock)
    csrf = csrf_token(client, "/board/" if role != "admin" else "/board/settings")
    before = state()
    for path in ("/board/incidents/", NEW_INCIDENT, f"/board/incidents/{incident.id}",
                 f"/board/incidents/{incident.id}/customers",
                 f"/board/incidents/{incident.id}/notice", f"/board/incidents/{incident.id}/record",
                 f"/board/incidents/raise/{ticket.reference}", "/board/inspection", "/board/oversight",
                 f"/board/oversight/members/{board.member.id}", f"/board/complaints/{ticket.reference}/evidence/1"):
        assert client.get(path).status_code == 404, (role, path)
    for path in (NEW_INCIDENT, f"/board/incidents/{incident.id}/close",
                 f"/board/incidents/{incident.id}/customers/pick",
                 f"/board/incidents/{incident.id}/customers/import", "/board/inspection/pack",
                 f"/board/incidents/raise/{ticket.reference}"):
        response = client.post(path, data={"csrf_token": csrf, "customer_id": str(an.id), "incident": str(incident.id),
                                            "date_from": "2026-11-01", "date_to": "2026-11-02", "language": "vi"})
        assert response.status_code == 404, (role, path)
    assert state() == before
    assert db.session.scalar(select(func.count()).select_from(CustomerDataView).where(
        CustomerDataView.staff_id != board.member.id)) == 0


def test_a_customer_reaches_none_of_the_board_pages_and_no_other_customers_evidence(app, board, clock):
    an = make_customer()
    make_customer("binh@example.vn", name="Trần Bình", phone_normalized="+84912000111", order="DH-B")
    ticket = new_ticket("leak_complaint", customer=an, email="an.nguyen@example.vn")
    incident = create_incident(board, clock, complaints=[str(ticket.id)])
    client = app.test_client()
    sign_in(client, "binh@example.vn")
    for path in ("/board/incidents/", f"/board/incidents/{incident.id}", f"/board/incidents/{incident.id}/notice",
                 "/board/inspection", "/board/oversight"):
        response = client.get(path)
        assert response.status_code in (302, 303, 404), path
        assert "Nguyễn Văn An" not in page_text(response)
    assert client.get(f"/requests/{ticket.reference}/evidence/1").status_code == 404
    assert "Nguyễn Văn An" not in page_text(client.get("/my-data"))


def test_a_complaint_reference_too_large_or_odd_is_not_found(board, clock):
    create_incident(board, clock)
    for reference in ("KN-2026-" + TOO_LARGE, "KN-2026-0", "KN-0000-0001", "x" * 5000, "KN-2026-0001%00"):
        assert board.get(f"/board/incidents/raise/{reference}").status_code == 404, reference


def test_markup_in_a_close_reason_and_in_the_titles_offered_is_text(board, clock):
    ticket = new_ticket("leak_complaint", email="la@example.vn")
    create_incident(board, clock, title=XSS[:200])
    incident = create_incident(board, clock, title="Sự cố thứ hai")
    path = f"/board/incidents/{incident.id}"
    csrf = CSRF_FIELD.search(page_text(board.get(path))).group(1)
    response = board.post(f"{path}/close", data={"close-csrf_token": csrf, "close-version": str(incident.version),
                                                 "close-reason": f"Báo nhầm {XSS}"})
    assert response.status_code == 303
    for page in (path, "/board/incidents/", f"/board/incidents/raise/{ticket.reference}", f"{path}/record"):
        text = page_text(board.get(page))
        assert "<script>alert" not in text and "<img src=x" not in text, page
    assert "Báo nhầm &#34;&gt;&lt;script&gt;" in page_text(board.get(path))


# --- the access log, the audit log, and the cost of a page ------------------------------------------------


def test_every_change_through_these_pages_is_audited(app, board, clock):
    an = make_customer()
    binh = make_customer("binh@example.vn", name="Trần Bình", phone_normalized="+84912000111", order="DH-B")
    ticket = new_ticket("leak_complaint", email="la@example.vn")
    incident = create_incident(board, clock)
    path = f"/board/incidents/{incident.id}"
    csrf = CSRF_FIELD.search(page_text(board.get(path))).group(1)
    data = {f"edit-{key}": value for key, value in incident_form(board, clock, title="Tiêu đề mới").items()}
    data.update({"edit-csrf_token": csrf, "edit-version": str(incident.version)})
    assert board.post(f"{path}/edit", data=data).status_code == 303
    raise_path = f"/board/incidents/raise/{ticket.reference}"
    assert board.post(raise_path, data={"csrf_token": csrf_token(board, raise_path),
                                        "incident": str(incident.id)}).status_code == 303
    assert board.post(f"{path}/customers/pick", data={"csrf_token": csrf, "customer_id": str(an.id)}).status_code == 303
    assert upload(board, incident, b"binh@example.vn\n").status_code == 200
    row = db.session.scalar(select(AffectedCustomer.id).where(AffectedCustomer.customer_id == binh.id))
    assert board.post(f"{path}/customers/{row}/remove", data={"csrf_token": csrf}).status_code == 303
    db.session.expire_all()
    version = str(db.session.get(BreachIncident, incident.id).version)
    assert board.post(f"{path}/authority-notice", data={
        "notice-csrf_token": csrf, "notice-version": version,
        "notice-sent_at": local_input(clock.now() - timedelta(hours=1)),
        "notice-reference": "CV-12"}).status_code == 303
    db.session.expire_all()
    version = str(db.session.get(BreachIncident, incident.id).version)
    assert board.post(f"{path}/close", data={"close-csrf_token": csrf, "close-version": version,
                                             "close-reason": ""}).status_code == 303
    assert board.post("/board/inspection/pack", data={
        "csrf_token": csrf, "date_from": str(clock.now().date()), "date_to": str(clock.now().date()),
        "language": "vi"}).status_code == 200
    db.session.expire_all()
    done = list(db.session.scalars(select(AuditRecord.action).order_by(AuditRecord.id)))
    assert [action for action in done if action.startswith(("incident.", "inspection."))] == [
        "incident.created", "incident.changed", "incident.complaints_raised", "incident.customer_added",
        "incident.customers_imported", "incident.customer_removed", "incident.authority_notified", "incident.closed",
        "inspection.exported"]
    assert all(record.actor == f"staff:{board.member.id}" for record in db.session.scalars(
        select(AuditRecord).where(AuditRecord.action.like("incident.%"))))


def test_the_page_after_an_import_logs_the_customers_it_shows(board, clock):
    an = make_customer()
    incident = create_incident(board, clock)
    response = upload(board, incident, b"an.nguyen@example.vn\n")
    assert "Nguyễn Văn An" in page_text(response)
    db.session.expire_all()
    assert db.session.scalars(select(CustomerDataView.customer_id).where(
        CustomerDataView.staff_id == board.member.id)).all() == [an.id]


def test_a_closed_incident_and_an_older_page_of_history_stay_within_six_statements(app, board, clock):
    customers = [make_customer(f"k{number}@example.vn", name=f"Khách {number}", order=f"DH-{number}")
                 for number in range(3)]
    incident = create_incident(board, clock)
    path = f"/board/incidents/{incident.id}"
    csrf = CSRF_FIELD.search(page_text(board.get(path))).group(1)
    assert board.post(f"{path}/close", data={"close-csrf_token": csrf, "close-version": str(incident.version),
                                             "close-reason": "Báo nhầm, không có rò rỉ"}).status_code == 303
    for customer in customers:
        board.get(f"/board/customers/{customer.id}")
    history = f"/board/oversight/members/{board.member.id}?before={clock.now().date().isoformat()}.{customers[-1].id}"
    for page in (path, history, f"{path}/customers?q=k1@example.vn&page=2"):
        assert board.get(page).status_code == 200
        with counted_statements() as statements:
            assert board.get(page).status_code == 200
        assert len(statements) <= 6, (page, statements)


# --- evidence files --------------------------------------------------------------------------------------

KEY = re.compile(r'name="submission_key" type="hidden" value="([0-9a-f]{32})"')
PDF = b"%PDF-1.7\n" + b"x" * 100


@pytest.fixture
def complainant(app, clock, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    make_customer()
    client = english(app.test_client())
    sign_in(client, "an.nguyen@example.vn")
    return client


def leak(client, clock, **changes):
    page = page_text(client.get("/requests/new/leak_complaint"))
    data = {"csrf_token": CSRF_FIELD.search(page).group(1), "submission_key": KEY.search(page).group(1),
            "leaked": ["phone"], "third_party_name": "Công ty X", "third_party_phone": "", "third_party_url": "",
            "seen_on": str(clock.now().date() - timedelta(days=1)), "message": "Có người gọi tôi."}
    data.update(changes)
    return client.post("/requests/new/leak_complaint", data=data, content_type="multipart/form-data")


def tickets() -> int:
    return db.session.scalar(select(func.count()).select_from(Ticket))


@pytest.mark.parametrize("changes, message", [
    ({"evidence": [(io.BytesIO(PDF), "\u202efdp.exe")]}, "is not allowed"),
    ({"evidence": [(io.BytesIO(PDF), "hoadon.pdf\u200b")]}, "is not allowed"),
    ({"third_party_phone": "0" * 5000}, "This is not a phone number"),
    ({"third_party_phone": "=1+1"}, "This is not a phone number"),
    ({"third_party_url": "javascript:alert(1)//https://x"}, "starting with http:// or https://"),
    ({"third_party_url": "https://" + "a" * 600}, "at most 500 characters"),
    ({"third_party_name": "Công ty\x00X"}, "invisible control characters"),
    ({"seen_on": "30/11/2026"}, "Not a valid date"),
    ({"seen_on": "9999-12-31"}, "in the future"),
    ({"seen_on": "0001-01-01"}, "too long ago"),
    ({"seen_on": "1999-12-31"}, "too long ago"),
    ({"leaked": ["phone", "<script>"]}, "Choose among the options listed"),
])
def test_a_hostile_leak_complaint_is_refused_and_files_nothing(app, complainant, clock, changes, message):
    response = leak(complainant, clock, **changes)
    assert response.status_code == 400
    assert message in page_text(response), page_text(response)[-3000:]
    assert tickets() == 0
    folder = app.config["UPLOAD_DIR"]
    assert not os.path.isdir(folder) or os.listdir(folder) == []


def test_an_odd_file_name_is_downloaded_under_a_safe_header(app, complainant, board, clock):
    name = "hoá đơn;x=1, tháng 11 %0d%0a.pdf"
    response = leak(complainant, clock, evidence=[(io.BytesIO(PDF), name)])
    assert response.status_code == 303, page_text(response)
    reference = response.headers["Location"].rsplit("/", 1)[-1]
    file_id = db.session.scalar(select(EvidenceFile.id))
    for client, path in ((complainant, f"/requests/{reference}/evidence/{file_id}"),
                         (board, f"/board/complaints/{reference}/evidence/{file_id}")):
        download = client.get(path)
        assert download.status_code == 200 and download.get_data() == PDF
        disposition = download.headers["Content-Disposition"]
        assert disposition.startswith("attachment;") and "\r" not in disposition and "\n" not in disposition
        assert disposition.startswith('attachment; filename="') and "filename*=UTF-8''" in disposition
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert download.mimetype == "application/pdf"
    for number in ("0", TOO_LARGE, "2147483648"):
        assert complainant.get(f"/requests/{reference}/evidence/{number}").status_code == 404
        assert board.get(f"/board/complaints/{reference}/evidence/{number}").status_code == 404


@pytest.mark.parametrize("text", ["an\x00nguyen", "an\x1bnguyen", "%%", "_", "a" * 5000, "\\", "' OR 1=1 --",
                                  "an.nguyen@example.vn\u202e", "0903\u00a0123\u00a0456"])
def test_an_odd_search_on_the_list_page_shows_the_page_and_adds_nobody(board, clock, text):
    make_customer()
    incident = create_incident(board, clock)
    before = state()
    response = board.get(f"/board/incidents/{incident.id}/customers", query_string={"q": text})
    assert response.status_code == 200
    if "\x00" in text or "\x1b" in text:
        assert "Remove the invisible control characters" in page_text(response)
    assert state() == before


def test_a_customer_cannot_download_another_customers_file_through_their_own_request(app, complainant, clock):
    theirs = leak(complainant, clock, evidence=[(io.BytesIO(PDF), "thu.pdf")])
    assert theirs.status_code == 303
    make_customer("binh@example.vn", name="Trần Bình", phone_normalized="+84912000111", order="DH-B")
    other = english(app.test_client())
    sign_in(other, "binh@example.vn")
    own = leak(other, clock)
    assert own.status_code == 303
    own_reference = own.headers["Location"].rsplit("/", 1)[-1]
    their_reference = theirs.headers["Location"].rsplit("/", 1)[-1]
    file_id = db.session.scalar(select(EvidenceFile.id))
    assert other.get(f"/requests/{own_reference}/evidence/{file_id}").status_code == 404
    assert other.get(f"/requests/{their_reference}/evidence/{file_id}").status_code == 404
    assert other.get(f"/board/complaints/{their_reference}/evidence/{file_id}").status_code in (302, 303)
    assert "thu.pdf" not in page_text(other.get(f"/requests/{own_reference}"))


def test_files_in_place_of_text_fields_change_nothing(app, board, clock):
    incident = create_incident(board, clock)
    path = f"/board/incidents/{incident.id}"
    csrf = CSRF_FIELD.search(page_text(board.get(path))).group(1)
    before = state()
    data = incident_form(board, clock)
    for name in ("title", "discovered_at", "categories"):
        sent = {**data, name: (io.BytesIO(b"<script>x</script>"), "x.txt")}
        response = board.post(NEW_INCIDENT, data=sent, content_type="multipart/form-data")
        assert response.status_code == 400, name
    for name, fields in (("notice", {"sent_at": local_input(clock.now()), "reference": "CV"}),
                         ("close", {"reason": "Báo nhầm hoàn toàn"})):
        for field in (*fields, "version"):
            sent = {f"{name}-csrf_token": csrf, f"{name}-version": str(incident.version),
                    **{f"{name}-{key}": value for key, value in fields.items()}}
            sent[f"{name}-{field}"] = (io.BytesIO(b"x"), "x.txt")
            response = board.post(f"{path}/{'authority-notice' if name == 'notice' else name}", data=sent,
                                  content_type="multipart/form-data")
            assert response.status_code in (400, 409), (name, field)
    customers = f"{path}/customers"
    response = board.post(f"{customers}/pick", data={"csrf_token": csrf, "customer_id": (io.BytesIO(b"1"), "1")},
                          content_type="multipart/form-data")
    assert response.status_code == 303
    response = board.post(f"{customers}/import", data={"csrf_token": csrf, "file": "an.nguyen@example.vn"})
    assert response.status_code == 400 and "Choose a CSV file" in page_text(response)
    response = board.post("/board/inspection/pack", data={
        "csrf_token": csrf, "date_from": (io.BytesIO(b"2026-11-01"), "d"), "date_to": str(clock.now().date()),
        "language": "vi"}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert state() == before


@pytest.mark.parametrize("body", [{"title": 123, "discovered_at": ["x"], "categories": {"a": 1}}, [1, 2], "x", None])
def test_a_json_body_is_no_form_and_changes_nothing(board, clock, body):
    csrf = csrf_token(board, NEW_INCIDENT)
    before = state()
    for path in (NEW_INCIDENT, "/board/inspection/pack"):
        response = board.post(path, json=body, headers={"X-CSRFToken": csrf})
        assert response.status_code == 400, path
    assert state() == before


def test_a_staff_name_with_markup_or_a_formula_is_text_on_every_page_and_in_the_pack(app, board, clock):
    an = make_customer()
    ticket = new_ticket("leak_complaint", customer=an, email="an.nguyen@example.vn")
    care = make_staff("care", name=f"=1+1 {XSS}"[:200])
    viewer = staff_client(app, care, clock)
    assert viewer.get(f"/board/customers/{an.id}").status_code == 200
    board.member.full_name = f"@SUM(1) {XSS}"[:200]
    db.session.commit()
    incident = create_incident(board, clock, complaints=[str(ticket.id)])
    path = f"/board/incidents/{incident.id}"
    csrf = CSRF_FIELD.search(page_text(board.get(path))).group(1)
    assert board.post(f"{path}/authority-notice", data={
        "notice-csrf_token": csrf, "notice-version": str(incident.version),
        "notice-sent_at": local_input(clock.now() - timedelta(hours=1)), "notice-reference": "CV-1"}).status_code == 303
    for page in ("/board/oversight", f"/board/oversight/members/{care.id}", f"/board/tickets/{ticket.reference}",
                 path, f"{path}/notice", f"{path}/record"):
        text = page_text(board.get(page))
        assert "<script>alert" not in text and "<img src=x" not in text, page
    assert "=1+1 &#34;&gt;&lt;script&gt;" in page_text(board.get("/board/oversight"))
    pack = board.post("/board/inspection/pack", data={
        "csrf_token": csrf, "date_from": str(clock.now().date() - timedelta(days=1)),
        "date_to": str(clock.now().date() + timedelta(days=1)), "language": "en"})
    archive = zipfile.ZipFile(io.BytesIO(pack.get_data()))
    summary = archive.read("summary.html").decode()
    assert "<script>alert" not in summary and "@SUM(1) &#34;&gt;&lt;script&gt;" in summary
    cells = [cell for name in ("access_log.csv", "breaches.csv")
             for row in csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"), newline="")) for cell in row]
    assert f"'=1+1 {XSS}"[:201] in cells and f"'@SUM(1) {XSS}"[:201] in cells


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` × ``height`` pixels, with almost no data behind it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + \
        chunk(b"IEND", b"")


# Pillow only warns between MAX_PIXELS and twice as many (the tests turn warnings into errors)
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("width, height", [(8000, 8000), (100_000, 100_000)])
def test_a_picture_claiming_too_many_pixels_is_refused_before_it_is_decoded(app, complainant, clock, width, height):
    response = leak(complainant, clock, evidence=[(io.BytesIO(png_claiming(width, height)), "anh.png")])
    assert response.status_code == 400
    assert "The picture anh.png has too many pixels" in page_text(response)
    assert tickets() == 0


def answer(client, reference: str, **changes):
    page = page_text(client.get(f"/board/tickets/{reference}"))
    db.session.expire_all()
    ticket = db.session.scalars(select(Ticket)).one()
    data = {"csrf_token": CSRF_FIELD.search(page).group(1), "version": str(ticket.version), "finding": "confirmed",
            "reason": "Một nhân viên cũ đã chép danh sách.", "remedy": "Đã khoá tài khoản và báo cơ quan chức năng."}
    data.update(changes)
    return client.post(f"/board/complaints/{reference}/answer", data=data)


@pytest.mark.parametrize("changes", [{"finding": "certain"}, {"finding": ["certain", "confirmed"]},
                                     {"reason": "Lý do\x00"}, {"remedy": "x" * 20_000}, {"version": TOO_LARGE},
                                     {"reason": (io.BytesIO(b"x"), "x.txt")}])
def test_a_tampered_answer_changes_nothing(app, complainant, board, clock, changes):
    response = leak(complainant, clock)
    reference = response.headers["Location"].rsplit("/", 1)[-1]
    before = (state(), db.session.scalar(select(func.count()).select_from(OutboxMessage)))
    response = answer(board, reference, **changes)
    assert response.status_code in (303, 400, 409)
    db.session.expire_all()
    assert db.session.scalar(select(LeakComplaintDetails.finding)) is None
    assert (state(), db.session.scalar(select(func.count()).select_from(OutboxMessage))) == before


def test_markup_in_an_answer_is_text_for_the_customer_on_the_page_and_in_the_email(app, complainant, board, clock):
    reference = leak(complainant, clock).headers["Location"].rsplit("/", 1)[-1]
    assert answer(board, reference, reason=f"Lý do {XSS}", remedy=f"Cách khắc phục {XSS}").status_code == 303
    text = page_text(complainant.get(f"/requests/{reference}"))
    assert "<script>alert" not in text and "Lý do &#34;&gt;&lt;script&gt;" in text
    db.session.expire_all()
    message = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert "Lý do" in message.body_text
    assert message.body_html is None or ("<script>alert" not in message.body_html
                                         and "<img src=x" not in message.body_html)
