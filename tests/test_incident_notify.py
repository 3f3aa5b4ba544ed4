"""Notifying an incident's affected customers: one bilingual e-mail each through the outbox, in
batches that resume after an interruption, never twice to anyone — at 10,000 customers, with
concurrent runners, over HTTP and through a real SMTP server."""

from __future__ import annotations

import re
import threading
from collections import Counter

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm.exc import StaleDataError

from portal.account.models import ContactPoint, Customer
from portal.audit.models import AuditRecord
from portal.db import db
from portal.incidents import notify
from portal.incidents.models import AffectedCustomer, BreachIncident
from portal.jobs import run_due_jobs
from portal.outbox.delivery import deliver_due
from portal.outbox.models import OutboxMessage, OutboxStatus
from tests.factories import make_customer, make_staff
from tests.helpers import ON_POSTGRESQL, csrf_token, page_text, staff_client

ACTS = "Một nhân viên cũ đã sao chép danh sách khách hàng và gửi cho một bên thứ ba."
MEASURES = "Chúng tôi đã khóa tài khoản, thu hồi dữ liệu và báo cơ quan chức năng."
CONSEQUENCES = "Quý khách có thể nhận cuộc gọi mạo danh."


# --- helpers ---------------------------------------------------------------------------------------


def make_incident(member, **fields) -> BreachIncident:
    values = {"title": "Lộ danh sách khách hàng", "discovered_at": fields.pop("now"), "acts": ACTS,
              "measures": MEASURES, "consequences": CONSEQUENCES, "categories": ["name", "phone", "address"],
              "created_by_id": member.id, **fields}
    incident = BreachIncident(**values)
    db.session.add(incident)
    db.session.commit()
    return incident


def add_affected(incident: BreachIncident, count: int, *, no_email_every: int = 0, start: int = 0) -> list[int]:
    """``count`` new customers on the incident's list, each with one e-mail address (but every
    ``no_email_every``-th, who has none), inserted in bulk; their ids in order."""
    ids = list(db.session.scalars(
        insert(Customer).returning(Customer.id, sort_by_parameter_order=True),
        [{"full_name": f"Khách Hàng {start + n:05d}", "source": "import"} for n in range(count)]))
    points = [{"customer_id": customer_id, "channel": "email", "kind": "personal",
               "value": f"khach{start + n:05d}@example.vn", "value_normalized": f"khach{start + n:05d}@example.vn",
               "source": "import"}
              for n, customer_id in enumerate(ids) if not (no_email_every and n % no_email_every == 0)]
    if points:
        db.session.execute(insert(ContactPoint), points)
    db.session.execute(insert(AffectedCustomer), [
        {"incident_id": incident.id, "customer_id": customer_id, "source": "imported"} for customer_id in ids])
    db.session.commit()
    return ids


def affect(incident: BreachIncident, customer: Customer) -> None:
    db.session.add(AffectedCustomer(incident_id=incident.id, customer_id=customer.id, source="picked"))
    db.session.commit()


def notices() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == notify.PURPOSE)
                                   .order_by(OutboxMessage.id)))


def notice_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.purpose == notify.PURPOSE))


def rows(incident_id: int) -> list[AffectedCustomer]:
    db.session.expire_all()
    return list(db.session.scalars(select(AffectedCustomer).where(AffectedCustomer.incident_id == incident_id)
                                   .order_by(AffectedCustomer.id)))


def assert_each_told_once(incident_id: int, emailed: int) -> None:
    """Every row queued; every outbox row belongs to exactly one affected row and one address."""
    affected = rows(incident_id)
    assert all(row.notice_queued_at is not None for row in affected)
    linked = [row.outbox_id for row in affected if row.outbox_id is not None]
    assert len(linked) == len(set(linked)) == emailed
    assert notice_count() == emailed
    recipients = Counter(db.session.scalars(select(OutboxMessage.recipient)
                                            .where(OutboxMessage.purpose == notify.PURPOSE)))
    assert len(recipients) == emailed and set(recipients.values()) == {1}


@pytest.fixture
def board(app):
    return make_staff("board", email="giamdoc@khoingo.net")


