"""The database connection each worker thread reuses, and leaving no transaction open between requests."""

from __future__ import annotations

import os
import threading

from flask import Flask, current_app, g

from . import store


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)


_connections = threading.local()


def get_db():
    """Return this thread's database connection, reused across requests (one per worker thread)."""
    path = current_app.config["DATABASE"]
    cached = getattr(_connections, "db", None)
    if cached is None or _connections.key != (os.getpid(), path):
        if cached is not None and _connections.key[0] == os.getpid():
            cached.close()
        _connections.db = store.connect(path, busy_timeout_ms=current_app.config["DATABASE_BUSY_TIMEOUT_MS"])
        _connections.key = (os.getpid(), path)
    g.db_used = True
    return _connections.db


def close_db(exc: BaseException | None = None) -> None:
    """Leave no transaction open between requests; the connection itself is kept for the next one."""
    if g.pop("db_used", False):
        db = getattr(_connections, "db", None)
        if db is not None and db.conn.in_transaction:
            db.conn.rollback()


def close_db_connections() -> None:
    """Close this thread's cached connection (tests and commands that remove the database call this)."""
    cached = getattr(_connections, "db", None)
    if cached is not None:
        cached.close()
        _connections.db = None
