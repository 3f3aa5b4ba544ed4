"""Leak complaints and misuse reports: filed by customers with their own forms, routed to the board,
first answered within the company's 24 hours, resolved only with a finding, a reason and a remedy
that the customer reads and may dispute."""

from __future__ import annotations

import hashlib
import io
import os
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from PIL import Image
from sqlalchemy import select

from portal.db import db
from portal.enums import Department, Priority, TicketStatus
from portal.jobs import run_due_jobs
from portal.local_time import local_date
from portal.rights import erasure
from portal.tickets import services
from portal.tickets.kinds.leak_complaint import LeakComplaintDetails
from portal.tickets.kinds.misuse_report import MisuseReportDetails
from portal.tickets.models import Ticket, TicketEntry
from portal.tickets.settings import FIRST_RESPONSE, save_queue_setting
from tests.factories import make_customer, make_staff, new_ticket, picture
from tests.helpers import CSRF_FIELD, count, counted_statements, english, outbox, page_text, sign_in, staff_client

AN = "an.nguyen@example.vn"
KEY = re.compile(r'name="submission_key" type="hidden" value="([0-9a-f]{32})"')


@pytest.fixture(autouse=True)
def upload_dir(app, tmp_path):
    """Evidence files of a test go to its own folder (the app's settings are put back afterwards)."""
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")


@pytest.fixture
def customer_client(app, clock):
    make_customer(AN)
    client = english(app.test_client())
    sign_in(client, AN)
    return client


def _form(client, kind: str) -> dict:
    page = page_text(client.get(f"/requests/new/{kind}"))
    return {"csrf_token": CSRF_FIELD.search(page).group(1), "submission_key": KEY.search(page).group(1)}


def _leak(client, clock, **changes):
    data = {**_form(client, "leak_complaint"), "leaked": ["phone", "name"],
            "third_party_name": "Công ty Bất động sản X",
            "third_party_phone": "0903 123 456", "third_party_url": "https://rao-vat.example.com/tin/1",
            "seen_on": local_date(clock.now()).isoformat(),
            "message": "Một công ty bất động sản gọi tôi, biết tên và số điện thoại tôi đã đưa cho các bạn."}
    data.update(changes)
    return client.post("/requests/new/leak_complaint", data={k: v for k, v in data.items() if v is not None})


def _misuse(client, clock, **changes):
    data = {**_form(client, "misuse_report"), "misuse": "credentials",
            "happened_on": local_date(clock.now()).isoformat(), "message": "Có người đăng nhập bằng e-mail của tôi."}
    data.update(changes)
    return client.post("/requests/new/misuse_report", data={k: v for k, v in data.items() if v is not None})


def _ticket(response) -> Ticket:
    assert response.status_code == 303, page_text(response)
    reference = response.headers["Location"].rsplit("/", 1)[-1]
    db.session.expire_all()
    return db.session.get(Ticket, services.parse_reference(reference))


def _nothing_filed():
    assert count(Ticket) == 0 and count(LeakComplaintDetails) == 0 and count(MisuseReportDetails) == 0


# --- filing ---------------------------------------------------------------------------------------


def test_a_leak_complaint_is_filed_stored_routed_and_its_reference_emailed(customer_client, clock):
    ticket = _ticket(_leak(customer_client, clock))
    assert ticket.kind == "leak_complaint" and ticket.department is Department.BOARD
    assert ticket.priority is Priority.HIGH
    details = db.session.get(LeakComplaintDetails, ticket.id)
    assert details.leaked == ["name", "phone"] and details.third_party_phone == "+84903123456"
    assert details.third_party_url == "https://rao-vat.example.com/tin/1"
    assert details.seen_on == local_date(clock.now()) and details.finding is None
    assert ticket.entries[1].body.startswith("Một công ty bất động sản")
    receipt = outbox(AN)[-1]
    assert ticket.reference in receipt.subject + receipt.body_text
    page = page_text(customer_client.get(f"/requests/{ticket.reference}"))
    assert ticket.reference in page and "Công ty Bất động sản X" in page and "0903 123 456" in page
    assert "for the first time by" in page and ticket.acknowledge_due_at == ticket.created_at + timedelta(hours=24)


def test_a_misuse_report_is_filed_and_routed_to_the_board(customer_client, clock):
    ticket = _ticket(_misuse(customer_client, clock))
    assert ticket.kind == "misuse_report" and ticket.department is Department.BOARD
    details = db.session.get(MisuseReportDetails, ticket.id)
    assert details.misuse == "credentials" and details.happened_on == local_date(clock.now())
    assert ticket.reference in outbox(AN)[-1].subject + outbox(AN)[-1].body_text