def start_over_http(client, incident_id: int, **data):
    path = f"/board/incidents/{incident_id}/notify"
    token = csrf_token(client, path)
    return client.post(path, data={"csrf_token": token, "confirm": "y", "back": path, **data})


# --- 1. ten thousand customers, each told once ------------------------------------------------------


def test_ten_thousand_affected_customers_each_get_exactly_one_notice(app, board, clock):
    incident = make_incident(board, now=clock.now())
    add_affected(incident, 10_000, no_email_every=100)
    assert notify.start_customer_notice(incident, board, clock.now())
    db.session.commit()

    assert notify.queue_waiting_notices(clock.now()) == 10_000

    assert_each_told_once(incident.id, 9_900)
    progress = notify.notice_progress(incident.id)
    assert (progress.total, progress.queued, progress.without_email, progress.emailed, progress.waiting) == (
        10_000, 10_000, 100, 9_900, 0)
    assert (progress.delivered, progress.failed, progress.sending) == (0, 0, 9_900)
    # Nothing is left for the next round of the worker.
    assert notify.queue_waiting_notices(clock.now()) == 0
    assert notice_count() == 9_900


# --- 2. interrupted, resumed ------------------------------------------------------------------------


def test_an_interrupted_run_resumes_where_it_stopped_without_telling_anyone_twice(app, board, clock):
    incident = make_incident(board, now=clock.now())
    add_affected(incident, 1_200)
    notify.start_customer_notice(incident, board, clock.now())
    db.session.commit()
    incident_id = incident.id
    assert notify.queue_notice_batch(incident.id, clock.now(), limit=500) == 500
    db.session.commit()
    # A second batch is under way when the process dies: its transaction never commits.
    assert notify.queue_notice_batch(incident.id, clock.now(), limit=500) == 500
    db.session.rollback()
    db.session.remove()  # a new process: nothing of the old session is left
    assert notice_count() == 500
    assert notify.notice_progress(incident_id).waiting == 700

    # The next round of the worker carries on from the last commit.
    clock.advance(minutes=1)
    assert notify.queue_waiting_notices(clock.now()) == 700
    assert_each_told_once(incident_id, 1_200)


def test_the_worker_round_queues_waiting_notices_before_delivering(app, board, clock):
    incident = make_incident(board, now=clock.now())
    add_affected(incident, 30)
    notify.start_customer_notice(incident, board, clock.now())
    db.session.commit()
    run_due_jobs(clock.now())  # mailbox transport: delivery marks the messages sent
    assert_each_told_once(incident.id, 30)
    progress = notify.notice_progress(incident.id)
    assert (progress.delivered, progress.sending) == (30, 0)


# --- 3. starting twice, concurrent runners ----------------------------------------------------------


def test_starting_twice_over_http_changes_nothing_the_second_time(app, board, clock):
    incident = make_incident(board, now=clock.now())
    add_affected(incident, 20)
    client = staff_client(app, board, clock)
    first = start_over_http(client, incident.id)
    assert first.status_code == 303
    assert "20" in page_text(client.get(first.headers["Location"]))
    started_at = db.session.get(BreachIncident, incident.id).customers_notice_started_at
    clock.advance(minutes=5)
    again = start_over_http(client, incident.id)
    assert again.status_code == 303
    db.session.expire_all()
    assert db.session.get(BreachIncident, incident.id).customers_notice_started_at == started_at
    assert_each_told_once(incident.id, 20)
    starts = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "incident.customers_notice_started"))
    assert len(starts.all()) == 1


@pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite has one writer: two runners cannot overlap there; "
                    "the race is run on PostgreSQL (PORTAL_TEST_DATABASE_URL)")
