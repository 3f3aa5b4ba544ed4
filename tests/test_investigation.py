"""The complaint investigation panel on the board's page of a complaint (who among staff was shown the
complainant's data, other complaints naming the same third party), and evidence downloads logged as
views of the complainant's data."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.account.models import Customer
from portal.audit.models import CustomerDataView
from portal.db import db
from portal.enums import ViewedPage
from portal.local_time import local_date
from portal.page_cache import PAGES
from portal.tickets.kinds.leak_complaint import LeakComplaintDetails
from portal.tickets.kinds.misuse_report import MisuseReportDetails
from tests.factories import make_customer, make_staff, new_ticket, picture
from tests.helpers import CSRF_FIELD, counted_statements, english, page_text, sign_in, staff_client

AN = "an.nguyen@example.vn"


@pytest.fixture(autouse=True)
def upload_dir(app, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")


def complaint(customer, clock, name=None, phone=None, url=None, email=None, days_ago=0):
    """A leak complaint filed through the real rules, with what the customer said of the third party."""
    when = clock.now() - timedelta(days=days_ago)
    ticket = new_ticket("leak_complaint", customer=customer, email=email or AN, now=when)
    db.session.add(LeakComplaintDetails(ticket_id=ticket.id, leaked=["phone"], third_party_name=name,
                                        third_party_phone=phone, third_party_url=url, seen_on=local_date(when)))
    db.session.commit()
    return ticket


def seen(customer, member, when, page=ViewedPage.RECORD, ticket=None) -> None:
    """Log that ``member`` was shown ``customer``'s data at ``when`` (committed by the caller)."""
    db.session.add(CustomerDataView(customer_id=customer.id, staff_id=member.id, staff_name=member.full_name,
                                    staff_role=member.role, page=page, ticket_id=ticket.id if ticket else None,
                                    ticket_reference=ticket.reference if ticket else None, viewed_at=when,
                                    viewed_on=local_date(when)))


def panel(page: str) -> str:
    found = re.search(r'<section aria-labelledby="h-investigation".*?</section>', page, re.S)
    return found.group(0) if found else ""


@pytest.fixture
def world(app, clock):
    an = make_customer(AN)
    ticket = complaint(an, clock, name="Công ty Bất động sản X", phone="+84903999888",
                       url="https://rao-vat.example.com/tin/1")
    board = staff_client(app, make_staff("board", name="Ngô Khôi Ban"), clock, in_english=True)
    return {"an": an, "ticket": ticket, "board": board}


def test_the_panel_lists_each_member_shown_the_complainants_data_per_day_with_a_link(app, clock, world):
    an, ticket, board = world["an"], world["ticket"], world["board"]
    care = staff_client(app, make_staff("care", name="Lê Thị Chăm"), clock, in_english=True)
    other = make_customer("binh@example.vn", "Trần Thị Bình")
    for minutes in range(3):
        seen(an, care.member, clock.now() - timedelta(days=3, minutes=minutes))
    seen(an, care.member, clock.now() - timedelta(days=40))  # long ago: outside the 30 days
    seen(other, care.member, clock.now())  # another customer's data
    db.session.commit()
    shown = panel(page_text(board.get(f"/board/tickets/{ticket.reference}")))
    rows = re.findall(r"<tr><td>.*?</tr>", shown, re.S)
    assert len(rows) == 2, shown  # the board member today (this view), the care member three days ago
    assert "Ngô Khôi Ban" in rows[0] and "Lê Thị Chăm" in rows[1] and "<td>3</td>" in rows[1]
    assert f'href="/board/oversight/members/{care.member.id}"' in rows[1]
    assert f'href="/board/oversight/members/{board.member.id}"' in rows[0]
    # a colleague's view a moment later is there at once, though the page itself is kept
    care_today = page_text(board.get(f"/board/tickets/{ticket.reference}"))
    assert "Lê Thị Chăm" not in re.findall(r"<tr><td>.*?</tr>", panel(care_today), re.S)[0]
    seen(an, care.member, clock.now())
    db.session.commit()
    rows = re.findall(r"<tr><td>.*?</tr>", panel(page_text(board.get(f"/board/tickets/{ticket.reference}"))), re.S)
    assert len(rows) == 3 and any("Lê Thị Chăm" in row and "<td>1</td>" in row for row in rows[:2])
    assert "Ngô Khôi Ban" in rows[0] + rows[1] and "<td>3</td>" in rows[0] + rows[1]  # three views today


def test_other_complaints_naming_the_same_third_party_are_listed_with_links(app, clock, world):
    ticket, board = world["ticket"], world["board"]
    binh = make_customer("binh@example.vn", "Trần Thị Bình")
    by_name = complaint(binh, clock, name="  công TY bất động  sảnX ", days_ago=2)  # spaces and case
    by_ascii_case = complaint(binh, clock, name="công ty bất động sản x")
    by_vietnamese_capitals = complaint(binh, clock, name="CÔNG TY BẤT ĐỘNG SẢN X")  # on SQLite too
    by_phone = complaint(binh, clock, phone="+84903999888")
    by_url = complaint(binh, clock, url="http://www.rao-vat.example.com/tin/1/")
    by_url_case = complaint(binh, clock, url="HTTPS://Rao-Vat.Example.com/tin/1?ref=zalo")
    longer_url = complaint(binh, clock, url="https://rao-vat.example.com/tin/12")
    other_party = complaint(binh, clock, name="Công ty Y", phone="+84903000000", url="https://y.example.net/")
    shown = panel(page_text(board.get(f"/board/tickets/{ticket.reference}")))
    for similar in (by_name, by_ascii_case, by_vietnamese_capitals, by_phone, by_url, by_url_case):
        assert f'href="/board/tickets/{similar.reference}"' in shown, similar.reference
    for unlike in (longer_url, other_party, ticket):
        assert f'href="/board/tickets/{unlike.reference}"' not in shown, unlike.reference
    assert "Same: phone number" in shown and "Same: web address" in shown and "Same: name" in shown
    assert "Trần Thị Bình" not in shown  # other complainants are named by their request only


