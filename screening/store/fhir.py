"""The reads and writes of the FHIR API: search pages, the questionnaire each submission was made with,
token scopes and Bulk Data export jobs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from .db import clock

# The columns every FHIR resource of a submission is built from.
RESOURCE_COLUMNS = (
    "id, reference, received, level, topics, answers, ruleset_version, ruleset_hash, "
    "name, email, phone, contact_method"
)


@dataclass(frozen=True)
class FhirQuery:
    """What a search asks of the submissions: references (any of), and instants (all of)."""

    references: tuple[str, ...] = ()
    # (operator, start, end): the stored instant compared with a range [start, end) of UTC text.
    dates: tuple[tuple[str, str, str], ...] = ()
    since: str = ""

    def where(self) -> tuple[list[str], list]:
        """Return the SQL conditions and their parameters."""
        clauses, params = [], []
        if self.references:
            clauses.append(f"reference IN ({', '.join('?' for _ in self.references)})")
            params.extend(self.references)
        for op, start, end in self.dates:
            clause, values = DATE_CLAUSES[op](start, end)
            clauses.append(clause)
            params.extend(values)
        if self.since:
            clauses.append("received > ?")
            params.append(self.since)
        return clauses, params


# FHIR's date prefixes over a range [start, end): eq in it, ne outside it, gt after it, lt before it.
DATE_CLAUSES = {
    "eq": lambda start, end: ("(received >= ? AND received < ?)", [start, end]),
    "ne": lambda start, end: ("(received < ? OR received >= ?)", [start, end]),
    "gt": lambda start, end: ("received >= ?", [end]),
    "ge": lambda start, end: ("received >= ?", [start]),
    "lt": lambda start, end: ("received < ?", [start]),
    "le": lambda start, end: ("received < ?", [end]),
}


def fhir_search(db, query: FhirQuery, *, after: tuple[str, int] | None = None, limit: int = 20) -> list[dict]:
    """Return submissions oldest first (received, id) for one keyset page of a FHIR search."""
    clauses, params = query.where()
    if after:
        clauses.append("(received, id) > (?, ?)")
        params.extend(after)
    sql = (
        f"SELECT {RESOURCE_COLUMNS} FROM submissions WHERE {' AND '.join(clauses) or 'TRUE'} "  # noqa: S608 (fixed clauses only)
        "ORDER BY received, id LIMIT ?"
    )
    return db.rows(sql, [*params, limit])


def fhir_count(db, query: FhirQuery) -> int:
    """Return how many submissions a FHIR search matches (for `_summary=count`)."""
    clauses, params = query.where()
    sql = f"SELECT count(*) FROM submissions WHERE {' AND '.join(clauses) or 'TRUE'}"  # noqa: S608
    return int(db.scalar(sql, params))


def iter_fhir(db, query: FhirQuery, *, chunk: int = 1000) -> Iterator[list[dict]]:
    """Yield every submission the query matches, oldest first, a keyset page at a time (constant memory)."""
    after = None
    while True:
        rows = fhir_search(db, query, after=after, limit=chunk)
        if not rows:
            return
        yield rows
        after = (rows[-1]["received"], rows[-1]["id"])


# --- the questionnaire each submission was made with --------------------------------------------


def keep_questionnaire(db, ruleset_hash: str, version: str, form: dict) -> None:
    """Keep the questionnaire of this rule-set hash, once (its content never changes under one hash)."""
    db.write(
        "INSERT INTO questionnaire_versions (ruleset_hash, version, form, kept) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (ruleset_hash) DO NOTHING",
        [ruleset_hash, version, json.dumps(form, separators=(",", ":")), clock()],
    )


def kept_questionnaire(db, ruleset_hash: str) -> dict | None:
    """Return the questionnaire kept under this rule-set hash, or None (submissions from before m040)."""
    found = db.scalar("SELECT form FROM questionnaire_versions WHERE ruleset_hash = ?", [ruleset_hash])
    return json.loads(found) if found else None


# --- Bulk Data export jobs --------------------------------------------------------------------------


def add_bulk_export(db, job: dict) -> None:
    now = clock()
    db.write(
        "INSERT INTO bulk_exports (id, token_id, request, types, since, status, total, created, heartbeat, "
        "transaction_time) VALUES (?, ?, ?, ?, ?, 'in-progress', ?, ?, ?, ?)",
        [
            job["id"],
            job["token_id"],
            job["request"],
            json.dumps(job["types"]),
            job["since"],
            job["total"],
            now,
            now,
            job["transaction_time"],
        ],
    )


def bulk_export(db, job_id: str) -> dict | None:
    row = db.one("SELECT * FROM bulk_exports WHERE id = ?", [job_id])
    if row is not None:
        row["types"] = json.loads(row["types"])
        row["output"] = json.loads(row["output"])
    return row


def bulk_export_progress(db, job_id: str, progress: int) -> bool:
    """Record how many submissions are written; return False when the job was cancelled meanwhile."""
    return (
        db.write(
            "UPDATE bulk_exports SET progress = ?, heartbeat = ? WHERE id = ? AND status = 'in-progress'",
            [progress, clock(), job_id],
        ).rowcount
        == 1
    )


def finish_bulk_export(db, job_id: str, *, output: list[dict] | None = None, error: str = "") -> None:
    db.write(
        "UPDATE bulk_exports SET status = ?, output = ?, error = ?, heartbeat = ? "
        "WHERE id = ? AND status = 'in-progress'",
        ["error" if error else "complete", json.dumps(output or []), error, clock(), job_id],
    )


def delete_bulk_export(db, job_id: str) -> None:
    db.write("DELETE FROM bulk_exports WHERE id = ?", [job_id])


def expired_bulk_exports(db, before: str) -> list[str]:
    """Return the ids of jobs created before `before` (their files are due for deletion)."""
    return [row["id"] for row in db.rows("SELECT id FROM bulk_exports WHERE created < ?", [before])]
