"""What every response shares: security headers, compression, the template globals, the error pages (with
the 503 for faults a person can wait out), and access logs without query strings.

Compression and BREACH: a compressed page that holds a secret (the CSRF token, a patient's answers)
and text an attacker can choose (a search term, a posted field shown again) leaks the secret through
its size. So only these are compressed (brotli or gzip, as the browser asks): the stylesheet and the
script, which hold no secret, and the patient pages answering a GET with 200, which show only the
clinic's text and the patient's own answers from the server-side draft, and never echo the address's
query string (a test holds every patient page to that). Answers to a POST (a form shown again with
what was posted, the CSRF error page), error pages and every reviewer page (search terms and filters
beside the token) go out uncompressed."""

from __future__ import annotations

import logging
import re

from flask import Flask, current_app, render_template, request
from flask_compress import Compress
from werkzeug.exceptions import HTTPException, SecurityError

from . import faults, store
from .db import close_db, close_db_connections

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


COMPRESSED_BLUEPRINTS = ("patient",)
compress = Compress()


def init_app(app: Flask) -> None:
    _register_hooks(app)
    _compress_safe_responses(app)
    _quiet_query_strings()


def cookie_name(name: str) -> str:
    """Return a cookie's name: with the `__Host-` prefix in production (Secure, this host only, path /)."""
    return current_app.config["COOKIE_PREFIX"] + name


def cookie(name: str) -> str | None:
    """Return the value of the request's cookie `name` (under its production name), or None."""
    return request.cookies.get(cookie_name(name))


def _compress_safe_responses(app: Flask) -> None:
    app.config.update(
        COMPRESS_REGISTER=False,  # compression is chosen per response below, never for every response
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_MIMETYPES=["text/html", "text/css", "text/javascript", "application/javascript"],
        # The pages are never cached (no-store, no ETag): only a static file's request is conditional
        # (below); evaluating every page's costs a tenth of its time for nothing.
        COMPRESS_EVALUATE_CONDITIONAL_REQUEST=False,
    )
    compress.init_app(app)

    @app.after_request
    def _compress(response):
        if not compressible(response):
            return response
        if response.is_streamed:
            # A static file (a few kilobytes): read whole and closed, it is compressed as a page is.
            data = b"".join(response.response)
            response.response.close()
            response.direct_passthrough = False
            response.set_data(data)
            # Its ETag gains the encoding's name; a browser holding this very copy gets a 304.
            return compress.after_request(response).make_conditional(request)
        return compress.after_request(response)


def compressible(response) -> bool:
    """Return whether a response may be compressed without a BREACH leak (see the module's note)."""
    if request.method != "GET" or response.status_code != 200:
        return False
    return request.endpoint == "static" or request.blueprint in COMPRESSED_BLUEPRINTS


def _register_hooks(app: Flask) -> None:
    @app.context_processor
    def _globals() -> dict:
        return {
            "emergency_number": app.config["EMERGENCY_NUMBER"],
            "clinic_name": app.config["CLINIC_NAME"],
            "clinic_phone": app.config["CLINIC_PHONE"],
            "clinic_tel": tel_href(app.config["CLINIC_PHONE"]),
            "reply_days": app.config["REPLY_DAYS"],
            "ruleset": app.extensions["ruleset"],
        }

    @app.before_request
    def _remember_client_address():
        # Every audit entry written while serving this request keeps the client's address.
        store.client_address.set(request.remote_addr or "")

    @app.teardown_request
    def _forget_client_address(exc):
        store.client_address.set("")

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
        close_db()
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


def tel_href(phone: str) -> str:
    """Return a tel: link for a phone number as written (digits and a leading + only)."""
    plus = "+" if phone.strip().startswith("+") else ""
    return "tel:" + plus + "".join(ch for ch in phone if ch.isdigit())
