"""Extensions, created unbound and attached to the app in :func:`portal.create_app`."""

import time

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


def seconds_until_reset(request_limit) -> float:
    """How long until a breached rate limit lets the client through again: the end of its window in
    the limit's storage (the ``Retry-After`` header adds a second of margin to it)."""
    return max(0.0, request_limit.window[0] - time.time())
