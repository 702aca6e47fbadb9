"""Bulk work on the store: seeding fake submissions, the retention purge, backups and the health probe."""

from __future__ import annotations

import os
import sqlite3

from .db import clock
from .submissions import insert_rows, submission_row


class NotOnThisStore(Exception):
    """The command does not apply to this kind of database (the message says what to use instead)."""


def insert_seed_submissions(db, submissions: list[dict]) -> None:
    """Insert many submissions (and their topic rows) in one transaction, for seeding and benchmarks.

    Each holds what `insert_submission` takes (answers, outcome and topics as data) plus its
    `reference`, `received` and `status`; rows are built and inserted as the patient side's are.
    """
    rows = [submission_row(s, s["reference"], s["received"]) for s in submissions]
    with db.transaction():
        insert_rows(db, rows, [s["topics"] for s in submissions])


def existing_references(db, references: set[str]) -> set[str]:
    """Return which of these references are already taken."""
    found: set[str] = set()
    chosen = sorted(references)
    for start in range(0, len(chosen), 500):
        part = chosen[start : start + 500]
        marks = ", ".join("?" for _ in part)
        sql = f"SELECT reference FROM submissions WHERE reference IN ({marks})"  # noqa: S608 (placeholders only)
        found.update(row[0] for row in db.execute(sql, part))
    return found


def purge_submissions(db, before: str, *, batch: int = 2000) -> int:
    """Delete submissions received before `before`, with their topics, notes and status changes.

    Deletes in short transactions so patients can still send answers while a large purge runs.
    """
    total = 0
    while True:
        with db.transaction():
            ids = [
                row[0]
                for row in db.execute(
                    "SELECT id FROM submissions WHERE received < ? ORDER BY received LIMIT ?", [before, batch]
                )
            ]
            if ids:
                db.executemany("DELETE FROM submissions WHERE id = ?", [(i,) for i in ids])
        total += len(ids)
        if len(ids) < batch:
            return total


def purge_reviewer_records(db, before: str) -> tuple[int, int]:
    """Delete sign-in attempts and sessions older than `before`; return how many of each."""
    with db.transaction():
        attempts = db.execute("DELETE FROM signin_attempts WHERE at < ?", [before]).rowcount
        sessions = db.execute("DELETE FROM reviewer_sessions WHERE last_seen < ?", [before]).rowcount
    return attempts, sessions


def backup_database(db, target: str | os.PathLike, progress=None) -> None:
    """Copy the live SQLite database into `target` page by page (readers and writers carry on meanwhile)."""
    if db.dialect != "sqlite":
        raise NotOnThisStore(
            "screening backup copies a SQLite file. On PostgreSQL use the server's own tools, for example "
            "pg_dump --format=custom --file=screening.dump with the same connection settings."
        )
    destination = sqlite3.connect(str(target))
    try:
        with destination:
            db.conn.backup(destination, pages=1024, progress=progress)
    finally:
        destination.close()


def probe_write(db, timeout_ms: int = 1000) -> None:
    """Write the one health-probe row (raises the fault when the database cannot be written).

    A short wait for locks: a health check must answer quickly, and a database busy that long is a fault.
    """
    db.probe(
        "INSERT INTO health_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at",
        [clock()],
        timeout_ms,
    )
