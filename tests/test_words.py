"""Words: the company addresses its customers as "Quý khách" wherever they read (pages, messages,
e-mails) and its staff as colleagues ("bạn"); the company's record references are labelled so they
mean something; labels are in sentence case; the company's mark and name head every page and every
e-mail; the sign-in code stands out in its e-mail.

Pages and e-mails are read in Vietnamese, the portal's default language, through HTTP and the real
database; the catalogue tests read which messages customers can meet from the code itself.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from sqlalchemy import select

from portal.consent.models import ConsentEntry
from portal.db import db
from portal.enums import ConsentMethod, Purpose, Role, TicketStatus
from portal.staff import services as staff_services
from portal.tickets import services as ticket_services
from portal.tickets.models import Ticket
from tests.browsing import ask_for_link, read_newest_email
from tests.factories import make_customer, make_staff
from tests.helpers import (
    CODE_PATTERN,
    CSRF_FIELD,
    csrf_token,
    link_and_code,
    outbox,
    request_link,
    sign_in,
    sign_in_staff,
)

ROOT = Path(__file__).resolve().parent.parent
VI_CATALOGUE = ROOT / "portal" / "translations" / "vi" / "LC_MESSAGES" / "messages.po"
EMAIL = "an.nguyen@example.vn"
UNKNOWN = "nobody@example.vn"
BRAND = "Khôi Ngô Security"
MARK = "/static/img/mark.svg"
EMAIL_MARK = "/static/img/mark.png"

INFORMAL_YOU = re.compile(r"\bbạn\b", re.IGNORECASE)
POLITE_YOU = "Quý khách"

# Where only staff read (pages of the board and of staff accounts, e-mails to staff), and where only
# developers do (the development mailbox). Every other page, message and e-mail counts as one a
# customer can read, so a new one is held to the customers' register until it is listed here.
STAFF_PLACES = ("templates/board/", "templates/staff/", "portal/staff/", "portal/tickets/board/",
                "templates/customers/", "portal/customers/", "templates/oversight/", "portal/oversight/",
                "templates/incidents/", "portal/incidents/forms.py", "portal/incidents/services.py",
                "portal/incidents/views.py")
STAFF_EMAILS = ("staff_invite", "staff_reset", "ticket_customer_wrote", "ticket_overdue", "ticket_unacknowledged",
                "oversight_alert")
DEVELOPER_PLACES = ("templates/mailbox/", "portal/outbox/views.py")


# --- reading pages, e-mails and the catalogue ------------------------------------------------------


class Page(HTMLParser):
    """What a person meets on an HTML page: its text (with the labels that assistive technology
    reads out), its elements with their text, and what lies in its header and footer."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
    SPOKEN_ATTRIBUTES = ("alt", "title", "aria-label", "placeholder", "data-label")

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.elements: list[tuple[str, dict, str]] = []  # (tag, attributes, text), each closed element
        self.images: list[dict] = []
        self.header_images: list[dict] = []
        self.header_text: list[str] = []
        self.footer_text: list[str] = []
        self._open: list[tuple[str, dict, list[str]]] = []
        self.feed(html)
        self.close()

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.texts).split())

    def _inside(self, tag: str) -> bool:
        return any(name == tag for name, _attrs, _text in self._open)

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        self.texts.extend(attributes[name] for name in self.SPOKEN_ATTRIBUTES if attributes.get(name))
        if tag == "img":
            self.images.append(attributes)
            if self._inside("header"):
                self.header_images.append(attributes)
        if tag not in self.VOID:
            self._open.append((tag, attributes, []))

    def handle_endtag(self, tag):
        while self._open:
            name, attributes, text = self._open.pop()
            self.elements.append((name, attributes, " ".join("".join(text).split())))
            if self._open:
                self._open[-1][2].extend(text)
            if name == tag:
                return

    def handle_data(self, data):
        if self._inside("script") or self._inside("style"):
            return
        self.texts.append(data)
        if self._open:
            self._open[-1][2].append(data)
        if self._inside("header"):
            self.header_text.append(data)
        if self._inside("footer"):
            self.footer_text.append(data)

    def with_class(self, name: str) -> list[tuple[str, dict, str]]:
        return [element for element in self.elements if name in element[1].get("class", "").split()]


def page(response) -> Page:
    return Page(response.get_data(as_text=True))


def informal(text: str) -> list[str]:
    """Each "bạn" in ``text``, with a little of what surrounds it."""
    return [text[max(0, m.start() - 40):m.end() + 40] for m in INFORMAL_YOU.finditer(text)]