def test_two_runners_at_the_same_time_take_different_customers(app, board, clock):
    incident = make_incident(board, now=clock.now())
    add_affected(incident, 2_000)
    notify.start_customer_notice(incident, board, clock.now())
    db.session.commit()
    incident_id = incident.id
    db.session.remove()
    barrier = threading.Barrier(2, timeout=30)
    done: dict = {}

    def runner(name):
        with app.app_context():
            try:
                barrier.wait()
                done[name] = notify.queue_waiting_notices(clock.now(), limit=50)
            except BaseException as error:  # reported below
                done[name] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=runner, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert not any(isinstance(value, BaseException) for value in done.values()), done
    assert done["a"] + done["b"] == 2_000
    assert done["a"] and done["b"], done  # both took their share: neither waited for the other's rows
    assert_each_told_once(incident_id, 2_000)


# --- 4. who is e-mailed ---------------------------------------------------------------------------


def test_customers_without_an_email_address_or_erased_are_counted_not_emailed(app, board, clock):
    incident = make_incident(board, now=clock.now())
    ids = add_affected(incident, 10, no_email_every=5)  # customers 0 and 5 have no address
    db.session.execute(update(Customer).where(Customer.id == ids[1]).values(erased_at=clock.now()))
    db.session.commit()
    progress = notify.notice_progress(incident.id)
    assert (progress.total, progress.reachable, progress.queued) == (10, 7, 0)

    notify.start_customer_notice(incident, board, clock.now())
    assert notify.queue_notice_batch(incident.id, clock.now()) == 10
    db.session.commit()

    told_otherwise = {row.customer_id for row in rows(incident.id) if row.outbox_id is None}
    assert told_otherwise == {ids[0], ids[1], ids[5]}
    assert {m.recipient for m in notices()} == {f"khach{n:05d}@example.vn" for n in (2, 3, 4, 6, 7, 8, 9)}
    progress = notify.notice_progress(incident.id)
    assert (progress.queued, progress.without_email, progress.emailed, progress.waiting) == (10, 3, 7, 0)


def test_the_first_email_address_of_the_record_is_used(app, board, clock):
    incident = make_incident(board, now=clock.now())
    customer = make_customer("dau.tien@example.vn", "Trần Thị Bình")
    db.session.add(ContactPoint(customer_id=customer.id, channel="email", kind="company", value="cong.ty@example.vn",
                                value_normalized="cong.ty@example.vn", source="staff"))
    db.session.commit()
    affect(incident, customer)
    notify.start_customer_notice(incident, board, clock.now())
    notify.queue_notice_batch(incident.id, clock.now())
    db.session.commit()
    assert [m.recipient for m in notices()] == ["dau.tien@example.vn"]


# --- 5. the e-mail, through a real SMTP server ------------------------------------------------------


def test_the_notice_reaches_the_smtp_server_bilingual_with_the_reference_and_only_its_customer(
        app, board, clock, smtp_server):
    app.config.update(smtp_server.app_config())
    incident = make_incident(board, now=clock.now(), categories=["name", "phone", "camera"])
    first = make_customer("an.nguyen@example.vn", "Nguyễn Văn An", preferred_locale="en", order="DH-1")
    second = make_customer("binh.tran@example.vn", "Trần Thị Bình", phone="0912 345 678",
                           phone_normalized="+84912345678", order="DH-2")
    affect(incident, first)
    affect(incident, second)
    notify.start_customer_notice(incident, board, clock.now())
    notify.queue_notice_batch(incident.id, clock.now())
    db.session.commit()

    assert deliver_due(clock.now()) == 2
    mails = {mail.rcpt_tos[0]: mail.message for mail in smtp_server.received}
    assert set(mails) == {"an.nguyen@example.vn", "binh.tran@example.vn"}
    mail = mails["an.nguyen@example.vn"]
    subject = mail["Subject"]
    assert incident.reference in subject
    assert "Thông báo" in subject and "Notice" in subject  # both languages, Vietnamese first
    assert subject.index("Thông báo") < subject.index("Notice")
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    for body in (text, html):
        assert incident.reference in body
        assert "Kính gửi Quý khách Nguyễn Văn An" in body and "Dear Nguyễn Văn An" in body
        # Vietnamese first, then English, whatever the customer's own language.
        assert body.index("Kính gửi Quý khách") < body.index("Dear Nguyễn Văn An")
        assert ACTS in body and MEASURES in body and CONSEQUENCES in body
        assert "Số điện thoại" in body and "Phone number" in body  # the data involved, in both languages
        assert "Hình ảnh và bản ghi của camera" in body
        assert "Camera images and recordings" in body
        assert "http://localhost/requests/new/leak_complaint" in body  # built from the portal's base URL
        # Nobody else's data.
        for other in ("Trần Thị Bình", "binh.tran@example.vn", "0912", "DH-2"):
            assert other not in body
    assert '<div lang="vi">' in html and '<div lang="en">' in html
    assert "Trần Thị Bình" in mails["binh.tran@example.vn"].get_body(("plain",)).get_content()
    progress = notify.notice_progress(incident.id)
    assert (progress.delivered, progress.failed, progress.sending) == (2, 0, 0)


