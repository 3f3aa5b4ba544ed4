"""The inspection pack: the board's page, the range it accepts, and the zip of the registers read
back through HTTP — its files and columns, the clocks met and missed, neutralised formulas, customer
numbers instead of names, the audit record of each download, and its constant cost."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta, timezone

import pytest
from sqlalchemy import select

from portal.audit.access_log import log_customer_views
from portal.audit.models import AuditRecord
from portal.consent.models import ConsentEntry
from portal.db import db
from portal.enums import ViewedPage
from portal.incidents.models import AffectedCustomer, BreachIncident
from portal.inspection.pack import clock_outcome
from portal.local_time import local_date
from portal.outbox.models import OutboxMessage
from portal.spreadsheets import safe_cell
from tests.factories import make_customer, make_staff, new_ticket, pickup_everywhere
from tests.helpers import count, counted_statements, csrf_token, page_text, staff_client

FILES = {"requests.csv", "consents.csv", "breaches.csv", "access_log.csv", "summary.html"}
REQUEST_COLUMNS = ["Reference", "Kind", "Department", "Status", "Filed", "Clocks counted from", "Acknowledgement due",
                   "First answered", "Acknowledgement", "Fulfilment due", "Extended on", "Finished", "Fulfilment"]
CONSENT_COLUMNS = ["Recorded at", "Customer no.", "Purpose", "Given or withdrawn", "How", "Evidence reference",
                   "Privacy notice version", "Recorded by"]
BREACH_COLUMNS = ["Incident reference", "Title", "Status", "Discovered", "Categories of data", "Affected customers",
                  "Authority notice due", "Authority notice sent", "Sent by", "Authority's reference",
                  "Authority notice", "Customers' notice started", "Customers' notices e-mailed",
                  "Customers' notices delivered"]
ACCESS_COLUMNS = ["Viewed at", "Staff member", "Role", "Customer no.", "Page", "Request reference"]


@pytest.fixture
def world(app, clock):
    """A month of registers: four requests whose clocks end differently, consents, an incident, a
    view of a customer's data; and things outside the range."""
    now = clock.now()
    pickup_everywhere()
    board = make_staff("board", name="Trần Thị Giám Đốc")
    care = make_staff("care", name="Lê Văn Chăm Sóc")
    customer = make_customer(name="Nguyễn Văn An")
    met = new_ticket(customer=customer, email="an.nguyen@example.vn", now=now - timedelta(days=20))
    met.first_response_at = met.created_at + timedelta(hours=1)
    met.resolved_at, met.status = met.created_at + timedelta(days=3), "resolved"
    missed = new_ticket("access", email="b@example.vn", now=now - timedelta(days=25))
    missed.first_response_at = missed.acknowledge_due_at + timedelta(hours=1)
    missed.resolved_at, missed.status = missed.due_at + timedelta(days=1), "resolved"
    late = new_ticket(email="c@example.vn", now=now - timedelta(days=12), status="open")  # nobody answered
    fresh = new_ticket(email="d@example.vn", now=now - timedelta(hours=1))
    old = new_ticket(email="e@example.vn", now=now - timedelta(days=60))
    db.session.add_all([
        ConsentEntry(customer_id=customer.id, purpose="surveys", granted=True, method="web_form",
                     evidence='=HYPERLINK("http://evil.example","x")', recorded_at=now - timedelta(days=2),
                     actor_kind="staff", actor_name="Lan", notice_version="1"),
        ConsentEntry(customer_id=customer.id, purpose="surveys", granted=False, method="sms", evidence="@SUM(1)",
                     recorded_at=now - timedelta(days=1), actor_kind="customer", notice_version="1"),
        ConsentEntry(customer_id=customer.id, purpose="notices", granted=True, method="sms", evidence="old",
                     recorded_at=now - timedelta(days=90), actor_kind="customer", notice_version="1"),
    ])
    incident = BreachIncident(title="+Lộ danh sách", created_by_id=board.id, discovered_at=now - timedelta(days=10),
                              categories=["name", "phone"], created_at=now - timedelta(days=10),
                              authority_notified_at=now - timedelta(days=6), authority_notified_by_id=board.id,
                              authority_reference="A05-1")
    earlier = BreachIncident(title="Sự cố cũ", created_by_id=board.id, discovered_at=now - timedelta(days=70),
                             created_at=now - timedelta(days=70))
    db.session.add_all([incident, earlier])
    db.session.flush()
    notice = OutboxMessage(message_id="<notice-1@khoingo.net>", recipient="an@example.vn", subject="Thông báo",
                           body_text="", body_html="", locale="vi", purpose="incident_notice")
    db.session.add(notice)
    db.session.flush()
    db.session.add(AffectedCustomer(incident_id=incident.id, customer_id=customer.id, source="picked",
                                    notice_queued_at=now - timedelta(days=5), outbox_id=notice.id))
    log_customer_views(care, [customer.id], ViewedPage.TICKET, now - timedelta(days=3), ticket=met)
    log_customer_views(care, [customer.id], ViewedPage.SEARCH, now - timedelta(days=80))
    db.session.commit()
    return {"board": board, "care": care, "customer": customer, "tickets": (met, missed, late, fresh, old),
            "incident": incident, "earlier": earlier, "today": local_date(now)}