def test_a_misuse_report_shows_the_access_lines_and_says_it_names_no_third_party(app, clock, world):
    report = new_ticket("misuse_report", customer=world["an"], email=AN, now=clock.now())
    db.session.add(MisuseReportDetails(ticket_id=report.id, misuse="abuse", happened_on=local_date(clock.now())))
    db.session.commit()
    shown = panel(page_text(world["board"].get(f"/board/tickets/{report.reference}")))
    assert "Ngô Khôi Ban" in shown and "names no third party" in shown


def test_only_members_who_review_staff_access_see_the_panel(app, clock, world):
    ticket = world["ticket"]
    admin = staff_client(app, make_staff("admin"), clock, in_english=True)
    page = page_text(admin.get(f"/board/tickets/{ticket.reference}"))
    assert ticket.reference in page and 'id="h-investigation"' not in page
    care = staff_client(app, make_staff("care"), clock, in_english=True)
    assert care.get(f"/board/tickets/{ticket.reference}").status_code == 404
    question = new_ticket(customer=world["an"], email=AN, now=clock.now(), department="board")
    assert 'id="h-investigation"' not in page_text(world["board"].get(f"/board/tickets/{question.reference}"))


def _statements(client, path: str) -> int:
    assert client.get(path).status_code == 200
    with counted_statements() as statements:
        assert client.get(path).status_code == 200
    return len(statements)


def test_the_complaint_page_stays_within_six_statements_whatever_the_data(app, clock, world):
    ticket, board, an = world["ticket"], world["board"], world["an"]
    path = f"/board/tickets/{ticket.reference}"
    small = _statements(board, path)
    PAGES.clear()
    assert _statements(board, path) == small
    binh = make_customer("binh@example.vn", "Trần Thị Bình")
    for number in range(12):
        complaint(binh, clock, name="Công ty Bất động sản X", phone="+84903999888", days_ago=number % 5)
        member = make_staff("care", email=f"cham{number}@khoingo.net", name=f"Chăm {number}")
        for day in range(0, 30, 3):
            seen(an, member, clock.now() - timedelta(days=day), ViewedPage.TICKET, ticket)
    db.session.commit()
    assert _statements(board, path) == small <= 6, small
    assert len(re.findall(r"<tr><td>", panel(page_text(board.get(path))))) == 12 * 10 + 1


# --- evidence downloads -------------------------------------------------------------------------

PNG = picture("PNG")


def test_a_board_download_of_evidence_is_a_view_of_the_complainants_data_on_my_data(app, clock):
    make_customer(AN)
    customer = english(app.test_client())
    sign_in(customer, AN)
    page = page_text(customer.get("/requests/new/leak_complaint"))
    key = re.search(r'name="submission_key" type="hidden" value="([0-9a-f]{32})"', page).group(1)
    response = customer.post("/requests/new/leak_complaint", data={
        "csrf_token": CSRF_FIELD.search(page).group(1), "submission_key": key, "leaked": ["phone"],
        "seen_on": local_date(clock.now()).isoformat(), "message": "Có người gọi tôi bằng số điện thoại đã đưa.",
        "evidence": [(io.BytesIO(PNG), "anh.png")]})
    assert response.status_code == 303
    reference = response.headers["Location"].rsplit("/", 1)[-1]
    details = db.session.scalars(select(LeakComplaintDetails)).one()
    an = db.session.scalars(select(Customer)).one()
    board = staff_client(app, make_staff("board", name="Ngô Khôi Ban"), clock, in_english=True)
    before = db.session.scalars(select(CustomerDataView)).all()
    assert before == []
    response = board.get(f"/board/complaints/{reference}/evidence/{details.evidence[0].id}")
    assert response.status_code == 200 and response.data == PNG
    db.session.expire_all()
    logged = db.session.scalars(select(CustomerDataView)).one()
    assert logged.staff_id == board.member.id and logged.page is ViewedPage.TICKET
    assert logged.ticket_reference == reference and logged.customer_id == an.id
    my_data = page_text(customer.get("/my-data"))
    assert "Ngô Khôi Ban" in my_data and reference in my_data


def test_a_complaint_from_an_unlinked_address_still_lists_the_similar_complaints(app, clock, world):
    stranger = complaint(None, clock, phone="+84903999888", email="la@example.vn")
    shown = panel(page_text(world["board"].get(f"/board/tickets/{stranger.reference}")))
    assert "not linked to a customer record" in shown
    assert f'href="/board/tickets/{world["ticket"].reference}"' in shown and "Same: phone number" in shown