def test_a_second_complaint_while_one_is_open_is_a_ticket_of_its_own_with_its_details(customer_client, clock):
    first = _ticket(_leak(customer_client, clock))
    second = _ticket(_leak(customer_client, clock, third_party_name="Trung tâm gọi điện Y",
                           third_party_url="https://y.example.net/"))
    assert second.id != first.id and count(LeakComplaintDetails) == 2
    assert db.session.get(LeakComplaintDetails, second.id).third_party_name == "Trung tâm gọi điện Y"
    assert db.session.get(LeakComplaintDetails, first.id).third_party_name == "Công ty Bất động sản X"


def test_the_home_page_and_new_request_page_offer_both_forms(customer_client):
    page = page_text(customer_client.get("/requests/new"))
    assert 'href="/requests/new/leak_complaint"' in page and 'href="/requests/new/misuse_report"' in page


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"leaked": None}, "leaked", "Tick at least one kind of data"),
    ({"leaked": ["other"]}, "leaked_other", "Say what else leaked"),
    ({"third_party_phone": "12"}, "third_party_phone", "This is not a phone number"),
    ({"third_party_url": "javascript:alert(1)"}, "third_party_url", "http:// or https://"),
    ({"third_party_url": "ftp://example.com/x"}, "third_party_url", "http:// or https://"),
    ({"seen_on": "tomorrow"}, "seen_on", "Not a valid date value"),
    ({"seen_on": None}, "seen_on", "Give the date"),
    ({"message": ""}, "message", "Write your message"),
    ({"leaked": ["phone", "passport"]}, "leaked", "Choose among the options listed"),
])
def test_a_leak_complaint_with_bad_input_is_refused_with_a_clear_message_and_nothing_stored(
        customer_client, clock, changes, field, message):
    response = _leak(customer_client, clock, **changes)
    assert response.status_code == 400
    page = page_text(response)
    assert f'id="{field}-error"' in page and message in page, page
    _nothing_filed()


def test_a_date_in_the_future_is_refused(customer_client, clock):
    tomorrow = (local_date(clock.now()) + timedelta(days=1)).isoformat()
    response = _leak(customer_client, clock, seen_on=tomorrow)
    assert response.status_code == 400 and "This date is in the future" in page_text(response)
    response = _misuse(customer_client, clock, happened_on=tomorrow)
    assert response.status_code == 400 and "This date is in the future" in page_text(response)
    _nothing_filed()


def test_a_misuse_report_needs_a_known_kind_of_misuse(customer_client, clock):
    for misuse in (None, "hacking"):
        response = _misuse(customer_client, clock, misuse=misuse)
        assert response.status_code == 400 and 'id="misuse-error"' in page_text(response)
    _nothing_filed()


def test_markup_is_stored_as_text_and_shown_escaped(customer_client, clock, app):
    markup = "<script>alert('x')</script>"
    ticket = _ticket(_leak(customer_client, clock, third_party_name=markup, leaked=["other"], leaked_other=markup,
                           message=f"Xem {markup}"))
    assert db.session.get(LeakComplaintDetails, ticket.id).third_party_name == markup
    page = page_text(customer_client.get(f"/requests/{ticket.reference}"))
    assert markup not in page and "&lt;script&gt;" in page


def test_a_post_without_the_form_token_changes_nothing(customer_client, clock):
    response = _leak(customer_client, clock, csrf_token="")
    assert response.status_code == 400
    response = _misuse(customer_client, clock, csrf_token=None)
    assert response.status_code == 400
    _nothing_filed()


def test_the_same_form_posted_twice_files_one_complaint(customer_client, clock):
    data = _form(customer_client, "leak_complaint")
    first = _ticket(_leak(customer_client, clock, **data))
    second = _ticket(_leak(customer_client, clock, **data))
    assert first.id == second.id and count(LeakComplaintDetails) == 1


# --- the 24-hour first answer -----------------------------------------------------------------------


