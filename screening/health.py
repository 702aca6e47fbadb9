"""GET /healthz for load balancers: 200 while this host can save, 503 while it cannot, within a second."""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask, current_app

from . import faults, store
from .db import close_db, close_db_connections, get_db, replica_database

PROBE_EVERY = 2.0  # seconds between write probes in one worker while the database answers
ANSWER_WITHIN = 0.7  # seconds the page waits for a probe: it answers within 1 s whatever the database does
PROBE_LOCK_WAIT_MS = 400  # a database locked longer than this is busy: the probe says so in time
SLOW_PROBE = 1.5  # a probe running this long, after a good one, makes the page say 503


def init_app(app: Flask) -> None:
    app.add_url_rule("/healthz", "healthz", healthz)


def healthz():
    """For load balancers and uptime checks: 200 while this host can save, 503 while it cannot.

    It writes one row (at most every few seconds per worker, and at every call while the last write
    failed), so a full disk, a read-only mount or a database locked for long says 503. A probe runs in
    the background: the page waits for it at most ANSWER_WITHIN, so it answers within a second even
    while the database does not. It names the rule set in use, and which database it could not reach
    (the primary; a replica's state is shown beside it); never an address or credentials (the fault is
    in the log, and a replica's address with its state).
    """
    probe = current_app.extensions.get("health")
    if probe is None:
        probe = current_app.extensions.setdefault("health", Probe(current_app._get_current_object()))
    fault = probe.fault()
    if fault is not None:
        if not store.is_postgres(current_app.config["DATABASE"]):
            close_db_connections()  # a SQLite file may have moved or come back; a pool reconnects by itself
        return {"status": "unavailable", "database": "primary"}, 503
    ruleset = current_app.extensions["ruleset"]
    body = {"status": "ok", "ruleset": {"version": ruleset.version, "hash": ruleset.hash}}
    if current_app.config.get("DATABASE_REPLICA"):
        # "in use", or "lagging" / "unreachable" while the reviewers read from the primary (this host
        # still serves, so the status stays 200).
        body["replica"] = replica_database()[1].state
    return body


class Probe:
    """One worker's write probe: at most one runs at a time, in its own thread, with the app's context."""

    def __init__(self, app: Flask):
        self.app = app
        self.lock = threading.Lock()
        self.running: threading.Thread | None = None
        self.started = 0.0
        self.last: str | None = "not checked yet"  # the last finished probe's fault; None: it wrote
        self.finished = -PROBE_EVERY

    def fault(self) -> str | None:
        """Return the current fault (None: the database takes writes), waiting at most ANSWER_WITHIN."""
        with self.lock:
            due = self.last is not None or time.monotonic() - self.finished >= PROBE_EVERY
            if self.running is None and due:
                self.started = time.monotonic()
                self.running = threading.Thread(target=self._run, name="health-probe", daemon=True)
                self.running.start()
            running = self.running
        if running is not None:
            running.join(ANSWER_WITHIN)
        with self.lock:
            if self.running is not None and (
                self.last is not None or time.monotonic() - self.started > SLOW_PROBE
            ):
                return self.last or "no answer within a second"
            return self.last

    def _run(self) -> None:
        with self.app.app_context():
            fault = self._write()
            if fault == "database unreachable":
                fault = self._write()  # a connection the server dropped while idle: once more, on a new one
            if self.app.config.get("DATABASE_REPLICA"):
                db, gate = replica_database()
                gate.usable(db)
        with self.lock:
            self.last, self.finished, self.running = fault, time.monotonic(), None

    def _write(self) -> str | None:
        """Write the probe row; return the fault's name, or None when the write worked."""
        try:
            store.probe_write(get_db(), timeout_ms=PROBE_LOCK_WAIT_MS)
        except faults.database_errors() as exc:
            fault = faults.classify(exc)
            if fault is None:
                logging.getLogger(__name__).exception("health check: the database did not answer")
                return "unknown error"
            faults.report(fault, "GET /healthz")
            return fault
        finally:
            close_db()
            if not store.is_postgres(self.app.config["DATABASE"]):
                close_db_connections()  # this thread's own SQLite connection ends with it
        return None
