"""Whether a read may go to the read-only replica: reachable, and not too far behind the primary.

One `ReplicaGate` per worker process asks the replica how far behind it is at most every few seconds
(one request pays for one small read; the others use the last answer). A replica that does not answer
or lags more than the limit sends reads to the primary; the log says so once when that starts and once
when the replica serves again.
"""

from __future__ import annotations

import logging
import threading
import time

from .. import faults

log = logging.getLogger("screening.replica")

# Seconds the replica is behind: 0 when it has replayed all it received (or is no standby at all), else
# the age of the last transaction it replayed. With nothing replayed yet it counts as far behind.
LAG_SQL = (
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0 "
    "WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 1e9) END"
)


def replica_lag_seconds(db) -> float:
    """Return how many seconds of the primary's changes the replica has not replayed yet."""
    return float(db.scalar(LAG_SQL))


class ReplicaGate:
    """One process's view of the replica: usable or not, checked at most every `every` seconds."""

    every = 2.0  # seconds between two checks in one process

    def __init__(self, name: str, max_lag: float):
        self.name = name  # the replica's address without credentials, for the log
        self.max_lag = max_lag
        self.state = "unchecked"  # "in use", "lagging" or "unreachable" once checked
        self.checked_at = -self.every
        self._lock = threading.Lock()

    def usable(self, db) -> bool:
        """Return whether reads may go to the replica `db`; one caller at a time checks it again."""
        if time.monotonic() - self.checked_at >= self.every and self._lock.acquire(blocking=False):
            try:
                self._check(db)
            finally:
                self.checked_at = time.monotonic()
                self._lock.release()
        return self.state == "in use"

    def _check(self, db) -> None:
        try:
            lag = replica_lag_seconds(db)
        except faults.database_errors():
            self._become("unreachable", "did not answer")
            return
        finally:
            db.reset()
        if lag > self.max_lag:
            self._become("lagging", f"is {lag:.0f} s behind the primary (the limit is {self.max_lag:.0f} s)")
        else:
            self._become("in use", "")

    def _become(self, state: str, why: str) -> None:
        if state == self.state:
            return
        if state == "in use" and self.state != "unchecked":
            log.warning("the replica %s serves the reviewers' reads again", self.name)
        elif state != "in use":
            log.warning("the replica %s %s: the reviewers' reads go to the primary", self.name, why)
        self.state = state
