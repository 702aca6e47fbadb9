"""`screening db copy`: move a clinic's data from one store to another (SQLite to PostgreSQL, usually)."""

from __future__ import annotations

from collections.abc import Callable

# Every table of the app, parents before the tables whose rows point at them (the order a copy fills
# them), with its key, for reading it in keyset batches (constant memory at any size).
KEYS = {
    "reviewers": ("id",),
    "submissions": ("id",),
    "submission_topics": ("topic", "received", "submission_id"),
    "notes": ("id",),
    "status_changes": ("id",),
    "audit": ("id",),
    "drafts": ("token",),
    "reviewer_sessions": ("id",),
    "signin_attempts": ("id",),
    "notices_sent": ("key",),
    "outbox": ("id",),
    "api_tokens": ("id",),
    "recovery_codes": ("id",),
    "passkeys": ("id",),
    "questionnaire_versions": ("ruleset_hash",),
}
TABLES = tuple(KEYS)
TEXT_KEYED = {
    "submission_topics",
    "drafts",
    "reviewer_sessions",
    "notices_sent",
    "questionnaire_versions",
}  # no id sequence
BATCH = 1000


class TargetNotEmpty(Exception):
    """The target already holds submissions: a copy never merges two clinics' data."""


def columns(db, table: str) -> list[str]:
    return [column[0] for column in db.execute(f"SELECT * FROM {table} LIMIT 0").description]  # noqa: S608


def count(db, table: str) -> int:
    return db.scalar(f"SELECT count(*) FROM {table}")  # noqa: S608 (a fixed table name)


def copy_all(source, target, progress: Callable[[int], None] | None = None) -> list[tuple[str, int, int]]:
    """Copy every table from `source` into the empty, migrated `target`, parents first, in batches.

    Return (table, rows in source, rows in target) for every table, counted again at the end.
    """
    held = count(target, "submissions")
    if held:
        raise TargetNotEmpty(f"the target already holds {held:,} submissions; copy into an empty database")
    for table in TABLES:
        shared = [c for c in columns(source, table) if c in set(columns(target, table))]
        _copy_table(source, target, table, shared, progress)
        if table not in TEXT_KEYED:
            target.after_explicit_ids(table)
    return [(table, count(source, table), count(target, table)) for table in TABLES]


def _copy_table(source, target, table: str, shared: list[str], progress) -> None:
    key = KEYS[table]
    select = ", ".join(shared)
    order = ", ".join(key)
    positions = [shared.index(column) for column in key]
    insert = f"INSERT INTO {table} ({select}) VALUES ({', '.join('?' for _ in shared)})"  # noqa: S608
    after: tuple | None = None
    while True:
        where = f"WHERE ({order}) > ({', '.join('?' for _ in key)}) " if after else ""
        rows = source.execute(
            f"SELECT {select} FROM {table} {where}ORDER BY {order} LIMIT ?",  # noqa: S608 (fixed names only)
            [*(after or ()), BATCH],
        ).fetchall()
        if not rows:
            return
        with target.transaction():
            target.executemany(insert, [tuple(row) for row in rows])
        if progress:
            progress(len(rows))
        after = tuple(rows[-1][i] for i in positions)
