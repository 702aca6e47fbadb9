"""Keep every piece of SQL: connections, migrations, drafts, submissions, notes, reviewers and audit."""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

BUSY_TIMEOUT_MS = 5000

migrations = Migrations("screening")


def now() -> str:
    """Return the current time as an ISO-8601 UTC string (sorts as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def connect(path: str | os.PathLike) -> sqlite_utils.Database:
    """Open the database with the durability and concurrency settings the app relies on."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(path)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
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


# --- Reviewers, sessions, sign-in throttle, notes, status, audit, inbox (reviewer side) ----------