@pytest.fixture(scope="module")
def vi() -> dict[str, tuple[str, ...]]:
    """msgid (the singular, for plurals) → its Vietnamese forms."""
    with VI_CATALOGUE.open("rb") as fileobj:
        catalogue = read_po(fileobj, locale="vi")
    found = {}
    for message in catalogue:
        if message.id:
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            found[key] = message.string if isinstance(message.string, tuple) else (message.string,)
    return found


def _staff_only(path: str) -> bool:
    return path.startswith(STAFF_PLACES) or (
        path.startswith("templates/emails/") and Path(path).stem in STAFF_EMAILS)


@pytest.fixture(scope="module")
def readers() -> dict[str, set[str]]:
    """msgid → who reads it: "customers" (anywhere a customer may meet it) and/or "staff"."""
    with (ROOT / "babel.cfg").open() as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj, "babel.cfg")
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "_nl": (1, 2), "lazy_ngettext": (1, 2)}
    found: dict[str, set[str]] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords):
        path = Path(filename).as_posix()
        if path.startswith(DEVELOPER_PLACES):
            continue
        msgid = message if isinstance(message, str) else message[0]
        found.setdefault(msgid, set()).add("staff" if _staff_only(path) else "customers")
    return found


def press_continue(client, path: str):
    """Open the sign-in link in the browser that asked for it, then press Continue."""
    token = CSRF_FIELD.search(client.get(path, follow_redirects=True).get_data(as_text=True)).group(1)
    response = client.post("/sign-in/continue", data={"csrf_token": token})
    assert response.status_code == 303, response.status
    return response


def file_request(client, kind: str = "question", message: str = "Công ty đang giữ dữ liệu gì của tôi?"):
    form = client.get("/requests/new").get_data(as_text=True)
    fields = dict(re.findall(r'name="(csrf_token|submission_key)" type="hidden" value="([^"]+)"', form))
    return client.post("/requests/new", data={**fields, "kind": kind, "message": message})


def reply(client, location: str, message: str = "Xin cảm ơn."):
    form = client.get(location).get_data(as_text=True)
    fields = dict(re.findall(r'name="(csrf_token|submission_key)" type="hidden" value="([^"]+)"', form))
    return client.post(f"{location}/reply", data={**fields, "message": message})


def customer_pages(app, client) -> dict[str, Page]:
    """Every page a customer meets on the way through the portal, in Vietnamese."""
    pages = {"home": page(client.get("/")), "sign-in": page(client.get("/sign-in"))}
    asked = request_link(client, EMAIL)
    pages["link sent"] = page(client.get(asked.headers["Location"]))
    path, _code = link_and_code(outbox(EMAIL)[-1])
    pages["code, on another device"] = page(app.test_client().get(path, follow_redirects=True))
    pages["link that no longer works"] = page(app.test_client().get("/sign-in/link/" + "x" * 43,
                                                                    follow_redirects=True))
    pages["continue"] = page(client.get(path, follow_redirects=True))
    press_continue(client, path)
    pages["my data"] = page(client.get("/my-data"))
    pages["my requests, none yet"] = page(client.get("/requests/"))
    pages["new request"] = page(client.get("/requests/new"))
    location = file_request(client).headers["Location"]
    pages["request, just filed"] = page(client.get(location))
    pages["request, same kind again"] = page(client.get(file_request(client).headers["Location"]))
    reply(client, location)
    pages["request, replied"] = page(client.get(location))
    pages["my requests"] = page(client.get("/requests/"))
    pages["page not found"] = page(client.get("/no-such-page"))
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/my-data")})
    pages["signed out"] = page(client.get("/sign-in"))
    return pages


def customer_emails() -> list:
    """Every e-mail sent so far to the customer's address or to an address the company does not know."""
    return [message for message in outbox() if message.recipient in (EMAIL, UNKNOWN)]


def answer_and_resolve(staff_member) -> None:
    """Staff answer the customer's request in writing and resolve it (each e-mails the customer)."""
    ticket = db.session.scalars(select(Ticket)).first()
    now = datetime.now(timezone.utc)
    ticket_services.add_staff_entry(ticket, staff_member, "Chúng tôi đang giữ địa chỉ và số điện thoại.",
                                    public=True, now=now)
    ticket_services.change_status(ticket, staff_member, TicketStatus.RESOLVED, now)
    db.session.commit()


# --- 1. one register for customers, another for staff ---------------------------------------------


