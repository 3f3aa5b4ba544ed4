"""The one way the portal reads e-mail addresses and phone numbers people type.

An address is compared in its normalised, lower-cased form. A phone number is stored and compared
in E.164 (Vietnam is the default region, so "0903 123 456" is +84903123456) and shown in the local
format Vietnamese readers expect. A postal address is three parts — house number and street, ward or
commune, province or city (the two levels of local government since July 2025) — each bounded,
stored as one line "street, ward, province".
"""

from __future__ import annotations

import contextlib

import phonenumbers
from email_validator import EmailNotValidError, validate_email

MAX_ADDRESS_LENGTH = 254
MAX_PHONE_LENGTH = 40
DEFAULT_REGION = "VN"
# A postal address's parts and their limits (characters).
MAX_STREET_LENGTH = 150
MAX_AREA_LENGTH = 80  # a ward or commune, a province or city
ADDRESS_SEPARATOR = ", "


class InvalidAddress(ValueError):
    """Not an e-mail address."""


class InvalidPhone(ValueError):
    """Not a phone number that could exist."""


def _has_controls(text: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def normalize_email(raw: str) -> str:
    """Return the comparable form of an e-mail address or raise :class:`InvalidAddress`."""
    if not raw or len(raw) > MAX_ADDRESS_LENGTH or _has_controls(raw):
        raise InvalidAddress(raw)
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise InvalidAddress(raw) from None
    return result.normalized.lower()


def parse_phone(raw: str, region: str = DEFAULT_REGION) -> phonenumbers.PhoneNumber:
    """The phone number ``raw`` writes, or :class:`InvalidPhone` if no such number can exist."""
    text = (raw or "").strip()
    if not text or len(text) > MAX_PHONE_LENGTH or _has_controls(text):
        raise InvalidPhone(raw)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(raw) from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhone(raw)
    return number


def normalize_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """``raw`` in E.164 (+84903123456), or :class:`InvalidPhone`."""
    return phonenumbers.format_number(parse_phone(raw, region), phonenumbers.PhoneNumberFormat.E164)


def normalize_new_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """A number someone gives us to keep, in E.164: it must be a number in service somewhere (a real
    operator's range, not merely the right length), or :class:`InvalidPhone`."""
    number = parse_phone(raw, region)
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """A stored E.164 number as people write it: national format at home, international abroad."""
    try:
        number = phonenumbers.parse(e164, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return e164
    home = phonenumbers.region_code_for_number(number) == DEFAULT_REGION
    style = phonenumbers.PhoneNumberFormat.NATIONAL if home else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, style)


def lookup_forms(text: str) -> set[str]:
    """The stored forms ``text`` may match: itself lower-cased, and its E.164 form if it is a phone."""
    candidates = {(text or "").strip().lower()}
    with contextlib.suppress(InvalidPhone):
        candidates.add(normalize_phone(text))
    return candidates


class InvalidPostalAddress(ValueError):
    """A part of a postal address that cannot be kept; ``part`` names it."""

    def __init__(self, part: str):
        super().__init__(part)
        self.part = part


def join_address(street: str, ward: str, province: str) -> str:
    """The one line an address is kept as, from its parts (each checked), or
    :class:`InvalidPostalAddress` naming the first part that is wrong."""
    parts = {"street": (street or "").strip(), "ward": (ward or "").strip(), "province": (province or "").strip()}
    for name, text in parts.items():
        limit = MAX_STREET_LENGTH if name == "street" else MAX_AREA_LENGTH
        # Only the street may hold a comma: the line is read back by its last two separators.
        if not text or len(text) > limit or _has_controls(text) or (name != "street" and "," in text):
            raise InvalidPostalAddress(name)
    return ADDRESS_SEPARATOR.join(parts.values())


def split_address(line: str) -> tuple[str, str, str]:
    """An address line's parts (street, ward, province); a line not written in three parts (an older
    one) is all street, for the person to divide."""
    pieces = (line or "").rsplit(",", 2)
    if len(pieces) != 3 or not all(piece.strip() for piece in pieces):
        return (line or "").strip(), "", ""
    street, ward, province = (piece.strip() for piece in pieces)
    return street, ward, province
