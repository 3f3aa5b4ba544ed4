"""Khôi Ngô privacy self-service portal."""

from __future__ import annotations

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import portal.db as database
from portal import cli, config, errors, templating
from portal import models as _models  # noqa: F401  (every table, for Alembic and the tests)
from portal.account import bp as account_bp
from portal.auth import principal as _customer_principal  # noqa: F401  (registers the customer session loader)
from portal.auth.views import bp as auth_bp
from portal.complaints import bp as complaints_bp
from portal.consent.views import bp as consent_bp
from portal.customers import bp as customers_bp
from portal.extensions import babel, csrf, init_limiter, login_manager, migrate
from portal.forms import apply_upload_limit
from portal.i18n import select_locale, select_timezone
from portal.incidents import bp as incidents_bp
from portal.inspection import bp as inspection_bp
from portal.main.views import bp as main_bp
from portal.outbox.views import bp as mailbox_bp
from portal.oversight import bp as oversight_bp
from portal.privacy import bp as privacy_bp
from portal.rights import bp as rights_bp
from portal.security import install_log_redaction, refuse_cross_site_requests, set_security_headers
from portal.session_cookie import SignedCookieSessions
from portal.staff import bp as staff_bp
from portal.staff import principal as _staff_principal  # noqa: F401  (registers the staff session loader)
from portal.tickets import consent_withdrawals as _consent_withdrawals  # noqa: F401  (withdrawals open tickets)
from portal.tickets.board import bp as board_bp
from portal.tickets.views import bp as requests_bp
from portal.worker import start_background_worker

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(test_config: dict | None = None) -> Flask:
    """Build the portal: config, database, extensions, blueprints, hooks, CLI, error pages."""
    app = Flask(__name__, instance_path=os.path.join(ROOT, "instance"),
                template_folder=os.path.join(ROOT, "templates"), static_folder=os.path.join(ROOT, "static"))
    app.url_map.converters["int"] = database.RowIdConverter  # before any route is added
    _load_config(app, test_config)
    _init_extensions(app)
    _register_blueprints(app)
    _register_hooks(app)
    errors.register(app)
    cli.register(app)
    _start_inprocess_worker(app)
    return app


def _load_config(app: Flask, test_config: dict | None) -> None:
    app.config.from_object(config.Defaults)
    app.config.from_pyfile("portal.cfg", silent=True)
    app.config.update(config.from_environment())
    if test_config:
        app.config.update(test_config)
    app.config["INSTANCE_PATH"] = app.instance_path
    os.makedirs(app.instance_path, exist_ok=True)
    config.derive(app.config)
    config.check_production(app.config)
    if app.config["TRUSTED_PROXIES"]:
        proxies = app.config["TRUSTED_PROXIES"]
        # Only X-Forwarded-For and -Proto, and only as many hops as there are proxies we run:
        # the Host a client sends is never trusted, links come from PORTAL_BASE_URL.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0, x_port=0, x_prefix=0)


def _init_extensions(app: Flask) -> None:
    database.db.init_app(app)
    database.init_engine(app)
    migrate.init_app(app, database.db, directory=os.path.join(ROOT, "portal", "migrations"), render_as_batch=True)
    csrf.init_app(app)
    app.before_request_funcs.setdefault(None, []).insert(0, apply_upload_limit)  # before the CSRF check
    login_manager.init_app(app)
    login_manager.session_protection = None  # sessions are checked against the server-side row
    init_limiter(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone,
                   default_translation_directories=os.path.join(ROOT, "portal", "translations"))


def _register_blueprints(app: Flask) -> None:
    for blueprint in (main_bp, auth_bp, account_bp, consent_bp, privacy_bp, requests_bp, staff_bp, board_bp,
                      rights_bp, customers_bp, complaints_bp, incidents_bp, inspection_bp, oversight_bp):
        app.register_blueprint(blueprint)
    if app.config["ENV"] == "development" and app.config["MAIL_TRANSPORT"] == "mailbox":
        app.register_blueprint(mailbox_bp)


def _register_hooks(app: Flask) -> None:
    app.session_interface = SignedCookieSessions()
    app.before_request(refuse_cross_site_requests)
    app.after_request(set_security_headers)
    templating.register(app)
    install_log_redaction()


def _start_inprocess_worker(app: Flask) -> None:
    """In development, deliver the outbox from a thread of the web server: nothing else to run."""
    if app.config["ENV"] != "development" or not app.config["INPROCESS_WORKER"]:
        return
    if os.environ.get("PORTAL_SERVE") != "1":  # only the process that serves pages, not `flask db ...`
        return
    start_background_worker(app)
