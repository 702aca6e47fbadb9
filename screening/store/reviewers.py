"""Reviewer accounts, their sessions, the sign-in throttle every host shares, and API tokens."""

from __future__ import annotations

from .db import clock


class DuplicateReviewer(Exception):
    """A reviewer with this email already exists."""


class DuplicateToken(Exception):
    """A token with this name exists (revoked or not)."""


def add_reviewer(
    db,
    email: str,
    password_hash: str,
    *,
    is_admin: bool = False,
    must_change: bool = False,
    password_signin: bool = True,
) -> int:
    """Create a reviewer account and return its id; raise DuplicateReviewer when the email is taken."""
    at = clock()
    try:
        return db.insert(
            "INSERT INTO reviewers (email, password_hash, is_admin, active, password_signin, created, "
            "updated, must_change_password) VALUES (?, ?, ?, 1, ?, ?, ?, ?)",
            [email, password_hash, int(is_admin), int(password_signin), at, at, int(must_change)],
        )
    except db.IntegrityError:
        raise DuplicateReviewer(email) from None


def get_reviewer(db, reviewer_id: int) -> dict | None:
    """Return one reviewer by id."""
    return db.one("SELECT * FROM reviewers WHERE id = ?", [reviewer_id])


def find_reviewer(db, email: str) -> dict | None:
    """Return one reviewer by email (case-insensitive)."""
    return db.one("SELECT * FROM reviewers WHERE lower(email) = lower(?)", [email])


def list_reviewers(db) -> list[dict]:
    """Return every reviewer, admins first, then by email."""
    return db.rows("SELECT * FROM reviewers ORDER BY is_admin DESC, lower(email)")


def count_reviewers(db) -> int:
    """Return how many reviewer accounts exist."""
    return db.scalar("SELECT count(*) FROM reviewers")


def set_reviewer_active(db, reviewer_id: int, active: bool) -> None:
    """Enable or disable an account; disabling ends its sessions at once."""
    at = clock()
    with db.transaction():
        db.execute(
            "UPDATE reviewers SET active = ?, updated = ? WHERE id = ?", [int(active), at, reviewer_id]
        )
        if not active:
            db.execute(
                "UPDATE reviewer_sessions SET ended = ? WHERE reviewer_id = ? AND ended IS NULL",
                [at, reviewer_id],
            )


def set_reviewer_password(
    db, reviewer_id: int, password_hash: str, *, end_sessions: bool = False, must_change: bool | None = None
) -> None:
    """Store a new password hash; a reset also ends the reviewer's sessions. `must_change` says whether
    the reviewer must replace it at their next sign-in (None: as it was)."""
    at = clock()
    with db.transaction():
        db.execute(
            "UPDATE reviewers SET password_hash = ?, updated = ?, "
            "must_change_password = coalesce(?, must_change_password) WHERE id = ?",
            [password_hash, at, None if must_change is None else int(must_change), reviewer_id],
        )
        if end_sessions:
            db.execute(
                "UPDATE reviewer_sessions SET ended = ? WHERE reviewer_id = ? AND ended IS NULL",
                [at, reviewer_id],
            )


def set_password_signin(db, reviewer_id: int, allowed: bool) -> None:
    """Allow or refuse password sign-in for an account (single sign-on stays open either way)."""
    db.write(
        "UPDATE reviewers SET password_signin = ?, updated = ? WHERE id = ?",
        [int(allowed), clock(), reviewer_id],
    )


def set_alert_choices(db, reviewer_id: int, *, urgent: bool, digest: bool) -> None:
    db.write(
        "UPDATE reviewers SET alert_urgent = ?, alert_digest = ?, updated = ? WHERE id = ?",
        [int(urgent), int(digest), clock(), reviewer_id],
    )


# Sessions: the cookie holds a random token; the table holds its SHA-256, so a copy of the database
# cannot be turned into a working cookie.


def create_reviewer_session(
    db, token_hash: str, reviewer_id: int, *, method: str = "", address: str = "", browser: str = ""
) -> None:
    """Record a new signed-in session: how it began, from which address and browser."""
    at = clock()
    db.write(
        "INSERT INTO reviewer_sessions (id, reviewer_id, created, last_seen, method, address, browser) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [token_hash, reviewer_id, at, at, method, address, browser],
    )


def live_reviewer_sessions(db, reviewer_id: int, idle_since: str, born_since: str) -> list[dict]:
    """Return the account's sessions that still work (not ended, idle or too old), newest first."""
    return db.rows(
        "SELECT id, created, last_seen, method, address, browser FROM reviewer_sessions "
        "WHERE reviewer_id = ? AND ended IS NULL AND last_seen >= ? AND created >= ? "
        "ORDER BY last_seen DESC, id",
        [reviewer_id, idle_since, born_since],
    )


