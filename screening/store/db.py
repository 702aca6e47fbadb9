"""The one object that owns a database connection and its transaction state, for each of the two stores:
the interface and SQLite's here, PostgreSQL's in `postgres.py`.

Everything else in the store package writes plain SQL with `?` placeholders and calls these methods,
so these two modules (with the two schema modules) are the one place where SQLite and PostgreSQL differ:
how a connection is made and shared, how a write transaction starts, how concurrent writers queue,
how a substring search finds its rows, how ids come back from an insert, and which errors mean what.
One write is the exception, kept beside its SQLite twin in `submissions.py`: the patient's send, which
PostgreSQL takes as one statement.
"""

from __future__ import annotations

import abc
import fcntl
import os
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import sqlite_utils

BUSY_TIMEOUT_MS = 5000
SEARCH_PROBE_LIMIT = 2000  # at most this many matches: look them up; more: walk the date index instead
POSTGRES_SCHEMES = ("postgresql", "postgres")
STATUSES = (
    "new",
    "in_review",
    "attempted",
    "contacted",
    "closed",
)  # how they move: screening/review/workflow.py
TRIED = "attempted"  # the status whose every move in counts one more try to reach the patient


class DatabaseSettingError(ValueError):
    """SCREENING_DATABASE names something that is neither a file path nor a postgresql:// URL."""


