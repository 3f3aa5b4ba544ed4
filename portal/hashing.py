"""Hashes the portal stores instead of secrets: plain SHA-256 for random tokens, a keyed hash for
short or guessable values, and argon2id for staff passwords at the cost the settings give.

Random tokens (256 bits) need no slow hash: nobody can guess one to match a stolen hash. Short
codes and e-mail addresses are keyed with the secret key, so a copy of the database alone does not
let anyone test guesses. Passwords are argon2id; its cost is a setting (``ARGON2_*``) so that the
tests can use a cheap one while every real portal uses the library's RFC 9106 parameters.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def keyed_hash(value: str) -> str:
    """HMAC with the app's secret: not reversible by someone holding only the database."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def _password_hasher() -> PasswordHasher:
    """The app's argon2id hasher, built once from its settings."""
    hasher = current_app.extensions.get("portal.password_hasher")
    if hasher is None:
        config = current_app.config
        hasher = PasswordHasher(time_cost=config["ARGON2_TIME_COST"], memory_cost=config["ARGON2_MEMORY_KIB"],
                                parallelism=config["ARGON2_PARALLELISM"])
        current_app.extensions["portal.password_hasher"] = hasher
        current_app.extensions["portal.dummy_password_hash"] = hasher.hash("not-a-password-of-anyone")
    return hasher


def hash_password(password: str) -> str:
    return _password_hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password``; with no hash, do the same work anyway so timing tells nothing."""
    hasher = _password_hasher()
    if not password_hash:
        with contextlib.suppress(VerificationError):
            hasher.verify(current_app.extensions["portal.dummy_password_hash"], password)
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with other parameters than the current settings."""
    return _password_hasher().check_needs_rehash(password_hash)
