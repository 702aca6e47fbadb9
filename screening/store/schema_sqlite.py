"""The SQLite schema: sqlite-utils migrations, applied in order, each once, top to bottom.

Several workers starting together take turns on a lock file, so each migration runs once.
"""

from __future__ import annotations

import fcntl

import sqlite_utils
from sqlite_utils.migrations import Migrations

from .db import STATUSES

migrations = Migrations("screening")


def migrate(db) -> list[str]:
    """Create or upgrade the schema; safe when several workers start at once. Return what was applied."""
    with open(f"{db.path}.migrate-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if db.scalar("PRAGMA journal_mode") != "wal":
                db.sqlite.enable_wal()
            pending = [m.name for m in migrations.pending(db.sqlite)]
            migrations.apply(db.sqlite)
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


@migrations()
def m007_notices_and_no_rank(db: sqlite_utils.Database) -> None:
    """Notices sent once per window get a table of their own (they shared the sign-in counters), and
    the `level_rank` column that nothing read goes (urgent-first order reads `level`)."""
    db.execute("CREATE TABLE notices_sent (key TEXT PRIMARY KEY, at TEXT NOT NULL) WITHOUT ROWID")
    db.execute(
        "INSERT INTO notices_sent (key, at) SELECT key, max(at) FROM signin_attempts "
        "WHERE key LIKE 'hammered:%' OR key LIKE 'audited:%' GROUP BY key"
    )
    db.execute("DELETE FROM signin_attempts WHERE key LIKE 'hammered:%' OR key LIKE 'audited:%'")
    db.execute("ALTER TABLE submissions DROP COLUMN level_rank")


@migrations()
def m008_submission_language(db: sqlite_utils.Database) -> None:
    """The language the patient used (the inbox shows it, so the clinic can call back with an interpreter)."""
    db.execute("ALTER TABLE submissions ADD COLUMN language TEXT NOT NULL DEFAULT 'en'")
    db.execute("CREATE INDEX submissions_language_received ON submissions (language, received DESC, id DESC)")


@migrations()
def m009_draft_summary(db: sqlite_utils.Database) -> None:
    """The summary a patient was shown is kept with the draft, so the send stores that very page."""
    db.execute("ALTER TABLE drafts ADD COLUMN summary_key TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE drafts ADD COLUMN summary_html TEXT NOT NULL DEFAULT ''")


@migrations()
def m040_questionnaire_versions(db: sqlite_utils.Database) -> None:
    """Each questionnaire a submission was made with (by its rule-set hash), so a FHIR
    QuestionnaireResponse keeps every answer with its question's words after a later rule change."""
    db.execute(
        """
        CREATE TABLE questionnaire_versions (
            ruleset_hash TEXT PRIMARY KEY,
            version TEXT NOT NULL,
            form TEXT NOT NULL,
            kept TEXT NOT NULL
        )"""
    )


@migrations()
def m041_api_token_scopes(db: sqlite_utils.Database) -> None:
    """A token may be limited to some resource types (`system/Patient.read ...`); '' reads them all."""
    db.execute("ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT ''")


@migrations()
def m042_bulk_exports(db: sqlite_utils.Database) -> None:
    """FHIR Bulk Data exports: who asked (the token), what, and how far the files have come."""
    db.execute(
        """
        CREATE TABLE bulk_exports (
            id TEXT PRIMARY KEY,
            token_id INTEGER NOT NULL REFERENCES api_tokens(id),
            request TEXT NOT NULL,
            types TEXT NOT NULL,
            since TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL CHECK (status IN ('in-progress', 'complete', 'error')),
            progress INTEGER NOT NULL DEFAULT 0,
            total INTEGER NOT NULL DEFAULT 0,
            created TEXT NOT NULL,
            heartbeat TEXT NOT NULL,
            transaction_time TEXT NOT NULL,
            output TEXT NOT NULL DEFAULT '[]',
            error TEXT NOT NULL DEFAULT ''
        )"""
    )
    db.execute("CREATE INDEX bulk_exports_created ON bulk_exports (created)")