@pytest.fixture
def board_client(app, world, clock):
    return staff_client(app, world["board"], clock)


def download(client, date_from, date_to, language="en"):
    token = csrf_token(client, "/board/inspection")
    return client.post("/board/inspection/pack", data={"csrf_token": token, "date_from": str(date_from),
                                                      "date_to": str(date_to), "language": language})


def read_pack(response) -> dict:
    assert response.status_code == 200, page_text(response)
    assert response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    files = {}
    for name in archive.namelist():
        raw = archive.read(name)
        if name.endswith(".csv"):
            assert raw.startswith(b"\xef\xbb\xbf"), name  # UTF-8 with a byte-order mark, for Excel
            files[name] = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
        else:
            files[name] = raw.decode("utf-8")
    return files


def test_the_page_offers_the_last_30_days(board_client, world):
    text = page_text(board_client.get("/board/inspection"))
    today = world["today"]
    assert f'value="{today.isoformat()}"' in text and f'value="{(today - timedelta(days=29)).isoformat()}"' in text
    assert 'action="/board/inspection/pack"' in text and "csrf_token" in text
    assert 'href="/board/inspection"' in text  # in the board's nav


def test_the_pack_holds_the_registers_of_the_range(board_client, world):
    today = world["today"]
    files = read_pack(download(board_client, today - timedelta(days=29), today))
    assert set(files) == FILES
    requests, consents = files["requests.csv"], files["consents.csv"]
    breaches, access = files["breaches.csv"], files["access_log.csv"]
    assert requests[0] == REQUEST_COLUMNS and consents[0] == CONSENT_COLUMNS
    assert breaches[0] == BREACH_COLUMNS and access[0] == ACCESS_COLUMNS

    met, missed, late, fresh, old = world["tickets"]
    by_reference = {row[0]: dict(zip(REQUEST_COLUMNS, row, strict=True)) for row in requests[1:]}
    assert set(by_reference) == {met.reference, missed.reference, late.reference, fresh.reference}
    assert (by_reference[met.reference]["Acknowledgement"], by_reference[met.reference]["Fulfilment"]) == ("met", "met")
    assert (by_reference[missed.reference]["Acknowledgement"],
            by_reference[missed.reference]["Fulfilment"]) == ("missed", "missed")
    assert (by_reference[late.reference]["Acknowledgement"],
            by_reference[late.reference]["Fulfilment"]) == ("open and late", "open and late")
    assert (by_reference[fresh.reference]["Acknowledgement"],
            by_reference[fresh.reference]["Fulfilment"]) == ("open, not yet due", "open, not yet due")
    assert by_reference[met.reference]["Kind"] and by_reference[met.reference]["Status"] == "Resolved"
    due = met.due_at.astimezone(timezone(timedelta(hours=7))).strftime("%Y-%m-%d %H:%M")
    assert by_reference[met.reference]["Fulfilment due"] == due

    customer = world["customer"]
    # Ours two days and one day ago, then the two the record was made with; the one 90 days ago is out.
    assert [row[1] for row in consents[1:]] == [str(customer.id)] * 4
    assert consents[1][3] == "given" and consents[2][3] == "withdrawn"
    assert consents[1][5] == "'=HYPERLINK(\"http://evil.example\",\"x\")" and consents[2][5] == "'@SUM(1)"
    assert consents[1][6] == "1" and consents[1][7] == "staff: Lan"

    assert len(breaches) == 2
    breach = dict(zip(BREACH_COLUMNS, breaches[1], strict=True))
    assert breach["Incident reference"] == world["incident"].reference and breach["Title"] == "'+Lộ danh sách"
    assert breach["Categories of data"] == "Full name; Phone number" and breach["Affected customers"] == "1"
    assert breach["Sent by"] == "Trần Thị Giám Đốc" and breach["Authority's reference"] == "A05-1"
    assert breach["Authority notice"] == "sent late" and breach["Customers' notices e-mailed"] == "1"

    assert len(access) == 2
    view = dict(zip(ACCESS_COLUMNS, access[1], strict=True))
    assert view["Staff member"] == "Lê Văn Chăm Sóc" and view["Role"] == "Customer care"
    assert view["Customer no."] == str(customer.id) and view["Request reference"] == met.reference

    everything = "".join(str(content) for content in files.values())
    assert "Nguyễn Văn An" not in everything and "an.nguyen@example.vn" not in everything
    assert "0903" not in everything

    summary = files["summary.html"]
    assert "4 requests filed in the range." in summary
    # Acknowledgements that came due: met, missed, open and late → one of three met.
    assert summary.count("33 %") == 2
    assert "1 incident discovered in the range." in summary
    assert "Customers affected: 1; customers notified: 1." in summary
    assert "requests.csv (4 rows)" in summary and "access_log.csv (1 row)" in summary


