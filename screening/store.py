"""Keep every piece of SQL: connections, migrations, drafts, submissions, notes, reviewers and audit."""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from . import faults, workflow

BUSY_TIMEOUT_MS = 5000

migrations = Migrations("screening")


def _rows(db: sqlite_utils.Database, sql: str, params: list | tuple = ()) -> Iterator[dict]:
    """Run a read and return its rows as dicts.

    Plain cursor reads: sqlite-utils' `db.query()` wraps each read in a savepoint that stays open
    until its generator is used up, which costs a sync-like release per request and can hold a
    read transaction open by accident.
    """
    cursor = db.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return iter([dict(zip(names, row, strict=True)) for row in cursor.fetchall()])


def now() -> str:
    """Return the current time as an ISO-8601 UTC string (sorts as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def connect(path: str | os.PathLike, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> sqlite_utils.Database:
    """Open the database with the durability and concurrency settings the app relies on."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(path)
    db._busy_timeout_ms = int(busy_timeout_ms)
    db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = FULL")
    return db


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Create or upgrade the schema; safe when several workers start at once. Return what was applied."""
    lock_path = Path(str(db.conn.execute("PRAGMA database_list").fetchone()[2]) + ".migrate-lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if db.conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.enable_wal()
            pending = [m.name for m in migrations.pending(db)]
            migrations.apply(db)
            return pending
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    """Create every table and the indexes the inbox filters use."""
    db.execute(
        """
        CREATE TABLE drafts (
            token TEXT PRIMARY KEY,
            answers TEXT NOT NULL DEFAULT '{}',
            progress TEXT NOT NULL DEFAULT '{}',
            created TEXT NOT NULL,
            updated TEXT NOT NULL,
            expires TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX drafts_expires ON drafts (expires)")
    db.execute(
        """
        CREATE TABLE submissions (
            id INTEGER PRIMARY KEY,
            reference TEXT NOT NULL UNIQUE,
            idempotency_key TEXT NOT NULL UNIQUE,
            received TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'new'
                CHECK (status IN ('new', 'in_review', 'contacted', 'closed')),
            level TEXT NOT NULL,
            level_rank INTEGER NOT NULL,
            topics TEXT NOT NULL,
            answers TEXT NOT NULL,
            outcome TEXT NOT NULL,
            summary_html TEXT NOT NULL,
            ruleset_version TEXT NOT NULL,
            ruleset_hash TEXT NOT NULL,
            name TEXT NOT NULL,
            email TEXT NOT NULL DEFAULT '',
            phone TEXT NOT NULL DEFAULT '',
            contact_method TEXT NOT NULL,
            search TEXT NOT NULL DEFAULT '',
            updated TEXT NOT NULL
        )"""
    )
    for name, columns in {
        "submissions_received": "received DESC, id DESC",
        "submissions_status_received": "status, received DESC, id DESC",
        "submissions_level_received": "level, received DESC, id DESC",
        "submissions_rank_received": "level_rank DESC, received DESC, id DESC",
        "submissions_status_rank_received": "status, level_rank DESC, received DESC, id DESC",
    }.items():
        db.execute(f"CREATE INDEX {name} ON submissions ({columns})")
    db.execute(
        """
        CREATE TABLE submission_topics (
            submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
            topic TEXT NOT NULL,
            received TEXT NOT NULL,
            PRIMARY KEY (topic, received, submission_id)
        ) WITHOUT ROWID"""
    )
    db.execute("CREATE INDEX submission_topics_submission ON submission_topics (submission_id)")
    db.execute(
        """
        CREATE TABLE reviewers (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            password_hash TEXT NOT NULL,
            is_admin INTEGER NOT NULL DEFAULT 0,
            active INTEGER NOT NULL DEFAULT 1,
            created TEXT NOT NULL,
            updated TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE reviewer_sessions (
            id TEXT PRIMARY KEY,
            reviewer_id INTEGER NOT NULL REFERENCES reviewers(id) ON DELETE CASCADE,
            created TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            ended TEXT
        )"""
    )
    db.execute("CREATE INDEX reviewer_sessions_reviewer ON reviewer_sessions (reviewer_id)")
    db.execute(
        """
        CREATE TABLE signin_attempts (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL,
            at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX signin_attempts_key_at ON signin_attempts (key, at)")
    db.execute(
        """
        CREATE TABLE notes (
            id INTEGER PRIMARY KEY,
            submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
            reviewer_id INTEGER NOT NULL REFERENCES reviewers(id),
            created TEXT NOT NULL,
            body TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX notes_submission ON notes (submission_id, created)")
    db.execute(
        """
        CREATE TABLE status_changes (
            id INTEGER PRIMARY KEY,
            submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
            reviewer_id INTEGER NOT NULL REFERENCES reviewers(id),
            at TEXT NOT NULL,
            from_status TEXT NOT NULL,
            to_status TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX status_changes_submission ON status_changes (submission_id, at)")
    db.execute(
        """
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            reviewer_id INTEGER REFERENCES reviewers(id),
            reviewer_email TEXT NOT NULL DEFAULT '',
            action TEXT NOT NULL,
            submission_reference TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT ''
        )"""
    )
    db.execute("CREATE INDEX audit_at ON audit (at DESC, id DESC)")
    db.execute("CREATE INDEX audit_action_at ON audit (action, at DESC)")
    db.execute("CREATE INDEX audit_reviewer_at ON audit (reviewer_id, at DESC)")
    db.execute("CREATE INDEX audit_reference_at ON audit (submission_reference, at DESC)")
    # Append-only: notes, status changes and the audit log can never be edited; the audit log (which
    # holds no answers or contact details) is never deleted. A retention purge removes whole
    # submissions, with their notes and status changes, on purpose.
    for table in ("notes", "status_changes", "audit"):
        db.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END"
        )
    db.execute(
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'audit entries cannot be deleted'); END"
    )


# --- Drafts and submissions (patient side) -------------------------------------------------------

REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: easy to read out on the phone


def _json(data) -> str:
    return json.dumps(data, separators=(",", ":"), sort_keys=True)


def create_draft(db: sqlite_utils.Database, ttl_hours: int) -> str:
    """Start a draft for a patient's answers and return its random token."""
    token = secrets.token_urlsafe(32)
    at = now()
    _write(
        db,
        "INSERT INTO drafts (token, answers, progress, created, updated, expires) "
        "VALUES (?, '{}', '{}', ?, ?, ?)",
        [token, at, at, shift(at, hours=ttl_hours)],
    )
    return token


def get_draft(db: sqlite_utils.Database, token: str | None) -> dict | None:
    """Return the draft's answers and progress, or None when it is missing or has expired."""
    if not token:
        return None
    row = next(_rows(db, "SELECT * FROM drafts WHERE token = ?", [token]), None)
    if row is None:
        return None
    if row["expires"] <= now():
        with faults.tolerated("reading a draft (deleting it once expired)"):
            delete_draft(db, token)
        return None
    return {"token": token, "answers": json.loads(row["answers"]), "progress": json.loads(row["progress"])}


def save_draft(db: sqlite_utils.Database, token: str, answers: dict, progress: dict) -> bool:
    """Store the draft's answers and progress; return False when the draft is gone."""
    cursor = _write(
        db,
        "UPDATE drafts SET answers = ?, progress = ?, updated = ? WHERE token = ? AND expires > ?",
        [_json(answers), _json(progress), now(), token, now()],
    )
    return cursor.rowcount == 1


def delete_draft(db: sqlite_utils.Database, token: str) -> None:
    _write(db, "DELETE FROM drafts WHERE token = ?", [token])


def purge_expired_drafts(db: sqlite_utils.Database) -> int:
    """Delete every draft past its expiry time and return how many went."""
    cursor = _write(db, "DELETE FROM drafts WHERE expires <= ?", [now()])
    return cursor.rowcount


def new_reference() -> str:
    """Return a short reference code such as K7QM-2XPA: random, not a guessable sequence."""
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{code[:4]}-{code[4:]}"


def submission_by_key(db: sqlite_utils.Database, idempotency_key: str) -> dict | None:
    return next(
        _rows(db, "SELECT id, reference FROM submissions WHERE idempotency_key = ?", [idempotency_key]), None
    )


def insert_submission(
    db: sqlite_utils.Database, submission: dict, *, draft_token: str = ""
) -> tuple[str, bool]:
    """Store one submission and its topics, and delete its draft, in one short transaction.

    Return (reference, newly stored). A second call with the same idempotency key (a double click, a
    retried POST) stores nothing and returns the first one's reference.
    """
    at = now()
    for _ in range(10):
        reference = new_reference()
        row = {
            **submission,
            "reference": reference,
            "received": at,
            "updated": at,
            "status": "new",
            "topics": topics_text(submission["topics"]),
            "answers": _json(submission["answers"]),
            "outcome": _json(submission["outcome"]),
            "search": search_text(
                submission.get("name", ""),
                submission.get("email", ""),
                submission.get("phone", ""),
                reference,
            ),
        }
        columns = [c for c in SUBMISSION_COLUMNS if c in row]
        try:
            with _immediate(db):
                existing = submission_by_key(db, submission["idempotency_key"])
                if existing is not None:
                    return existing["reference"], False
                cursor = db.conn.execute(
                    f"INSERT INTO submissions ({', '.join(columns)}) "  # noqa: S608 (fixed column names)
                    f"VALUES ({', '.join('?' for _ in columns)})",
                    [row[c] for c in columns],
                )
                db.conn.executemany(
                    "INSERT INTO submission_topics (submission_id, topic, received) VALUES (?, ?, ?)",
                    [(cursor.lastrowid, topic, at) for topic in submission["topics"]],
                )
                if draft_token:
                    db.conn.execute("DELETE FROM drafts WHERE token = ?", [draft_token])
                if submission.get("alert"):
                    _queue_alerts(
                        db, cursor.lastrowid, reference, submission["level"], submission["alert"], at
                    )
            return reference, True
        except sqlite3.IntegrityError as exc:
            if "reference" not in str(exc):
                raise
    raise RuntimeError("could not find a free reference code after 10 tries")


def search_text(name: str, email: str, phone: str, reference: str) -> str:
    """Return what the inbox search looks in: lower-case name, email, phone digits and reference."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    parts = [name, email, digits, reference, reference.replace("-", "")]
    return " ".join(p.lower() for p in parts if p)


def topics_text(topics) -> str:
    """Return a submission's topic ids as stored in its `topics` column (a JSON list)."""
    return _json(sorted(topics))


# --- Reviewers, sessions, sign-in throttle, notes, status, audit, inbox (reviewer side) ----------

STATUSES = workflow.STATUSES
INBOX_COLUMNS = ("id", "reference", "received", "status", "level", "level_rank", "topics", "name")
SEARCH_PROBE_LIMIT = 2000


class DuplicateReviewer(Exception):
    """A reviewer with this email already exists."""


def shift(timestamp: str, **delta: float) -> str:
    """Return `timestamp` moved by a timedelta (minutes=-30, days=1, ...), in the same text format."""
    moved = datetime.fromisoformat(timestamp) + timedelta(**delta)
    return moved.astimezone(UTC).isoformat(timespec="microseconds")


@contextmanager
def _immediate(db: sqlite_utils.Database) -> Iterator[None]:
    """Run a write that reads first under BEGIN IMMEDIATE, so no other writer slips in between."""
    with _writer(db):
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            db.conn.execute("ROLLBACK")
            raise
        else:
            db.conn.execute("COMMIT")


def _write(db: sqlite_utils.Database, sql: str, params: list | tuple = ()) -> sqlite3.Cursor:
    """Run one write statement (committed at once) behind the writer lock."""
    with _writer(db):
        return db.execute(sql, params)


@contextmanager
def _writer(db: sqlite_utils.Database) -> Iterator[None]:
    """Queue this write behind the ones other threads and worker processes are making.

    SQLite lets one writer in at a time, and a writer that finds the database locked sleeps and polls
    (1 ms, then 2, 5, 10 ...), so two workers sending at once spend much of their time asleep. An
    exclusive file lock beside the database queues writers instead: the next one wakes as soon as the
    lock is free. Closing the descriptor (or the process dying) releases it. Nested writes reuse it.
    """
    depth = getattr(db, "_writer_depth", 0)
    path = _writer_lock_path(db)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600) if path and not depth else None
    try:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        db._writer_depth = depth + 1
        try:
            yield
        finally:
            db._writer_depth = depth
    finally:
        if fd is not None:
            os.close(fd)


def _writer_lock_path(db: sqlite_utils.Database) -> str:
    """Return the lock file beside the database ("" for an in-memory database), found once per connection."""
    path = getattr(db, "_writer_lock", None)
    if path is None:
        file = db.conn.execute("PRAGMA database_list").fetchone()[2]
        path = db._writer_lock = f"{file}.write-lock" if file else ""
    return path


def _one(db: sqlite_utils.Database, sql: str, params: list | tuple = ()) -> dict | None:
    return next(_rows(db, sql, params), None)


@migrations()
def m002_reviewer_inbox(db: sqlite_utils.Database) -> None:
    """Keep the inbox fast at a million rows: search, status counts and topic filters by level and status.

    Triggers keep the extra structures right whoever writes the submissions, so the patient side's
    inserts need not know about them.
    """
    db.execute(
        "CREATE INDEX submissions_status_level_received ON submissions "
        "(status, level, received DESC, id DESC)"
    )
    # Substring search over `search` (name, email, phone digits, reference) through a trigram index.
    db.execute(
        "CREATE VIRTUAL TABLE submissions_fts USING fts5("
        "search, content='submissions', content_rowid='id', tokenize='trigram')"
    )
    db.execute("INSERT INTO submissions_fts (submissions_fts) VALUES ('rebuild')")
    db.execute(
        "CREATE TRIGGER submissions_fts_insert AFTER INSERT ON submissions BEGIN "
        "INSERT INTO submissions_fts (rowid, search) VALUES (new.id, new.search); END"
    )
    db.execute(
        "CREATE TRIGGER submissions_fts_delete AFTER DELETE ON submissions BEGIN "
        "INSERT INTO submissions_fts (submissions_fts, rowid, search) "
        "VALUES ('delete', old.id, old.search); END"
    )
    db.execute(
        "CREATE TRIGGER submissions_fts_update AFTER UPDATE OF search ON submissions BEGIN "
        "INSERT INTO submissions_fts (submissions_fts, rowid, search) VALUES ('delete', old.id, old.search); "
        "INSERT INTO submissions_fts (rowid, search) VALUES (new.id, new.search); END"
    )
    # Counts per status without scanning: one row per status, kept by triggers.
    db.execute(
        "CREATE TABLE submission_status_counts (status TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID"
    )
    for status in STATUSES:
        db.execute(
            "INSERT INTO submission_status_counts (status, n) "
            "VALUES (?, (SELECT count(*) FROM submissions WHERE status = ?))",
            [status, status],
        )
    db.execute(
        "CREATE TRIGGER submissions_count_insert AFTER INSERT ON submissions BEGIN "
        "UPDATE submission_status_counts SET n = n + 1 WHERE status = new.status; END"
    )
    db.execute(
        "CREATE TRIGGER submissions_count_delete AFTER DELETE ON submissions BEGIN "
        "UPDATE submission_status_counts SET n = n - 1 WHERE status = old.status; END"
    )
    db.execute(
        "CREATE TRIGGER submissions_count_update AFTER UPDATE OF status ON submissions "
        "WHEN old.status <> new.status BEGIN "
        "UPDATE submission_status_counts SET n = n - 1 WHERE status = old.status; "
        "UPDATE submission_status_counts SET n = n + 1 WHERE status = new.status; END"
    )
    # A topic filter combined with a level or status filter (or urgent-first order) reads one index range.
    db.execute("ALTER TABLE submission_topics ADD COLUMN level TEXT")
    db.execute("ALTER TABLE submission_topics ADD COLUMN status TEXT")
    db.execute(
        "UPDATE submission_topics SET "
        "level = (SELECT level FROM submissions WHERE id = submission_id), "
        "status = (SELECT status FROM submissions WHERE id = submission_id)"
    )
    db.execute(
        "CREATE TRIGGER submission_topics_fill AFTER INSERT ON submission_topics "
        "WHEN new.level IS NULL OR new.status IS NULL BEGIN "
        "UPDATE submission_topics SET "
        "level = (SELECT level FROM submissions WHERE id = new.submission_id), "
        "status = (SELECT status FROM submissions WHERE id = new.submission_id) "
        "WHERE topic = new.topic AND received = new.received AND submission_id = new.submission_id; END"
    )
    db.execute(
        "CREATE TRIGGER submissions_status_topics AFTER UPDATE OF status ON submissions "
        "WHEN old.status <> new.status BEGIN "
        "UPDATE submission_topics SET status = new.status WHERE submission_id = new.id; END"
    )
    db.execute(
        "CREATE INDEX submission_topics_level ON submission_topics "
        "(topic, level, received DESC, submission_id DESC)"
    )
    db.execute(
        "CREATE INDEX submission_topics_status ON submission_topics "
        "(topic, status, received DESC, submission_id DESC)"
    )


@migrations()
def m003_drop_unused_indexes(db: sqlite_utils.Database) -> None:
    """Drop two indexes no query uses (urgent-first reads `level`), so each submission writes less."""
    db.execute("DROP INDEX IF EXISTS submissions_rank_received")
    db.execute("DROP INDEX IF EXISTS submissions_status_rank_received")


@migrations()
def m004_fault_probe(db: sqlite_utils.Database) -> None:
    """A one-row table that /healthz writes, to tell a load balancer whether this host can save."""
    db.execute("CREATE TABLE health_probe (id INTEGER PRIMARY KEY CHECK (id = 1), at TEXT NOT NULL)")


def probe_write(db: sqlite_utils.Database, timeout_ms: int = 1000) -> None:
    """Write the one health-probe row (raises the fault when the database cannot be written).

    A short busy wait: a health check must answer quickly, and a database busy that long is a fault.
    """
    db.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")
    try:
        _write(db, "INSERT OR REPLACE INTO health_probe (id, at) VALUES (1, ?)", [now()])
    finally:
        db.execute(f"PRAGMA busy_timeout = {getattr(db, '_busy_timeout_ms', BUSY_TIMEOUT_MS)}")


# Reviewers


def add_reviewer(db: sqlite_utils.Database, email: str, password_hash: str, *, is_admin: bool = False) -> int:
    """Create a reviewer account and return its id; raise DuplicateReviewer when the email is taken."""
    at = now()
    try:
        cursor = _write(
            db,
            "INSERT INTO reviewers (email, password_hash, is_admin, active, created, updated) "
            "VALUES (?, ?, ?, 1, ?, ?)",
            [email, password_hash, int(is_admin), at, at],
        )
    except sqlite3.IntegrityError:
        raise DuplicateReviewer(email) from None
    return int(cursor.lastrowid)


def get_reviewer(db: sqlite_utils.Database, reviewer_id: int) -> dict | None:
    """Return one reviewer by id."""
    return _one(db, "SELECT * FROM reviewers WHERE id = ?", [reviewer_id])


def find_reviewer(db: sqlite_utils.Database, email: str) -> dict | None:
    """Return one reviewer by email (case-insensitive)."""
    return _one(db, "SELECT * FROM reviewers WHERE email = ?", [email])


def list_reviewers(db: sqlite_utils.Database) -> list[dict]:
    """Return every reviewer, admins first, then by email."""
    return list(_rows(db, "SELECT * FROM reviewers ORDER BY is_admin DESC, email"))


def count_reviewers(db: sqlite_utils.Database) -> int:
    """Return how many reviewer accounts exist."""
    return db.execute("SELECT count(*) FROM reviewers").fetchone()[0]


def set_reviewer_active(db: sqlite_utils.Database, reviewer_id: int, active: bool) -> None:
    """Enable or disable an account; disabling ends its sessions at once."""
    at = now()
    with _immediate(db):
        db.execute(
            "UPDATE reviewers SET active = ?, updated = ? WHERE id = ?", [int(active), at, reviewer_id]
        )
        if not active:
            db.execute(
                "UPDATE reviewer_sessions SET ended = ? WHERE reviewer_id = ? AND ended IS NULL",
                [at, reviewer_id],
            )


def set_reviewer_password(
    db: sqlite_utils.Database, reviewer_id: int, password_hash: str, *, end_sessions: bool = False
) -> None:
    """Store a new password hash; a reset also ends the reviewer's sessions."""
    at = now()
    with _immediate(db):
        db.execute(
            "UPDATE reviewers SET password_hash = ?, updated = ? WHERE id = ?",
            [password_hash, at, reviewer_id],
        )
        if end_sessions:
            db.execute(
                "UPDATE reviewer_sessions SET ended = ? WHERE reviewer_id = ? AND ended IS NULL",
                [at, reviewer_id],
            )


# Sessions: the cookie holds a random token; the table holds its SHA-256, so a copy of the database
# cannot be turned into a working cookie.


def create_reviewer_session(db: sqlite_utils.Database, token_hash: str, reviewer_id: int) -> None:
    """Record a new signed-in session."""
    at = now()
    _write(
        db,
        "INSERT INTO reviewer_sessions (id, reviewer_id, created, last_seen) VALUES (?, ?, ?, ?)",
        [token_hash, reviewer_id, at, at],
    )


def get_reviewer_session(db: sqlite_utils.Database, token_hash: str) -> dict | None:
    """Return a session with its reviewer's email, role and state."""
    return _one(
        db,
        "SELECT rs.id, rs.reviewer_id, rs.created, rs.last_seen, rs.ended, "
        "r.email, r.is_admin, r.active FROM reviewer_sessions rs JOIN reviewers r ON r.id = rs.reviewer_id "
        "WHERE rs.id = ?",
        [token_hash],
    )


def touch_reviewer_session(db: sqlite_utils.Database, token_hash: str, at: str) -> None:
    """Move a session's last-seen time forward (the idle timeout counts from it)."""
    _write(db, "UPDATE reviewer_sessions SET last_seen = ? WHERE id = ? AND ended IS NULL", [at, token_hash])


def end_reviewer_session(db: sqlite_utils.Database, token_hash: str) -> None:
    """End a session for good: its cookie, replayed later, signs nobody in."""
    _write(db, "UPDATE reviewer_sessions SET ended = ? WHERE id = ? AND ended IS NULL", [now(), token_hash])


# Sign-in throttle: counters in the database, so every worker process shares them.


def reserve_signin_attempt(db: sqlite_utils.Database, limits: dict[str, int], since: str) -> list[int] | None:
    """Count an attempt against every key, or return None when any key reached its limit since `since`.

    Counting before the password is checked, in one IMMEDIATE transaction, keeps the limit exact even
    when several workers receive attempts for the same account at the same moment.
    """
    at = now()
    with _immediate(db):
        for key, limit in limits.items():
            used = db.conn.execute(
                "SELECT count(*) FROM signin_attempts WHERE key = ? AND at > ?", [key, since]
            ).fetchone()[0]
            if used >= limit:
                return None
        ids = []
        for key in limits:
            db.conn.execute("DELETE FROM signin_attempts WHERE key = ? AND at <= ?", [key, since])
            ids.append(
                db.conn.execute("INSERT INTO signin_attempts (key, at) VALUES (?, ?)", [key, at]).lastrowid
            )
    return ids


def forget_signin_attempts(db: sqlite_utils.Database, ids: list[int], keys: tuple[str, ...] = ()) -> None:
    """Drop reserved attempts (a successful sign-in is not a failure) and clear the counters of `keys`."""
    with _immediate(db):
        for attempt_id in ids:
            db.execute("DELETE FROM signin_attempts WHERE id = ?", [attempt_id])
        for key in keys:
            db.execute("DELETE FROM signin_attempts WHERE key = ?", [key])


def mark_once(db: sqlite_utils.Database, key: str, since: str) -> bool:
    """Record `key` unless it was recorded after `since`; return whether it was recorded now."""
    with _immediate(db):
        if db.conn.execute("SELECT 1 FROM signin_attempts WHERE key = ? AND at > ?", [key, since]).fetchone():
            return False
        db.conn.execute("DELETE FROM signin_attempts WHERE key = ?", [key])
        db.conn.execute("INSERT INTO signin_attempts (key, at) VALUES (?, ?)", [key, now()])
    return True


def count_signin_attempts(db: sqlite_utils.Database, key: str, since: str) -> int:
    """Return how many attempts `key` made after `since`."""
    return db.execute(
        "SELECT count(*) FROM signin_attempts WHERE key = ? AND at > ?", [key, since]
    ).fetchone()[0]


# Audit log: who did what to which submission, and when. It never holds answers or contact details.


def record_audit(
    db: sqlite_utils.Database,
    action: str,
    *,
    reviewer_id: int | None = None,
    reviewer_email: str = "",
    reference: str = "",
    detail: str = "",
) -> None:
    """Append one entry to the audit log."""
    _write(
        db,
        "INSERT INTO audit (at, reviewer_id, reviewer_email, action, submission_reference, detail) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [now(), reviewer_id, reviewer_email, action, reference, detail],
    )


@dataclass(frozen=True)
class AuditQuery:
    """Filters for the audit log; empty values do not filter."""

    reviewer_id: int | None = None
    action: str = ""
    reference: str = ""
    date_from: str = ""
    date_to: str = ""
    since: str = ""  # at or after this UTC instant (a clinic-local day's start); beats date_from
    before: str = ""  # before this UTC instant; beats date_to


def audit_page(
    db: sqlite_utils.Database,
    query: AuditQuery,
    *,
    cursor: tuple[str, int] | None = None,
    newer: bool = False,
    limit: int = 50,
) -> list[dict]:
    """Return up to `limit` entries newest first, after (or, with `newer`, before) the (at, id) cursor."""
    where, params = [], []
    for column, value in (
        ("reviewer_id", query.reviewer_id),
        ("action", query.action),
        ("submission_reference", query.reference),
    ):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    lower, upper = _received_bounds(query)
    if lower:
        where.append("at >= ?")
        params.append(lower)
    if upper:
        where.append("at < ?")
        params.append(upper)
    if cursor:
        where.append("(at, id) > (?, ?)" if newer else "(at, id) < (?, ?)")
        params.extend(cursor)
    direction = "ASC" if newer else "DESC"
    rows = list(
        _rows(
            db,
            f"SELECT * FROM audit WHERE {' AND '.join(where) or '1'} "  # noqa: S608 (fixed column names only)
            f"ORDER BY at {direction}, id {direction} LIMIT ?",
            [*params, limit],
        )
    )
    return rows[::-1] if newer else rows


def _received_bounds(query) -> tuple[str, str]:
    """Return the (inclusive, exclusive) bounds on the received time: instants, or UTC days."""
    lower = query.since or query.date_from
    upper = query.before or (_day_after(query.date_to) if query.date_to else "")
    return lower, upper


def _day_after(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


# A submission under review: notes and status changes, each written with its audit entry.


def submission_for_review(db: sqlite_utils.Database, reference: str) -> dict | None:
    """Return the whole stored submission with this reference."""
    return _one(db, "SELECT * FROM submissions WHERE reference = ?", [reference])


def submission_history(db: sqlite_utils.Database, submission_id: int) -> tuple[list[dict], list[dict]]:
    """Return the submission's notes and status changes, oldest first, with their authors' emails."""
    notes = list(
        _rows(
            db,
            "SELECT n.id, n.created, n.body, r.email AS author "
            "FROM notes n JOIN reviewers r ON r.id = n.reviewer_id "
            "WHERE n.submission_id = ? ORDER BY n.created, n.id",
            [submission_id],
        )
    )
    changes = list(
        _rows(
            db,
            "SELECT c.id, c.at, c.from_status, c.to_status, r.email AS author FROM status_changes c "
            "JOIN reviewers r ON r.id = c.reviewer_id WHERE c.submission_id = ? ORDER BY c.at, c.id",
            [submission_id],
        )
    )
    return notes, changes


def iter_answers(db: sqlite_utils.Database, *, chunk: int = 1000) -> Iterator[tuple[str, dict]]:
    """Yield (reference, answers) for every submission, oldest first, in keyset pages (constant memory)."""
    last = 0
    while True:
        rows = db.execute(
            "SELECT id, reference, answers FROM submissions WHERE id > ? ORDER BY id LIMIT ?", [last, chunk]
        ).fetchall()
        if not rows:
            return
        for _, reference, answers in rows:
            yield reference, json.loads(answers)
        last = rows[-1][0]


def count_submissions(db: sqlite_utils.Database) -> int:
    return db.execute("SELECT count(*) FROM submissions").fetchone()[0]


def notes_for(db: sqlite_utils.Database, submission_ids: list[int]) -> dict[int, list[dict]]:
    """Return the notes of these submissions (one export page), oldest first, keyed by submission id."""
    found: dict[int, list[dict]] = {}
    for start in range(0, len(submission_ids), 500):
        ids = submission_ids[start : start + 500]
        marks = ", ".join("?" * len(ids))
        sql = (
            "SELECT n.submission_id, n.created, n.body, r.email AS author FROM notes n "  # noqa: S608
            f"JOIN reviewers r ON r.id = n.reviewer_id WHERE n.submission_id IN ({marks}) "
            "ORDER BY n.submission_id, n.created, n.id"
        )
        for note in _rows(db, sql, ids):
            found.setdefault(note["submission_id"], []).append(note)
    return found


def add_note(db: sqlite_utils.Database, submission: dict, reviewer: dict, body: str) -> None:
    """Append a note and its audit entry in one transaction."""
    with _immediate(db):
        _insert_note(db, submission, reviewer, body, now())


def _insert_note(db: sqlite_utils.Database, submission: dict, reviewer: dict, body: str, at: str) -> None:
    db.execute(
        "INSERT INTO notes (submission_id, reviewer_id, created, body) VALUES (?, ?, ?, ?)",
        [submission["id"], reviewer["id"], at, body],
    )
    record_audit(
        db,
        "note",
        reviewer_id=reviewer["id"],
        reviewer_email=reviewer["email"],
        reference=submission["reference"],
    )


def note_and_status(
    db: sqlite_utils.Database, submission: dict, reviewer: dict, body: str, from_status: str, to_status: str
) -> bool:
    """Add a note and move the status in one transaction ("Called, left a message" + Contacted).

    Return False, storing neither, when the status is no longer `from_status`.
    """
    at = now()
    with _immediate(db):
        if not _move(db, submission, reviewer, from_status, to_status, at):
            return False
        _insert_note(db, submission, reviewer, body, at)
    return True


def change_status(
    db: sqlite_utils.Database, submission: dict, reviewer: dict, from_status: str, to_status: str
) -> bool:
    """Move a submission from `from_status` to `to_status`, with history and audit entries.

    Return False, changing nothing, when the status is no longer `from_status` (another reviewer moved it).
    """
    with _immediate(db):
        return _move(db, submission, reviewer, from_status, to_status, now())


def _move(
    db: sqlite_utils.Database, submission: dict, reviewer: dict, from_status: str, to_status: str, at: str
) -> bool:
    """Write a status move inside the caller's transaction; False when the status had changed."""
    cursor = db.conn.execute(
        "UPDATE submissions SET status = ?, updated = ? WHERE id = ? AND status = ?",
        [to_status, at, submission["id"], from_status],
    )
    if cursor.rowcount != 1:
        return False
    db.conn.execute(
        "INSERT INTO status_changes (submission_id, reviewer_id, at, from_status, to_status) "
        "VALUES (?, ?, ?, ?, ?)",
        [submission["id"], reviewer["id"], at, from_status, to_status],
    )
    db.conn.execute(
        "INSERT INTO audit (at, reviewer_id, reviewer_email, action, submission_reference, detail) "
        "VALUES (?, ?, ?, 'status', ?, ?)",
        [at, reviewer["id"], reviewer["email"], submission["reference"], f"{from_status} -> {to_status}"],
    )
    return True


# The inbox: keyset pages over indexes that match each filter.


@dataclass(frozen=True)
class InboxQuery:
    """What the inbox shows; empty values do not filter.

    `search` is a normalised term (lowercase; a phone number as digits) matched anywhere in the
    `search` column; `reference` is the term as typed, tried first as an exact reference.
    """

    status: str = ""
    level: str = ""
    topic: str = ""
    date_from: str = ""
    date_to: str = ""
    search: str = ""
    reference: str = ""
    urgent: bool = False
    levels: tuple[str, ...] = ()  # every level id, highest first: the urgent-first order
    statuses: tuple[str, ...] = ()  # several statuses at once (the "Needs attention" view); overrides status
    not_ruleset_hash: str = ""  # only submissions made under another rule set than this one
    since: str = ""  # received at or after this UTC instant (a clinic-local day's start); beats date_from
    before: str = ""  # received before this UTC instant; beats date_to


def inbox_page(
    db: sqlite_utils.Database,
    query: InboxQuery,
    *,
    cursor: tuple | None = None,
    newer: bool = False,
    limit: int = 50,
    columns: tuple[str, ...] = INBOX_COLUMNS,
) -> list[dict]:
    """Return up to `limit` submissions in inbox order after (or, with `newer`, before) `cursor`.

    The cursor is (received, id), or (level, received, id) in urgent-first order: the keys of the last
    (or first) row of the page the reader saw. Urgent-first order is the newest-first lists of each
    level in turn, highest level first, so every page still reads one index range per level.
    """
    search = _search_filter(db, query)
    if not query.urgent or query.level:
        return _by_status(db, query, query.level, search, cursor and cursor[-2:], newer, limit, columns)
    levels = list(query.levels)
    start = levels.index(cursor[0]) if cursor and cursor[0] in levels else 0
    order = levels[start::-1] if newer else levels[start:]
    rows: list[dict] = []
    for position, level in enumerate(order):
        after = cursor[-2:] if cursor and position == 0 else None
        found = _by_status(db, query, level, search, after, newer, limit - len(rows), columns)
        rows = found + rows if newer else rows + found
        if len(rows) >= limit:
            break
    return rows


def inbox_count(db: sqlite_utils.Database, query: InboxQuery) -> int:
    """Return how many submissions the query matches (for the CLI export's progress bar, and the
    "Needs attention" count: one index range per level and status)."""
    search = _search_filter(db, query)
    levels = (query.levels or ("",)) if query.statuses and not query.level else (query.level,)
    total = 0
    for level in levels:
        for status in query.statuses or (query.status,):
            source, _, _, where, params = _filters(replace(query, status=status), level, search)
            sql = f"SELECT count(*) FROM {source} WHERE {' AND '.join(where) or '1'}"  # noqa: S608
            total += db.execute(sql, params).fetchone()[0]
    return total


def _by_status(db, query: InboxQuery, level: str, search, after, newer: bool, limit: int, columns):
    """Return one page for one level; several statuses are read as one index range each, then merged."""
    if len(query.statuses) <= 1:
        single = replace(query, status=query.statuses[0]) if query.statuses else query
        return _ordered(db, single, level, search, after, newer, limit, columns)
    pages = [
        _ordered(db, replace(query, status=status), level, search, after, newer, limit, columns)
        for status in query.statuses
    ]
    merged = sorted(
        (row for page in pages for row in page), key=lambda r: (r["received"], r["id"]), reverse=True
    )
    return (
        merged[-limit:] if newer else merged[:limit]
    )  # newest first; going newer, the rows next to the cursor


def _search_filter(db: sqlite_utils.Database, query: InboxQuery) -> tuple[str, list] | None:
    """Return a WHERE clause for the search: an exact reference first, else a trigram substring match.

    A rare term (at most SEARCH_PROBE_LIMIT matches) looks its matches up and sorts them; a common
    one walks the date-ordered index and tests membership, finding a page of matches after a short walk.
    """
    if not (query.search or query.reference):
        return None
    if query.reference:
        exact = db.execute("SELECT id FROM submissions WHERE reference = ?", [query.reference]).fetchone()
        if exact:
            return "s.id = ?", [exact[0]]
    term = query.search
    if len(term) < 3:  # the trigram index needs three characters
        return "0", []
    key = _distinctive_part(term)
    phrase = '"' + key.replace('"', '""') + '"'
    matches = db.execute(
        "SELECT count(*) FROM (SELECT rowid FROM submissions_fts WHERE submissions_fts MATCH ? LIMIT ?)",
        [phrase, SEARCH_PROBE_LIMIT + 1],
    ).fetchone()[0]
    membership = "+s.id" if matches > SEARCH_PROBE_LIMIT else "s.id"
    clause = f"{membership} IN (SELECT rowid FROM submissions_fts WHERE submissions_fts MATCH ?)"  # noqa: S608
    if key == term:
        return clause, [phrase]
    pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return f"{clause} AND s.search LIKE ? ESCAPE '\\'", [phrase, pattern]


def _distinctive_part(term: str) -> str:
    """Return the part of a search term to look up in the trigram index; the whole term is checked after.

    A trigram shared by most rows (an email domain, an area code) makes the index read its whole
    list, so an email is looked up by its local part and a long phone number by its last 7 digits.
    """
    local = term.split("@", 1)[0]
    if "@" in term and len(local) >= 3:
        return local
    if term.isdigit() and len(term) > 7:
        return term[-7:]
    return term


def _filters(query: InboxQuery, level: str, search: tuple[str, list] | None) -> tuple:
    """Return (source, received column, id column, WHERE terms, parameters) for one level's rows.

    With a topic, rows come from submission_topics, whose copies of level and status (kept by
    triggers) let a topic combined with either read one index range.
    """
    where, params = [], []
    if query.topic:
        source = "submission_topics t CROSS JOIN submissions s ON s.id = t.submission_id"
        received, key, table = "t.received", "t.submission_id", "t"
        where.append("t.topic = ?")
        params.append(query.topic)
    else:
        source, received, key, table = "submissions s", "s.received", "s.id", "s"
    for column, value in (("status", query.status), ("level", level)):
        if value:
            where.append(f"{table}.{column} = ?")
            params.append(value)
    lower, upper = _received_bounds(query)
    if lower:
        where.append(f"{received} >= ?")
        params.append(lower)
    if upper:
        where.append(f"{received} < ?")
        params.append(upper)
    if query.not_ruleset_hash:
        where.append("s.ruleset_hash != ?")
        params.append(query.not_ruleset_hash)
    if search:
        where.append(search[0])
        params.extend(search[1])
    return source, received, key, where, params


def _ordered(
    db: sqlite_utils.Database,
    query: InboxQuery,
    level: str,
    search: tuple[str, list] | None,
    after: tuple | None,
    newer: bool,
    limit: int,
    columns: tuple[str, ...],
) -> list[dict]:
    """Return one newest-first page (read oldest-first when going `newer`, then reversed) for one level."""
    source, received, key, where, params = _filters(query, level, search)
    if after:
        where.append(f"({received}, {key}) {'>' if newer else '<'} (?, ?)")
        params.extend(after)
    direction = "ASC" if newer else "DESC"
    select = ", ".join(f"s.{column}" for column in columns)
    sql = (
        f"SELECT {select} FROM {source} WHERE {' AND '.join(where) or '1'} "  # noqa: S608 (no values inlined)
        f"ORDER BY {received} {direction}, {key} {direction} LIMIT ?"
    )
    rows = list(_rows(db, sql, [*params, limit]))
    return rows[::-1] if newer else rows


def iter_inbox(
    db: sqlite_utils.Database, query: InboxQuery, *, chunk: int = 1000, full: bool = False
) -> Iterator[list[dict]]:
    """Yield every submission the query matches, in chunks of keyset pages (constant memory)."""
    cursor = None
    columns = (*INBOX_COLUMNS, "answers", "ruleset_version", "email", "phone", "contact_method")
    if full:
        columns = (*columns, "ruleset_hash")
    while True:
        rows = inbox_page(db, query, cursor=cursor, limit=chunk, columns=columns)
        if not rows:
            return
        yield rows
        last = rows[-1]
        cursor = (last["level"], last["received"], last["id"])


def status_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """Return how many submissions have each status (from the trigger-kept counters)."""
    counts = dict.fromkeys(STATUSES, 0)
    counts.update(
        {row["status"]: row["n"] for row in _rows(db, "SELECT status, n FROM submission_status_counts")}
    )
    return counts


def weekly_counts(
    db: sqlite_utils.Database, bounds: list[str], levels: list[str], topics: list[str]
) -> tuple[dict, dict]:
    """Return {level: [count per week]} and {topic: [count per week]} for the weeks between `bounds`
    (n + 1 UTC instants or days: each week's start, then the last week's end).

    Each count reads one range of a covering index, so the cost grows with the weeks shown, not the table.
    """
    by_level = {
        level: [
            db.execute(
                "SELECT count(*) FROM submissions WHERE level = ? AND received >= ? AND received < ?",
                [level, start, end],
            ).fetchone()[0]
            for start, end in itertools.pairwise(bounds)
        ]
        for level in levels
    }
    by_topic = {
        topic: [
            db.execute(
                "SELECT count(*) FROM submission_topics WHERE topic = ? AND received >= ? AND received < ?",
                [topic, start, end],
            ).fetchone()[0]
            for start, end in itertools.pairwise(bounds)
        ]
        for topic in topics
    }
    return by_level, by_topic


# Bulk data: seeding, retention and backup.

# Alerts: an outbox row per reviewer who wants to hear, written with the submission itself.


@migrations()
def m005_alerts_outbox(db: sqlite_utils.Database) -> None:
    """Each reviewer's alert choices, and the outbox `screening notify` delivers from."""
    db.execute("ALTER TABLE reviewers ADD COLUMN alert_urgent INTEGER NOT NULL DEFAULT 1")
    db.execute("ALTER TABLE reviewers ADD COLUMN alert_digest INTEGER NOT NULL DEFAULT 1")
    db.execute(
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            reviewer_id INTEGER NOT NULL REFERENCES reviewers(id),
            submission_id INTEGER REFERENCES submissions(id) ON DELETE SET NULL,
            reference TEXT NOT NULL,
            level TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('urgent', 'digest')),
            created TEXT NOT NULL,
            due TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            claimed_by TEXT,
            claimed_until TEXT,
            sent TEXT,
            failed TEXT,
            last_error TEXT
        )"""
    )
    db.execute("CREATE INDEX outbox_due ON outbox (due) WHERE sent IS NULL AND failed IS NULL")


def _queue_alerts(db, submission_id: int, reference: str, level: str, alert: dict, at: str) -> None:
    """Queue one alert per active reviewer who asked for this kind (inside the submission's transaction)."""
    column = "alert_digest" if alert["kind"] == "digest" else "alert_urgent"
    db.conn.execute(
        "INSERT INTO outbox (reviewer_id, submission_id, reference, level, kind, created, due) "  # noqa: S608
        f"SELECT id, ?, ?, ?, ?, ?, ? FROM reviewers WHERE active = 1 AND {column} = 1",
        [submission_id, reference, level, alert["kind"], at, alert["due"]],
    )


def set_alert_choices(db: sqlite_utils.Database, reviewer_id: int, *, urgent: bool, digest: bool) -> None:
    _write(
        db,
        "UPDATE reviewers SET alert_urgent = ?, alert_digest = ?, updated = ? WHERE id = ?",
        [int(urgent), int(digest), now(), reviewer_id],
    )


def claim_alerts(db: sqlite_utils.Database, worker: str, at: str, lease_seconds: int = 120) -> list[dict]:
    """Claim the alerts that are due for this worker, with a lease; two workers never claim the same one."""
    until = shift(at, seconds=lease_seconds)
    with _immediate(db):
        db.conn.execute(
            "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id IN (SELECT id FROM outbox "
            "WHERE sent IS NULL AND failed IS NULL AND due <= ? "
            "AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY due LIMIT 200)",
            [worker, until, at, at],
        )
        return list(
            _rows(
                db,
                "SELECT o.*, r.email, r.active FROM outbox o JOIN reviewers r ON r.id = o.reviewer_id "
                "WHERE o.claimed_by = ? AND o.claimed_until = ? AND o.sent IS NULL ORDER BY o.id",
                [worker, until],
            )
        )


def mark_alerts_sent(db: sqlite_utils.Database, ids: list[int], at: str) -> None:
    with _immediate(db):
        db.conn.executemany(
            "UPDATE outbox SET sent = ?, claimed_until = NULL WHERE id = ?", [(at, i) for i in ids]
        )


def retry_alerts_later(
    db: sqlite_utils.Database, ids: list[int], error: str, at: str, give_up_before: str
) -> int:
    """Put failed alerts back with a growing wait; give up on those older than `give_up_before`.
    Return how many were given up."""
    with _immediate(db):
        given_up = 0
        for alert_id in ids:
            row = db.conn.execute("SELECT attempts, created FROM outbox WHERE id = ?", [alert_id]).fetchone()
            attempts, created = row[0] + 1, row[1]
            if created < give_up_before:
                db.conn.execute(
                    "UPDATE outbox SET attempts = ?, failed = ?, last_error = ?, claimed_until = NULL "
                    "WHERE id = ?",
                    [attempts, at, error[:300], alert_id],
                )
                given_up += 1
            else:
                wait = min(60 * 2 ** (attempts - 1), 3600)
                db.conn.execute(
                    "UPDATE outbox SET attempts = ?, due = ?, last_error = ?, claimed_until = NULL "
                    "WHERE id = ?",
                    [attempts, shift(at, seconds=wait), error[:300], alert_id],
                )
    return given_up


def failed_alerts(db: sqlite_utils.Database, since: str) -> int:
    return db.execute(
        "SELECT count(*) FROM outbox WHERE failed IS NOT NULL AND failed >= ?", [since]
    ).fetchone()[0]


# API tokens for the clinic's integration engine (FHIR), stored as SHA-256 hashes.


@migrations()
def m006_api_tokens(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE api_tokens (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            token_hash TEXT NOT NULL UNIQUE,
            created TEXT NOT NULL,
            revoked TEXT
        )"""
    )


class DuplicateToken(Exception):
    """A token with this name exists (revoked or not)."""


def add_api_token(db: sqlite_utils.Database, name: str, token_hash: str) -> None:
    try:
        _write(
            db,
            "INSERT INTO api_tokens (name, token_hash, created) VALUES (?, ?, ?)",
            [name, token_hash, now()],
        )
    except sqlite3.IntegrityError:
        raise DuplicateToken(name) from None


def api_token(db: sqlite_utils.Database, token_hash: str) -> dict | None:
    """Return the live (not revoked) token with this hash, or None."""
    return _one(db, "SELECT * FROM api_tokens WHERE token_hash = ? AND revoked IS NULL", [token_hash])


def list_api_tokens(db: sqlite_utils.Database) -> list[dict]:
    return list(_rows(db, "SELECT name, created, revoked FROM api_tokens ORDER BY name"))


def revoke_api_token(db: sqlite_utils.Database, name: str) -> bool:
    cursor = _write(db, "UPDATE api_tokens SET revoked = ? WHERE name = ? AND revoked IS NULL", [now(), name])
    return cursor.rowcount == 1


def fhir_page(
    db: sqlite_utils.Database,
    *,
    reference: str = "",
    updated_op: str = "",
    updated: str = "",
    after: tuple[str, int] | None = None,
    limit: int = 20,
) -> list[dict]:
    """Return submissions oldest first (received, id), for the FHIR search's keyset pages."""
    where, params = [], []
    if reference:
        where.append("reference = ?")
        params.append(reference)
    if updated_op:
        where.append(f"received {'>=' if updated_op == 'ge' else '>'} ?")
        params.append(updated)
    if after:
        where.append("(received, id) > (?, ?)")
        params.extend(after)
    sql = (
        f"SELECT * FROM submissions WHERE {' AND '.join(where) or '1'} "  # noqa: S608 (fixed clauses only)
        "ORDER BY received, id LIMIT ?"
    )
    return list(_rows(db, sql, [*params, limit]))


SUBMISSION_COLUMNS = (
    "reference",
    "idempotency_key",
    "received",
    "status",
    "level",
    "level_rank",
    "topics",
    "answers",
    "outcome",
    "summary_html",
    "ruleset_version",
    "ruleset_hash",
    "name",
    "email",
    "phone",
    "contact_method",
    "search",
    "updated",
)


def insert_seed_submissions(db: sqlite_utils.Database, rows: list[dict]) -> None:
    """Insert many submissions (and their topic rows) in one transaction, for seeding and benchmarks.

    Each row holds SUBMISSION_COLUMNS plus `topic_list`, the topic ids to index.
    """
    placeholders = ", ".join("?" for _ in SUBMISSION_COLUMNS)
    with _immediate(db):
        first = db.conn.execute("SELECT coalesce(max(id), 0) + 1 FROM submissions").fetchone()[0]
        db.conn.executemany(
            f"INSERT INTO submissions (id, {', '.join(SUBMISSION_COLUMNS)}) VALUES (?, {placeholders})",  # noqa: S608
            [(first + n, *(row[c] for c in SUBMISSION_COLUMNS)) for n, row in enumerate(rows)],
        )
        db.conn.executemany(
            "INSERT INTO submission_topics (submission_id, topic, received, level, status) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                (first + n, topic, row["received"], row["level"], row["status"])
                for n, row in enumerate(rows)
                for topic in row["topic_list"]
            ],
        )


def existing_references(db: sqlite_utils.Database, references: set[str]) -> set[str]:
    """Return which of these references are already taken."""
    found: set[str] = set()
    chosen = sorted(references)
    for start in range(0, len(chosen), 500):
        part = chosen[start : start + 500]
        marks = ", ".join("?" for _ in part)
        sql = f"SELECT reference FROM submissions WHERE reference IN ({marks})"  # noqa: S608 (placeholders only)
        found.update(row[0] for row in db.execute(sql, part))
    return found


def purge_submissions(db: sqlite_utils.Database, before: str, *, batch: int = 2000) -> int:
    """Delete submissions received before `before`, with their topics, notes and status changes.

    Deletes in short transactions so patients can still send answers while a large purge runs.
    """
    total = 0
    while True:
        with _immediate(db):
            ids = [
                row[0]
                for row in db.conn.execute(
                    "SELECT id FROM submissions WHERE received < ? ORDER BY received LIMIT ?", [before, batch]
                )
            ]
            db.conn.executemany("DELETE FROM submissions WHERE id = ?", [(i,) for i in ids])
        total += len(ids)
        if len(ids) < batch:
            return total


def purge_reviewer_records(db: sqlite_utils.Database, before: str) -> tuple[int, int]:
    """Delete sign-in attempts and sessions older than `before`; return how many of each."""
    with _immediate(db):
        attempts = db.execute("DELETE FROM signin_attempts WHERE at < ?", [before]).rowcount
        sessions = db.execute("DELETE FROM reviewer_sessions WHERE last_seen < ?", [before]).rowcount
    return attempts, sessions


def backup_database(db: sqlite_utils.Database, target: str | os.PathLike, progress=None) -> None:
    """Copy the live database into `target` page by page (readers and writers carry on meanwhile)."""
    destination = sqlite3.connect(str(target))
    try:
        with destination:
            db.conn.backup(destination, pages=1024, progress=progress)
    finally:
        destination.close()
