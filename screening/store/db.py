"""The one object that owns a database connection and its transaction state, for each of the two stores.

Everything else in the store package writes plain SQL with `?` placeholders and calls these methods,
so this module (with the two schema modules) is the one place where SQLite and PostgreSQL differ:
how a connection is made and shared, how a write transaction starts, how concurrent writers queue,
how a substring search finds its rows, how ids come back from an insert, and which errors mean what.
"""

from __future__ import annotations

import fcntl
import functools
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

BUSY_TIMEOUT_MS = 5000
SEARCH_PROBE_LIMIT = 2000  # at most this many matches: look them up; more: walk the date index instead
POSTGRES_SCHEMES = ("postgresql", "postgres")


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
        f"SCREENING_DATABASE: {scheme}:// is not a database this app can use; give a file path for "
        "SQLite or a postgresql://user:password@host:port/dbname URL"
    )


def connect(target: str | os.PathLike, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS, pool: dict | None = None):
    """Open the database the setting names: a SQLite file, or a pool of PostgreSQL connections."""
    if is_postgres(target):
        return PostgresDatabase(str(target), busy_timeout_ms=busy_timeout_ms, **(pool or {}))
    return SQLiteDatabase(target, busy_timeout_ms=busy_timeout_ms)


class Result:
    """Rows read in full, with the cursor's description and row count (what callers of `execute` use)."""

    def __init__(self, description, rows: list, rowcount: int):
        self.description = description
        self._rows = rows
        self.rowcount = rowcount

    def fetchone(self):
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list:
        return list(self._rows)

    def __iter__(self):
        return iter(self._rows)