def test_a_notice_that_cannot_be_delivered_counts_as_failed(app, board, clock):
    incident = make_incident(board, now=clock.now())
    add_affected(incident, 3)
    notify.start_customer_notice(incident, board, clock.now())
    notify.queue_notice_batch(incident.id, clock.now())
    db.session.commit()
    first = rows(incident.id)[0].outbox_id
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == first).values(status=OutboxStatus.FAILED))
    db.session.commit()
    progress = notify.notice_progress(incident.id)
    assert (progress.delivered, progress.failed, progress.sending) == (0, 1, 2)


# --- 6. the page, the buttons, the permissions -----------------------------------------------------


def test_only_the_board_may_see_or_start_the_notice(app, board, clock):
    incident = make_incident(board, now=clock.now())
    add_affected(incident, 3)
    path = f"/board/incidents/{incident.id}/notify"
    anonymous = app.test_client()
    assert anonymous.get(path).status_code == 302
    assert anonymous.post(path, data={"confirm": "y"}).status_code in (302, 400)
    for role in ("care", "sales", "admin"):
        client = staff_client(app, make_staff(role), clock)
        assert client.get(path).status_code == 404, role
        token = csrf_token(client, "/staff/")
        assert client.post(path, data={"csrf_token": token, "confirm": "y"}).status_code == 404, role
        assert client.post(f"{path}/resume", data={"csrf_token": token}).status_code == 404, role
    assert staff_client(app, board, clock).get(path).status_code == 200
    assert staff_client(app, board, clock).get("/board/incidents/999/notify").status_code == 404
    assert notice_count() == 0
    assert db.session.get(BreachIncident, incident.id).customers_notice_started_at is None


def test_the_page_asks_for_a_confirmation_naming_how_many_will_be_emailed(app, board, clock):
    incident = make_incident(board, now=clock.now())
    add_affected(incident, 12, no_email_every=6)  # two of twelve have no address
    client = staff_client(app, board, clock)
    page = page_text(client.get(f"/board/incidents/{incident.id}/notify"))
    assert "10" in page and "2" in page
    unconfirmed = start_over_http(client, incident.id, confirm="")
    assert unconfirmed.status_code == 400
    assert "Error:" in page_text(unconfirmed) or "Lỗi" in page_text(unconfirmed)
    assert notice_count() == 0
    db.session.expire_all()
    assert db.session.get(BreachIncident, incident.id).customers_notice_started_at is None


def test_a_small_incident_is_done_at_once_and_a_large_one_is_finished_by_the_button_and_the_worker(
        app, board, clock):
    small = make_incident(board, now=clock.now())
    add_affected(small, 5)
    large = make_incident(board, now=clock.now(), title="Lộ dữ liệu lớn")
    add_affected(large, 620, start=100)
    client = staff_client(app, board, clock)

    start_over_http(client, small.id)
    assert notify.notice_progress(small.id).waiting == 0
    page = client.get(f"/board/incidents/{small.id}/notify").get_data(as_text=True)
    assert "/notify/resume" not in page

    # Starting queues a small first batch in the request ...
    response = start_over_http(client, large.id)
    assert response.status_code == 303 and response.headers["Location"].endswith("#h-notify")
    assert notify.notice_progress(large.id).waiting == 620 - notify.FIRST_BATCH_SIZE == 570
    page = client.get(f"/board/incidents/{large.id}/notify").get_data(as_text=True)
    assert "/notify/resume" in page and "<dd>50</dd>" in page and "<dd>570</dd>" in page
    # ... "Resume" queues a worker's batch now ...
    path = f"/board/incidents/{large.id}/notify"
    assert client.post(f"{path}/resume", data={"csrf_token": csrf_token(client, path), "back": path}
                       ).status_code == 303
    assert notify.notice_progress(large.id).waiting == 570 - notify.BATCH_SIZE == 70
    # ... and the worker queues the rest.
    assert notify.queue_waiting_notices(clock.now()) == 70
    assert notify.notice_progress(large.id).waiting == 0
    assert "/notify/resume" not in client.get(path).get_data(as_text=True)
    assert notice_count() == 625


