"""Reviewer accounts: argon2id hashes, the password policy, the shared sign-in throttle and sessions."""

from __future__ import annotations

import hashlib
import secrets
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, logout_user
from zxcvbn import zxcvbn

from .. import faults, get_db, store

login_manager = LoginManager()

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
MIN_DISTINCT_CHARACTERS = 5
MIN_GUESS_SCORE = 3  # zxcvbn's 0-4 scale: 3 is "safely unguessable" (about 10^8 guesses or more)
# Cheap argon2id settings for the test suite only; production uses argon2-cffi's defaults (RFC 9106).
TESTING_HASH_PARAMETERS = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
# A session's last-seen time is written at most this often, not on every request.
TOUCH_EVERY_SECONDS = 60
GENERATED_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class AccountError(Exception):
    """An account cannot be created or changed; the message says why, for the admin or CLI user."""


@dataclass(frozen=True)
class NewAccount:
    """A created (or reset) account and, when it was generated, its password: shown once, never stored."""

    id: int
    email: str
    password: str | None


class Reviewer(UserMixin):
    """The signed-in reviewer; Flask-Login keeps the session token, not the reviewer id, in the cookie."""

    def __init__(self, row: dict, token: str):
        self.id = row["reviewer_id"]
        self.email = row["email"]
        self.is_admin = bool(row["is_admin"])
        self.is_exporter = bool(row.get("is_exporter"))
        self.must_change_password = bool(row.get("must_change_password"))
        self.method = row.get("method") or "password"  # how this session began (review/sessions.py)
        self.token = token

    def get_id(self) -> str:
        return self.token

    @property
    def record(self) -> dict:
        """Return the reviewer as the store's functions take it."""
        return {"id": self.id, "email": self.email}


def init_app(app: Flask) -> None:
    """Set up password hashing and Flask-Login for the reviewers' pages."""
    parameters = app.config.get("PASSWORD_HASH_PARAMETERS")
    if parameters is None:
        parameters = TESTING_HASH_PARAMETERS if app.config.get("TESTING") else {}
    app.extensions["password_hasher"] = PasswordHasher(**parameters)
    app.config.setdefault("SIGNIN_MAX_ADDRESS_ATTEMPTS", 20)
    app.config.setdefault("SIGNIN_MAX_ACCOUNT_ATTEMPTS", 50)
    app.config.setdefault("SIGNIN_HAMMER_NOTICE", 20)
    login_manager.init_app(app)
    login_manager.user_loader(_load_reviewer)
    login_manager.unauthorized_handler(_unauthorized)


# Passwords


def hasher() -> PasswordHasher:
    """Return the app's argon2id password hasher."""
    return current_app.extensions["password_hasher"]


def _dummy_hash() -> str:
    """Return a hash to verify against when the email is unknown, so both cases take as long."""
    if "dummy_password_hash" not in current_app.extensions:
        current_app.extensions["dummy_password_hash"] = hasher().hash(secrets.token_urlsafe(16))
    return current_app.extensions["dummy_password_hash"]


