"""The one way the portal reads e-mail addresses and phone numbers people type.

An address is compared in its normalised, lower-cased form. A phone number is stored and compared
in E.164 (Vietnam is the default region, so "0903 123 456" is +84903123456) and shown in the local
format Vietnamese readers expect.
"""

from __future__ import annotations

import contextlib

import phonenumbers
from email_validator import EmailNotValidError, validate_email

MAX_ADDRESS_LENGTH = 254
MAX_PHONE_LENGTH = 40
DEFAULT_REGION = "VN"


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