def test_every_message_a_customer_can_read_says_quy_khach_never_ban(readers, vi):
    customers = {msgid for msgid, who in readers.items() if "customers" in who}
    # The reading of the code found the customers' messages (not an empty set passing by default).
    assert {"Your e-mail address", "Here you can:", "Ask us to delete your data", "Your reply was sent.",
            "Dear %(name)s,", "About you"} <= customers
    offenders = [f"{msgid!r} → {text!r}" for msgid in sorted(customers) for text in vi.get(msgid, ())
                 if INFORMAL_YOU.search(text)]
    assert not offenders, "customers are addressed as “Quý khách”:\n" + "\n".join(offenders)


def test_messages_only_staff_read_address_them_as_colleagues(readers, vi):
    staff_only = {msgid for msgid, who in readers.items() if who == {"staff"}}
    assert {"Your recovery codes", "Your open tickets", "Choose your password"} <= staff_only
    assert all(INFORMAL_YOU.search(vi[msgid][0]) for msgid in ("Your recovery codes", "Your open tickets"))
    offenders = [f"{msgid!r} → {text!r}" for msgid in sorted(staff_only) for text in vi.get(msgid, ())
                 if POLITE_YOU.lower() in text.lower()]
    assert not offenders, "staff are colleagues, not customers:\n" + "\n".join(offenders)


def test_the_staff_email_templates_named_here_exist():
    """The list of e-mails only staff read must follow renames, or it would stop saying anything."""
    for name in STAFF_EMAILS:
        assert (ROOT / "templates" / "emails" / f"{name}.txt").exists(), name


def test_customers_pages_in_vietnamese_say_quy_khach_never_ban(app, client, customer):
    pages = customer_pages(app, client)
    offenders = {name: informal(shown.text) for name, shown in pages.items() if informal(shown.text)}
    assert not offenders, offenders
    speaking_to_the_reader = ("home", "sign-in", "link sent", "my data", "my requests, none yet",
                              "new request", "request, just filed", "request, same kind again", "request, replied")
    assert [name for name in speaking_to_the_reader if POLITE_YOU not in pages[name].text] == []


def test_customers_emails_in_vietnamese_say_quy_khach_never_ban(app, client, customer):
    customer_pages(app, client)
    request_link(app.test_client(), UNKNOWN)
    answer_and_resolve(make_staff("care"))
    emails = customer_emails()
    purposes = {message.purpose for message in emails}
    assert {"sign_in_link", "ticket_ticket_received", "ticket_ticket_merged", "ticket_ticket_reply",
            "ticket_ticket_resolved"} <= purposes
    assert any(message.recipient == UNKNOWN for message in emails)
    for message in emails:
        for part in (message.subject, message.body_text, Page(message.body_html).text):
            assert not informal(part), (message.purpose, informal(part))
        assert POLITE_YOU in message.body_text and POLITE_YOU in Page(message.body_html).text, message.purpose


def test_the_sign_in_email_greets_the_customer_by_name_as_quy_khach(client, customer):
    request_link(client, EMAIL)
    message = outbox(EMAIL)[-1]
    assert f"Kính gửi Quý khách {customer.full_name}," in message.body_text
    assert f"Kính gửi Quý khách {customer.full_name}," in Page(message.body_html).text


def test_staff_pages_and_emails_keep_addressing_colleagues_as_ban(app, client, customer, clock):
    carer = make_staff("care", name="Trịnh Ngọc Lan")
    sign_in(client, EMAIL)
    location = file_request(client).headers["Location"]
    reference = location.rsplit("/", 1)[1]
    reply(client, location)  # the assignee is e-mailed that the customer wrote
    staff = app.test_client()
    sign_in_staff(staff, carer, clock=clock)
    pages = {path: page(staff.get(path)) for path in ("/staff/", "/board/", f"/board/tickets/{reference}")}
    assert INFORMAL_YOU.search(pages["/staff/"].text), pages["/staff/"].text
    for path, shown in pages.items():
        assert POLITE_YOU not in shown.text, (path, shown.text)
    [wrote] = [message for message in outbox(carer.email) if message.purpose == "ticket_customer_wrote"]
    assert POLITE_YOU not in wrote.body_text and POLITE_YOU not in wrote.subject

    admin = make_staff("admin", email="quantri@khoingo.net")
    staff_services.invite_member("moi@khoingo.net", "Lê Văn Mới", Role.SALES, admin, clock.now())
    db.session.commit()
    [invitation] = outbox("moi@khoingo.net")
    assert INFORMAL_YOU.search(invitation.body_text) and POLITE_YOU not in invitation.body_text


# --- 2. the company's references, labelled --------------------------------------------------------