def test_complaints_are_acknowledged_within_24_hours_and_a_missed_one_goes_to_the_whole_board(
        customer_client, clock):
    board = [make_staff("board", email=f"board{n}@khoingo.net") for n in range(2)]
    make_staff("care")
    leak = _ticket(_leak(customer_client, clock))
    misuse = _ticket(_misuse(customer_client, clock))
    question = services.create_ticket(kind="question", body="Câu hỏi", requester_email=AN, customer_id=None,
                                      locale="vi", now=clock.now())[0]
    db.session.commit()
    for ticket in (leak, misuse):
        assert ticket.acknowledge_due_at == clock.now() + timedelta(hours=24)
    assert question.acknowledge_due_at > clock.now() + timedelta(hours=24)  # the law's 2 working days
    before = len(outbox())
    assert services.escalate_overdue(clock.now() + timedelta(hours=23)) == 0
    assert services.escalate_overdue(clock.now() + timedelta(hours=24, minutes=1)) == 2
    db.session.commit()
    warned = [message.recipient for message in outbox()[before:]]
    for ticket in (leak, misuse):
        assert db.session.get(Ticket, ticket.id).acknowledge_escalated_at is not None
    assert sorted(warned) == sorted([member.email for member in board] * 2)
    assert db.session.get(Ticket, question.id).acknowledge_escalated_at is None


def test_the_first_answer_promise_is_a_setting(customer_client, clock):
    save_queue_setting(FIRST_RESPONSE, {"hours": {"leak_complaint": 8, "misuse_report": 24}}, None, clock.now())
    db.session.commit()
    leak = _ticket(_leak(customer_client, clock))
    assert leak.acknowledge_due_at == clock.now() + timedelta(hours=8)
    misuse = _ticket(_misuse(customer_client, clock))
    assert misuse.acknowledge_due_at == clock.now() + timedelta(hours=24)


# --- the board's answer -------------------------------------------------------------------------


@pytest.fixture
def board_client(app, clock):
    return staff_client(app, make_staff("board"), clock)


def _answer(client, ticket, **changes):
    page = page_text(client.get(f"/board/tickets/{ticket.reference}"))
    db.session.expire_all()
    data = {"csrf_token": CSRF_FIELD.search(page).group(1), "version": str(db.session.get(Ticket, ticket.id).version),
            "finding": "confirmed", "reason": "Một nhân viên bán hàng cũ đã chép danh sách khách hàng.",
            "remedy": "Chúng tôi đã khoá tài khoản, yêu cầu công ty kia xoá dữ liệu và báo cơ quan chức năng."}
    data.update(changes)
    return client.post(
        f"/board/complaints/{ticket.reference}/answer", data={k: v for k, v in data.items() if v is not None},
        follow_redirects=True)


def test_a_complaint_cannot_be_resolved_without_the_answer(customer_client, board_client, clock):
    ticket = _ticket(_leak(customer_client, clock))
    with pytest.raises(services.TicketRuleError):
        services.change_status(ticket, board_client.member, TicketStatus.RESOLVED, clock.now())
    db.session.rollback()
    for missing in ("finding", "reason", "remedy"):
        page = page_text(_answer(board_client, ticket, **{missing: None}))
        assert 'notice-error' in page or "field-error" in page or "error" in page
        db.session.expire_all()
        assert db.session.get(Ticket, ticket.id).status is TicketStatus.NEW
        assert db.session.get(LeakComplaintDetails, ticket.id).finding is None
    page = page_text(_answer(board_client, ticket, finding="certain"))
    assert db.session.get(Ticket, ticket.id).status is TicketStatus.NEW
    # the status control of the ticket page refuses too
    page = page_text(board_client.get(f"/board/tickets/{ticket.reference}"))
    assert "h-complaint-answer" in page


def test_the_answer_resolves_and_the_customer_reads_it_on_the_page_and_in_the_email(
        customer_client, board_client, clock):
    ticket = _ticket(_leak(customer_client, clock))
    before = len(outbox(AN))
    _answer(board_client, ticket)
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    details = db.session.get(LeakComplaintDetails, ticket.id)
    assert ticket.status is TicketStatus.RESOLVED and details.finding == "confirmed"
    assert details.answered_by_id == board_client.member.id and ticket.first_response_at is not None
    assert any(entry.event == "complaint_answered" for entry in ticket.entries)
    mails = outbox(AN)[before:]
    assert len(mails) == 1
    assert "khoá tài khoản" in mails[0].body_text and "nhân viên bán hàng cũ" in mails[0].body_text
    page = page_text(customer_client.get(f"/requests/{ticket.reference}"))
    assert 'id="h-complaint-answer"' in page and "khoá tài khoản" in page and "nhân viên bán hàng cũ" in page


