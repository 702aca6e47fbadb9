"""GET /healthz for load balancers: 200 while this host can save, 503 while it cannot."""

from __future__ import annotations

import logging
import time

from flask import Flask, current_app

from . import faults, store
from .db import close_db_connections, get_db


def init_app(app: Flask) -> None:
    app.add_url_rule("/healthz", "healthz", healthz)


HEALTH_PROBE_EVERY = 5.0  # seconds between write probes in one worker


def healthz():
    """For load balancers and uptime checks: 200 while this host can save, 503 while it cannot.

    It writes one row (at most every few seconds per worker), so a full disk, a read-only mount or a
    database locked for long says 503. It names the rule set in use and nothing else.
    """
    state = current_app.extensions.setdefault("health", {"at": -HEALTH_PROBE_EVERY, "fault": None})
    if time.monotonic() - state["at"] >= HEALTH_PROBE_EVERY:
        state["fault"] = _probe()
        state["at"] = time.monotonic()
    if state["fault"] is not None:
        return {"status": "unavailable"}, 503  # the fault itself is in the log, not on a public page
    ruleset = current_app.extensions["ruleset"]
    return {"status": "ok", "ruleset": {"version": ruleset.version, "hash": ruleset.hash}}


def _probe() -> str | None:
    """Write the probe row; return the fault's name, or None when the write worked."""
    try:
        store.probe_write(get_db())
    except faults.database_errors() as exc:
        fault = faults.classify(exc)
        if fault is None:
            logging.getLogger(__name__).exception("health check: the database did not answer")
            return "unknown error"
        faults.report(fault, "GET /healthz")
        if not store.is_postgres(current_app.config["DATABASE"]):
            close_db_connections()  # a SQLite file may have moved or come back; a pool reconnects by itself
        return fault
    return None