def test_a_clock_turns_late_when_its_deadline_passes(app, world, clock):
    fresh = world["tickets"][3]
    clock.current = fresh.acknowledge_due_at + timedelta(minutes=1)
    today = local_date(clock.now())
    files = read_pack(download(staff_client(app, world["board"], clock), today - timedelta(days=29), today))
    row = next(row for row in files["requests.csv"] if row[0] == fresh.reference)
    assert row[8] == "open and late" and row[12] == "open, not yet due"
    clock.current = fresh.due_at + timedelta(seconds=1)
    files = read_pack(download(staff_client(app, world["board"], clock), today - timedelta(days=29),
                               local_date(clock.now())))
    row = next(row for row in files["requests.csv"] if row[0] == fresh.reference)
    assert row[12] == "open and late"


def test_clock_outcome_at_its_edges(world, clock):
    due = clock.now()
    assert clock_outcome(due, due, due + timedelta(days=9)) == "met"
    assert clock_outcome(due, due + timedelta(seconds=1), due) == "missed"
    assert clock_outcome(due, None, due) == "open"
    assert clock_outcome(due, None, due + timedelta(seconds=1)) == "open_late"


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1"])
def test_formulas_are_neutralised(text):
    assert safe_cell(text) == "'" + text


def test_plain_cells_are_kept():
    assert safe_cell("Nguyễn 1-2") == "Nguyễn 1-2" and safe_cell(None) == "" and safe_cell(12) == "12"


def test_the_pack_is_vietnamese_by_default(board_client, world):
    today = world["today"]
    files = read_pack(download(board_client, today - timedelta(days=29), today, language="vi"))
    assert files["requests.csv"][0][:2] == ["Mã yêu cầu", "Loại"]
    assert files["consents.csv"][0][1] == "Mã số khách hàng"
    assert "đúng hạn" in {row[8] for row in files["requests.csv"][1:]}
    assert '<html lang="vi">' in files["summary.html"] and "Hồ sơ thanh tra" in files["summary.html"]


