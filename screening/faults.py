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
    return None


def report(fault: str, where: str) -> None:
    """Log one line naming the fault and where it happened (never answers, never a traceback)."""
    log.warning("database fault: %s on %s", fault, where)


@contextmanager
def tolerated(where: str) -> Iterator[None]:
    """Run a write a page can do without (touching a draft on a GET): a known fault is logged, not raised."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        fault = classify(exc)
        if fault is None:
            raise
        report(fault, where)
