"""The portal's own personal data is kept for its retention period, then purged by the worker, each
purge audited: e-mailed links, customers' and staff's sessions, delivered e-mail bodies, the audit
log's IP addresses."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from portal import worker
from portal.audit.models import AuditRecord
from portal.auth.models import CustomerSession
from portal.db import db
from portal.email_links import EmailLink
from portal.jobs import PurgeSchedule
from portal.outbox.models import OutboxMessage, OutboxStatus
from portal.settings.retention import DEFAULTS, retention_days
from portal.settings.services import save_setting
from portal.staff.models import StaffSession
from tests.factories import make_staff


def add_world(customer, now):
    """One old and one recent row of each kind, just past and just within the default periods."""
    member = make_staff("care")
    old, recent = {}, {}
    for label, age in (("old", 1), ("recent", -1)):
        store = old if label == "old" else recent
        store["link"] = EmailLink(purpose="sign_in", token_hash=f"t-{label}", address_key=f"a-{label}", email="a@x.vn",
                                  expires_at=now - timedelta(days=DEFAULTS["sign_in_links"] + age))
        store["customer_session"] = CustomerSession(
            key_hash=f"c-{label}", customer_id=customer.id, email="a@x.vn",
            created_at=now - timedelta(days=200), last_seen_at=now - timedelta(days=200),
            ended_at=now - timedelta(days=DEFAULTS["customer_sessions"] + age))
        store["staff_session"] = StaffSession(
            key_hash=f"s-{label}", staff_id=member.id, created_at=now - timedelta(days=400),
            last_seen_at=now - timedelta(days=DEFAULTS["staff_sessions"] + age))
        store["mail"] = OutboxMessage(
            message_id=f"<{label}@x>", recipient="a@x.vn", subject="S", body_text="secret text",
            body_html="<p>secret</p>", locale="vi", purpose="ticket_reply", status=OutboxStatus.SENT,
            sent_at=now - timedelta(days=DEFAULTS["email_bodies"] + age))
        store["audit"] = AuditRecord(actor="customer:1", action="x", target="", data={}, client_address="203.0.113.9",
                                     occurred_at=now - timedelta(days=DEFAULTS["audit_addresses"] + age))
        db.session.add_all(store.values())
    db.session.commit()
    return old, recent


def test_the_worker_purges_what_is_past_its_period_and_audits_each_purge(app, customer, clock):
    now = clock.now()
    old, recent = add_world(customer, now)
    ids = {name: (old[name].id, recent[name].id) for name in old}
    assert worker.run_once(app) >= 5
    db.session.expire_all()
    assert db.session.get(EmailLink, ids["link"][0]) is None and db.session.get(EmailLink, ids["link"][1])
    assert db.session.get(CustomerSession, ids["customer_session"][0]) is None
    assert db.session.get(CustomerSession, ids["customer_session"][1]) is not None
    assert db.session.get(StaffSession, ids["staff_session"][0]) is None
    assert db.session.get(StaffSession, ids["staff_session"][1]) is not None
    purged_mail, kept_mail = (db.session.get(OutboxMessage, number) for number in ids["mail"])
    assert (purged_mail.body_text, purged_mail.body_html, purged_mail.subject) == ("", "", "S")
    assert kept_mail.body_text == "secret text"
    assert db.session.get(AuditRecord, ids["audit"][0]).client_address is None
    assert db.session.get(AuditRecord, ids["audit"][1]).client_address == "203.0.113.9"
    purges = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "retention.purged")
                                .order_by(AuditRecord.target)).all()
    assert [(purge.target, purge.data["rows"], purge.actor) for purge in purges] == [
        ("retention:audit_addresses", 1, "system"), ("retention:customer_sessions", 1, "system"),
        ("retention:email_bodies", 1, "system"), ("retention:sign_in_links", 1, "system"),
        ("retention:staff_sessions", 1, "system")]
    assert worker.run_once(app) == 0  # nothing left to purge: no new audit records either
    assert db.session.scalar(select(db.func.count()).where(AuditRecord.action == "retention.purged")) == 5


def test_a_live_session_is_kept_by_its_last_use(app, customer, clock):
    now = clock.now()
    session = CustomerSession(key_hash="live", customer_id=customer.id, email="a@x.vn",
                              created_at=now - timedelta(days=365), last_seen_at=now - timedelta(minutes=5))
    db.session.add(session)
    db.session.commit()
    worker.run_once(app)
    assert db.session.get(CustomerSession, session.id) is not None


def test_the_periods_are_settings_with_defaults(app, clock):
    assert retention_days() == DEFAULTS
    save_setting("retention", {"email_bodies": 7, "audit_addresses": 0, "staff_sessions": "forever",
                               "sign_in_links": True}, None, clock.now())
    db.session.commit()
    assert retention_days() == {**DEFAULTS, "email_bodies": 7}  # values that are not 1..3650 days are ignored


def test_a_shorter_period_purges_sooner(app, customer, clock):
    now = clock.now()
    mail = OutboxMessage(message_id="<m@x>", recipient="a@x.vn", subject="S", body_text="text", body_html="html",
                         locale="vi", purpose="ticket_reply", status=OutboxStatus.SENT, sent_at=now - timedelta(days=8))
    pending = OutboxMessage(message_id="<p@x>", recipient="a@x.vn", subject="S", body_text="text", body_html="html",
                            locale="vi", purpose="ticket_reply", status=OutboxStatus.FAILED,
                            failed_at=now - timedelta(days=80))
    db.session.add_all([mail, pending])
    save_setting("retention", {"email_bodies": 7}, None, now)
    db.session.commit()
    worker.run_once(app)
    db.session.expire_all()
    assert db.session.get(OutboxMessage, mail.id).body_text == ""
    assert db.session.get(OutboxMessage, pending.id).body_text == "text"  # never delivered: kept for a resend


def expired_link(now, name: str) -> str:
    """Add a sign-in link past its retention period; return its name (SQLite reuses a purged id)."""
    db.session.add(EmailLink(purpose="sign_in", token_hash=name, address_key=f"a-{name}", email="a@x.vn",
                             expires_at=now - timedelta(days=DEFAULTS["sign_in_links"] + 1)))
    db.session.commit()
    return name


def link_kept(name: str) -> bool:
    db.session.rollback()
    return db.session.scalar(select(EmailLink.id).where(EmailLink.token_hash == name)) is not None


def test_a_worker_purges_on_its_first_round_then_once_an_hour(app, clock):
    purges = PurgeSchedule()  # the one a worker loop keeps across its rounds
    first = expired_link(clock.now(), "first")
    worker.run_once(app, purges)
    assert not link_kept(first)

    second = expired_link(clock.now(), "second")
    worker.run_once(app, purges)
    clock.advance(minutes=59, seconds=59)
    worker.run_once(app, purges)
    assert link_kept(second)  # not again within the hour

    clock.advance(seconds=1)
    worker.run_once(app, purges)
    assert not link_kept(second)
    targets = db.session.scalars(select(AuditRecord.target).where(AuditRecord.action == "retention.purged")).all()
    assert targets == ["retention:sign_in_links"] * 2


def test_each_worker_and_each_single_round_purges_on_its_own_first_round(app, clock, runner):
    worker.run_once(app, PurgeSchedule())
    another = expired_link(clock.now(), "another")
    worker.run_once(app, PurgeSchedule())  # another worker process, starting now
    assert not link_kept(another)

    once = expired_link(clock.now(), "once")
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert not link_kept(once)


class Rounds(threading.Event):
    """Stops the worker loop after ``count`` rounds; each pause between rounds (taken when a round
    found nothing to do) calls ``between`` instead of waiting."""

    def __init__(self, count: int, between):
        super().__init__()
        self.count, self.between, self.started = count, between, 0

    def is_set(self) -> bool:
        self.started += 1
        return self.started > self.count

    def wait(self, timeout=None) -> bool:
        self.between()
        return False


def test_the_worker_loop_keeps_one_schedule_across_its_rounds(app, clock):
    links = [expired_link(clock.now(), "before")]
    seen = []

    def between_rounds():
        seen.append([link_kept(name) for name in links])
        links.append(expired_link(clock.now(), f"pause-{len(links)}"))
        clock.advance(minutes=30)

    # 1: purges; 2, 3: nothing to do (a pause each); 4: an hour on, purges again.
    worker.run_forever(app, 1.0, Rounds(4, between_rounds))

    assert seen == [[False], [False, True]]
    assert [link_kept(name) for name in links] == [False, False, False]
