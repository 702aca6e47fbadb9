"""The patient side: drafts of answers, and storing a submission (once, however often it is sent)."""

from __future__ import annotations

import json
import secrets

from .. import faults
from .alerts import alerts_insert, queue_alerts
from .db import clock, shift

REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: easy to read out on the phone
SUBMISSION_COLUMNS = (
    "reference",
    "idempotency_key",
    "received",
    "status",
    "level",
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
    "language",
)


def to_json(data) -> str:
    return json.dumps(data, separators=(",", ":"), sort_keys=True)


# --- Drafts ----------------------------------------------------------------------------------------


def create_draft(db, ttl_hours: int, progress: dict | None = None) -> str:
    """Start a draft for a patient's answers (and where they are, such as their language); return its
    random token."""
    token = secrets.token_urlsafe(32)
    at = clock()
    db.write(
        "INSERT INTO drafts (token, answers, progress, created, updated, expires) "
        "VALUES (?, '{}', ?, ?, ?, ?)",
        [token, to_json(progress or {}), at, at, shift(at, hours=ttl_hours)],
    )
    return token


def get_draft(db, token: str | None, *, with_summary: bool = False) -> dict | None:
    """Return the draft's answers, progress and revision (and, `with_summary`, the summary kept with it
    as `summary`: its key and its page), or None when it is missing or has expired."""
    if not token:
        return None
    summary = ", summary_key, summary_html" if with_summary else ""
    row = db.one(f"SELECT answers, progress, revision, expires{summary} FROM drafts WHERE token = ?", [token])  # noqa: S608
    if row is None:
        return None
    if row["expires"] <= clock():
        with faults.tolerated("reading a draft (deleting it once expired)"):
            delete_draft(db, token)
        return None
    draft = {
        "token": token,
        "answers": json.loads(row["answers"]),
        "progress": json.loads(row["progress"]),
        "revision": row["revision"],
    }
    if with_summary:
        draft["summary"] = (row["summary_key"], row["summary_html"])
    return draft


def save_draft(db, token: str, answers: dict, progress: dict, *, revision: int | None = None) -> bool:
    """Store the draft's answers and progress and count one more revision; return False when the draft
    is gone, or (given the `revision` it was read at) when another request saved it since."""
    at = clock()
    same_revision = "" if revision is None else " AND revision = ?"
    cursor = db.write(
        "UPDATE drafts SET answers = ?, progress = ?, updated = ?, revision = revision + 1 "  # noqa: S608
        f"WHERE token = ? AND expires > ?{same_revision}",
        [to_json(answers), to_json(progress), at, token, at, *([] if revision is None else [revision])],
    )
    return cursor.rowcount == 1


def keep_summary(db, token: str, key: str, html: str) -> bool:
    """Keep the summary page a patient was shown with their draft, under a key naming the answers, the
    language and the rule set it was made for; return False when the draft is gone."""
    cursor = db.write(
        "UPDATE drafts SET summary_key = ?, summary_html = ? WHERE token = ? AND expires > ?",
        [key, html, token, clock()],
    )
    return cursor.rowcount == 1


def delete_draft(db, token: str) -> None:
    db.write("DELETE FROM drafts WHERE token = ?", [token])


def purge_expired_drafts(db) -> int:
    """Delete every draft past its expiry time and return how many went."""
    return db.write("DELETE FROM drafts WHERE expires <= ?", [clock()]).rowcount


# --- Submissions -----------------------------------------------------------------------------------


def new_reference() -> str:
    """Return a short reference code such as K7QM-2XPA: random, not a guessable sequence."""
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{code[:4]}-{code[4:]}"


def search_text(name: str, email: str, phone: str, reference: str) -> str:
    """Return what the inbox search looks in: lower-case name, email, phone digits and reference."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    parts = [name, email, digits, reference, reference.replace("-", "")]
    return " ".join(p.lower() for p in parts if p)


def topics_text(topics) -> str:
    """Return a submission's topic ids as stored in its `topics` column (a JSON list)."""
    return to_json(sorted(topics))


