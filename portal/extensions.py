"""Extensions, created unbound and attached to the app in :func:`portal.create_app`."""

import time
from functools import wraps

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
migrate = Migrate()
# request.remote_addr is already the client's address: ProxyFix trusts only the configured
# number of proxies, never a header the client sets itself.
limiter = Limiter(key_func=get_remote_address)


def init_limiter(app) -> None:
    """Attach the limiter. Every limit of the portal is on a view's decorator, which checks it when the
    view runs; the extension's own check before every request looks only for default, application
    and blueprint limits, which the portal does not declare — so it is taken off, unless such a limit
    is declared when the app is built (RATELIMIT_DEFAULT or APPLICATION, ``limiter.limit(blueprint)``;
    tests/test_security_defaults.py checks that a default limit still applies)."""
    limiter.init_app(app)
    limits = limiter.limit_manager
    checks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in checks and not (
            limits.default_limits or limits.application_limits or limits._blueprint_limits):
        checks.remove(limiter._check_request_limit)


def on_posts(*limits):
    """Apply Flask-Limiter ``limits`` (each ``limiter.limit(..., methods=["POST"])``) to a view that
    also answers GET, and let its GETs skip the limiter altogether: deciding that a GET has no limit
    costs a page that is served from the cache a tenth of its time. The limits stack as they would
    as decorators, so each POST is counted once."""
    def decorate(view):
        limited = view
        for limit in reversed(limits):
            limited = limit(limited)

        @wraps(view)
        def dispatch(*args, **kwargs):
            return (limited if request.method == "POST" else view)(*args, **kwargs)

        return dispatch

    return decorate


def seconds_until_reset(request_limit) -> float:
    """How long until a breached rate limit lets the client through again: the end of its window in
    the limit's storage (the ``Retry-After`` header adds a second of margin to it)."""
    return max(0.0, request_limit.window[0] - time.time())
