"""The database each request uses, and leaving no transaction open between requests.

SQLite: one connection per worker thread, reused across requests. PostgreSQL: one connection pool per
worker process, shared by its threads; with `SCREENING_DATABASE_REPLICA`, a second pool on the read-only
replica serves the reviewers' long reads (`get_read_db`).
"""

from __future__ import annotations

import os
import threading
import time

from flask import Flask, current_app, g, request, session

from . import store
from .store.db import without_password

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
NOT_A_CHANGE = ("review.sign_in", "review.sign_out")  # they write sessions and the audit log, nothing shown
WROTE_AT = "wrote_at"  # the session key: when this reviewer's session last changed something
REPLICA_POOL_TIMEOUT = 1  # seconds a read waits for a replica connection before the primary serves it


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
    if app.config.get("DATABASE_REPLICA"):
        app.after_request(remember_a_change)


_connections = threading.local()
_pools: dict[tuple[int, str], store.Database] = {}
_gates: dict[tuple[int, str], store.ReplicaGate] = {}
_pools_lock = threading.Lock()


def open_database(config) -> store.Database:
    """Open the database the app's settings name (a command's own connection, closed by the caller)."""
    return store.connect(
        config["DATABASE"], busy_timeout_ms=config["DATABASE_BUSY_TIMEOUT_MS"], pool=pool_settings(config)
    )


def pool_settings(config) -> dict:
    return {
        "min_size": config["DATABASE_POOL_MIN"],
        "max_size": config["DATABASE_POOL_MAX"],
        "timeout": config["DATABASE_POOL_TIMEOUT"],
    }


def _pool(url: str, pool: dict) -> store.Database:
    """Return this process's pool for `url`, opened on first use."""
    key = (os.getpid(), url)
    db = _pools.get(key)
    if db is None:
        with _pools_lock:
            db = _pools.get(key)
            if db is None:
                busy = current_app.config["DATABASE_BUSY_TIMEOUT_MS"]
                db = _pools[key] = store.connect(url, busy_timeout_ms=busy, pool=pool)
    return db


def get_db() -> store.Database:
    """Return the database for this request: this thread's SQLite connection, or this process's pool."""
    target = current_app.config["DATABASE"]
    if store.is_postgres(target):
        db = g.db_used = _pool(target, pool_settings(current_app.config))
        return db
    cached = getattr(_connections, "db", None)
    if cached is None or _connections.key != (os.getpid(), target):
        if cached is not None and _connections.key[0] == os.getpid():
            cached.close()
        _connections.db = open_database(current_app.config)
        _connections.key = (os.getpid(), target)
    g.db_used = _connections.db
    return _connections.db


def get_read_db() -> store.Database:
    """Return the database for a reviewer's long read (inbox, counts, overview, exports).

    The replica when one is set, it answers, it is at most SCREENING_REPLICA_MAX_LAG_SECONDS behind, and
    this session changed nothing in that time (so a reviewer sees their own change at once); else the
    primary.
    """
    replica = current_app.config.get("DATABASE_REPLICA")
    if not replica or _changed_lately():
        return get_db()
    db, gate = replica_database()
    if not gate.usable(db):
        return get_db()
    g.replica_used = db
    return db


def replica_database() -> tuple[store.Database, store.ReplicaGate]:
    """Return this process's replica pool and the gate that says whether reads may use it."""
    config = current_app.config
    url = config["DATABASE_REPLICA"]
    settings = {**pool_settings(config), "timeout": REPLICA_POOL_TIMEOUT}
    db = _pool(url, settings)
    key = (os.getpid(), url)
    gate = _gates.get(key)
    if gate is None:
        gate = _gates.setdefault(key, store.ReplicaGate(server_name(url), config["REPLICA_MAX_LAG_SECONDS"]))
    return db, gate


def server_name(url: str) -> str:
    """Return a database setting's hosts and name without user or password (for logs and pages)."""
    shown = without_password(url)
    return shown.rsplit("@", 1)[-1] if "://" in shown else shown


def _changed_lately() -> bool:
    wrote_at = session.get(WROTE_AT, 0)
    return time.time() - wrote_at < current_app.config["REPLICA_MAX_LAG_SECONDS"]


def remember_a_change(response):
    """After a reviewer's change (a POST to their pages), keep their reads on the primary for a while."""
    endpoint = request.endpoint or ""
    if request.method not in SAFE_METHODS and endpoint.startswith("review.") and endpoint not in NOT_A_CHANGE:
        session[WROTE_AT] = int(time.time()) + 1
    return response


def close_db(exc: BaseException | None = None) -> None:
    """Leave no transaction open between requests; the connection itself is kept for the next one."""
    for name in ("db_used", "replica_used"):
        db = g.pop(name, None)
        if db is not None:
            db.reset()


def close_db_connections() -> None:
    """Close this thread's SQLite connection and this process's pools (tests and commands that remove
    the database call this; the next request opens them again)."""
    cached = getattr(_connections, "db", None)
    if cached is not None:
        cached.close()
        _connections.db = None
    with _pools_lock:
        for key in [key for key in _pools if key[0] == os.getpid()]:
            _pools.pop(key).close()
            _gates.pop(key, None)