def now() -> str:
    """Return the current time as an ISO-8601 UTC string (sorts as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def clock() -> str:
    """The store's clock: the package's `now`, so a test that moves `store.now` moves every module."""
    return sys.modules[__package__].now()


def shift(timestamp: str, **delta: float) -> str:
    """Return `timestamp` moved by a timedelta (minutes=-30, days=1, ...), in the same text format."""
    moved = datetime.fromisoformat(timestamp) + timedelta(**delta)
    return moved.astimezone(UTC).isoformat(timespec="microseconds")


def is_postgres(target: str | os.PathLike) -> bool:
    """Return whether the database setting names a PostgreSQL server, refusing any other scheme."""
    text = str(target)
    scheme, sep, _ = text.partition("://")
    if not sep:
        return False
    if scheme.lower() in POSTGRES_SCHEMES:
        return True
    raise DatabaseSettingError(
        f"{scheme}:// is not a database this app can use; give a file path for "
        "SQLite or a postgresql://user:password@host:port/dbname URL"
    )


def _dicts(cursor) -> list[dict]:
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class Database(abc.ABC):
    """What both stores offer. SQL uses `?` placeholders; each store turns them into its own."""

    dialect = ""
    join_in_order = "JOIN"  # a join whose left side drives the plan
    skip_locked = ""  # added to a SELECT that claims rows two workers may race for

    @abc.abstractmethod
    def execute(self, sql: str, params: Sequence = ()):
        """Run one statement and return its cursor (rows, description, row count)."""

    @abc.abstractmethod
    def executemany(self, sql: str, rows: Sequence[Sequence]) -> None:
        """Run one statement for each row of parameters."""

    @abc.abstractmethod
    def transaction(self):
        """A write transaction (a context manager); one inside another joins the outer one."""

    def rows(self, sql: str, params: Sequence = ()) -> list[dict]:
        """Run a read and return its rows as dicts."""
        return _dicts(self.execute(sql, params))

    def query(self, sql: str, params: Sequence = ()) -> Iterator[dict]:
        return iter(self.rows(sql, params))

    def one(self, sql: str, params: Sequence = ()) -> dict | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def scalar(self, sql: str, params: Sequence = ()):
        row = self.execute(sql, params).fetchone()
        return row[0] if row else None

    def write(self, sql: str, params: Sequence = ()):
        """Run one write statement, committed at once (or as part of the caller's transaction)."""
        with self.transaction():
            return self.execute(sql, params)

    @abc.abstractmethod
    def insert(self, sql: str, params: Sequence = ()) -> int:
        """Run one INSERT and return the new row's id."""

    @abc.abstractmethod
    def lock_keys(self, keys: Sequence[str]) -> None:
        """Inside a transaction, queue behind any other transaction locking one of these keys."""

    @abc.abstractmethod
    def search_clause(self, term: str) -> tuple[str, list]:
        """Return a WHERE term matching submissions (as `s`) whose search text contains `term`."""

    @abc.abstractmethod
    def after_explicit_ids(self, table: str) -> None:
        """Let the next insert without an id follow rows inserted with explicit ids."""

    @abc.abstractmethod
    def reset(self) -> None:
        """Leave no transaction open (called after each request)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Close the connection (SQLite) or the pool (PostgreSQL)."""

    @abc.abstractmethod
    def probe(self, sql: str, params: Sequence, timeout_ms: int) -> None:
        """Run one write with a short wait for locks (the health check)."""


def like_pattern(term: str) -> str:
    """Return a LIKE pattern matching `term` anywhere (with `ESCAPE '\\'`)."""
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def distinctive_part(term: str) -> str:
    """Return the part of a search term to look up in the trigram index; the whole term is checked after.

    A trigram shared by most rows (an email domain, an area code) makes the index read its whole list,
    so an email is looked up by its local part and a long phone number by its last 7 digits.
    """
    local = term.split("@", 1)[0]
    if "@" in term and len(local) >= 3:
        return local
    if term.isdigit() and len(term) > 7:
        return term[-7:]
    return term


class SQLiteDatabase(Database):
    """One SQLite file through sqlite-utils: one connection per thread, writers queued by a file lock."""

    dialect = "sqlite"
    join_in_order = "CROSS JOIN"  # SQLite keeps a CROSS JOIN's order: the topic index drives the page
    IntegrityError = sqlite3.IntegrityError
    Error = sqlite3.Error

    def __init__(self, path: str | os.PathLike, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.sqlite = sqlite_utils.Database(path)
        self.conn = self.sqlite.conn
        self.busy_timeout_ms = int(busy_timeout_ms)
        self._depth = 0  # nested write transactions reuse the outer one and its lock
        self._lock_path = f"{path}.write-lock"
        self.closed = False
        self.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
        self.execute("PRAGMA foreign_keys = ON")
        self.execute("PRAGMA synchronous = FULL")

    def execute(self, sql: str, params: Sequence = ()):
        return self.sqlite.execute(sql, params)

    def executemany(self, sql: str, rows) -> None:
        self.conn.executemany(sql, rows)

    def tracer(self, trace):
        """Call `trace(sql, params)` for each statement run inside the `with` block (tests read plans)."""
        return self.sqlite.tracer(trace)

    def insert(self, sql: str, params: Sequence = ()) -> int:
        return int(self.write(sql, params).lastrowid)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction under BEGIN IMMEDIATE, so no other writer slips in between its reads
        and writes. Writers queue on an exclusive lock file beside the database first: SQLite's own
        busy wait sleeps and polls (1 ms, then 2, 5, 10 ...), while a waiter on the lock file wakes as
        soon as it is free. Closing the descriptor (or the process dying) releases it."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._depth = 1
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    yield
                except BaseException:
                    self.conn.execute("ROLLBACK")
                    raise
                else:
                    self.conn.execute("COMMIT")
            finally:
                self._depth = 0
        finally:
            os.close(fd)

    def lock_keys(self, keys: Sequence[str]) -> None:
        """Nothing to do: BEGIN IMMEDIATE already lets one writer in at a time."""

    def after_explicit_ids(self, table: str) -> None:
        """Nothing to do: SQLite's next rowid follows the largest one."""

    def search_clause(self, term: str) -> tuple[str, list]:
        """Substring search through the FTS5 trigram index. A rare term (at most SEARCH_PROBE_LIMIT
        matches) looks its matches up and sorts them; a common one walks the date-ordered index and
        tests membership, finding a page of matches after a short walk."""
        key = distinctive_part(term)
        phrase = '"' + key.replace('"', '""') + '"'
        matches = self.scalar(
            "SELECT count(*) FROM (SELECT rowid FROM submissions_fts WHERE submissions_fts MATCH ? LIMIT ?)",
            [phrase, SEARCH_PROBE_LIMIT + 1],
        )
        membership = "+s.id" if matches > SEARCH_PROBE_LIMIT else "s.id"
        clause = f"{membership} IN (SELECT rowid FROM submissions_fts WHERE submissions_fts MATCH ?)"  # noqa: S608
        if key == term:
            return clause, [phrase]
        return f"{clause} AND s.search LIKE ? ESCAPE '\\'", [phrase, like_pattern(term)]

    def probe(self, sql: str, params: Sequence, timeout_ms: int) -> None:
        """Run one write with a short busy wait (a health check must answer quickly)."""
        self.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")
        try:
            self.write(sql, params)
        finally:
            self.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")

    def reset(self) -> None:
        if not self.closed and self.conn.in_transaction:
            self.conn.rollback()

    def close(self) -> None:
        self.closed = True
        self.sqlite.close()


def without_password(url: str) -> str:
    """Return a database setting fit for a message or a log: a URL's password shows as ***."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
