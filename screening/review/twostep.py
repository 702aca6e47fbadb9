"""The second step of a password sign-in: codes from an authenticator app (TOTP, RFC 6238), passkeys
(review/passkeys.py) and single-use recovery codes; and `finish_sign_in`, the one place a sign-in
completes.

A right password starts no session: it leaves a short-lived "pending" mark in the browser's signed
session cookie, which only the pages of the second step accept. SCREENING_TWO_STEP says whether the
second step is required (production's default: an account without one sets one up before it gets
in), optional (development's default) or off (refused in production).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from flask import Flask, current_app, session, url_for

from .. import StartupError, get_db, store
from . import auth, devices, sessions

PERIOD = 30  # seconds per code (RFC 6238's default, what every authenticator app shows)
DRIFT = 1  # codes one step either side of now are accepted: a phone clock a little off still works
PENDING_SECONDS = 10 * 60  # between the right password and the second step
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def init_app(app: Flask) -> None:
    """Refuse to start a production app without a second step (a test configuration can say "off")."""
    if app.config["SCREENING_ENV"] == "production" and app.config["TWO_STEP"] == "off":
        raise StartupError(
            "SCREENING_TWO_STEP: off is refused in production; use required (the default) or optional."
        )


def mode() -> str:
    return current_app.config["TWO_STEP"]


def now_seconds() -> float:
    """Return the app's clock (store.now, which the tests set) as seconds since 1970."""
    return datetime.fromisoformat(store.now()).timestamp()


def has_second_step(row: dict) -> bool:
    return bool(row["totp_secret"]) or bool(store.list_passkeys(get_db(), row["id"]))


def setup_due(row: dict) -> bool:
    """Tell whether this account must set up a second step before it signs in."""
    return mode() == "required" or bool(row["two_step_due"])


# The sign-in in between: the password was right, the second step is to come.


def after_password(row: dict, next_target: str | None) -> str:
    """Carry on a sign-in whose password was right; return where the browser goes next."""
    target = auth.safe_next(next_target)
    if mode() == "off" or not (has_second_step(row) or setup_due(row)):
        finish_sign_in(row, "password")
        return target
    session.clear()
    session["pending"] = {"id": row["id"], "since": now_seconds(), "next": target}
    if has_second_step(row):
        return url_for("review.two_step")
    return url_for("review.two_step_setup")


def pending_reviewer() -> dict | None:
    """Return the account whose password this browser gave in the last 10 minutes, if still active."""
    pending = session.get("pending")
    if not isinstance(pending, dict) or now_seconds() - pending.get("since", 0) > PENDING_SECONDS:
        return None
    row = store.get_reviewer(get_db(), pending.get("id"))
    return row if row and row["active"] else None


def finish_sign_in(row: dict, method: str) -> str:
    """Start the signed-in session of `row` and say in the audit log which way it signed in ("password",
    "code", "passkey" or "recovery code"). Return the page the sign-in was heading for.

    The one place where a password sign-in completes: everything above it only decides whether it may.
    """
    target = (session.get("pending") or {}).get("next") or url_for("review.inbox")
    sessions.start_session(row, method)
    session["auth_at"] = now_seconds()
    devices.remember(row["email"])
    return target


def end_sessions_after_reset(reviewer_id: int) -> None:
    """End every session of a reviewer whose second step an admin has just reset (the one place this
    module ends sessions)."""
    store.end_reviewer_sessions(get_db(), reviewer_id)


# Attempts at a code count against the same throttle as passwords.


@dataclass
class Attempt:
    """A reserved attempt at a second-step code: `allowed` is False when the throttle says no."""

    row: dict
    pair_key: str
    reserved: list[int] | None

    @property
    def allowed(self) -> bool:
        return self.reserved is not None

    def succeeded(self) -> None:
        auth.forget_attempts(self.reserved, self.pair_key)


def reserve(row: dict, address: str) -> Attempt:
    """Count an attempt at a code against the sign-in throttle, before the code is looked at."""
    (_, pair_key), _, reserved = auth.reserve_attempt(
        row["email"], address, devices.trusted_nonce(row["email"])
    )
    return Attempt(row, pair_key, reserved)


def record_failure(row: dict, what: str) -> None:
    store.record_audit(
        get_db(), "two_step_failed", reviewer_id=row["id"], reviewer_email=row["email"], detail=what
    )


# Codes from an authenticator app (RFC 6238: HMAC-SHA1, 6 digits, 30 seconds).


def new_secret() -> str:
    return pyotp.random_base32()


def grouped(secret: str) -> str:
    """Write a secret in groups of four, as people type it into an app: 'ABCD EFGH ...'."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_qr(row: dict, secret: str) -> str:
    """Return the secret's otpauth:// address as an inline SVG QR code, made here (no outside service)."""
    issuer = current_app.config["CLINIC_NAME"] or "Clinic reviewers"
    uri = pyotp.TOTP(secret).provisioning_uri(name=row["email"], issuer_name=issuer)
    return segno.make(uri, error="m").svg_inline(scale=4, border=4)


def matching_counter(secret: str, code: str, after: int) -> int | None:
    """Return the time step whose code `code` is (now, or one step either side), when later than
    `after` (the last one accepted, so a code is never accepted twice); else None."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = int(now_seconds()) // PERIOD
    for counter in range(now - DRIFT, now + DRIFT + 1):
        if counter > after and hmac.compare_digest(totp.generate_otp(counter), code):
            return counter
    return None


def check_code(row: dict, code: str) -> bool:
    """Tell whether `code` is a fresh code of the account's app, and use it up."""
    counter = matching_counter(row["totp_secret"] or "", code, row["totp_last_counter"])
    return counter is not None and store.use_totp_counter(get_db(), row["id"], counter)


def begin_app_setup(row: dict) -> str:
    """Return the app secret being set up for this account, making one when none is pending."""
    if row["totp_pending"]:
        return row["totp_pending"]
    secret = new_secret()
    store.begin_totp(get_db(), row["id"], secret)
    return secret


def confirm_app_setup(row: dict, code: str) -> bool:
    """Make the pending secret the account's when `code` is one of its codes; audit the change."""
    counter = matching_counter(row["totp_pending"] or "", code, 0)
    if counter is None:
        return False
    db = get_db()
    store.confirm_totp(db, row["id"], counter)
    store.record_audit(db, "two_step_setup", reviewer_id=row["id"], reviewer_email=row["email"], detail="app")
    return True


# Recovery codes: ten, shown once, kept as argon2id hashes, each good for one sign-in.


def new_recovery_codes(row: dict) -> list[str]:
    """Replace the account's recovery codes with ten new ones; return them (the only time they are seen)."""
    codes = [
        "-".join("".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(5)) for _ in range(2))
        for _ in range(RECOVERY_CODES)
    ]
    store.add_recovery_codes(get_db(), row["id"], [auth.hasher().hash(code) for code in codes])
    return codes


def use_recovery_code(row: dict, typed: str) -> bool:
    """Tell whether `typed` is one of the account's unused recovery codes, and use it up."""
    code = "".join(typed.lower().split()).replace("-", "")
    if len(code) != 10:
        return False
    code = f"{code[:5]}-{code[5:]}"
    db = get_db()
    for stored in store.unused_recovery_codes(db, row["id"]):
        if auth.verify_password(stored["code_hash"], code):
            return store.use_recovery_code(db, stored["id"])
    return False