def test_each_download_is_audited(board_client, world):
    today = world["today"]
    read_pack(download(board_client, today - timedelta(days=6), today))
    entry = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "inspection.exported")).one()
    assert entry.actor == f"staff:{world['board'].id}"
    assert entry.data["date_from"] == (today - timedelta(days=6)).isoformat()
    assert entry.data["date_to"] == today.isoformat()
    assert entry.data["rows"]["requests.csv"] == 1  # only the fresh request falls in the last week


@pytest.mark.parametrize(("shift_from", "shift_to", "language", "message"), [
    (0, -1, "en", "The last day must be the same as or after the first day."),
    (-400, 0, "en", "A pack covers at most 400 days: choose a shorter range."),
    (1, 2, "en", "The first day is in the future: choose a day up to today."),
    (None, 0, "en", "Enter the first day of the range."),
    (0, None, "en", "Enter the last day of the range."),
    (0, 0, "fr", "Not a valid choice."),
])
def test_a_wrong_range_says_why_and_changes_nothing(board_client, world, shift_from, shift_to, language, message):
    today = world["today"]
    date_from = "" if shift_from is None else today + timedelta(days=shift_from)
    date_to = "" if shift_to is None else today + timedelta(days=shift_to)
    board_client.post("/language", data={"csrf_token": csrf_token(board_client, "/board/inspection"),
                                         "locale": "en", "next": "/"})
    response = download(board_client, date_from, date_to, language=language)
    assert response.status_code == 400
    assert message in page_text(response)
    assert count(AuditRecord, AuditRecord.action == "inspection.exported") == 0


def test_a_range_of_exactly_400_days_is_accepted(board_client, world):
    today = world["today"]
    assert download(board_client, today - timedelta(days=399), today).status_code == 200


def test_a_date_that_is_not_a_date_is_refused_in_vietnamese(board_client, world):
    response = download(board_client, "2026-02-30", world["today"])
    assert response.status_code == 400
    assert re.search(r'id="date_from-error">Ngày không hợp lệ\.<', page_text(response))


@pytest.mark.parametrize("role", ["care", "sales", "admin"])
def test_only_the_board_gets_the_pack(app, world, clock, role):
    member = world["care"] if role == "care" else make_staff(role)
    client = staff_client(app, member, clock)
    assert client.get("/board/inspection").status_code == 404
    token = csrf_token(client, "/staff/")
    response = client.post("/board/inspection/pack", data={"csrf_token": token, "date_from": str(world["today"]),
                                                          "date_to": str(world["today"]), "language": "vi"})
    assert response.status_code == 404
    assert 'href="/board/inspection"' not in page_text(client.get("/staff/"))


def test_visitors_are_sent_to_sign_in(app, world):
    response = app.test_client().get("/board/inspection")
    assert response.status_code == 302 and "/staff/sign-in" in response.headers["Location"]


def test_the_download_costs_the_same_whatever_the_size_of_the_data(board_client, world, clock):
    today = world["today"]
    download(board_client, today - timedelta(days=29), today)
    with counted_statements() as small:
        read_pack(download(board_client, today - timedelta(days=29), today))
    now = clock.now()
    customers = [make_customer(f"more{n}@example.vn") for n in range(5)]
    for number, customer in enumerate(customers):
        new_ticket(customer=customer, email=f"more{number}@example.vn", now=now - timedelta(days=number))
        db.session.add(AffectedCustomer(incident_id=world["incident"].id, customer_id=customer.id, source="picked"))
        log_customer_views(world["care"], [customer.id], ViewedPage.QUEUE, now)
    db.session.commit()
    with counted_statements() as large:
        files = read_pack(download(board_client, today - timedelta(days=29), today))
    assert len(files["requests.csv"]) == 1 + 4 + 5
    assert len(large) == len(small) <= 8, small  # the member, five reads, the audit record, the commit