def submission_row(submission: dict, reference: str, at: str) -> dict:
    """Return the stored row for a submission (the app's and the seed's inserts both build it here).

    `submission` holds the answers, outcome and topics as data; the row holds them as JSON text.
    """
    row = {
        **submission,
        "reference": reference,
        "received": submission.get("received", at),
        "updated": submission.get("updated", at),
        "status": submission.get("status", "new"),
        "topics": topics_text(submission["topics"]),
        "answers": to_json(submission["answers"]),
        "outcome": to_json(submission["outcome"]),
        "search": search_text(
            submission.get("name", ""), submission.get("email", ""), submission.get("phone", ""), reference
        ),
    }
    row.setdefault("email", "")
    row.setdefault("phone", "")
    row.setdefault("language", "en")
    return {column: row[column] for column in SUBMISSION_COLUMNS}


def insert_rows(db, rows: list[dict], topic_lists: list) -> None:
    """Insert built rows and their topic rows inside the caller's transaction.

    Topic rows find their submission by its reference, so no statement waits for another's result
    (PostgreSQL's driver sends each `executemany` as one pipeline).
    """
    columns = list(SUBMISSION_COLUMNS)
    db.executemany(
        f"INSERT INTO submissions ({', '.join(columns)}) "  # noqa: S608 (fixed column names)
        f"VALUES ({', '.join('?' for _ in columns)})",
        [[row[c] for c in columns] for row in rows],
    )
    db.executemany(
        "INSERT INTO submission_topics (submission_id, topic, received, level, status) "
        "SELECT id, ?, received, level, status FROM submissions WHERE reference = ?",
        [
            (topic, row["reference"])
            for row, topics in zip(rows, topic_lists, strict=True)
            for topic in topics
        ],
    )


def submission_by_key(db, idempotency_key: str) -> dict | None:
    return db.one("SELECT id, reference FROM submissions WHERE idempotency_key = ?", [idempotency_key])


def insert_submission(db, submission: dict, *, draft_token: str = "") -> tuple[str, bool]:
    """Store one submission and its topics, queue its alerts and delete its draft, in one short
    transaction.

    Return (reference, newly stored). A second call with the same idempotency key (a double click, a
    retried POST, the same form sent to two hosts at once) stores nothing and returns the first one's
    reference.
    """
    at = clock()
    write = _write_postgres if db.dialect == "postgresql" else _write_sqlite
    for _ in range(10):
        reference = new_reference()
        row = submission_row(submission, reference, at)
        try:
            write(db, row, submission, draft_token, at)
            return reference, True
        except db.IntegrityError as exc:
            if "idempotency_key" in str(exc):  # sent before (a double click, a retry, another host)
                existing = submission_by_key(db, submission["idempotency_key"])
                if existing is not None:
                    return existing["reference"], False
            if "reference" not in str(exc):
                raise
    raise RuntimeError("could not find a free reference code after 10 tries")


# The patient's send is the one write whose two dialects differ here rather than in `db.py`: the same
# rows, written as statements in one transaction on SQLite (a local file: nothing to save by joining
# them), and as one statement on PostgreSQL, whose parts share the inserted row through `RETURNING`
# (one round trip and one plan, where a transaction of five statements costs three times the time).


def _write_sqlite(db, row: dict, submission: dict, draft_token: str, at: str) -> None:
    with db.transaction():
        insert_rows(db, [row], [submission["topics"]])
        if draft_token:
            db.execute("DELETE FROM drafts WHERE token = ?", [draft_token])
        if submission.get("alert"):
            queue_alerts(db, row["reference"], submission["level"], submission["alert"], at)


def _write_postgres(db, row: dict, submission: dict, draft_token: str, at: str) -> None:
    columns = list(SUBMISSION_COLUMNS)
    parts = [
        f"s AS (INSERT INTO submissions ({', '.join(columns)}) "  # noqa: S608 (fixed column names)
        f"VALUES ({', '.join('?' for _ in columns)}) RETURNING id, reference, received, level, status)",
        "t AS (INSERT INTO submission_topics (submission_id, topic, received, level, status) "
        "SELECT s.id, topic, s.received, s.level, s.status FROM s CROSS JOIN unnest(?::text[]) AS topic)",
        "d AS (DELETE FROM drafts WHERE token = ?)",
    ]
    params = [*(row[c] for c in columns), sorted(submission["topics"]), draft_token]
    alert = submission.get("alert")
    if alert:
        parts.append(f"o AS ({alerts_insert(alert['kind'], 'CROSS JOIN s')})")
        params += [submission["level"], alert["kind"], at, alert["due"]]
    db.execute(f"WITH {', '.join(parts)} SELECT s.reference FROM s", params)  # noqa: S608 (fixed names)