def test_the_worker_queues_what_the_first_batch_left_in_batches(app, board, clock):
    incident = make_incident(board, now=clock.now())
    add_affected(incident, 1_100)
    client = staff_client(app, board, clock)
    start_over_http(client, incident.id)
    assert notice_count() == notify.FIRST_BATCH_SIZE

    assert notify.queue_waiting_notices(clock.now()) == 1_050
    assert_each_told_once(incident.id, 1_100)
    batches = db.session.scalars(select(AuditRecord.data).where(
        AuditRecord.action == "incident.customer_notices_queued").order_by(AuditRecord.id)).all()
    assert [batch["emailed"] for batch in batches] == [50, 500, 500, 50]


def test_the_notice_is_refused_without_a_description_or_without_affected_customers(app, board, clock):
    client = staff_client(app, board, clock)
    undescribed = make_incident(board, now=clock.now(), acts="", measures="  ")
    add_affected(undescribed, 2)
    response = start_over_http(client, undescribed.id)
    assert response.status_code == 303
    assert "Hãy mô tả sự việc đã xảy ra" in page_text(client.get(response.headers["Location"]))
    empty = make_incident(board, now=clock.now(), title="Chưa có ai")
    response = start_over_http(client, empty.id)
    assert "Chưa có khách hàng nào trong danh sách" in page_text(client.get(response.headers["Location"]))
    db.session.expire_all()
    assert db.session.get(BreachIncident, undescribed.id).customers_notice_started_at is None
    assert db.session.get(BreachIncident, empty.id).customers_notice_started_at is None
    assert notice_count() == 0
    with pytest.raises(notify.NoticeRefused):
        notify.start_customer_notice(db.session.get(BreachIncident, empty.id), board, clock.now())
    with pytest.raises(notify.NoticeRefused):
        notify.start_customer_notice(db.session.get(BreachIncident, undescribed.id), make_staff("care"),
                                     clock.now())


def test_a_back_address_elsewhere_is_not_followed(app, board, clock):
    incident = make_incident(board, now=clock.now())
    add_affected(incident, 2)
    client = staff_client(app, board, clock)
    response = start_over_http(client, incident.id, back="https://evil.example/")
    assert response.headers["Location"].endswith(f"/board/incidents/{incident.id}/notify")
    assert re.search(r"/board/incidents/\d+/notify$", response.headers["Location"])


def test_a_colleagues_change_at_the_same_moment_is_said_and_nothing_is_saved(app, board, clock, monkeypatch):
    incident = make_incident(board, now=clock.now())
    add_affected(incident, 3)
    client = staff_client(app, board, clock)
    real_batch = notify.queue_notice_batch

    def batch_then_conflict(*args, **kwargs):
        real_batch(*args, **kwargs)
        raise StaleDataError("the incident's version moved on meanwhile")

    monkeypatch.setattr(notify, "queue_notice_batch", batch_then_conflict)
    response = start_over_http(client, incident.id)
    assert response.status_code == 303
    assert "Sự cố vừa được thay đổi cùng lúc" in page_text(client.get(response.headers["Location"]))
    db.session.expire_all()
    assert db.session.get(BreachIncident, incident.id).customers_notice_started_at is None
    assert notice_count() == 0 and all(row.notice_queued_at is None for row in rows(incident.id))
