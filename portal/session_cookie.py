"""The browser's session cookie: Flask's signed cookie, with its signing serializer built once per
set of secret keys instead of for every request (building it cost about as much as checking the
cookie's signature). A change of ``SECRET_KEY`` or ``SECRET_KEY_FALLBACKS`` builds a new one, so a
cookie is only ever checked against the keys configured now."""

from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface


class SignedCookieSessions(SecureCookieSessionInterface):
    def __init__(self):
        self._serializers: dict[tuple, object] = {}

    def get_signing_serializer(self, app):
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = self._serializers[keys] = super().get_signing_serializer(app)
        return serializer
