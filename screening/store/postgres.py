"""PostgreSQL's side of the store's one connection object: a pool shared by a process's threads (see
`db.py` for the interface both stores offer)."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from .db import BUSY_TIMEOUT_MS, Database, like_pattern


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
            reconnect_timeout=self.RECONNECT_SECONDS,
            name="screening",
        )
        self.pool.open(wait=False)

    # psycopg_pool retries a lost server with a growing wait (1 s, 2 s, 4 s ...); giving up after a few
    # seconds starts again from 1 s at the next request, so a server that is back serves within about
    # 2 s, whatever the outage's length (a long backoff kept hosts failing 8 to 12 s after a restart).
    RECONNECT_SECONDS = 4.0
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

    def write(self, sql: str, params: Sequence = ()):
        """Run one write statement: outside a transaction it is its own (autocommit), with no BEGIN and
        COMMIT to wait for."""
        return self.execute(sql, params)

    def insert(self, sql: str, params: Sequence = ()) -> int:
        return int(self.write(sql + " RETURNING id", params).fetchone()[0])

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
