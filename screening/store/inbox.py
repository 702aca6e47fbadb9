"""Reading submissions in order: the inbox's keyset pages over indexes that match each filter, the
counts beside it, and the long reads (export, FHIR search, the rule-change diff) in constant memory."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace

from .db import STATUSES
from .review import received_bounds

INBOX_COLUMNS = ("id", "reference", "received", "status", "level", "topics", "name", "language")


@dataclass(frozen=True)
class InboxQuery:
    """What the inbox shows; empty values do not filter.

    `search` is a normalised term (lowercase; a phone number as digits) matched anywhere in the
    `search` column; `reference` is the term as typed, tried first as an exact reference.
    """

    status: str = ""
    level: str = ""
    topic: str = ""
    date_from: str = ""
    date_to: str = ""
    search: str = ""
    reference: str = ""
    urgent: bool = False
    levels: tuple[str, ...] = ()  # every level id, highest first: the urgent-first order
    statuses: tuple[str, ...] = ()  # several statuses at once (the "Needs attention" view); overrides status
    not_ruleset_hash: str = ""  # only submissions made under another rule set than this one
    language: str = ""  # only submissions made in this language (en, es)
    since: str = ""  # received at or after this UTC instant (a clinic-local day's start); beats date_from
    before: str = ""  # received before this UTC instant; beats date_to


def inbox_page(
    db,
    query: InboxQuery,
    *,
    cursor: tuple | None = None,
    newer: bool = False,
    limit: int = 50,
    columns: tuple[str, ...] = INBOX_COLUMNS,
) -> list[dict]:
    """Return up to `limit` submissions in inbox order after (or, with `newer`, before) `cursor`.

    The cursor is (received, id), or (level, received, id) in urgent-first order: the keys of the last
    (or first) row of the page the reader saw. Urgent-first order is the newest-first lists of each
    level in turn, highest level first, so every page still reads one index range per level.
    """
    search = _search_filter(db, query)
    if not query.urgent or query.level:
        return _by_status(db, query, query.level, search, cursor and cursor[-2:], newer, limit, columns)
    levels = list(query.levels)
    start = levels.index(cursor[0]) if cursor and cursor[0] in levels else 0
    order = levels[start::-1] if newer else levels[start:]
    rows: list[dict] = []
    for position, level in enumerate(order):
        after = cursor[-2:] if cursor and position == 0 else None
        found = _by_status(db, query, level, search, after, newer, limit - len(rows), columns)
        rows = found + rows if newer else rows + found
        if len(rows) >= limit:
            break
    return rows


def inbox_count(db, query: InboxQuery) -> int:
    """Return how many submissions the query matches (for the CLI export's progress bar, and the
    "Needs attention" count: one index range per level and status)."""
    search = _search_filter(db, query)
    levels = (query.levels or ("",)) if query.statuses and not query.level else (query.level,)
    total = 0
    for level in levels:
        for status in query.statuses or (query.status,):
            source, _, _, where, params = _filters(db, replace(query, status=status), level, search)
            sql = f"SELECT count(*) FROM {source} WHERE {' AND '.join(where) or 'TRUE'}"  # noqa: S608
            total += db.execute(sql, params).fetchone()[0]
    return total


def _by_status(db, query: InboxQuery, level: str, search, after, newer: bool, limit: int, columns):
    """Return one page for one level; several statuses are read as one index range each, then merged."""
    if len(query.statuses) <= 1:
        single = replace(query, status=query.statuses[0]) if query.statuses else query
        return _ordered(db, single, level, search, after, newer, limit, columns)
    pages = [
        _ordered(db, replace(query, status=status), level, search, after, newer, limit, columns)
        for status in query.statuses
    ]
    merged = sorted(
        (row for page in pages for row in page), key=lambda r: (r["received"], r["id"]), reverse=True
    )
    return (
        merged[-limit:] if newer else merged[:limit]
    )  # newest first; going newer, the rows next to the cursor


def _search_filter(db, query: InboxQuery) -> tuple[str, list] | None:
    """Return a WHERE clause for the search: an exact reference first, else a substring match through
    the store's trigram index (FTS5 on SQLite, pg_trgm on PostgreSQL)."""
    if not (query.search or query.reference):
        return None
    if query.reference:
        exact = db.scalar("SELECT id FROM submissions WHERE reference = ?", [query.reference])
        if exact:
            return "s.id = ?", [exact]
    if len(query.search) < 3:  # a substring search needs three characters (the trigram indexes do)
        return "FALSE", []
    return db.search_clause(query.search)


