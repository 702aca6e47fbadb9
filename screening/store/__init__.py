"""Every piece of SQL the app runs, on SQLite (the embedded default) or PostgreSQL.

Callers import the package (`from screening import store`) and pass the database object that
`store.connect(setting)` returns as the first argument of every function. The modules:

- `db`, `postgres`: the connection object of each store (SQLite's and the interface in `db`,
  PostgreSQL's pool in `postgres`), and everything that differs between the two
- `schema_sqlite` (the first schema) and `schema_sqlite_changes` (each change since), `schema_postgres`:
  the tables, indexes and triggers, migrated once per host start
- `submissions`: drafts and the idempotent send
- `inbox`: keyset pages, search, counts and the long reads
- `review`: notes, status moves and the audit log
- `reviewers`: accounts, sessions, the sign-in throttle and API tokens
- `twostep`: second-step secrets, recovery codes, passkeys, roles and forced password changes
- `alerts`: the outbox `screening notify` delivers from
- `maintenance`: seeding, purge, backup and the health probe
- `copy`: `screening db copy` from one store to another
- `fhir`: FHIR search pages, the questionnaire each submission was made with, Bulk Data export jobs
- `routing`: whether the reviewers' reads may go to the read-only replica (how far behind it is)
- here: `connect`, which opens the store a setting names, and every module's public names

May import: the standard library, sqlite-utils and psycopg, and of the rest of `screening` only `faults`
(which names the faults a person can wait out): the app, the pages and the commands build on the store,
never the other way round.
"""

from __future__ import annotations

import os

from . import schema_postgres, schema_sqlite, schema_sqlite_changes
from .alerts import claim_alerts, failed_alerts, mark_alerts_sent, queue_alerts, retry_alerts_later
from .copy import TABLES
from .db import (
    BUSY_TIMEOUT_MS,
    STATUSES,
    Database,
    DatabaseSettingError,
    SQLiteDatabase,
    is_postgres,
    now,
    shift,
)
from .fhir import (
    FhirQuery,
    add_bulk_export,
    bulk_export,
    bulk_export_progress,
    delete_bulk_export,
    expired_bulk_exports,
    fhir_count,
    fhir_search,
    finish_bulk_export,
    iter_fhir,
    keep_questionnaire,
    kept_questionnaire,
)
from .inbox import (
    INBOX_COLUMNS,
    InboxQuery,
    count_submissions,
    inbox_count,
    inbox_page,
    iter_answers,
    iter_inbox,
    status_counts,
    weekly_counts,
)
from .maintenance import (
    NotOnThisStore,
    backup_database,
    existing_references,
    insert_seed_submissions,
    probe_write,
    purge_reviewer_records,
    purge_submissions,
)
from .postgres import PostgresDatabase
from .review import (
    AuditQuery,
    add_note,
    audit_page,
    change_status,
    client_address,
    note_and_status,
    notes_for,
    record_audit,
    submission_for_review,
    submission_history,
)
from .reviewers import (
    DuplicateReviewer,
    DuplicateToken,
    add_api_token,
    add_reviewer,
    api_token,
    count_reviewers,
    count_signin_attempts,
    create_reviewer_session,
    end_reviewer_session,
    end_reviewer_sessions,
    find_reviewer,
    first_notice_since,
    forget_signin_attempts,
    get_reviewer,
    get_reviewer_session,
    list_api_tokens,
    list_reviewers,
    live_reviewer_sessions,
    reserve_signin_attempt,
    revoke_api_token,
    set_alert_choices,
    set_password_signin,
    set_reviewer_active,
    set_reviewer_password,
    touch_reviewer_session,
)
from .routing import ReplicaGate, replica_lag_seconds
from .submissions import (
    SUBMISSION_COLUMNS,
    create_draft,
    delete_draft,
    get_draft,
    insert_submission,
    keep_summary,
    new_reference,
    purge_expired_drafts,
    save_draft,
    search_text,
    submission_by_key,
    submission_row,
    topics_text,
)
from .twostep import (
    add_passkey,
    add_recovery_codes,
    begin_totp,
    clear_two_step,
    confirm_totp,
    list_passkeys,
    passkey_by_credential,
    queue_lockout_alert,
    recovery_codes_left,
    set_reviewer_role,
    unused_recovery_codes,
    use_passkey,
    use_recovery_code,
    use_totp_counter,
)


def connect(target: str | os.PathLike, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS, pool: dict | None = None):
    """Open the database the setting names: a SQLite file, or a pool of PostgreSQL connections."""
    if is_postgres(target):
        return PostgresDatabase(str(target), busy_timeout_ms=busy_timeout_ms, **(pool or {}))
    return SQLiteDatabase(target, busy_timeout_ms=busy_timeout_ms)


def migrate(db) -> list[str]:
    """Create or upgrade the schema of either store; return the migrations applied."""
    schema = schema_postgres if db.dialect == "postgresql" else schema_sqlite
    return schema.migrate(db)
