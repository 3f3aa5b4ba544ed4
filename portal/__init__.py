"""Khôi Ngô privacy self-service portal."""

from __future__ import annotations

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import config as settings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(test_config: dict | None = None) -> Flask:
    """Build the portal: config, database, extensions, blueprints, CLI, error pages."""
    app = Flask(__name__, instance_path=os.path.join(ROOT, "instance"),
                template_folder=os.path.join(ROOT, "templates"), static_folder=os.path.join(ROOT, "static"))
    _load_config(app, test_config)
    _init_extensions(app)
    _register_blueprints(app)
    _register_hooks(app)
    from portal import cli, errors

    errors.register(app)
    cli.register(app)
    _start_inprocess_worker(app)
    return app


def _load_config(app: Flask, test_config: dict | None) -> None:
    app.config.from_object(settings.Defaults)
    app.config.from_pyfile("portal.cfg", silent=True)
    app.config.update(settings.from_environment())
    if test_config:
        app.config.update(test_config)
    app.config["INSTANCE_PATH"] = app.instance_path
    os.makedirs(app.instance_path, exist_ok=True)
    settings.derive(app.config)
    settings.check_production(app.config)
    if app.config["TRUSTED_PROXIES"]:
        proxies = app.config["TRUSTED_PROXIES"]
        # Only X-Forwarded-For and -Proto, and only as many hops as there are proxies we run:
        # the Host a client sends is never trusted, links come from PORTAL_BASE_URL.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0, x_port=0, x_prefix=0)


def _init_extensions(app: Flask) -> None:
    from portal.db import db
    from portal.extensions import babel, csrf, limiter, login_manager, migrate
    from portal.i18n import select_locale, select_timezone

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "portal", "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = None  # sessions are checked against the server-side row
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone,
                   default_translation_directories=os.path.join(ROOT, "portal", "translations"))
    import portal.access  # noqa: F401  (registers the user loader)
    import portal.models  # noqa: F401  (every table, for Alembic and the tests)


def _register_blueprints(app: Flask) -> None:
    from portal.account.views import bp as account_bp
    from portal.auth.views import bp as auth_bp
    from portal.main.views import bp as main_bp
    from portal.staff.views import bp as staff_bp
    from portal.tickets.board_views import bp as board_bp
    from portal.tickets.customer_views import bp as requests_bp

    for blueprint in (main_bp, auth_bp, account_bp, requests_bp, staff_bp, board_bp):
        app.register_blueprint(blueprint)
    if app.config["ENV"] == "development" and app.config["MAIL_TRANSPORT"] == "mailbox":
        from portal.outbox.views import bp as mailbox_bp

        app.register_blueprint(mailbox_bp)


def _register_hooks(app: Flask) -> None:
    from portal import templating
    from portal.security import install_log_redaction, set_security_headers

    app.after_request(set_security_headers)
    templating.register(app)
    install_log_redaction()


def _start_inprocess_worker(app: Flask) -> None:
    """In development, deliver the outbox from a thread of the web server: nothing else to run."""
    if app.config["ENV"] != "development" or not app.config["INPROCESS_WORKER"]:
        return
    if os.environ.get("PORTAL_SERVE") != "1":  # only the process that serves pages, not `flask db ...`
        return
    from portal.worker import start_background_worker

    start_background_worker(app)