def end_reviewer_sessions(db, reviewer_id: int, *, keep: str | None = None) -> int:
    """End every live session of an account, except the one whose hash is `keep`; return how many."""
    return db.write(
        "UPDATE reviewer_sessions SET ended = ? WHERE reviewer_id = ? AND ended IS NULL AND id <> ?",
        [clock(), reviewer_id, keep or ""],
    ).rowcount


def get_reviewer_session(db, token_hash: str) -> dict | None:
    """Return a session with its reviewer's email, role and state."""
    return db.one(
        "SELECT rs.id, rs.reviewer_id, rs.created, rs.last_seen, rs.ended, rs.method, "
        "r.email, r.is_admin, r.is_exporter, r.must_change_password, r.active "
        "FROM reviewer_sessions rs JOIN reviewers r ON r.id = rs.reviewer_id "
        "WHERE rs.id = ?",
        [token_hash],
    )


def touch_reviewer_session(db, token_hash: str, at: str) -> None:
    """Move a session's last-seen time forward (the idle timeout counts from it)."""
    db.write("UPDATE reviewer_sessions SET last_seen = ? WHERE id = ? AND ended IS NULL", [at, token_hash])


def end_reviewer_session(db, token_hash: str) -> None:
    """End a session for good: its cookie, replayed later, signs nobody in."""
    db.write("UPDATE reviewer_sessions SET ended = ? WHERE id = ? AND ended IS NULL", [clock(), token_hash])


# Sign-in throttle: counters in the database, so every worker process and every host shares them.


def reserve_signin_attempt(db, limits: dict[str, int], since: str) -> list[int] | None:
    """Count an attempt against every key, or return None when any key reached its limit since `since`.

    Counting before the password is checked, in one transaction that holds the keys' locks, keeps the
    limit exact even when several hosts receive attempts for the same account at the same moment.
    """
    at = clock()
    with db.transaction():
        db.lock_keys([f"signin:{key}" for key in limits])
        for key, limit in limits.items():
            if (
                db.scalar("SELECT count(*) FROM signin_attempts WHERE key = ? AND at > ?", [key, since])
                >= limit
            ):
                return None
        ids = []
        for key in limits:
            db.execute("DELETE FROM signin_attempts WHERE key = ? AND at <= ?", [key, since])
            ids.append(db.insert("INSERT INTO signin_attempts (key, at) VALUES (?, ?)", [key, at]))
    return ids


def forget_signin_attempts(db, ids: list[int], keys: tuple[str, ...] = ()) -> None:
    """Drop reserved attempts (a successful sign-in is not a failure) and clear the counters of `keys`."""
    with db.transaction():
        for attempt_id in ids:
            db.execute("DELETE FROM signin_attempts WHERE id = ?", [attempt_id])
        for key in keys:
            db.execute("DELETE FROM signin_attempts WHERE key = ?", [key])


def count_signin_attempts(db, key: str, since: str) -> int:
    """Return how many attempts `key` made after `since`."""
    return db.scalar("SELECT count(*) FROM signin_attempts WHERE key = ? AND at > ?", [key, since])


def first_notice_since(db, key: str, since: str) -> bool:
    """Record that the notice `key` goes out now, unless it already went out after `since`.

    Return whether this caller is the one to send it (once per window, however many hosts ask).
    """
    with db.transaction():
        db.lock_keys([f"notice:{key}"])
        if db.scalar("SELECT count(*) FROM notices_sent WHERE key = ? AND at > ?", [key, since]):
            return False
        db.execute("DELETE FROM notices_sent WHERE key = ?", [key])
        db.execute("INSERT INTO notices_sent (key, at) VALUES (?, ?)", [key, clock()])
    return True


# API tokens for the clinic's integration engine (FHIR), stored as SHA-256 hashes.


def add_api_token(db, name: str, token_hash: str, scopes: str = "") -> None:
    """Keep a token's hash; `scopes` limits what it reads (space-separated, '' for everything)."""
    try:
        db.write(
            "INSERT INTO api_tokens (name, token_hash, created, scopes) VALUES (?, ?, ?, ?)",
            [name, token_hash, clock(), scopes],
        )
    except db.IntegrityError:
        raise DuplicateToken(name) from None


def api_token(db, token_hash: str) -> dict | None:
    """Return the live (not revoked) token with this hash, or None."""
    return db.one("SELECT * FROM api_tokens WHERE token_hash = ? AND revoked IS NULL", [token_hash])


def list_api_tokens(db) -> list[dict]:
    return db.rows("SELECT name, created, revoked, scopes FROM api_tokens ORDER BY name")


def revoke_api_token(db, name: str) -> bool:
    return (
        db.write(
            "UPDATE api_tokens SET revoked = ? WHERE name = ? AND revoked IS NULL", [clock(), name]
        ).rowcount
        == 1
    )
