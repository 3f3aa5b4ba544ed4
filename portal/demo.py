"""Demo data for development: customers with Vietnamese names, addresses, phones, orders and
consents; staff of every role; a few tickets in the queue."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from portal.account.models import ContactPoint, Customer, DataChange, Order
from portal.audit.services import record
from portal.consent.models import CONSENT_PURPOSES, ConsentEntry
from portal.contact_values import normalize_email, normalize_phone
from portal.db import db
from portal.enums import ActorKind, Channel, ConsentMethod, ContactKind, DataSource, Purpose, Role
from portal.hashing import hash_password
from portal.staff.models import StaffMember
from portal.staff.services import create_member
from portal.tickets.services import create_ticket

# name, e-mail (kind), phone (kind), address (kind), source
DEMO_CUSTOMERS = [
    ("Nguyễn Văn An", "an.nguyen@example.vn", "personal", "0903 123 456", "mobile",
     "12 Lê Lợi, Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh", "home", "web_form"),
    ("Trần Thị Bích Ngọc", "ngoc.tran@example.vn", "personal", "0912 345 678", "mobile",
     "45 Nguyễn Thị Minh Khai, Phường 6, Quận 3, TP. Hồ Chí Minh", "home", "phone"),
    ("Lê Hoàng Phúc", "phuc.le@congty-minhphat.example.vn", "company", "028 3930 1234", "office",
     "Tầng 5, 102 Cách Mạng Tháng 8, Quận 3, TP. Hồ Chí Minh", "office", "web_form"),
    ("Phạm Thị Thu Hà", "ha.pham@example.vn", "personal", "0988 765 432", "mobile",
     "78 Phan Xích Long, Phường 2, Quận Phú Nhuận, TP. Hồ Chí Minh", "home", "web_form"),
    ("Hoàng Minh Tuấn", "tuan.hoang@example.vn", "personal", "0937 222 333", "mobile",
     "9 Trần Hưng Đạo, Phường 7, Quận 5, TP. Hồ Chí Minh", "home", "phone"),
    ("Võ Thị Mai", "mai.vo@example.vn", "personal", "0976 111 222", "mobile",
     "231 Lý Thường Kiệt, Phường 15, Quận 11, TP. Hồ Chí Minh", "home", "web_form"),
    ("Đặng Quốc Bảo", "bao.dang@anphu-logistics.example.vn", "company", "028 3822 5566", "office",
     "56 Nguyễn Huệ, Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh", "office", "web_form"),
    ("Bùi Thị Lan Anh", "lananh.bui@example.vn", "personal", "0909 888 777", "mobile",
     "17 Hoàng Diệu, Phường 12, Quận 4, TP. Hồ Chí Minh", "home", "phone"),
    ("Đỗ Văn Hùng", "hung.do@example.vn", "personal", "0283 844 1122", "home",
     "140 Nguyễn Văn Trỗi, Phường 8, Quận Phú Nhuận, TP. Hồ Chí Minh", "home", "phone"),
    ("Ngô Thị Hồng Nhung", "nhung.ngo@example.vn", "personal", "0918 456 789", "mobile",
     "3 Võ Văn Tần, Phường Võ Thị Sáu, Quận 3, TP. Hồ Chí Minh", "home", "web_form"),
    ("Huỳnh Tấn Phát", "phat.huynh@tanphat-cafe.example.vn", "company", "0935 777 888", "office",
     "88 Điện Biên Phủ, Phường 17, Quận Bình Thạnh, TP. Hồ Chí Minh", "office", "web_form"),
    ("Dương Thị Kim Oanh", "oanh.duong@example.vn", "personal", "0966 555 444", "mobile",
     "25 Quang Trung, Phường 10, Quận Gò Vấp, TP. Hồ Chí Minh", "home", "phone"),
]

PRODUCTS = [
    "Camera IP Hikvision 4MP (4 mắt) kèm đầu ghi", "Khóa cửa vân tay Samsung SHP-DP609",
    "Hệ thống báo động chống trộm không dây", "Chuông cửa có hình Panasonic",
    "Camera Wi-Fi KBVision 2MP (2 mắt)", "Tổng đài điện thoại nội bộ Panasonic",
]


def _normalize(channel: Channel, value: str) -> str:
    if channel is Channel.EMAIL:
        return normalize_email(value)
    if channel is Channel.PHONE:
        return normalize_phone(value)
    return value


def _contact(customer: Customer, channel: Channel, value: str, kind: str, source: str, when: datetime):
    return ContactPoint(customer=customer, channel=channel, kind=ContactKind(kind), value=value,
                        value_normalized=_normalize(channel, value), source=DataSource(source), created_at=when)


CARE_DESK = "Phòng Chăm sóc khách hàng"


def _consents(customer: Customer, index: int, when: datetime) -> list[ConsentEntry]:
    """The choices the customer made when their record was taken: notices for everyone, promotions
    and surveys for some; a refusal is recorded as such."""
    method = ConsentMethod.WEB_FORM if customer.source == DataSource.WEB_FORM else ConsentMethod.RECORDED_CALL
    evidence = f"form-{1000 + index}" if method is ConsentMethod.WEB_FORM else f"call-rec-{2000 + index}.mp3"
    granted = {Purpose.NOTICES}
    if index % 2 == 0:
        granted.add(Purpose.PROMOTIONS)
    if index % 3 == 0:
        granted.add(Purpose.SURVEYS)
    return [ConsentEntry(customer_id=customer.id, purpose=purpose, granted=purpose in granted, method=method,
                         evidence=evidence, recorded_at=when, actor_kind=ActorKind.STAFF, actor_name=CARE_DESK,
                         notice_version="1")
            for purpose in CONSENT_PURPOSES]


def _build_customer(index: int, row: tuple, now: datetime) -> Customer:
    name, email, email_kind, phone, phone_kind, address, address_kind, source = row
    since = now - timedelta(days=90 + 61 * index)
    customer = Customer(full_name=name, source=DataSource(source), created_at=since,
                        notes="Khách yêu cầu gọi trước khi đến lắp đặt." if index % 4 == 0 else "")
    customer.contact_points = [
        _contact(customer, Channel.EMAIL, email, email_kind, source, since),
        _contact(customer, Channel.PHONE, phone, phone_kind, source, since),
        _contact(customer, Channel.ADDRESS, address, address_kind, source, since),
    ]
    ordered = (since + timedelta(days=3)).date()
    customer.orders = [Order(customer=customer, reference=f"DH-{ordered.year}-{4100 + index:05d}",
                             description=PRODUCTS[index % len(PRODUCTS)], ordered_on=ordered,
                             warranty_ends_on=date(ordered.year + 2, ordered.month, min(ordered.day, 28)))]
    customer.changes = [DataChange(customer=customer, changed_at=since, actor_kind=ActorKind.STAFF,
                                   actor_name=CARE_DESK, field="record",
                                   old_value=None, new_value=name)]
    if index == 0:
        _add_history(customer, since + timedelta(days=30))
    return customer


def _add_history(customer: Customer, when: datetime) -> None:
    """Give one customer a second address and a corrected phone, so History shows real changes."""
    customer.contact_points.append(_contact(customer, Channel.ADDRESS, "Lầu 3, 60 Nguyễn Đình Chiểu, Phường Đa Kao, "
                                            "Quận 1, TP. Hồ Chí Minh", "office", DataSource.PHONE, when))
    customer.changes += [
        DataChange(customer=customer, changed_at=when, actor_kind=ActorKind.STAFF,
                   actor_name="Phòng Kinh doanh", field="address:office", old_value=None,
                   new_value=customer.contact_points[-1].value),
        DataChange(customer=customer, changed_at=when + timedelta(days=2), actor_kind=ActorKind.CUSTOMER,
                   field="phone:mobile", old_value="0903 123 465", new_value=customer.contact_points[1].value),
    ]


DEMO_STAFF = [
    ("giamdoc@khoingo.net", "Ngô Khôi Nguyên", Role.BOARD),
    ("kinhdoanh@khoingo.net", "Lý Thanh Tùng", Role.SALES),
    ("cskh.lan@khoingo.net", "Trịnh Ngọc Lan", Role.CARE),
    ("cskh.minh@khoingo.net", "Phan Văn Minh", Role.CARE),
    ("quantri@khoingo.net", "Mai Quốc Việt", Role.ADMIN),
]
# (customer index, kind, message, days ago)
DEMO_TICKETS = [
    (0, "question", "Công ty đang lưu những thông tin gì về tôi và lưu đến khi nào?", 3),
    (1, "access", "Xin gửi cho tôi bản sao toàn bộ dữ liệu cá nhân của tôi.", 12),
    (2, "restriction", "Tôi phản đối việc dùng số điện thoại công ty để gọi khảo sát.", 1),
    (3, "leak_complaint", "Tôi nhận được cuộc gọi chào hàng từ bên thứ ba biết rõ địa chỉ lắp camera "
                          "của tôi. Có phải dữ liệu đã bị lộ?", 0),
    (4, "other", "Tôi muốn đổi lịch bảo trì sang buổi chiều.", 25),
]


def _demo_password() -> str:
    return "demo-" + secrets.token_urlsafe(12)


def _load_staff(now: datetime) -> list[tuple[str, str, str]]:
    credentials = []
    for email, name, role in DEMO_STAFF:
        password = _demo_password()
        create_member(email, name, role, None, now, password=password)
        credentials.append((email, str(role), password))
    return credentials


def refresh_staff_passwords(now: datetime) -> list[tuple[str, str, str]]:
    """Give the demo staff new random passwords (development only: they are printed)."""
    credentials = []
    for email, _name, role in DEMO_STAFF:
        member = db.session.scalars(select(StaffMember).where(StaffMember.email == email)).first()
        if member is None or not member.is_active:
            continue
        password = _demo_password()
        member.password_hash = hash_password(password)
        record(None, "demo.staff_password_set", member)
        credentials.append((email, str(role), password))
    return credentials


def _load_tickets(customers: list[Customer], now: datetime) -> None:
    for index, kind, message, days_ago in DEMO_TICKETS:
        customer = customers[index]
        filed = now - timedelta(days=days_ago, hours=2)
        create_ticket(kind=kind, body=message, requester_email=customer.contact_points[0].value.lower(),
                      customer_id=customer.id, locale="vi", now=filed)


def load_demo_data(now: datetime) -> tuple[bool, list[tuple[str, str]], list[tuple[str, str, str]]]:
    """Add the demo customers, staff and tickets unless customers exist already.

    Return (created, [(name, e-mail)], [(staff e-mail, role, password)]); the demo staff get fresh
    random passwords on every call, so the console always shows ones that work.
    """
    addresses = [(row[0], row[1]) for row in DEMO_CUSTOMERS]
    if db.session.scalar(select(func.count()).select_from(Customer)):
        return False, addresses, refresh_staff_passwords(now)
    customers = [_build_customer(index, row, now) for index, row in enumerate(DEMO_CUSTOMERS)]
    db.session.add_all(customers)
    credentials = _load_staff(now)
    db.session.flush()
    for index, customer in enumerate(customers):
        db.session.add_all(_consents(customer, index, customer.created_at))
    _load_tickets(customers, now)
    record("system", "demo.loaded", "", customers=len(DEMO_CUSTOMERS), staff=len(DEMO_STAFF))
    return True, addresses, credentials
