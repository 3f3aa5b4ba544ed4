"""The rules a new staff password must meet (hashing is :mod:`portal.hashing`)."""

from __future__ import annotations

import os
import unicodedata
from functools import lru_cache

from flask_babel import lazy_gettext as _l

MIN_LENGTH = 12
MAX_LENGTH = 128  # hashing is deliberately slow: no megabyte "passwords"
COMPANY_NAME = "khoingo"
COMMON_PASSWORDS_FILE = os.path.join(os.path.dirname(__file__), "common-passwords.txt")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with open(COMMON_PASSWORDS_FILE, encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _folded(text: str) -> str:
    """Lower-case letters and digits only, Vietnamese marks removed: "Khôi Ngô" → "khoingo"."""
    decomposed = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed.lower() if ch.isalnum() and not unicodedata.combining(ch))


def password_problems(password: str, email: str) -> list:
    """What is wrong with ``password`` for the member with ``email`` (an empty list: nothing)."""
    if len(password) < MIN_LENGTH:
        return [_l("Use at least %(count)d characters.", count=MIN_LENGTH)]
    if len(password) > MAX_LENGTH:
        return [_l("Use at most %(count)d characters.", count=MAX_LENGTH)]
    problems = []
    if password.lower() in common_passwords() or password.strip().lower() in common_passwords():
        problems.append(_l("This password is one of the most common ones. Choose one that is hard to guess, "
                           "for example four or five unrelated words."))
    folded = _folded(password)
    local_part = _folded(email.partition("@")[0])
    if len(local_part) >= 3 and local_part in folded:
        problems.append(_l("Do not use your e-mail address in your password."))
    if COMPANY_NAME in folded:
        problems.append(_l("Do not use the company's name in your password."))
    return problems