def verify_password(password_hash: str, password: str) -> bool:
    """Tell whether `password` matches an argon2id hash (passwords and recovery codes alike)."""
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def common_passwords() -> frozenset[str]:
    """Return the shipped list of common passwords, lowercased."""
    text = (Path(__file__).parent / "common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def _looks_common(password: str) -> bool:
    """Tell whether a password is a common one, perhaps repeated or with digits and symbols around it."""
    lowered = password.lower()
    core = lowered.strip(string.digits + string.punctuation + " ")
    candidates = {lowered, core}
    for size in range(1, len(core) // 2 + 1):
        if len(core) % size == 0 and core[:size] * (len(core) // size) == core:
            candidates.add(core[:size])
            break
    return any(candidate in common_passwords() for candidate in candidates if candidate)


def password_problems(password: str, email: str = "") -> list[str]:
    """Return what is wrong with a new password, as sentences for the person choosing it."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"Use at most {MAX_PASSWORD_LENGTH} characters.")
    if _looks_common(password):
        problems.append("This password is on a list of common passwords. Choose one that is harder to guess.")
    local_part = email.split("@", 1)[0].lower()
    if len(local_part) >= 3 and local_part in password.lower():
        problems.append("Do not use your email address in your password.")
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        problems.append(f"Use at least {MIN_DISTINCT_CHARACTERS} different characters.")
    # zxcvbn's time grows with length; the first 100 characters tell enough about a pattern.
    if not problems and zxcvbn(password[:100], user_inputs=[email, local_part])["score"] < MIN_GUESS_SCORE:
        problems.append(
            "This password is easy to guess: it follows a pattern, such as keys next to each other or a"
            " common word with numbers. Choose a longer one, such as four unrelated words."
        )
    return problems


def generate_password(email: str = "") -> str:
    """Return a random password of four five-character groups (about 115 bits) that meets the policy."""
    while True:
        groups = ("".join(secrets.choice(GENERATED_ALPHABET) for _ in range(5)) for _ in range(4))
        password = "-".join(groups)
        if not password_problems(password, email):
            return password


# Accounts (used by the admin pages and the CLI)


def normalise_email(email: str) -> str:
    """Return a checked email address, or raise AccountError saying what is wrong with it."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise AccountError(f"{email!r} is not a valid email address: {exc}") from None


def create_account(
    email: str, *, password: str | None = None, is_admin: bool = False, must_change: bool = True
) -> NewAccount:
    """Create a reviewer; generate a password when none is given. Raise AccountError when refused.

    Someone other than the reviewer chose the password, so by default it must be changed at the first
    sign-in; `must_change=False` is for an account whose owner already chose their own."""
    email = normalise_email(email)
    generated = password is None
    if generated:
        password = generate_password(email)
    problems = password_problems(password, email)
    if problems:
        raise AccountError("The password was refused: " + " ".join(problems))
    try:
        reviewer_id = store.add_reviewer(
            get_db(), email, hasher().hash(password), is_admin=is_admin, must_change=must_change
        )
    except store.DuplicateReviewer:
        raise AccountError(f"A reviewer with the email {email} already exists.") from None
    return NewAccount(reviewer_id, email, password if generated else None)


def find_account(email: str) -> dict:
    """Return the reviewer with this email, or raise AccountError."""
    row = store.find_reviewer(get_db(), email.strip())
    if row is None:
        raise AccountError(f"There is no reviewer with the email {email.strip()}.")
    return row


def set_active(reviewer: dict, active: bool, *, by: dict | None = None) -> None:
    """Enable or disable an account and write its audit entry in one transaction; disabling ends the
    account's sessions at once. `by` is the admin doing it, or None for the command line."""
    db = get_db()
    with db.transaction():
        store.set_reviewer_active(db, reviewer["id"], active)
        store.record_audit(
            db,
            "reviewer_enable" if active else "reviewer_disable",
            reviewer_id=by["id"] if by else None,
            reviewer_email=by["email"] if by else "",
            detail=f"reviewer {reviewer['email']}" + ("" if by else " (command line)"),
        )


def reset_password(reviewer: dict) -> NewAccount:
    """Give a reviewer a new generated password (to change at their next sign-in); end their sessions."""
    password = generate_password(reviewer["email"])
    db, password_hash = get_db(), hasher().hash(password)
    store.set_reviewer_password(db, reviewer["id"], password_hash, end_sessions=True, must_change=True)
    return NewAccount(reviewer["id"], reviewer["email"], password)


# Sign-in, with a throttle shared by every worker through the database


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def reserve_attempt(
    email: str, address: str, device: str | None = None
) -> tuple[tuple[str, str], str, list[int] | None]:
    """Count an attempt (a password or a second-step code) in the database every worker shares.

    From a browser that signed in to this account before (`device`, the nonce of its device cookie)
    it counts against that device alone (5 by default), so failures from elsewhere never lock it out.
    Any other attempt counts against the account from this address (5), the account from anywhere
    (a higher limit, 50), and the address whatever the account (20). Return the account's two counter
    keys, the window's start, and the reserved attempt ids (None when a counter is at its limit)."""
    config = current_app.config
    since = store.shift(store.now(), minutes=-config["SIGNIN_WINDOW_MINUTES"])
    email_key = "email:" + _digest(email.lower())
    pair_key = f"pair:{_digest(email.lower())}:{address}"
    if device:
        pair_key = "device:" + _digest(device)
        limits = {pair_key: config["SIGNIN_MAX_ATTEMPTS"]}
    else:
        limits = {
            pair_key: config["SIGNIN_MAX_ATTEMPTS"],
            email_key: config["SIGNIN_MAX_ACCOUNT_ATTEMPTS"],
            "address:" + address: config["SIGNIN_MAX_ADDRESS_ATTEMPTS"],
        }
    return (email_key, pair_key), since, store.reserve_signin_attempt(get_db(), limits, since)


def forget_attempts(reserved: list[int], pair_key: str) -> None:
    """Forget a right answer's attempt and this browser's failures (the account's count stays)."""
    store.forget_signin_attempts(get_db(), reserved, keys=(pair_key,))


def _watch_for_hammering(row: dict | None, email: str, email_key: str, since: str) -> None:
    """Tell the admins (once per window, in the audit log and on the overview) when one account
    draws many failed sign-ins: someone may be guessing its password. When the account-wide limit
    trips, mail the account holder too (once per window; no password or address in it)."""
    config = current_app.config
    db = get_db()
    count = store.count_signin_attempts(db, email_key, since)
    hammered = count >= config["SIGNIN_HAMMER_NOTICE"]
    if hammered and store.first_notice_since(db, "hammered:" + email_key, since):
        known = {"reviewer_id": row["id"], "reviewer_email": row["email"]} if row else {}
        store.record_audit(db, "signin_hammered", detail=_who(row, email), **known)
    limit_reached = count >= config["SIGNIN_MAX_ACCOUNT_ATTEMPTS"]
    if row and limit_reached and store.first_notice_since(db, "lockout-mail:" + email_key, since):
        store.queue_lockout_alert(db, row["id"], store.now())


def check_password(email: str, password: str, address: str, device: str | None = None) -> tuple[str, dict]:
    """Check an email and password; return ("ok", the reviewer's row), ("failed", {}) or ("throttled", {}).

    A right password starts no session: the second step (review/twostep.py) does, or asks for more.

    The attempt is counted before the password is looked at, so a throttled attempt learns nothing.
    An unknown email, a disabled account and a wrong password fail the same way, and an unknown
    email still costs one hash verification, so the time taken does not tell them apart either.
    """
    db = get_db()
    email = email.strip()
    (email_key, pair_key), since, reserved = reserve_attempt(email, address, device)
    row = store.find_reviewer(db, email) if email else None
    known = {"reviewer_id": row["id"], "reviewer_email": row["email"]} if row else {}
    _watch_for_hammering(row, email, email_key, since)
    if reserved is None:
        # Once per key and window: hammering a throttled form must not flood the append-only log.
        if store.first_notice_since(db, "audited:" + pair_key, since):
            store.record_audit(db, "signin_throttled", detail=_who(row, email), **known)
        return "throttled", {}
    verified = verify_password(row["password_hash"] if row else _dummy_hash(), password)
    if not (row and verified and row["active"] and row["password_signin"]):
        reason = (
            "unknown email"
            if row is None
            else "wrong password"
            if not verified
            else "account disabled"
            if not row["active"]
            else "password sign-in not allowed for this account"
        )
        store.record_audit(db, "signin_failed", detail=f"{reason}; {_who(row, email)}", **known)
        return "failed", {}
    if hasher().check_needs_rehash(row["password_hash"]):
        store.set_reviewer_password(db, row["id"], hasher().hash(password))
    forget_attempts(reserved, pair_key)
    return "ok", row


def change_own_password(current: str, new: str, address: str) -> str:
    """Let the signed-in reviewer replace their password; return "ok", "wrong" or "throttled".

    A wrong current password counts against the same throttle as a failed sign-in, so an unlocked
    screen cannot be used to guess it. On success every session of the account ends: the caller starts
    this browser's new one (`sessions.start_session`).
    """
    db = get_db()
    row = store.get_reviewer(db, current_user.id)
    who = {"reviewer_id": row["id"], "reviewer_email": row["email"]}
    (_, pair_key), _, reserved = reserve_attempt(row["email"], address)
    if reserved is None:
        return "throttled"
    if not verify_password(row["password_hash"], current):
        store.record_audit(db, "password_change_failed", detail="wrong current password", **who)
        return "wrong"
    store.forget_signin_attempts(db, reserved, keys=(pair_key,))
    store.set_reviewer_password(db, row["id"], hasher().hash(new), end_sessions=True, must_change=False)
    store.record_audit(db, "password_change", **who)
    return "ok"


def _who(row: dict | None, email: str) -> str:
    """Name the account in the audit log; for an unknown email, only a short hash of what was typed."""
    return f"account {row['email']}" if row else f"typed email sha256:{_digest(email.lower())[:12]}"


def sign_out() -> None:
    """End the server-side session and clear the cookie's contents."""
    if current_user.is_authenticated:
        db = get_db()
        store.end_reviewer_session(db, _digest(current_user.token))
        store.record_audit(db, "signout", reviewer_id=current_user.id, reviewer_email=current_user.email)
    logout_user()
    session.clear()


def _load_reviewer(token: str) -> Reviewer | None:
    """Return the reviewer of a live session: not ended, not idle too long, not too old, account active."""
    db = get_db()
    token_hash = _digest(token)
    row = store.get_reviewer_session(db, token_hash)
    if row is None or row["ended"] or not row["active"]:
        return None
    at = store.now()
    config = current_app.config
    idle_since = store.shift(at, minutes=-config["SESSION_IDLE_MINUTES"])
    born_since = store.shift(at, hours=-config["SESSION_MAX_HOURS"])
    if row["last_seen"] < idle_since or row["created"] < born_since:
        store.end_reviewer_session(db, token_hash)
        g.reviewer_session_expired = True
        return None
    if row["last_seen"] < store.shift(at, seconds=-TOUCH_EVERY_SECONDS):
        with faults.tolerated(f"{request.method} {request.path} (keeping the session alive)"):
            store.touch_reviewer_session(db, token_hash, at)
    return Reviewer(row, token)


def _unauthorized():
    """Send a signed-out visitor to the sign-in page, remembering where they were going."""
    if g.get("reviewer_session_expired"):
        flash("Your session ended, so you were signed out. Sign in again to carry on.")
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("review.sign_in", next=target))


def safe_next(target: str | None) -> str:
    """Return `target` when it is a reviewer page on this site, else the inbox."""
    plain = bool(target) and "//" not in target and "\\" not in target and target.isprintable()
    if plain and target.startswith("/review/") and not target.startswith(url_for("review.sign_in")):
        return target
    return url_for("review.inbox")
