"""Build the Flask app: settings, the rule set (loaded once), the database and the blueprints."""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import time

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException, SecurityError

from . import config, faults, store

csrf = CSRFProtect()

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


class StartupError(Exception):
    """The app cannot start: a bad setting or a broken rule set. The message says why."""


def create_app(test_config: dict | None = None, default_env: str = "production") -> Flask:
    """Create the app from the environment, or from `test_config` laid over the defaults."""
    settings = config.defaults()
    try:
        settings.update(test_config if test_config is not None else config.from_environment(default_env))
    except config.ConfigError as exc:
        raise StartupError(str(exc)) from None
    app = Flask(__name__, template_folder=settings["TEMPLATES_DIR"], instance_relative_config=False)
    app.config.update(settings)
    production = app.config["SCREENING_ENV"] == "production"
    # Flask's own default is False, so decide here unless the caller chose explicitly.
    secure = settings.get("SESSION_COOKIE_SECURE", production)
    app.config["SESSION_COOKIE_SECURE"] = secure
    app.config["DRAFT_COOKIE_SECURE"] = settings.get("DRAFT_COOKIE_SECURE", secure)

    _load_ruleset(app)
    _prepare_database(app)
    csrf.init_app(app)
    _register_blueprints(app)
    _register_hooks(app)
    _quiet_query_strings()
    return app


def _load_ruleset(app: Flask) -> None:
    from .rules import RuleSetError, load_ruleset

    try:
        app.extensions["ruleset"] = load_ruleset(app.config["RULES_DIR"])
    except RuleSetError as exc:
        lines = "\n".join(f"  {problem}" for problem in exc.problems)
        raise StartupError(f"The rule set in {app.config['RULES_DIR']} has problems:\n{lines}") from None


def _prepare_database(app: Flask) -> None:
    db = store.connect(app.config["DATABASE"])
    try:
        store.migrate(db)
    finally:
        db.close()


def _register_blueprints(app: Flask) -> None:
    from . import api, auth, patient, review

    app.register_blueprint(patient.bp)
    auth.init_app(app)
    app.register_blueprint(review.bp, url_prefix="/review")
    csrf.exempt(api.bp)  # read-only, bearer tokens, no cookies: nothing for a forged form to do
    app.register_blueprint(api.bp, url_prefix="/fhir")
    app.add_url_rule("/healthz", "healthz", _healthz)


HEALTH_PROBE_EVERY = 5.0  # seconds between write probes in one worker


def _healthz():
    """For load balancers and uptime checks: 200 while this host can save, 503 while it cannot.

    It writes one row (at most every few seconds per worker), so a full disk, a read-only mount or a
    database locked for long says 503. It names the rule set in use and nothing else.
    """
    from flask import current_app

    state = current_app.extensions.setdefault("health", {"at": -HEALTH_PROBE_EVERY, "fault": None})
    if time.monotonic() - state["at"] >= HEALTH_PROBE_EVERY:
        state["fault"] = _probe()
        state["at"] = time.monotonic()
    if state["fault"] is not None:
        return {"status": "unavailable"}, 503  # the fault itself is in the log, not on a public page
    ruleset = get_ruleset()
    return {"status": "ok", "ruleset": {"version": ruleset.version, "hash": ruleset.hash}}


def _probe() -> str | None:
    """Write the probe row; return the fault's name, or None when the write worked."""
    try:
        store.probe_write(get_db())
    except (sqlite3.Error, OSError) as exc:
        fault = faults.classify(exc)
        if fault is None:
            logging.getLogger(__name__).exception("health check: the database did not answer")
            return "unknown error"
        faults.report(fault, "GET /healthz")
        close_db_connections()
        return fault
    return None


def _register_hooks(app: Flask) -> None:
    app.teardown_appcontext(_close_db)

    @app.context_processor
    def _globals() -> dict:
        return {
            "emergency_number": app.config["EMERGENCY_NUMBER"],
            "clinic_name": app.config["CLINIC_NAME"],
            "clinic_phone": app.config["CLINIC_PHONE"],
            "clinic_tel": config.tel_href(app.config["CLINIC_PHONE"]),
            "reply_days": app.config["REPLY_DAYS"],
            "ruleset": get_ruleset(),
        }

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"
        )
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint != "static":
            headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if isinstance(exc, SecurityError):
            # A Host header the clinic does not own: no page can be built for it (no links, no redirects).
            return (
                "This site is not served under that name.\n",
                400,
                {"Content-Type": "text/plain; charset=utf-8"},
            )
        return render_template("errors/error.html", code=exc.code), exc.code

    @app.errorhandler(Exception)
    def _server_error(exc: Exception):
        fault = faults.classify(exc)
        if fault is not None:
            return _unavailable(app, fault)
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return render_template("errors/error.html", code=500), 500


def _unavailable(app: Flask, fault: str):
    """A fault the person can wait out: 503, the page again with what they typed, and Retry-After."""
    faults.report(fault, f"{request.method} {request.path}")
    try:
        _close_db()
    except Exception as exc:  # a connection that cannot even roll back is replaced on the next request
        if faults.classify(exc) is None:
            raise
        close_db_connections()
    again = faults.PAGES_AGAIN.get(request.endpoint)
    try:
        body = again() if again is not None and request.method == "POST" else None
    except Exception as exc:  # the page itself needs the database: fall back to the plain page
        if faults.classify(exc) is None:
            raise
        body = None
    if body is None:
        body = render_template("errors/unavailable.html", retry=request.method == "POST")
    return body, 503, {"Retry-After": str(faults.RETRY_AFTER_SECONDS)}


_connections = threading.local()


def get_db():
    """Return this thread's database connection, reused across requests (one per worker thread)."""
    from flask import current_app

    path = current_app.config["DATABASE"]
    cached = getattr(_connections, "db", None)
    if cached is None or _connections.key != (os.getpid(), path):
        if cached is not None and _connections.key[0] == os.getpid():
            cached.close()
        _connections.db = store.connect(path, busy_timeout_ms=current_app.config["DATABASE_BUSY_TIMEOUT_MS"])
        _connections.key = (os.getpid(), path)
    g.db_used = True
    return _connections.db


def _close_db(exc: BaseException | None = None) -> None:
    """Leave no transaction open between requests; the connection itself is kept for the next one."""
    if g.pop("db_used", False):
        db = getattr(_connections, "db", None)
        if db is not None and db.conn.in_transaction:
            db.conn.rollback()


def close_db_connections() -> None:
    """Close this thread's cached connection (tests and commands that remove the database call this)."""
    cached = getattr(_connections, "db", None)
    if cached is not None:
        cached.close()
        _connections.db = None


def get_ruleset():
    """Return the rule set loaded at start-up."""
    from flask import current_app

    return current_app.extensions["ruleset"]


class _DropQueryStrings(logging.Filter):
    """Keep search terms (names, emails) out of the development server's access log."""

    _query = re.compile(r"\?[^ \"]*")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(self._query.sub("", a) if isinstance(a, str) else a for a in record.args)
        return True


def _quiet_query_strings() -> None:
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, _DropQueryStrings) for f in logger.filters):
        logger.addFilter(_DropQueryStrings())
