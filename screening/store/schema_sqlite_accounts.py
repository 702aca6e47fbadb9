"""The SQLite migrations for reviewers' accounts and sign-in (sessions, single sign-on, two-step
sign-in), registered on the same sqlite-utils `Migrations` as schema_sqlite's, after them.

`store/__init__.py` imports this module after schema_sqlite, which fixes the order they apply in.
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
