"""Enumerations stored as short strings, each with a translatable title."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint


class TitledEnum(enum.StrEnum):
    """A string enum whose members carry a human title (lazily translated)."""

    def __new__(cls, value: str, title):
        member = str.__new__(cls, value)  # StrEnum's own __new__ does not take the title
        member._value_ = value
        member.title = title
        return member

    def __str__(self) -> str:
        return self.value

    @classmethod
    def check(cls, column: str, name: str) -> CheckConstraint:
        """A CHECK constraint that keeps ``column`` to the members' values."""
        values = ", ".join(f"'{member.value}'" for member in cls)
        return CheckConstraint(f"{column} IN ({values})", name=name)


class Channel(TitledEnum):
    ADDRESS = "address", _l("Address")
    PHONE = "phone", _l("Phone")
    EMAIL = "email", _l("E-mail")


class ContactKind(TitledEnum):
    HOME = "home", _l("Home")
    OFFICE = "office", _l("Office")
    MOBILE = "mobile", _l("Mobile")
    PERSONAL = "personal", _l("Personal")
    COMPANY = "company", _l("Company")


class DataSource(TitledEnum):
    PHONE = "phone", _l("By phone")
    WEB_FORM = "web_form", _l("Service-request web form")
    PORTAL = "portal", _l("This portal")
    STAFF = "staff", _l("Entered by our staff")
    IMPORT = "import", _l("Imported from our sales system")


class Purpose(TitledEnum):
    SUPPORT = "support", _l("Support and advice when buying")
    DELIVERY = "delivery", _l("Delivery, installation and shipping")
    NOTICES = "notices", _l("Notices about our exchanges with you")
    WARRANTY = "warranty", _l("Repair, maintenance and warranty contact")
    SURVEYS = "surveys", _l("Customer surveys")
    PROMOTIONS = "promotions", _l("Promotion of our products and services")


class ConsentMethod(TitledEnum):
    WEB_FORM = "web_form", _l("Web form")
    RECORDED_CALL = "recorded_call", _l("Recorded phone call")
    SMS = "sms", _l("SMS")
    EMAIL = "email", _l("E-mail")
    PORTAL = "portal", _l("This portal")


class ActorKind(TitledEnum):
    CUSTOMER = "customer", _l("You")
    STAFF = "staff", _l("Our staff")
    SYSTEM = "system", _l("The system")


class Role(TitledEnum):
    BOARD = "board", _l("Board of directors")
    SALES = "sales", _l("Sales")
    CARE = "care", _l("Customer care")
    ADMIN = "admin", _l("Administrator")


class Department(TitledEnum):
    """The queues tickets are routed to; each is worked by the staff of the same role."""

    BOARD = "board", _l("Board of directors")
    SALES = "sales", _l("Sales")
    CARE = "care", _l("Customer care")


class TicketStatus(TitledEnum):
    NEW = "new", _l("New")
    OPEN = "open", _l("Open")
    WAITING = "waiting", _l("Waiting for the customer's answer")
    RESOLVED = "resolved", _l("Resolved")
    REJECTED = "rejected", _l("Rejected")
    CLOSED = "closed", _l("Closed")


class Priority(TitledEnum):
    NORMAL = "normal", _l("Normal")
    HIGH = "high", _l("High")


class ViewedPage(TitledEnum):
    """Where a staff member was shown a customer's data (the access log; the customer reads it)."""

    TICKET = "ticket", _l("the request's page")
    QUEUE = "queue", _l("a list of requests")
    SEARCH = "search", _l("a search")
    RECORD = "record", _l("your record on the board")
    INCIDENT = "incident", _l("a data breach incident's page")
    REVIEW = "review", _l("a review of staff access to customers' data")


class EntryKind(TitledEnum):
    CUSTOMER_MESSAGE = "customer_message", _l("Message from the customer")
    STAFF_REPLY = "staff_reply", _l("Reply")
    INTERNAL_NOTE = "internal_note", _l("Internal note")
    EVENT = "event", _l("Event")