def _dicts(cursor) -> list[dict]:
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class Database:
    """What both stores offer. SQL uses `?` placeholders; each store turns them into its own."""

    dialect = ""
    join_in_order = "JOIN"  # a join whose left side drives the plan
    skip_locked = ""  # added to a SELECT that claims rows two workers may race for

    def execute(self, sql: str, params: Sequence = ()):
        raise NotImplementedError

    def executemany(self, sql: str, rows: Sequence[Sequence]) -> None:
        raise NotImplementedError

    def transaction(self):
        raise NotImplementedError

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

    def insert(self, sql: str, params: Sequence = ()) -> int:
        """Run one INSERT and return the new row's id."""
        raise NotImplementedError

    def lock_keys(self, keys: Sequence[str]) -> None:
        """Inside a transaction, queue behind any other transaction locking one of these keys."""

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Send the writes inside as one batch where the store can (their results are not read)."""
        yield

    def search_clause(self, term: str) -> tuple[str, list]:
        """Return a WHERE term matching submissions (as `s`) whose search text contains `term`."""
        raise NotImplementedError

    def after_explicit_ids(self, table: str) -> None:
        """Let the next insert without an id follow rows inserted with explicit ids."""

    def reset(self) -> None:
        """Leave no transaction open (called after each request)."""

    def close(self) -> None:
        raise NotImplementedError


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


@functools.lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    """Turn `?` placeholders into psycopg's `%s` (a literal % doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresDatabase(Database):
    """A pool of PostgreSQL connections (psycopg 3, psycopg_pool) shared by a process's threads.

    A thread borrows one connection (in autocommit mode) at its first statement and keeps it until
    `reset()` at the end of the request, so a request pays for one borrowing however many statements it
    runs. The pool checks a connection before lending it, and a connection that failed is thrown away,
    so a server restart costs the requests during the restart and nothing after.
    """

    dialect = "postgresql"
    join_in_order = "JOIN"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(
        self,
        url: str,
        *,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 5.0,
    ):
        import psycopg
        from psycopg_pool import ConnectionPool

        self.url = url
        self.IntegrityError = psycopg.IntegrityError
        self.OperationalError = psycopg.OperationalError
        self.Error = psycopg.Error
        self.busy_timeout_ms = int(busy_timeout_ms)
        self._local = threading.local()
        self._idle_since: dict[int, float] = {}
        self.pool = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            open=False,
            check=self._check,
            reset=self._returned,
            kwargs={"autocommit": True, "connect_timeout": max(2, int(timeout))},
            configure=self._configure,
            reconnect_timeout=60,
            name="screening",
        )
        self.pool.open(wait=False)

    RECHECK_AFTER = 2.0  # seconds idle in the pool before a connection is checked again when lent

    def _returned(self, conn) -> None:
        self._idle_since[id(conn)] = time.monotonic()

    def _check(self, conn) -> None:
        """Check a connection before lending it, unless it came back moments ago: under load that saves a
        round trip per request. A connection that died in those moments fails its request with the
        "try again" page and is thrown away; the next one is checked or new."""
        if time.monotonic() - self._idle_since.pop(id(conn), 0.0) > self.RECHECK_AFTER:
            conn.execute("")

    def _configure(self, conn) -> None:
        # A statement that waits this long for a lock gives up (the app says "busy, try again").
        conn.execute(f"SET lock_timeout = {self.busy_timeout_ms}")
        conn.execute("SET TIME ZONE 'UTC'")

    def _held(self):
        """Return this thread's connection, borrowing one from the pool for the rest of the request."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self.pool.getconn()
        return conn

    def _release(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            self._local.conn = None
            self.pool.putconn(conn)  # a broken connection is thrown away, not lent again

    def execute(self, sql: str, params: Sequence = ()):
        conn = self._held()
        try:
            # A substring search is never prepared, so it is planned for its own term: a common name walks
            # the date order, a rare one reads the trigram index (a prepared statement's generic plan,
            # made once for any term, would pick one way for all). Other statements are prepared.
            prepare = False if " LIKE " in sql else None
            cursor = conn.execute(_pg_sql(sql), list(params) if params else None, prepare=prepare)
            rows = cursor.fetchall() if cursor.description else []
        except self.OperationalError:
            if not getattr(self._local, "depth", 0):
                self._release()
            raise
        return Result(cursor.description, rows, cursor.rowcount)

    def executemany(self, sql: str, rows) -> None:
        rows = [list(row) for row in rows]
        if not rows:
            return
        with self.transaction(), self._held().cursor() as cursor:
            cursor.executemany(_pg_sql(sql), rows)

    def insert(self, sql: str, params: Sequence = ()) -> int:
        return int(self.write(sql + " RETURNING id", params).fetchone()[0])

    @contextmanager
    def batch(self) -> Iterator[None]:
        """PostgreSQL's pipeline mode: the statements inside travel together, one round trip in all."""
        with self._held().pipeline():
            yield

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if getattr(self._local, "depth", 0):
            yield
            return
        conn = self._held()
        self._local.depth = 1
        try:
            with conn.transaction():
                yield
        except self.OperationalError:
            self._local.depth = 0
            self._release()
            raise
        finally:
            self._local.depth = 0

    def lock_keys(self, keys: Sequence[str]) -> None:
        for key in sorted(set(keys)):  # one order for everyone: no deadlock between two lockers
            self.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", [key])

    def search_clause(self, term: str) -> tuple[str, list]:
        """Substring search through a pg_trgm GIN index on the search text (the planner picks the
        index for a rare term and the date order for a common one)."""
        return "s.search LIKE ? ESCAPE '\\'", [like_pattern(term)]

    def after_explicit_ids(self, table: str) -> None:
        self.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 (a fixed table name)
            f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
        )

    def probe(self, sql: str, params: Sequence, timeout_ms: int) -> None:
        with self.transaction():
            self.execute(f"SET LOCAL lock_timeout = {int(timeout_ms)}")
            self.execute(sql, params)

    def reset(self) -> None:
        """Give this thread's connection back to the pool (after each request)."""
        self._release()

    def close(self) -> None:
        self._release()
        self.pool.close()