def consent_evidence_by_method(customer) -> dict[ConsentMethod, str]:
    """Give ``customer`` one consent recorded by each method, each with its own evidence reference."""
    evidence = {consent.method: consent.evidence for consent in customer.consents}
    moment = datetime.now(timezone.utc)
    for number, method in enumerate(ConsentMethod):
        if method not in evidence:
            evidence[method] = f"{method.value}-77"
            # Each a minute later, so that each is the latest entry for its purpose in turn.
            db.session.add(ConsentEntry(customer_id=customer.id, purpose=Purpose.SURVEYS, granted=True, method=method,
                                        evidence=evidence[method], recorded_at=moment + timedelta(minutes=number),
                                        actor_kind="staff", actor_name="Lan"))
    db.session.commit()
    return evidence


def test_my_data_says_what_each_consent_evidence_reference_is(client, customer):
    evidence = consent_evidence_by_method(customer)
    assert evidence[ConsentMethod.WEB_FORM] == "form-1001" and evidence[ConsentMethod.RECORDED_CALL] == "call-7.mp3"
    sign_in(client, EMAIL)
    shown = page(client.get("/my-data"))
    for method, reference in evidence.items():
        holders = [text for _tag, _attrs, text in shown.elements if reference in text and len(text) < 120]
        assert holders, (method, reference)
        labelled = min(holders, key=len)  # the smallest element that shows it
        assert labelled != reference and len(labelled) > len(reference) + 10, (method, labelled)
        assert not labelled.startswith("·") and not labelled.endswith(f"· {reference}"), labelled
    # In the customer's words: what kind of record each reference names.
    assert "Được ghi nhận qua biểu mẫu trên website, số form-1001" in shown.text
    assert "Bản ghi âm cuộc gọi: call-7.mp3" in shown.text


def test_my_data_calls_the_order_reference_an_order_number(client, customer):
    sign_in(client, EMAIL)
    shown = page(client.get("/my-data"))
    reference = customer.orders[0].reference
    [cell] = [attrs for tag, attrs, text in shown.elements if tag == "td" and text == reference]
    assert cell["data-label"] == "Số đơn hàng"
    assert "Số đơn hàng" in [text for tag, _attrs, text in shown.elements if tag == "th"]


# --- 3. sentence case -----------------------------------------------------------------------------


def upper_casing_classes() -> set[str]:
    """The classes portal.css draws in capitals."""
    css = (ROOT / "static" / "css" / "portal.css").read_text()
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    found = set()
    for selector, declarations in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        if re.search(r"text-transform\s*:\s*uppercase", declarations):
            found |= set(re.findall(r"\.([\w-]+)", selector))
    return found


def test_customers_labels_are_drawn_in_sentence_case(app, client, customer):
    """Long Vietnamese labels in capitals are hard to read (and lose nothing in sentence case)."""
    consent_evidence_by_method(customer)
    pages = customer_pages(app, client)
    capitals = upper_casing_classes()
    shouting = {name: [text for capital in capitals for _tag, _attrs, text in shown.with_class(capital)]
                for name, shown in pages.items()}
    assert {name: texts for name, texts in shouting.items() if texts} == {}
    assert pages["my data"].with_class("card-label"), "the consent and contact cards have their labels"


# --- 4. the company's mark and name ---------------------------------------------------------------


def test_the_mark_is_an_svg_the_content_security_policy_lets_through(client):
    response = client.get(MARK)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = ElementTree.fromstring(response.get_data())  # noqa: S314 (the portal's own file)
    assert svg.tag == "{http://www.w3.org/2000/svg}svg" and svg.get("viewBox")
    everything = list(svg.iter())
    assert [element.text for element in everything if element.tag.endswith("title")] == [BRAND]
    assert not [element for element in everything if element.tag.endswith(("script", "style", "image"))]
    assert not [element for element in everything if "style" in element.attrib or any(
        name.startswith("on") for name in element.attrib)]
    assert b"http://" not in response.get_data().replace(b"http://www.w3.org/2000/svg", b"")

    png = client.get(EMAIL_MARK)
    assert png.status_code == 200 and png.get_data().startswith(b"\x89PNG\r\n\x1a\n")


def staff_pages(app, clock) -> dict[str, Page]:
    board, admin = make_staff("board"), make_staff("admin", email="quantri@khoingo.net")
    ticket = ticket_services.create_ticket(kind="question", body="Xin chào", requester_email=EMAIL,
                                           customer_id=None, locale="vi", now=clock.now())[0]
    db.session.commit()
    pages = {"staff sign-in": page(app.test_client().get("/staff/sign-in"))}
    for member, paths in ((board, ("/staff/", "/board/", f"/board/tickets/{ticket.reference}", "/board/dashboard")),
                          (admin, ("/staff/admin/members", "/board/settings"))):
        staff = app.test_client()
        sign_in_staff(staff, member, clock=clock)
        for path in paths:
            response = staff.get(path)
            assert response.status_code == 200, (member.role, path)
            pages[f"{member.role} {path}"] = page(response)
    return pages


