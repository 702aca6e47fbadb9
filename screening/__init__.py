"""Build the Flask app: settings, the rule set (loaded once), the database and the blueprints.

The app-wide modules sit beside this one (config and its parsers, db, web, health, faults, clinictime,
alerts, seed); the wings are packages: `engine` (Flask-free), `patient`, `review`, `fhir`, `store` and
`cli`, and `rules` hands on the rule engine's public names. This module may import any of them; the wings
import `get_db`, `get_ruleset`, `csrf` and `StartupError` from here.
"""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from . import config, store

csrf = CSRFProtect()


class StartupError(Exception):
    """The app cannot start: a bad setting or a broken rule set. The message says why."""


def create_app(test_config: dict | None = None, default_env: str = "production") -> Flask:
    """Create the app from the environment, or from `test_config` laid over the defaults."""
    from .review import oidc

    settings = config.defaults()
    try:
        settings.update(test_config if test_config is not None else config.from_environment(default_env))
        oidc.check_settings(settings)
    except (config.ConfigError, ValueError) as exc:
        raise StartupError(str(exc)) from None
    app = Flask(__name__, template_folder=settings["TEMPLATES_DIR"], instance_relative_config=False)
    app.config.update(settings)
    production = app.config["SCREENING_ENV"] == "production"
    # Flask's own default is False, so decide here unless the caller chose explicitly.
    secure = settings.get("SESSION_COOKIE_SECURE", production)
    app.config["SESSION_COOKIE_SECURE"] = secure
    app.config["DRAFT_COOKIE_SECURE"] = settings.get("DRAFT_COOKIE_SECURE", secure)
    # `__Host-` names: browsers accept such a cookie only over HTTPS, for this host alone, on path /.
    app.config["COOKIE_PREFIX"] = (
        "__Host-" if production and secure and app.config["DRAFT_COOKIE_SECURE"] else ""
    )
    app.config["SESSION_COOKIE_NAME"] = app.config["COOKIE_PREFIX"] + settings["SESSION_COOKIE_NAME"]
    _trust_proxies(app)

    _load_ruleset(app)
    _prepare_database(app)
    csrf.init_app(app)
    _register_blueprints(app)
    db.init_app(app)
    health.init_app(app)
    web.init_app(app)
    language.init_app(app)  # after web: its `ruleset` is the patient's language on patient pages
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind SCREENING_PROXY_HOPS reverse proxies, take the client's address and scheme from their
    X-Forwarded-For and X-Forwarded-Proto headers (only as many hops as configured: more can be forged)."""
    hops = app.config.get("PROXY_HOPS", 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def _load_ruleset(app: Flask) -> None:
    from .engine.loading import load_ruleset
    from .engine.rules import RuleSetError

    try:
        app.extensions["ruleset"] = load_ruleset(app.config["RULES_DIR"])
    except RuleSetError as exc:
        lines = "\n".join(f"  {problem}" for problem in exc.problems)
        raise StartupError(f"The rule set in {app.config['RULES_DIR']} has problems:\n{lines}") from None


def _prepare_database(app: Flask) -> None:
    from .db import open_database

    db = open_database(app.config)
    try:
        store.migrate(db)
    finally:
        db.close()


def _register_blueprints(app: Flask) -> None:
    from . import review
    from .fhir import api
    from .patient import keeping, sending, steps  # noqa: F401 (sending and keeping add pages to steps.bp)
    from .review import auth, oidc

    app.register_blueprint(steps.bp)
    auth.init_app(app)
    review.twostep.init_app(app)
    oidc.init_app(app)
    app.register_blueprint(review.bp, url_prefix="/review")
    csrf.exempt(api.bp)  # read-only, bearer tokens, no cookies: nothing for a forged form to do
    app.register_blueprint(api.bp, url_prefix="/fhir")


def get_ruleset():
    """Return the rule set loaded at start-up."""
    from flask import current_app

    return current_app.extensions["ruleset"]


# Last, so that the modules below can import what is above (get_ruleset, csrf, StartupError).
from . import db, health, web  # noqa: E402
from .db import close_db_connections, get_db, get_read_db  # noqa: E402, F401
from .patient import language  # noqa: E402
