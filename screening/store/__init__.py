"""Every piece of SQL the app runs, on SQLite (the embedded default) or PostgreSQL.

Callers import the package (`from screening import store`) and pass the database object that
`store.connect(setting)` returns as the first argument of every function. The modules:

- `db`, `postgres`: the connection object of each store (SQLite's and the interface in `db`,
  PostgreSQL's pool in `postgres`), and everything that differs between the two
- `schema_sqlite`, `schema_postgres`: the tables, indexes and triggers, migrated once per host start
- `submissions`: drafts and the idempotent send
- `inbox`: keyset pages, search, counts and the long reads
- `review`: notes, status moves and the audit log
- `reviewers`: accounts, sessions, the sign-in throttle and API tokens
- `alerts`: the outbox `screening notify` delivers from
- `maintenance`: seeding, purge, backup and the health probe
- `copy`: `screening db copy` from one store to another
- `routing`: whether the reviewers' reads may go to the read-only replica (how far behind it is)
"""

from __future__ import annotations

from .. import workflow
from . import schema_postgres, schema_sqlite
from .alerts import claim_alerts, failed_alerts, mark_alerts_sent, queue_alerts, retry_alerts_later
from .copy import TABLES
from .db import (
    BUSY_TIMEOUT_MS,
    Database,
    DatabaseSettingError,
    SQLiteDatabase,
    connect,
    is_postgres,
    now,
    shift,
)
from .inbox import (
    INBOX_COLUMNS,
    InboxQuery,
    count_submissions,
    fhir_page,
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
    find_reviewer,
    first_notice_since,
    forget_signin_attempts,
    get_reviewer,
    get_reviewer_session,
    list_api_tokens,
    list_reviewers,
    reserve_signin_attempt,
    revoke_api_token,
    set_alert_choices,
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

STATUSES = workflow.STATUSES


def migrate(db) -> list[str]:
    """Create or upgrade the schema of either store; return the migrations applied."""
    schema = schema_postgres if db.dialect == "postgresql" else schema_sqlite
    return schema.migrate(db)
