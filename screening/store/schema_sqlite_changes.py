"""The SQLite migrations that change the first schema (m020 on), in the order they apply: sign-in
(sessions, single sign-on, two-step), then the reviewers' statuses, and so on. They register on the same
sqlite-utils `Migrations` as schema_sqlite's (m001 to m009, the first schema), after them.

`store/__init__.py` imports this module after schema_sqlite, which fixes that order.
"""

from __future__ import annotations

import sqlite_utils

from .schema_sqlite import migrations


@migrations()
def m020_session_details(db: sqlite_utils.Database) -> None:
    """Each session says how it began, from which address and browser, so its owner can see it."""
    db.execute("ALTER TABLE reviewer_sessions ADD COLUMN method TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE reviewer_sessions ADD COLUMN address TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE reviewer_sessions ADD COLUMN browser TEXT NOT NULL DEFAULT ''")
    db.execute("CREATE INDEX reviewer_sessions_live ON reviewer_sessions (reviewer_id, ended)")


@migrations()
def m021_audit_address(db: sqlite_utils.Database) -> None:
    """Every audit entry keeps the client's address (empty for the command line)."""
    db.execute("ALTER TABLE audit ADD COLUMN address TEXT NOT NULL DEFAULT ''")


@migrations()
def m022_password_signin(db: sqlite_utils.Database) -> None:
    """Admins choose per account whether password sign-in stays allowed beside single sign-on."""
    db.execute("ALTER TABLE reviewers ADD COLUMN password_signin INTEGER NOT NULL DEFAULT 1")


@migrations()
def m025_two_step(db: sqlite_utils.Database) -> None:
    """A second step at sign-in (an authenticator app's secret, passkeys, hashed recovery codes), a
    password someone else chose that must be changed, and the exporter role."""
    for column in (
        "totp_secret TEXT",
        "totp_pending TEXT",
        "totp_last_counter INTEGER NOT NULL DEFAULT 0",
        "two_step_due INTEGER NOT NULL DEFAULT 0",
        "must_change_password INTEGER NOT NULL DEFAULT 0",
        "is_exporter INTEGER NOT NULL DEFAULT 0",
    ):
        db.execute(f"ALTER TABLE reviewers ADD COLUMN {column}")
    db.execute(
        "CREATE TABLE recovery_codes (id INTEGER PRIMARY KEY, "
        "reviewer_id INTEGER NOT NULL REFERENCES reviewers(id) ON DELETE CASCADE, "
        "code_hash TEXT NOT NULL, used TEXT)"
    )
    db.execute("CREATE INDEX recovery_codes_reviewer ON recovery_codes (reviewer_id)")
    db.execute(
        "CREATE TABLE passkeys (id INTEGER PRIMARY KEY, "
        "reviewer_id INTEGER NOT NULL REFERENCES reviewers(id) ON DELETE CASCADE, "
        "credential_id TEXT NOT NULL UNIQUE, public_key TEXT NOT NULL, sign_count INTEGER NOT NULL DEFAULT 0, "
        "name TEXT NOT NULL, created TEXT NOT NULL, last_used TEXT)"
    )
    db.execute("CREATE INDEX passkeys_reviewer ON passkeys (reviewer_id)")


@migrations()
def m026_lockout_alerts(db: sqlite_utils.Database) -> None:
    """The outbox also carries the mail that tells an account holder their account's sign-in limit
    tripped (kind 'lockout'); SQLite changes a CHECK only by copying the table."""
    schema = db.execute("SELECT sql FROM sqlite_master WHERE name = 'outbox'").fetchone()[0]
    db.execute(
        schema.replace("CREATE TABLE outbox", "CREATE TABLE outbox_new", 1).replace(
            "'urgent', 'digest'", "'urgent', 'digest', 'lockout'"
        )
    )
    db.execute("INSERT INTO outbox_new SELECT * FROM outbox")
    db.execute("DROP TABLE outbox")
    db.execute("ALTER TABLE outbox_new RENAME TO outbox")
    db.execute("CREATE INDEX outbox_due ON outbox (due) WHERE sent IS NULL AND failed IS NULL")


@migrations()
def m030_tried_not_reached(db: sqlite_utils.Database) -> None:
    """The status `attempted` (Tried, not reached), and how often and when the clinic last tried.

    SQLite cannot alter a CHECK constraint in place; widening it (every stored row still passes) is the
    change its documentation allows through `writable_schema`, with the schema version raised so every
    connection reads the new definition. Rebuilding the table instead would drop its triggers and
    cascade through the tables that reference it.
    """
    old = "CHECK (status IN ('new', 'in_review', 'contacted', 'closed'))"
    new = "CHECK (status IN ('new', 'in_review', 'attempted', 'contacted', 'closed'))"
    version = db.execute("PRAGMA schema_version").fetchone()[0]
    db.execute("PRAGMA writable_schema = ON")
    db.execute(
        "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'submissions'",
        [old, new],
    )
    db.execute(f"PRAGMA schema_version = {version + 1}")
    db.execute("PRAGMA writable_schema = OFF")
    db.execute("ALTER TABLE submissions ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE submissions ADD COLUMN last_attempt TEXT NOT NULL DEFAULT ''")
    db.execute("INSERT OR IGNORE INTO submission_status_counts (status, n) VALUES ('attempted', 0)")


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


@migrations()
def m060_draft_revision(db: sqlite_utils.Database) -> None:
    """Each save of a draft counts a revision, so a step sent from a page older than another tab's save
    is shown to the patient instead of overwriting it."""
    db.execute("ALTER TABLE drafts ADD COLUMN revision INTEGER NOT NULL DEFAULT 0")
