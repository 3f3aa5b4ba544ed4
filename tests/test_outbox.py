"""The outbox: e-mail is written in the transaction of the change that causes it,
then delivered by a worker over real SMTP (aiosmtpd on a local port) with retries and backoff,
given up only after MAIL_GIVE_UP_HOURS, never sent twice, and visible in development."""

from __future__ import annotations

import base64
import logging
import re
import socket
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from portal.audit.models import AuditRecord
from portal.db import db
from portal.email_links import EmailLink
from portal.outbox.delivery import deliver_due
from portal.outbox.models import DeliveryAttempt, OutboxMessage
from portal.outbox.services import queue_email
from portal.outbox.transports import IDLE_BEFORE_TEST, SmtpSession
from portal.worker import start_background_worker
from tests.factories import make_customer
from tests.helpers import (
    TEST_DATABASE_URL,
    SMTPTestServer,
    free_port,
    link_and_code,
    outbox,
    request_link,
)

ON_POSTGRESQL = TEST_DATABASE_URL.startswith("postgresql")
needs_postgresql = pytest.mark.skipif(
    not ON_POSTGRESQL,
    reason="needs PostgreSQL row locks (SELECT ... FOR UPDATE SKIP LOCKED); SQLite has none. "
           "Set PORTAL_TEST_DATABASE_URL=postgresql+psycopg://127.0.0.1/test to run it.")

ADDRESS = "an.nguyen@example.vn"


@pytest.fixture(autouse=True)
def _close_connections_after_each_test(request):
    """conftest's ``app`` fixture leaves its engine's pool open; on a PostgreSQL server shared by
    many runs those connections add up to "too many clients". Close ours after each test."""
    app = request.getfixturevalue("app") if "app" in request.fixturenames else None
    yield
    if app is not None:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def portal_logs(caplog, monkeypatch):
    """Capture the portal's log records. Alembic's fileConfig() (portal/migrations/env.py) disables
    loggers that already exist when a migration runs in this process, so re-enable ours first."""
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if name.startswith("portal") and isinstance(logger, logging.Logger):
            monkeypatch.setattr(logger, "disabled", False)
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.fixture
def smtp_app(app, smtp_server):
    """The test app, delivering to the test SMTP server with the test credentials."""
    app.config.update(smtp_server.app_config())
    return app


def queue(recipient: str = ADDRESS, locale: str = "vi") -> OutboxMessage:
    """Queue a real rendered e-mail (the "unknown address" one) and commit it."""
    message = queue_email(recipient, "sign_in_unknown", locale, "sign_in_link",
                          token="test-token", code="ABCD-EFGH", minutes=10)
    db.session.commit()
    return message


def reload(message_id: int) -> OutboxMessage:
    """Read the row again as another process would see it (nothing cached, only committed data)."""
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def committed_count(model) -> int:
    """Rows of ``model`` committed to the database, read on a connection of its own."""
    with db.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(model))


def audit(action: str) -> list[AuditRecord]:
    return list(db.session.scalars(select(AuditRecord).where(AuditRecord.action == action)))


def secret_forms(password: str, username: str) -> list[str]:
    """The password as it may appear in an SMTP conversation: plain, and base64 as AUTH sends it."""
    return [password, base64.b64encode(password.encode()).decode(),
            base64.b64encode(f"\0{username}\0{password}".encode()).decode()]


# --- 1. Written in the same transaction ----------------------------------------------------------


def test_requesting_a_sign_in_link_commits_exactly_one_pending_message(client, customer, clock):
    response = request_link(client, "An.Nguyen@Example.vn")

    assert response.status_code == 303
    assert committed_count(OutboxMessage) == 1 and committed_count(EmailLink) == 1
    [message] = outbox()
    assert message.status == "pending" and message.attempt_count == 0
    assert message.recipient == ADDRESS and message.purpose == "sign_in_link"
    assert message.next_attempt_at == clock.now() == message.queued_at  # due at once, on the portal clock
    assert re.fullmatch(r"<[^<>@\s]+@khoingo\.net>", message.message_id)
    assert message.attempts == []