def test_a_customer_reply_disputes_the_answer_and_reopens_the_complaint(customer_client, board_client, clock):
    ticket = _ticket(_misuse(customer_client, clock))
    _answer(board_client, ticket, finding="not_confirmed")
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status is TicketStatus.RESOLVED
    page = page_text(customer_client.get(f"/requests/{ticket.reference}"))
    response = customer_client.post(f"/requests/{ticket.reference}/reply", data={
        "csrf_token": CSRF_FIELD.search(page).group(1), "submission_key": KEY.search(page).group(1),
        "message": "Tôi không đồng ý: tôi có bằng chứng."})
    assert response.status_code == 303
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert ticket.status is TicketStatus.OPEN and ticket.customer_replied_at is not None
    # a second answer resolves it again; the thread keeps both
    _answer(board_client, ticket, finding="confirmed")
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status is TicketStatus.RESOLVED
    answers = db.session.scalars(select(TicketEntry).where(TicketEntry.ticket_id == ticket.id,
                                                           TicketEntry.event == "complaint_answered")).all()
    assert [entry.data["finding"] for entry in answers] == ["not_confirmed", "confirmed"]


def test_another_department_or_another_kind_cannot_be_answered(customer_client, board_client, clock, app):
    care = make_staff("care")
    care_client = staff_client(app, care, clock)
    ticket = _ticket(_leak(customer_client, clock))
    page = page_text(board_client.get(f"/board/tickets/{ticket.reference}"))
    response = care_client.post(f"/board/complaints/{ticket.reference}/answer", data={
        "csrf_token": CSRF_FIELD.search(page_text(care_client.get("/board/"))).group(1), "finding": "confirmed",
        "reason": "x" * 5, "remedy": "y" * 5, "version": "1"})
    assert response.status_code == 404
    question = services.create_ticket(kind="question", body="Câu hỏi", requester_email=AN, customer_id=None,
                                      locale="vi", now=clock.now())[0]
    db.session.commit()
    response = board_client.post(f"/board/complaints/{question.reference}/answer", data={
        "csrf_token": CSRF_FIELD.search(page).group(1), "finding": "confirmed", "reason": "abc", "remedy": "abc",
        "version": str(question.version)})
    assert response.status_code == 404
    assert db.session.get(LeakComplaintDetails, ticket.id).finding is None


def test_another_customer_cannot_see_the_complaint(customer_client, clock, app):
    ticket = _ticket(_leak(customer_client, clock))
    make_customer("binh@example.vn", name="Trần Bình")
    other = app.test_client()
    sign_in(other, "binh@example.vn")
    assert other.get(f"/requests/{ticket.reference}").status_code == 404


# --- what the pages cost ------------------------------------------------------------------------


def test_the_complaint_pages_run_at_most_six_statements(customer_client, board_client, clock):
    leak = _ticket(_leak(customer_client, clock))
    misuse = _ticket(_misuse(customer_client, clock))
    _answer(board_client, leak)
    pages = ["/requests/new/leak_complaint", "/requests/new/misuse_report", f"/requests/{leak.reference}",
             f"/requests/{misuse.reference}"]
    for path in pages:
        assert customer_client.get(path).status_code == 200
        with counted_statements() as statements:
            assert customer_client.get(path).status_code == 200
        assert len(statements) <= 6, (path, statements)


# --- evidence files -------------------------------------------------------------------------------

PNG = picture("PNG")
JPEG = picture("JPEG")
PDF = b"%PDF-1.7\n" + b"x" * 100


def _files(*items):
    return [(io.BytesIO(content), name) for name, content in items]


def test_evidence_files_are_stored_outside_static_under_random_names_and_downloaded_by_the_two_who_may(
        customer_client, board_client, clock, app):
    ticket = _ticket(_leak(customer_client, clock, evidence=_files(("ảnh chụp.png", PNG), ("thư.pdf", PDF),
                                                                    ("x.jpg", JPEG))))
    files = db.session.get(LeakComplaintDetails, ticket.id).evidence
    assert [(f.original_name, f.content_type) for f in files] == [
        ("ảnh chụp.png", "image/png"), ("thư.pdf", "application/pdf"), ("x.jpg", "image/jpeg")]
    folder = app.config["UPLOAD_DIR"]
    assert "static" not in folder and os.path.dirname(files[2].path) == folder
    assert re.fullmatch(r"[0-9a-f]{32}\.jpg", files[2].stored_name)
    for file in files:
        with open(file.path, "rb") as stored:
            content = stored.read()
        assert file.size == len(content) and file.sha256 == hashlib.sha256(content).hexdigest()
    with open(files[1].path, "rb") as stored:
        assert stored.read() == PDF  # documents are kept as sent
    page = page_text(customer_client.get(f"/requests/{ticket.reference}"))
    assert "ảnh chụp.png" in page
    for client, path in ((customer_client, f"/requests/{ticket.reference}/evidence/{files[0].id}"),
                         (board_client, f"/board/complaints/{ticket.reference}/evidence/{files[0].id}")):
        client.get(path)
        with counted_statements() as statements:
            response = client.get(path)
        assert len(statements) <= 6, (path, statements)
        assert response.status_code == 200
        assert Image.open(io.BytesIO(response.data)).getpixel((0, 0)) == (200, 30, 30)
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.mimetype == "image/png"