def _filters(db, query: InboxQuery, level: str, search: tuple[str, list] | None) -> tuple:
    """Return (source, received column, id column, WHERE terms, parameters) for one level's rows.

    With a topic, rows come from submission_topics, whose copies of level and status (kept by
    triggers) let a topic combined with either read one index range.
    """
    where, params = [], []
    if query.topic:
        source = f"submission_topics t {db.join_in_order} submissions s ON s.id = t.submission_id"
        received, key, table = "t.received", "t.submission_id", "t"
        where.append("t.topic = ?")
        params.append(query.topic)
    else:
        source, received, key, table = "submissions s", "s.received", "s.id", "s"
    for column, value in (("status", query.status), ("level", level)):
        if value:
            where.append(f"{table}.{column} = ?")
            params.append(value)
    lower, upper = received_bounds(query)
    if lower:
        where.append(f"{received} >= ?")
        params.append(lower)
    if upper:
        where.append(f"{received} < ?")
        params.append(upper)
    if query.language:
        where.append("s.language = ?")
        params.append(query.language)
    if query.not_ruleset_hash:
        where.append("s.ruleset_hash != ?")
        params.append(query.not_ruleset_hash)
    if search:
        where.append(search[0])
        params.extend(search[1])
    return source, received, key, where, params


def _ordered(
    db,
    query: InboxQuery,
    level: str,
    search: tuple[str, list] | None,
    after: tuple | None,
    newer: bool,
    limit: int,
    columns: tuple[str, ...],
) -> list[dict]:
    """Return one newest-first page (read oldest-first when going `newer`, then reversed) for one level."""
    source, received, key, where, params = _filters(db, query, level, search)
    if after:
        where.append(f"({received}, {key}) {'>' if newer else '<'} (?, ?)")
        params.extend(after)
    direction = "ASC" if newer else "DESC"
    select = ", ".join(f"s.{column}" for column in columns)
    sql = (
        f"SELECT {select} FROM {source} WHERE {' AND '.join(where) or 'TRUE'} "  # noqa: S608 (no values inlined)
        f"ORDER BY {received} {direction}, {key} {direction} LIMIT ?"
    )
    rows = db.rows(sql, [*params, limit])
    return rows[::-1] if newer else rows


def iter_inbox(db, query: InboxQuery, *, chunk: int = 1000, full: bool = False) -> Iterator[list[dict]]:
    """Yield every submission the query matches, in chunks of keyset pages (constant memory)."""
    cursor = None
    columns = (
        *INBOX_COLUMNS,
        "answers",
        "ruleset_version",
        "email",
        "phone",
        "contact_method",
        "attempts",
        "last_attempt",
    )
    if full:
        columns = (*columns, "ruleset_hash")
    while True:
        rows = inbox_page(db, query, cursor=cursor, limit=chunk, columns=columns)
        if not rows:
            return
        yield rows
        last = rows[-1]
        cursor = (last["level"], last["received"], last["id"])


def status_counts(db) -> dict[str, int]:
    """Return how many submissions have each status (from the trigger-kept counters)."""
    counts = dict.fromkeys(STATUSES, 0)
    counts.update(
        {row["status"]: row["n"] for row in db.rows("SELECT status, n FROM submission_status_counts")}
    )
    return counts


def weekly_counts(db, bounds: list[str], levels: list[str], topics: list[str]) -> tuple[dict, dict]:
    """Return {level: [count per week]} and {topic: [count per week]} for the weeks between `bounds`
    (n + 1 UTC instants or days: each week's start, then the last week's end).

    Each count reads one range of a covering index, so the cost grows with the weeks shown, not the table.
    """
    by_level = {
        level: [
            db.execute(
                "SELECT count(*) FROM submissions WHERE level = ? AND received >= ? AND received < ?",
                [level, start, end],
            ).fetchone()[0]
            for start, end in itertools.pairwise(bounds)
        ]
        for level in levels
    }
    by_topic = {
        topic: [
            db.execute(
                "SELECT count(*) FROM submission_topics WHERE topic = ? AND received >= ? AND received < ?",
                [topic, start, end],
            ).fetchone()[0]
            for start, end in itertools.pairwise(bounds)
        ]
        for topic in topics
    }
    return by_level, by_topic


def iter_answers(db, *, chunk: int = 1000) -> Iterator[tuple[str, dict]]:
    """Yield (reference, answers) for every submission, oldest first, in keyset pages (constant memory)."""
    last = 0
    while True:
        rows = db.execute(
            "SELECT id, reference, answers FROM submissions WHERE id > ? ORDER BY id LIMIT ?", [last, chunk]
        ).fetchall()
        if not rows:
            return
        for _, reference, answers in rows:
            yield reference, json.loads(answers)
        last = rows[-1][0]


def count_submissions(db) -> int:
    return db.scalar("SELECT count(*) FROM submissions")