def test_a_rolled_back_request_leaves_no_message(client, customer, monkeypatch):
    """The request fails after the e-mail was queued (audit write breaks): nothing is kept."""
    def broken_record(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr("portal.auth.services.record", broken_record)
    with pytest.raises(RuntimeError, match="audit store unavailable"):
        request_link(client, ADDRESS)

    # The e-mail row had been flushed in the request's transaction, but never committed ...
    assert committed_count(OutboxMessage) == 0 and committed_count(EmailLink) == 0
    db.session.remove()  # ... and the end of the request rolls that transaction back.
    assert outbox() == []
    assert db.session.scalars(select(EmailLink)).all() == []


def test_a_rolled_back_service_call_leaves_no_message(app, customer, clock):
    from portal.auth.services import issue_link

    with app.test_request_context("/sign-in"):
        issue_link(ADDRESS, None, "vi", clock.now())
        assert len(outbox()) == 1  # visible inside the transaction
        db.session.rollback()
    assert outbox() == [] and committed_count(OutboxMessage) == 0


# --- 2. Delivery over SMTP ----------------------------------------------------------------------


def test_worker_delivers_over_smtp_with_headers_parts_and_vietnamese_subject(
        smtp_app, smtp_server, client, customer, clock):
    customer.preferred_locale = "vi"
    db.session.commit()
    request_link(client, ADDRESS)
    [message] = outbox()
    assert not message.subject.isascii()  # "Liên kết đăng nhập ... Khôi Ngô Security"
    queued_text, queued_html = message.body_text, message.body_html
    token_path, code = link_and_code(message)

    assert deliver_due(clock.now()) == 1

    [mail] = smtp_server.received
    assert mail.rcpt_tos == [ADDRESS]
    assert mail.login == b"portal-mailer"  # it signed in with the configured credentials
    assert mail.message["To"] == ADDRESS
    assert mail.message["Subject"] == message.subject
    assert b"=?utf-8?" in mail.raw.lower()  # the subject travelled as an RFC 2047 encoded word
    assert mail.message["Message-ID"] == message.message_id
    assert mail.message["Content-Language"] == "vi"
    text = mail.message.get_body(("plain",)).get_content()
    html = mail.message.get_body(("html",)).get_content()
    assert text.strip() == queued_text.strip()
    assert html.strip() == queued_html.strip()
    assert token_path in text and f'href="http://localhost{token_path}' in html and code in text

    message = reload(message.id)
    # Sent: the stored copy keeps no working link or code (the database holds only their hashes).
    for body in (message.body_text, message.body_html):
        assert token_path not in body and code not in body and "/sign-in/link/[redacted]" in body
    assert message.status == "sent" and message.transport == "smtp" and message.sent_at == clock.now()
    assert message.attempt_count == 1
    [attempt] = message.attempts
    assert attempt.succeeded and attempt.error is None and attempt.attempted_at == clock.now()
    assert deliver_due(clock.advance(hours=1)) == 0  # nothing left to do
    assert len(smtp_server.received) == 1


# --- 3. Server down: backoff, no credentials in errors, then exactly one delivery ----------------


def test_server_down_backs_off_then_delivers_exactly_once(smtp_app, smtp_server, clock, portal_logs):
    smtp_app.config.update(MAIL_RETRY_FIRST_SECONDS=30, MAIL_RETRY_MAX_SECONDS=100)
    message = queue()
    message_id, row_id = message.message_id, message.id
    smtp_server.stop()

    for number, delay in enumerate([30, 60, 100, 100], start=1):
        failed_at = clock.now()
        assert deliver_due(failed_at) == 1
        message = reload(row_id)
        assert message.status == "pending" and message.attempt_count == number
        assert message.next_attempt_at == failed_at + timedelta(seconds=delay)
        assert "Connection refused" in message.last_error
        # Not retried before it is due.
        clock.advance(seconds=delay - 1)
        assert deliver_due(clock.now()) == 0
        assert reload(row_id).attempt_count == number
        clock.advance(seconds=1)

    attempts = reload(row_id).attempts
    assert [a.succeeded for a in attempts] == [False] * 4
    assert all("Connection refused" in a.error for a in attempts)
    assert "Delivery of outbox message" in portal_logs.text  # the failures were logged ...
    for secret in secret_forms(smtp_server.password, smtp_server.username):  # ... without credentials
        assert secret not in portal_logs.text
        assert all(secret not in a.error for a in attempts)

    smtp_server.start()  # a new server on the same port
    assert deliver_due(clock.now()) == 1
    assert smtp_server.message_ids == [message_id]  # once, with the Message-ID it always had
    message = reload(row_id)
    assert message.status == "sent" and message.message_id == message_id
    assert [a.succeeded for a in message.attempts] == [False] * 4 + [True]
    assert deliver_due(clock.advance(days=1)) == 0
    assert smtp_server.message_ids == [message_id]


@pytest.mark.parametrize("echo", ["plain", "base64"])
def test_a_rejection_that_echoes_the_password_is_stored_and_logged_without_it(
        smtp_app, smtp_server, clock, portal_logs, echo):
    password, username = smtp_server.password, smtp_server.username
    echoed = password if echo == "plain" else secret_forms(password, username)[2]
    smtp_server.auth_reply = f"535 5.7.8 Credentials rejected: {echoed}"
    message = queue()

    assert deliver_due(clock.now()) == 1

    message = reload(message.id)
    [attempt] = message.attempts
    assert message.status == "pending" and not attempt.succeeded
    assert "535" in message.last_error and "Credentials rejected" in attempt.error
    logged = "\n".join(r.getMessage() for r in portal_logs.records if r.name.startswith("portal"))
    assert "Credentials rejected" in logged
    for secret in secret_forms(password, username):
        assert secret not in message.last_error
        assert secret not in attempt.error
        assert secret not in logged
    assert smtp_server.received == []


def test_a_refused_goodbye_after_the_server_accepted_does_not_send_again(smtp_app, smtp_server, clock):
    """The server took the message, then answered QUIT with an error: the message was delivered."""
    smtp_server.quit_reply = "421 4.3.0 Closing after a local error"
    message = queue()

    assert deliver_due(clock.now()) == 1
    assert deliver_due(clock.advance(hours=2)) == 0

    assert smtp_server.message_ids == [message.message_id]
    message = reload(message.id)
    assert message.status == "sent" and [a.succeeded for a in message.attempts] == [True]


def test_a_message_that_cannot_be_built_is_retried_without_blocking_the_queue(smtp_app, smtp_server, clock):
    """An unexpected error on one message is recorded as a failed attempt; the next one goes out."""
    broken = queue("broken@example.vn")
    broken.subject = "Line one\nBcc: everyone@example.vn"  # refused by the e-mail library
    db.session.commit()
    good = queue("good@example.vn")

    assert deliver_due(clock.now()) == 2

    assert smtp_server.message_ids == [good.message_id]
    broken = reload(broken.id)
    assert broken.status == "pending" and broken.attempt_count == 1
    assert broken.next_attempt_at == clock.now() + timedelta(seconds=30)
    assert "ValueError" in broken.last_error
    assert reload(good.id).status == "sent"


# --- 4. Giving up, listing, resending -----------------------------------------------------------


def test_gives_up_only_after_give_up_hours_then_list_and_resend(smtp_app, smtp_server, clock, runner):
    smtp_app.config.update(MAIL_GIVE_UP_HOURS=1, MAIL_RETRY_FIRST_SECONDS=30, MAIL_RETRY_MAX_SECONDS=600)
    message = queue()
    row_id, message_id, give_up_at = message.id, message.message_id, message.queued_at + timedelta(hours=1)
    smtp_server.stop()

    for _ in range(50):
        assert deliver_due(clock.now()) == 1
        message = reload(row_id)
        if message.status != "pending":
            break
        assert message.next_attempt_at <= give_up_at
        clock.current = message.next_attempt_at
    assert message.status == "failed"
    assert message.failed_at == clock.now() >= give_up_at  # not before the hour was up
    assert message.attempts[-2].attempted_at < give_up_at  # it kept trying until then
    assert message.attempt_count == len(message.attempts) > 5
    assert "Connection refused" in message.last_error
    [failure] = audit("mail.failed")
    assert failure.target == f"outbox:{row_id}" and failure.actor == "system"
    assert failure.data["attempts"] == message.attempt_count
    assert deliver_due(clock.advance(days=3)) == 0  # a failed message is not retried by itself
    assert committed_count(OutboxMessage) == 1  # and never deleted

    listed = runner.invoke(args=["outbox", "list", "--status", "failed"])
    assert listed.exit_code == 0, listed.output
    assert re.search(rf"^\s*{row_id} failed\s+attempts={message.attempt_count}\s+{ADDRESS}\s.*Connection refused",
                     listed.output, re.MULTILINE), listed.output
    assert runner.invoke(args=["outbox", "list", "--status", "pending"]).output == ""

    resent = runner.invoke(args=["outbox", "resend", str(row_id)])
    assert resent.exit_code == 0 and f"Message {row_id} queued again." in resent.output
    message = reload(row_id)
    assert message.status == "pending" and message.failed_at is None
    assert message.next_attempt_at == clock.now() and message.message_id == message_id
    assert [r.target for r in audit("mail.resend")] == [f"outbox:{row_id}"]
    again = runner.invoke(args=["outbox", "resend", str(row_id)])  # only failed messages
    assert again.exit_code != 0 and "No failed message" in again.output

    smtp_server.start()
    assert deliver_due(clock.now()) == 1
    assert smtp_server.message_ids == [message_id]
    assert reload(row_id).status == "sent"


def test_a_sign_in_email_whose_link_expired_while_the_server_was_down_is_not_sent_late(
        smtp_app, smtp_server, client, customer, clock):
    smtp_server.stop()
    assert request_link(client, ADDRESS).status_code == 303
    row_id, useless_after = outbox()[-1].id, outbox()[-1].useless_after
    link, code = link_and_code(outbox()[-1])
    assert deliver_due(clock.now()) == 1  # tried while the server is down
    assert reload(row_id).status == "pending"
    smtp_server.start()
    clock.current = useless_after + timedelta(seconds=1)  # the link has expired meanwhile
    assert deliver_due(clock.now()) == 1
    assert smtp_server.message_ids == []  # not sent late: the customer asks again
    message = reload(row_id)
    assert message.status == "failed" and "expired" in message.last_error
    assert link not in message.body_text and code not in message.body_text  # no working link kept
    assert len(audit("mail.expired_unsent")) == 1
    assert deliver_due(clock.now()) == 0


def test_the_last_attempt_is_made_when_the_give_up_time_comes(smtp_app, smtp_server, clock):
    """Backoff is capped by the give-up time, so the last try is not skipped: a server back just
    before the deadline still gets the message."""
    smtp_app.config.update(MAIL_GIVE_UP_HOURS=1, MAIL_RETRY_FIRST_SECONDS=30, MAIL_RETRY_MAX_SECONDS=3600)
    message = queue()
    row_id, give_up_at = message.id, message.queued_at + timedelta(hours=1)
    smtp_server.stop()
    # 0, 30, 90, 210, 450, 930, 1890s; the next doubling (3810s) would be past the hour.
    for _ in range(7):
        assert deliver_due(clock.now()) == 1
        clock.current = reload(row_id).next_attempt_at
    assert clock.now() == give_up_at
    assert reload(row_id).status == "pending"

    smtp_server.start()
    assert deliver_due(clock.now()) == 1
    assert reload(row_id).status == "sent" and len(smtp_server.received) == 1


# --- 5. flask worker --once ---------------------------------------------------------------------


def test_a_round_of_deliveries_uses_one_connection(smtp_app, smtp_server, clock):
    messages = [queue(f"khach{number}@example.vn") for number in range(3)]

    assert deliver_due(clock.now()) == 3

    assert sorted(smtp_server.message_ids) == sorted(message.message_id for message in messages)
    assert len({mail.peer for mail in smtp_server.received}) == 1
    assert [reload(message.id).status for message in messages] == ["sent"] * 3


class WatchingSMTPServer(SMTPTestServer):
    """The test SMTP server, also counting the NOOPs it is asked and refusing the recipients in
    ``refused``."""

    def __init__(self, port: int):
        super().__init__(port)
        self.noops = 0
        self.refused: set[str] = set()

    async def handle_NOOP(self, server, session, envelope, arg):
        self.noops += 1
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def watching_server():
    server = WatchingSMTPServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def watched_app(app, watching_server):
    app.config.update(watching_server.app_config())
    return app


@pytest.fixture
def hanging_up_port():
    """A local port that takes every connection and hangs up at once, as a server going down does:
    a connection is made but no SMTP session. ``hanging_up_port.calls`` counts the connections."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    closing = threading.Event()

    def hang_up_on_each():
        while not closing.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            hang_up_on_each.calls += 1
            connection.close()

    hang_up_on_each.calls = 0
    thread = threading.Thread(target=hang_up_on_each, name="hanging-up-port")
    thread.start()
    hang_up_on_each.port = listener.getsockname()[1]
    yield hang_up_on_each
    closing.set()
    thread.join(timeout=10)
    listener.close()


def test_a_connection_used_just_before_is_reused_without_a_noop(watched_app, watching_server, clock):
    first, second, third = queue("a@example.vn"), queue("b@example.vn"), queue("c@example.vn")
    with SmtpSession(watched_app.config) as session:
        session.send(first)
        session.send(second)
        clock.advance(seconds=IDLE_BEFORE_TEST.total_seconds() - 1)
        session.send(third)

    assert watching_server.message_ids == [first.message_id, second.message_id, third.message_id]
    assert len({mail.peer for mail in watching_server.received}) == 1
    assert watching_server.noops == 0


def test_a_connection_idle_past_the_limit_is_tested_and_kept_while_open(watched_app, watching_server, clock):
    first, second = queue("a@example.vn"), queue("b@example.vn")
    with SmtpSession(watched_app.config) as session:
        session.send(first)
        clock.advance(seconds=IDLE_BEFORE_TEST.total_seconds())
        session.send(second)

    assert watching_server.noops == 1
    assert watching_server.message_ids == [first.message_id, second.message_id]
    assert len({mail.peer for mail in watching_server.received}) == 1


def test_a_connection_the_server_dropped_while_idle_is_replaced(watched_app, watching_server, clock):
    first, second = queue("a@example.vn"), queue("b@example.vn")
    with SmtpSession(watched_app.config) as session:
        session.send(first)
        session.client.sock.shutdown(socket.SHUT_RDWR)  # as a server ends it after its idle timeout
        clock.advance(minutes=5)
        session.send(second)  # NOOP finds it gone: a new connection, and no failed attempt

    assert watching_server.message_ids == [first.message_id, second.message_id]
    assert len({mail.peer for mail in watching_server.received}) == 2


def test_a_round_with_the_server_down_tries_once_and_keeps_every_message_queued(smtp_app, smtp_server, clock):
    messages = [queue(f"khach{number}@example.vn") for number in range(4)]
    queued_at = clock.now()
    smtp_server.stop()

    assert deliver_due(clock.now()) == 1  # the first message found the server down; the round ended

    first, *rest = (reload(message.id) for message in messages)
    assert first.status == "pending" and first.attempt_count == 1 and "Connection refused" in first.last_error
    assert first.next_attempt_at == queued_at + timedelta(seconds=30)
    for message in rest:  # untouched: not tried, not delayed
        assert (message.status, message.attempt_count, message.last_error) == ("pending", 0, None)
        assert message.next_attempt_at == queued_at
    assert committed_count(DeliveryAttempt) == 1

    smtp_server.start()
    assert deliver_due(clock.advance(seconds=30)) == 4
    assert sorted(smtp_server.message_ids) == sorted(message.message_id for message in messages)
    assert {reload(message.id).status for message in messages} == {"sent"}
    assert deliver_due(clock.advance(days=1)) == 0
    assert len(smtp_server.received) == 4


def test_a_round_dials_a_server_that_hangs_up_only_once(smtp_app, hanging_up_port, clock):
    smtp_app.config.update(SMTP_PORT=hanging_up_port.port)
    messages = [queue(f"khach{number}@example.vn") for number in range(3)]

    assert deliver_due(clock.now()) == 1

    assert hanging_up_port.calls == 1
    assert [reload(message.id).attempt_count for message in messages] == [1, 0, 0]
    assert "SMTPServerDisconnected" in reload(messages[0].id).last_error
    assert {reload(message.id).status for message in messages} == {"pending"}


def test_a_message_the_connected_server_refuses_fails_alone(watched_app, watching_server, clock):
    watching_server.refused = {"khong.co@example.vn"}
    before = queue("a@example.vn")
    refused = queue("khong.co@example.vn")
    after = queue("c@example.vn")

    assert deliver_due(clock.now()) == 3

    assert watching_server.message_ids == [before.message_id, after.message_id]
    refused = reload(refused.id)
    assert refused.status == "pending" and refused.attempt_count == 1 and "550" in refused.last_error
    assert reload(before.id).status == reload(after.id).status == "sent"


def test_flask_worker_once_delivers_the_due_messages(smtp_app, smtp_server, runner, clock):
    due = [queue("a@example.vn"), queue("b@example.vn")]
    later = queue("later@example.vn")
    later.next_attempt_at = clock.now() + timedelta(minutes=5)
    db.session.commit()

    result = runner.invoke(args=["worker", "--once"])

    assert result.exit_code == 0, result.output
    assert "Done: 2 item(s) of work." in result.output
    assert sorted(smtp_server.message_ids) == sorted(m.message_id for m in due)
    assert [reload(m.id).status for m in due] == ["sent", "sent"]
    assert reload(later.id).status == "pending"


# --- 6. Two workers, one delivery (PostgreSQL) --------------------------------------------------


def _in_thread(app, target, results: dict, name: str, barrier: threading.Barrier | None = None):
    def run():
        try:
            with app.app_context():
                if barrier is not None:
                    barrier.wait(timeout=10)
                try:
                    results[name] = target()
                finally:
                    db.session.remove()
        except BaseException as error:  # reported by the test, not lost in the thread
            results[name] = error

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread


@needs_postgresql
def test_two_concurrent_workers_send_each_message_exactly_once(smtp_app, smtp_server, clock):
    smtp_server.delay = 0.03  # each delivery takes a while, so the two workers overlap
    messages = [queue(f"customer{n}@example.vn") for n in range(30)]
    now = clock.now()
    results: dict = {}
    barrier = threading.Barrier(2)

    threads = [_in_thread(smtp_app, lambda: deliver_due(now), results, name, barrier) for name in ("w1", "w2")]
    for thread in threads:
        thread.join(timeout=60)

    assert not any(thread.is_alive() for thread in threads)
    assert all(isinstance(results[name], int) for name in ("w1", "w2")), results
    assert results["w1"] + results["w2"] == 30
    assert results["w1"] > 0 and results["w2"] > 0  # both really worked
    received = Counter(smtp_server.message_ids)
    assert set(received) == {m.message_id for m in messages}
    assert set(received.values()) == {1}
    db.session.expire_all()
    attempts = db.session.scalars(select(DeliveryAttempt)).all()
    assert len(attempts) == 30 and all(a.succeeded for a in attempts)
    assert {reload(m.id).status for m in messages} == {"sent"}


@needs_postgresql
def test_a_message_locked_by_one_worker_is_skipped_not_waited_for(smtp_app, smtp_server, clock):
    held, free = queue("held@example.vn"), queue("free@example.vn")
    statements: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    results: dict = {}
    with db.engine.connect() as other_worker:  # another worker, busy sending ``held``
        other_worker.execute(select(OutboxMessage.id).where(OutboxMessage.id == held.id).with_for_update())
        event.listen(db.engine, "before_cursor_execute", remember)
        try:
            thread = _in_thread(smtp_app, lambda: deliver_due(clock.now()), results, "worker")
            thread.join(timeout=10)
        finally:
            event.remove(db.engine, "before_cursor_execute", remember)
        was_blocked = thread.is_alive()
        other_worker.rollback()
    thread.join(timeout=10)

    assert not was_blocked, "the worker waited for a row another worker had locked"
    assert results["worker"] == 1
    assert smtp_server.message_ids == [free.message_id]
    assert reload(held.id).status == "pending" and reload(held.id).attempt_count == 0
    claims = [s for s in statements if "FROM outbox_messages" in s and "FOR UPDATE" in s]
    assert claims and all("FOR UPDATE SKIP LOCKED" in s for s in claims)


# --- 7. The development mailbox ------------------------------------------------------------------


@pytest.fixture
def dev_app(make_app):
    """An app in development mode with the mailbox transport; no worker thread (PORTAL_SERVE unset).
    SMTP points at a closed port: anything that tried to use SMTP would fail."""
    return make_app(ENV="development", SMTP_PORT=free_port(), MAIL_TRANSPORT="mailbox")


def test_dev_mailbox_shows_the_message_with_a_clickable_link(dev_app, clock):
    make_customer()
    client = dev_app.test_client()
    request_link(client, ADDRESS)
    [message] = outbox()

    inbox = client.get("/dev/mailbox/")
    assert inbox.status_code == 200
    page = inbox.get_data(as_text=True)
    assert f'href="/dev/mailbox/{message.id}"' in page and ADDRESS in page
    assert str(message.subject) in page

    shown = client.get(f"/dev/mailbox/{message.id}")
    assert shown.status_code == 200
    page = shown.get_data(as_text=True)
    [link] = re.findall(r'<a href="(http://localhost/sign-in/link/[A-Za-z0-9_\-]+)">\1</a>', page)
    assert link in message.body_text
    opened = client.get(link.removeprefix("http://localhost"), follow_redirects=True)
    assert opened.status_code == 200 and opened.request.path == "/sign-in/continue"
    assert client.get("/dev/mailbox/999999").status_code == 404


def test_dev_mailbox_transport_marks_the_message_sent_without_a_server(dev_app, clock):
    message = queue()

    assert deliver_due(clock.now()) == 1

    message = reload(message.id)
    assert message.status == "sent" and message.transport == "mailbox" and message.sent_at == clock.now()
    [attempt] = message.attempts
    assert attempt.succeeded and attempt.error is None
    page = dev_app.test_client().get(f"/dev/mailbox/{message.id}").get_data(as_text=True)
    assert message.message_id.replace("<", "&lt;").replace(">", "&gt;") in page and "sent" in page


@pytest.mark.parametrize("settings", [
    {"ENV": "testing", "MAIL_TRANSPORT": "mailbox"},
    {"ENV": "production", "MAIL_TRANSPORT": "smtp", "BASE_URL": "https://localhost"},
    {"ENV": "development", "MAIL_TRANSPORT": "smtp"},
], ids=["testing", "production", "development-with-smtp"])
def test_dev_mailbox_is_not_served_elsewhere(make_app, settings):
    app = make_app(**settings)
    queue()
    client = app.test_client()
    assert "mailbox.inbox" not in app.view_functions
    assert client.get("/dev/mailbox/").status_code == 404
    assert client.get("/dev/mailbox/1").status_code == 404


# --- 8. The in-process development worker thread ------------------------------------------------


def test_background_worker_thread_delivers_a_new_message(smtp_app, smtp_server, clock):
    worker = start_background_worker(smtp_app, poll_seconds=0.05)
    try:
        assert worker.is_alive()
        message = queue()  # queued while the thread is already polling
        deadline = time.monotonic() + 10
        while reload(message.id).status != "sent" and time.monotonic() < deadline:
            time.sleep(0.05)  # waiting for a real thread, not moving time
    finally:
        worker.stop(timeout=10)

    assert not worker.is_alive()
    assert reload(message.id).status == "sent"
    assert smtp_server.message_ids == [message.message_id]


def test_a_sign_in_email_is_given_up_when_its_link_expires_and_keeps_no_secret(
        smtp_app, smtp_server, client, customer, clock):
    """Retrying a sign-in e-mail for two days would deliver a dead link: it gives up with the link."""
    smtp_server.stop()
    request_link(client, ADDRESS)
    [message] = outbox()
    token_path, code = link_and_code(message)
    assert message.useless_after == clock.now() + timedelta(minutes=10)
    deliver_due(clock.now())
    assert reload(message.id).status == "pending"
    deliver_due(clock.advance(minutes=10))
    message = reload(message.id)
    assert message.status == "failed" and message.failed_at == clock.now()
    assert token_path not in message.body_text and code not in message.body_text
