"""The database each request uses, and leaving no transaction open between requests.

SQLite: one connection per worker thread, reused across requests. PostgreSQL: one connection pool per
worker process, shared by its threads.
"""

from __future__ import annotations

import os
import threading

from flask import Flask, current_app, g

from . import store


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)


_connections = threading.local()
_pools: dict[tuple[int, str], store.Database] = {}
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


def get_db() -> store.Database:
    """Return the database for this request: this thread's SQLite connection, or this process's pool."""
    target = current_app.config["DATABASE"]
    if store.is_postgres(target):
        key = (os.getpid(), target)
        db = _pools.get(key)
        if db is None:
            with _pools_lock:
                db = _pools.get(key)
                if db is None:
                    db = _pools[key] = open_database(current_app.config)
        g.db_used = db
        return db
    cached = getattr(_connections, "db", None)
    if cached is None or _connections.key != (os.getpid(), target):
        if cached is not None and _connections.key[0] == os.getpid():
            cached.close()
        _connections.db = open_database(current_app.config)
        _connections.key = (os.getpid(), target)
    g.db_used = _connections.db
    return _connections.db


def close_db(exc: BaseException | None = None) -> None:
    """Leave no transaction open between requests; the connection itself is kept for the next one."""
    db = g.pop("db_used", None)
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
