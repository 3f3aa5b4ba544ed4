"""Extensions, created unbound and attached to the app in :func:`portal.create_app`."""

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