def test_another_customer_or_care_cannot_download_evidence(customer_client, clock, app):
    ticket = _ticket(_leak(customer_client, clock, evidence=_files(("a.png", PNG))))
    file_id = db.session.get(LeakComplaintDetails, ticket.id).evidence[0].id
    make_customer("binh@example.vn", name="Trần Bình")
    other = app.test_client()
    sign_in(other, "binh@example.vn")
    assert other.get(f"/requests/{ticket.reference}/evidence/{file_id}").status_code == 404
    own = _ticket(_leak(other, clock))
    assert other.get(f"/requests/{own.reference}/evidence/{file_id}").status_code == 404
    care_client = staff_client(app, make_staff("care"), clock)
    assert care_client.get(f"/board/complaints/{ticket.reference}/evidence/{file_id}").status_code in (403, 404)


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'


@pytest.mark.parametrize(("files", "message"), [
    ([("trang.png", b"<html><script>alert(1)</script></html>")], "is not a JPEG or PNG picture or a PDF"),
    ([("hoadon.pdf", b"<html><body>%PDF-1.7</body></html>")], "is not a JPEG or PNG picture or a PDF"),
    ([("anh.svg", SVG)], "is not a JPEG or PNG picture or a PDF"),
    ([("anh.png", SVG)], "is not a JPEG or PNG picture or a PDF"),
    ([("rong.pdf", b"")], "is empty"),
    ([("lon.pdf", b"%PDF-" + b"0" * (11 * 1024 * 1024))], "is larger than 10 MB"),
    ([("../../etc/anh.png", PNG)], "is not allowed: send it under a plain name"),
    ([("..\\anh\x00.png", PNG)], "is not allowed: send it under a plain name"),
    ([("hoadon.php.png", PNG)], "has two extensions"),
    ([("hoadon.pdf.exe", PDF)], "is named as another type than it is"),
    ([("anh.pdf", PNG)], "is named as another type than it is"),
    ([("hong.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)], "is damaged and cannot be opened"),
    ([("gia.jpg", b"\xff\xd8\xff\xe0" + b"y" * 100)], "is damaged and cannot be opened"),
    ([(f"{n}.png", PNG) for n in range(6)], "Send at most 5 files"),
])
def test_hostile_evidence_is_refused_with_a_clear_message_and_nothing_stored(customer_client, clock, app, files,
                                                                             message):
    before = os.listdir(app.config["UPLOAD_DIR"]) if os.path.isdir(app.config["UPLOAD_DIR"]) else []
    response = _leak(customer_client, clock, evidence=_files(*files))
    assert response.status_code == 400
    page = page_text(response)
    assert 'id="evidence-error"' in page and message in page
    _nothing_filed()
    after = os.listdir(app.config["UPLOAD_DIR"]) if os.path.isdir(app.config["UPLOAD_DIR"]) else []
    assert after == before


def test_pictures_are_stored_without_what_the_camera_wrote_into_them(customer_client, clock):
    jpeg, png = picture("JPEG", metadata=True), picture("PNG", metadata=True)
    assert b"CameraMaker" in jpeg and b"CameraMaker" in png
    ticket = _ticket(_leak(customer_client, clock, evidence=_files(("camera.jpg", jpeg), ("man-hinh.png", png))))
    for file in db.session.get(LeakComplaintDetails, ticket.id).evidence:
        with open(file.path, "rb") as stored:
            content = stored.read()
        assert b"CameraMaker" not in content and b"PhoneSoftware" not in content
        with Image.open(io.BytesIO(content)) as stored_picture:
            assert stored_picture.size == (12, 8) and not stored_picture.getexif()
            assert "Author" not in stored_picture.info


def test_a_refused_file_keeps_what_the_customer_typed(customer_client, clock):
    response = _leak(customer_client, clock, evidence=_files(("trang.png", SVG)))
    page = page_text(response)
    assert response.status_code == 400
    assert "Công ty Bất động sản X" in page and "https://rao-vat.example.com/tin/1" in page
    assert "biết tên và số điện thoại tôi đã đưa cho các bạn" in page


@pytest.mark.parametrize("failure", ["folder_is_a_file", "disk_full"])
def test_when_the_files_cannot_be_written_nothing_is_filed_or_kept_and_the_form_says_so(
        customer_client, clock, app, tmp_path, monkeypatch, failure):
    if failure == "folder_is_a_file":
        (tmp_path / "not-a-folder").write_text("")
        app.config["UPLOAD_DIR"] = str(tmp_path / "not-a-folder" / "uploads")
    else:
        real_fsync, calls = os.fsync, []

        def fsync_until_the_disk_is_full(descriptor):
            calls.append(descriptor)
            if len(calls) > 1:  # the second file finds the disk full
                raise OSError(28, "No space left on device")
            real_fsync(descriptor)

        monkeypatch.setattr(os, "fsync", fsync_until_the_disk_is_full)
    response = _leak(customer_client, clock, evidence=_files(("a.png", PNG), ("b.pdf", PDF)))
    page = page_text(response)
    assert response.status_code == 503
    assert 'id="evidence-error"' in page and "We could not store your files just now" in page
    assert "Công ty Bất động sản X" in page
    _nothing_filed()
    folder = app.config["UPLOAD_DIR"]
    assert not os.path.isdir(folder) or os.listdir(folder) == []


def test_the_worker_removes_files_no_complaint_names_once_they_are_an_hour_old(customer_client, clock, app):
    ticket = _ticket(_leak(customer_client, clock, evidence=_files(("a.png", PNG))))
    kept = db.session.get(LeakComplaintDetails, ticket.id).evidence[0].path
    folder = app.config["UPLOAD_DIR"]
    orphan, young, other = (os.path.join(folder, name) for name in ("ab" * 16 + ".png", "cd" * 16 + ".pdf",
                                                                     "notes.txt"))
    for path in (orphan, young, other):
        with open(path, "wb") as out:
            out.write(b"x")
    hour_ago = (clock.now() - timedelta(minutes=61)).timestamp()
    for path in (orphan, other, kept):
        os.utime(path, (hour_ago, hour_ago))
    minutes_ago = (clock.now() - timedelta(minutes=10)).timestamp()
    os.utime(young, (minutes_ago, minutes_ago))
    run_due_jobs(clock.now())
    assert not os.path.exists(orphan)
    assert os.path.exists(young) and os.path.exists(other) and os.path.exists(kept)


def test_a_complaint_filed_without_the_forms_details_can_still_be_answered(board_client, clock):
    ticket = new_ticket("leak_complaint", email=AN, now=clock.now())
    assert db.session.get(LeakComplaintDetails, ticket.id) is None
    _answer(board_client, ticket, finding="unclear")
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status is TicketStatus.RESOLVED
    assert db.session.get(LeakComplaintDetails, ticket.id).finding == "unclear"


def test_an_erasure_step_rolled_back_keeps_the_evidence_file_its_row_names(customer_client, clock):
    ticket = _ticket(_leak(customer_client, clock, evidence=_files(("ảnh chụp.png", PNG))))
    stored = db.session.get(LeakComplaintDetails, ticket.id).evidence[0].path
    customer = db.session.get(Ticket, ticket.id).customer
    erasure.tickets_anonymised(SimpleNamespace(ticket_id=0), customer, clock.now())
    db.session.rollback()  # the step failed: nothing of it stays
    assert os.path.exists(stored) and len(db.session.get(LeakComplaintDetails, ticket.id).evidence) == 1


def test_erasing_the_customer_erases_the_complaints_words_and_files_and_keeps_the_register(customer_client, clock):
    ticket = _ticket(_leak(customer_client, clock, evidence=_files(("ảnh chụp.png", PNG))))
    stored = db.session.get(LeakComplaintDetails, ticket.id).evidence[0].path
    customer = db.session.get(Ticket, ticket.id).customer
    erasure.tickets_anonymised(SimpleNamespace(ticket_id=0), customer, clock.now())  # the erasure's step
    db.session.commit()
    details = db.session.get(LeakComplaintDetails, ticket.id)
    assert (details.third_party_name, details.third_party_phone, details.third_party_url) == (None, None, None)
    assert details.evidence == [] and not os.path.exists(stored)
    assert details.leaked == ["name", "phone"] and details.seen_on == local_date(clock.now())
