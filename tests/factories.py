"""One factory per thing the tests need, each committing what it makes.

Tickets are filed through the real rules (:func:`portal.tickets.services.create_ticket`) and then
adjusted, so a test's ticket has its routing, clocks and thread as a customer's would.
"""

from __future__ import annotations

import io
import itertools
from datetime import datetime, timedelta, timezone

import pyotp
from PIL import Image, PngImagePlugin

from portal import clock as clock_module
from portal.account.models import ContactPoint, Customer, Order
from portal.consent.models import ConsentEntry
from portal.db import db
from portal.enums import Channel
from portal.hashing import hash_password
from portal.staff.models import StaffMember
from portal.tickets import services
from portal.tickets.models import Ticket
from portal.tickets.settings import save_queue_setting
from tests.helpers import STAFF_PASSWORD

# Order references are unique: each customer made gets the next number (a hash of the address could
# give two customers of one test the same; the explicit ones tests choose are DH-2026-...).
_ORDER_NUMBERS = itertools.count(1)


def make_customer(email: str = "an.nguyen@example.vn", name: str = "Nguyễn Văn An", **extra) -> Customer:
    """A customer with an e-mail address, a phone, an address, an order and two consent entries."""
    now = datetime.now(timezone.utc)
    customer = Customer(full_name=name, source="web_form", notes=extra.get("notes", ""),
                        preferred_locale=extra.get("locale"))
    customer.contact_points = [
        ContactPoint(channel=Channel.EMAIL, kind="personal", value=email, value_normalized=email.lower(),
                     source="web_form"),
        ContactPoint(channel=Channel.PHONE, kind="mobile", value=extra.get("phone", "0903 123 456"),
                     value_normalized=extra.get("phone_normalized", "+84903123456"), source="phone"),
        ContactPoint(channel=Channel.ADDRESS, kind="home",
                     value=extra.get("address", "12 Lê Lợi, Quận 1, TP. Hồ Chí Minh"),
                     value_normalized="", source="web_form"),
    ]
    customer.orders = [Order(reference=extra.get("order", f"DH-2025-{next(_ORDER_NUMBERS):05d}"),
                             description="Camera IP 4MP", ordered_on=now.date() - timedelta(days=100),
                             warranty_ends_on=now.date() + timedelta(days=600))]
    db.session.add(customer)
    db.session.flush()
    db.session.add_all([
        ConsentEntry(customer_id=customer.id, purpose="notices", granted=True, method="web_form",
                     evidence="form-1001", recorded_at=now, actor_kind="staff", actor_name="Lan"),
        ConsentEntry(customer_id=customer.id, purpose="promotions", granted=False, method="recorded_call",
                     evidence="call-7.mp3", recorded_at=now, actor_kind="staff", actor_name="Lan"),
    ])
    db.session.commit()
    return customer


def make_staff(role: str = "care", email: str | None = None, password: str | None = STAFF_PASSWORD,
               enrolled: bool = True, name: str | None = None) -> StaffMember:
    """A staff member with ``password``; if ``enrolled``, with an authenticator already set up, whose
    secret is ``member.totp_secret`` (see :func:`tests.helpers.staff_totp_code`)."""
    now = clock_module.now()
    member = StaffMember(email=(email or f"{role}@khoingo.net").lower(), full_name=name or f"Nhân viên {role}",
                         role=role, is_active=True, password_hash=hash_password(password) if password else None,
                         failed_sign_in_count=0, created_at=now)
    if enrolled:
        member.totp_secret = pyotp.random_base32()
        member.totp_enrolled_at = now
    db.session.add(member)
    db.session.commit()
    return member


def new_ticket(kind="question", *, customer=None, email: str = "khach@example.vn", body: str = "Xin chào",
               now: datetime | None = None, locale: str = "vi", submission_key: str | None = None,
               **changes) -> Ticket:
    """A ticket filed through the real rules, then adjusted (status, department, due date ...)."""
    ticket, _ = services.create_ticket(kind=kind, body=body, requester_email=email,
                                       customer_id=customer.id if customer else None, locale=locale,
                                       now=now or datetime.now(timezone.utc), submission_key=submission_key)
    for name, value in changes.items():
        setattr(ticket, name, value)
    db.session.commit()
    return ticket


def pickup_everywhere() -> None:
    """Every queue in pick-up mode, so that assignment in a test is explicit."""
    save_queue_setting("assignment", {"board": "pickup", "sales": "pickup", "care": "pickup"}, None,
                 datetime.now(timezone.utc))
    db.session.commit()


def picture(kind: str, metadata: bool = False, size=(12, 8)) -> bytes:
    """A small real picture; with ``metadata``, a camera's EXIF (maker, GPS position) or PNG text."""
    picture = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    if kind == "JPEG":
        exif = Image.Exif()
        if metadata:
            exif[0x010F] = "CameraMaker"  # Make
            exif[0x0131] = "PhoneSoftware"  # Software
            exif.get_ifd(0x8825)[2] = (10.0, 46.0, 30.0)  # GPSLatitude
        picture.save(out, "JPEG", exif=exif.tobytes())
    else:
        info = PngImagePlugin.PngInfo()
        if metadata:
            info.add_text("Author", "CameraMaker owner")
        picture.save(out, "PNG", pnginfo=info)
    return out.getvalue()