def test_every_page_shows_the_mark_and_name_in_its_header_and_the_company_in_its_footer(app, client, customer,
                                                                                       clock):
    pages = {**customer_pages(app, client), **staff_pages(app, clock)}
    pages["expired form"] = page(app.test_client().post("/sign-in", data={"email": EMAIL}))
    company = app.config["COMPANY_NAME"]
    for name, shown in pages.items():
        marks = [image for image in shown.header_images if image.get("src") == MARK]
        assert len(marks) == 1, (name, shown.header_images)
        assert marks[0].get("width") and marks[0].get("height"), name  # no jump while it loads
        assert "alt" in marks[0], name  # decorative beside the name: alt="" keeps it from being read twice
        assert BRAND in " ".join(shown.header_text), name
        assert company in " ".join(shown.footer_text), name


def test_every_email_template_is_drawn_in_the_layout_with_the_mark():
    layouts = [path.name for path in (ROOT / "templates" / "emails").glob("*.html") if not path.name.startswith("_")]
    assert len(layouts) >= 10
    for name in layouts:
        assert '{% extends "emails/_layout.html" %}' in (ROOT / "templates" / "emails" / name).read_text(), name


def test_every_email_opens_with_the_mark_and_the_name_from_the_portals_base_url(make_app, clock):
    app = make_app(BASE_URL="http://portal.khoingo.test:8080")
    make_customer()
    carer = make_staff("care")
    customer_pages(app, app.test_client())
    request_link(app.test_client(), UNKNOWN)
    answer_and_resolve(carer)
    admin = make_staff("admin", email="quantri@khoingo.net")
    staff_services.invite_member("moi@khoingo.net", "Lê Văn Mới", Role.SALES, admin, clock.now())
    db.session.commit()
    emails = outbox()
    assert {"sign_in_link", "ticket_ticket_received", "ticket_ticket_reply", "ticket_customer_wrote",
            "staff_invite"} <= {message.purpose for message in emails}
    for message in emails:
        images = Page(message.body_html).images
        assert images and images[0]["src"] == "http://portal.khoingo.test:8080" + EMAIL_MARK, message.purpose
        assert images[0].get("width") and images[0].get("height"), message.purpose
        # The name comes first in the HTML part (the mark beside it says nothing twice: alt="")...
        assert Page(message.body_html).text.startswith(BRAND), (message.purpose, message.body_html[:300])
        # ...and on the first line of the text part.
        assert message.body_text.splitlines()[0].startswith(BRAND), (message.purpose, message.body_text[:80])


# --- 5. the sign-in code, easy to spot ------------------------------------------------------------


def _px(style: str, name: str) -> float:
    found = re.search(rf"(?:^|;)\s*{name}\s*:\s*([\d.]+)px", style)
    return float(found.group(1)) if found else 0.0


@pytest.mark.parametrize("address", [EMAIL, UNKNOWN], ids=["customer", "unknown address"])
def test_the_sign_in_code_stands_on_its_own_line_large_spaced_and_monospaced(client, customer, address):
    assert request_link(client, address).status_code == 303
    message = outbox(address)[-1]
    code = CODE_PATTERN.search(message.body_text).group(1)
    assert code in [line.strip() for line in message.body_text.splitlines()], message.body_text

    holders = [(tag, attrs) for tag, attrs, text in Page(message.body_html).elements if text == code]
    assert holders, message.body_html
    tag, attrs = holders[-1]  # the outermost element holding nothing but the code
    assert tag in ("p", "div"), tag  # a block of its own: a line of its own
    style = attrs.get("style", "")
    assert "monospace" in style, style
    assert _px(style, "font-size") >= 24, style
    assert _px(style, "letter-spacing") >= 2, style


# --- 6. in a browser: the mark loads under the policy, the labels are not in capitals -------------


def test_in_a_browser_the_mark_shows_and_labels_keep_their_case(live_server, customer_data, new_page):
    page_ = new_page()
    ask_for_link(page_, live_server, "vi")
    link, _code = read_newest_email(page_, live_server, "vi")
    page_.goto(link)
    page_.get_by_role("button", name=live_server.text("vi", "Continue")).click()
    page_.wait_for_url("**/my-data")
    mark = page_.locator("header img.brand-mark")
    assert mark.evaluate("image => image.complete && image.naturalWidth > 0")
    label = page_.locator(".card-label").first
    assert label.evaluate("element => getComputedStyle(element).textTransform") == "none"
