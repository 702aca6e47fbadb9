"""Name the database faults a patient or reviewer can wait out: the page says so with a 503 and keeps
everything they typed, and the log gets one line an operator can act on (no traceback).

Unknown errors are not faults: they keep their traceback and their 500.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger("screening.faults")

# SQLite's primary result codes (Python exposes the name, extended codes carry a suffix).
SQLITE_FAULTS = {
    "SQLITE_BUSY": "database busy",
    "SQLITE_LOCKED": "database busy",
    "SQLITE_FULL": "disk full",
    "SQLITE_READONLY": "read-only database",
    "SQLITE_CANTOPEN": "cannot open database",
    "SQLITE_IOERR": "database I/O error",
}
# PostgreSQL's error classes (psycopg names them); any other lost connection is "database unreachable".
POSTGRES_FAULTS = {
    "DiskFull": "disk full",
    "OutOfMemory": "database out of memory",
    "ReadOnlySqlTransaction": "read-only database",
    "LockNotAvailable": "database busy",
    "QueryCanceled": "database busy",
    "DeadlockDetected": "database busy",
    "SerializationFailure": "database busy",
    "TooManyConnections": "database busy",
}
OS_FAULTS = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk full",
    errno.EROFS: "read-only database",
    errno.EACCES: "cannot open database",
    errno.EPERM: "cannot open database",
}
RETRY_AFTER_SECONDS = 10

# endpoint -> a function that renders the posted form again (kept answers and a plain notice).
PAGES_AGAIN: dict[str, Callable[[], object]] = {}


def page_again(endpoint: str):
    """Register the page that a POST to `endpoint` shows again, with what was posted, on a fault."""

    def register(render):
        PAGES_AGAIN[endpoint] = render
        return render

    return register


class Unavailable(Exception):
    """A known fault, raised where the app cannot go on without the database."""

    def __init__(self, fault: str):
        self.fault = fault
        super().__init__(fault)


def classify(exc: BaseException) -> str | None:
    """Return the fault's name ("database busy", "disk full", ...) or None for an unknown error."""
    if isinstance(exc, Unavailable):
        return exc.fault
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", "") or ""
        for code, fault in SQLITE_FAULTS.items():
            if name == code or name.startswith(code + "_"):
                return fault
        return None
    if isinstance(exc, OSError):
        return OS_FAULTS.get(exc.errno)
    return _postgres_fault(exc)


def _postgres_fault(exc: BaseException) -> str | None:
    try:
        import psycopg
    except ImportError:  # pragma: no cover (psycopg is a dependency)
        return None
    if not isinstance(exc, psycopg.Error):
        return None
    for cls in type(exc).__mro__:
        if cls.__name__ in POSTGRES_FAULTS:
            return POSTGRES_FAULTS[cls.__name__]
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return "database unreachable"  # a restart, a lost connection, the pool's wait running out
    return None


def database_errors() -> tuple[type[BaseException], ...]:
    """Return the exception types a database call can raise (for `except` clauses around one)."""
    import psycopg

    return (sqlite3.Error, psycopg.Error, OSError)


def report(fault: str, where: str) -> None:
    """Log one line naming the fault and where it happened (never answers, never a traceback)."""
    log.warning("database fault: %s on %s", fault, where)


@contextmanager
def tolerated(where: str) -> Iterator[None]:
    """Run a write a page can do without (touching a draft on a GET): a known fault is logged, not raised."""
    try:
        yield
    except database_errors() as exc:
        fault = classify(exc)
        if fault is None:
            raise
        report(fault, where)
