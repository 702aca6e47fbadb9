"""OWASP's device cookie: a browser that signed in to an account before carries a signed cookie
naming that account and a random nonce. Its sign-in attempts then count against that nonce alone,
so someone guessing the password from elsewhere never locks the account's owner out of their own
browser; attempts without it keep the per-address and per-account limits (see auth.reserve_attempt)."""

from __future__ import annotations

import hashlib
import secrets

from flask import after_this_request, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "screening_device"
DAYS = 180


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="device-cookie")


def _account(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def trusted_nonce(email: str) -> str | None:
    """Return this browser's device nonce when its cookie is genuine, recent and names this account."""
    raw = request.cookies.get(COOKIE, "")
    if not raw or len(raw) > 400:
        return None
    try:
        value = _serializer().loads(raw, max_age=DAYS * 86400)
    except BadSignature:
        return None
    if not isinstance(value, dict) or value.get("account") != _account(email):
        return None
    nonce = value.get("nonce")
    return nonce if isinstance(nonce, str) else None


def remember(email: str) -> None:
    """Give this browser a new device cookie for the account it has just signed in to."""
    value = _serializer().dumps({"account": _account(email), "nonce": secrets.token_urlsafe(16)})

    @after_this_request
    def _set(response):
        response.set_cookie(
            COOKIE,
            value,
            max_age=DAYS * 86400,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
            samesite="Lax",
            path="/review/",
        )
        return response
