"""Work on a submission under review: notes and status moves, each written with its audit entry, and the
audit log itself (who did what to which submission, and when; never answers or contact details)."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, timedelta

from .db import TRIED, clock

# The client address of the request being served (empty for the command line): every audit entry keeps
# it. The web layer sets it once per request, so no caller has to pass it along.
client_address: ContextVar[str] = ContextVar("client_address", default="")


def record_audit(
    db,
    action: str,
    *,
    reviewer_id: int | None = None,
    reviewer_email: str = "",
    reference: str = "",
    detail: str = "",
) -> None:
    """Append one entry to the audit log, with the client address of the request being served."""
    db.write(
        "INSERT INTO audit (at, reviewer_id, reviewer_email, action, submission_reference, detail, address) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [clock(), reviewer_id, reviewer_email, action, reference, detail, client_address.get()],
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
    db, query: AuditQuery, *, cursor: tuple[str, int] | None = None, newer: bool = False, limit: int = 50
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
    lower, upper = received_bounds(query)
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
    rows = db.rows(
        f"SELECT * FROM audit WHERE {' AND '.join(where) or 'TRUE'} "  # noqa: S608 (fixed column names only)
        f"ORDER BY at {direction}, id {direction} LIMIT ?",
        [*params, limit],
    )
    return rows[::-1] if newer else rows


def received_bounds(query) -> tuple[str, str]:
    """Return the (inclusive, exclusive) bounds on a time column: instants, or UTC days."""
    lower = query.since or query.date_from
    upper = query.before or (
        (date.fromisoformat(query.date_to) + timedelta(days=1)).isoformat() if query.date_to else ""
    )
    return lower, upper


def submission_for_review(db, reference: str) -> dict | None:
    """Return the whole stored submission with this reference."""
    return db.one("SELECT * FROM submissions WHERE reference = ?", [reference])


def submission_history(db, submission_id: int) -> tuple[list[dict], list[dict]]:
    """Return the submission's notes and status changes, oldest first, with their authors' emails."""
    notes = db.rows(
        "SELECT n.id, n.created, n.body, r.email AS author "
        "FROM notes n JOIN reviewers r ON r.id = n.reviewer_id "
        "WHERE n.submission_id = ? ORDER BY n.created, n.id",
        [submission_id],
    )
    changes = db.rows(
        "SELECT c.id, c.at, c.from_status, c.to_status, r.email AS author FROM status_changes c "
        "JOIN reviewers r ON r.id = c.reviewer_id WHERE c.submission_id = ? ORDER BY c.at, c.id",
        [submission_id],
    )
    return notes, changes


def notes_for(db, submission_ids: list[int]) -> dict[int, list[dict]]:
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
        for note in db.rows(sql, ids):
            found.setdefault(note["submission_id"], []).append(note)
    return found


def add_note(db, submission: dict, reviewer: dict, body: str) -> None:
    """Append a note and its audit entry in one transaction."""
    with db.transaction():
        _insert_note(db, submission, reviewer, body, clock())


def _insert_note(db, submission: dict, reviewer: dict, body: str, at: str) -> None:
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
    db, submission: dict, reviewer: dict, body: str, from_status: str, to_status: str
) -> bool:
    """Add a note and move the status in one transaction ("Called, left a message" + Contacted).

    Return False, storing neither, when the status is no longer `from_status`.
    """
    at = clock()
    with db.transaction():
        if not _move(db, submission, reviewer, from_status, to_status, at):
            return False
        _insert_note(db, submission, reviewer, body, at)
    return True


def change_status(db, submission: dict, reviewer: dict, from_status: str, to_status: str) -> bool:
    """Move a submission from `from_status` to `to_status`, with history and audit entries.

    Return False, changing nothing, when the status is no longer `from_status` (another reviewer moved it).
    """
    with db.transaction():
        return _move(db, submission, reviewer, from_status, to_status, clock())


def _move(db, submission: dict, reviewer: dict, from_status: str, to_status: str, at: str) -> bool:
    """Write a status move inside the caller's transaction; False when the status had changed.

    A move to Tried, not reached (from any status, itself included) counts one more try, at `at`.
    """
    tried = to_status == TRIED
    cursor = db.execute(
        "UPDATE submissions SET status = ?, updated = ?, attempts = attempts + ?, "
        "last_attempt = CASE WHEN ? = 1 THEN ? ELSE last_attempt END WHERE id = ? AND status = ?",
        [to_status, at, int(tried), int(tried), at, submission["id"], from_status],
    )
    if cursor.rowcount != 1:
        return False
    db.execute(
        "INSERT INTO status_changes (submission_id, reviewer_id, at, from_status, to_status) "
        "VALUES (?, ?, ?, ?, ?)",
        [submission["id"], reviewer["id"], at, from_status, to_status],
    )
    db.execute(
        "INSERT INTO audit (at, reviewer_id, reviewer_email, action, submission_reference, detail, address) "
        "VALUES (?, ?, ?, 'status', ?, ?, ?)",
        [
            at,
            reviewer["id"],
            reviewer["email"],
            submission["reference"],
            f"{from_status} -> {to_status}",
            client_address.get(),
        ],
    )
    return True
