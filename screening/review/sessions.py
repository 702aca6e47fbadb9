"""Reviewer sessions kept on the server: starting one after any way of signing in, listing and ending them.

The browser's cookie holds a random token; the `reviewer_sessions` table holds its SHA-256 with how the
session began, from which address and browser. Flask-Login's user loader looks the row up on every
request, so a session ended here stops working on the browser's next request, wherever it is.
"""

from __future__ import annotations

import hashlib
import secrets

from flask import current_app, request, session
from flask_login import current_user, login_user

from .. import get_db, store
from . import auth

# How a sign-in was made, as the audit log and the sessions page name it.
METHODS = {
    "password": "password",
    "code": "password and code",
    "passkey": "passkey",
    "recovery code": "password and recovery code",
    "single sign-on": "single sign-on",
}
BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)
MAX_BROWSER_LENGTH = 200


def token_hash(token: str) -> str:
    """Return the SHA-256 of a session token, as the table keeps it."""
    return hashlib.sha256(token.encode()).hexdigest()


def client_address() -> str:
    """Return the address of the browser being served (the proxy's client when ProxyFix trusts it)."""
    return request.remote_addr or "unknown"


def browser_name(user_agent: str) -> str:
    """Return a short description of a browser, "Firefox on Windows", from its User-Agent header."""
    browser = next((name for mark, name in BROWSERS if mark in user_agent), "")
    system = next((name for mark, name in SYSTEMS if mark in user_agent), "")
    if browser and system:
        return f"{browser} on {system}"
    plain = "".join(ch for ch in user_agent if ch.isprintable())[:60]
    return browser or system or plain or "Unknown browser"


def start_session(reviewer: dict, method: str) -> None:
    """Sign a reviewer in: a fresh Flask session, a new server-side session row, and the audit entry.

    `reviewer` is the account's row (`id`, `email`, `is_admin`) or a signed-in `auth.Reviewer`; `method`
    is a key of METHODS. Every way of signing in ends here, so each session and each sign-in entry says
    which way it was made.
    """
    if not isinstance(reviewer, dict):
        reviewer = {"id": reviewer.id, "email": reviewer.email, "is_admin": reviewer.is_admin}
    if method not in METHODS:
        raise ValueError(f"unknown sign-in method {method!r}; expected one of {', '.join(METHODS)}")
    session.clear()
    token = secrets.token_urlsafe(32)
    db = get_db()
    browser = request.headers.get("User-Agent", "")[:MAX_BROWSER_LENGTH]
    store.create_reviewer_session(
        db, token_hash(token), reviewer["id"], method=method, address=client_address(), browser=browser
    )
    store.record_audit(
        db,
        "signin",
        reviewer_id=reviewer["id"],
        reviewer_email=reviewer["email"],
        detail=f"by {METHODS[method]}",
    )
    row = {**reviewer, "reviewer_id": reviewer["id"], "method": method}
    login_user(auth.Reviewer(row, token), remember=False, fresh=True)


def current_session_hash() -> str | None:
    """Return the hash of this browser's session, when a reviewer is signed in."""
    return token_hash(current_user.token) if current_user.is_authenticated else None


def end_other_sessions(reviewer_id: int, keep_current: bool = True) -> int:
    """End the account's sessions except (when `keep_current`) this browser's own; return how many."""
    keep = None
    if keep_current and current_user.is_authenticated and current_user.id == reviewer_id:
        keep = current_session_hash()
    return store.end_reviewer_sessions(get_db(), reviewer_id, keep=keep)


def end_all_sessions(reviewer_id: int) -> int:
    """End every session of the account, this browser's too; return how many."""
    return store.end_reviewer_sessions(get_db(), reviewer_id)


def live_sessions(reviewer_id: int) -> list[dict]:
    """Return the account's working sessions, newest use first, each marked `current` for this browser."""
    config = current_app.config
    at = store.now()
    rows = store.live_reviewer_sessions(
        get_db(),
        reviewer_id,
        idle_since=store.shift(at, minutes=-config["SESSION_IDLE_MINUTES"]),
        born_since=store.shift(at, hours=-config["SESSION_MAX_HOURS"]),
    )
    mine = current_session_hash()
    return [
        {
            **row,
            "current": row["id"] == mine,
            "browser": browser_name(row["browser"]),
            "method": METHODS.get(row["method"], "password"),
        }
        for row in rows
    ]
