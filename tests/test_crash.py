"""Kill the server mid-load: every acknowledged submission survives, and the database stays sound.
Start several workers on an empty database at once: they migrate it once, safely."""

from __future__ import annotations

import signal
import sqlite3
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

from journey import complete_and_send, gunicorn, stop

pytestmark = pytest.mark.slow
SECRET = "crash-test-secret-key-0123456789"


def test_a_killed_server_loses_no_acknowledged_submission(tmp_path):
    database = tmp_path / "crash.db"
    env = {
        "SCREENING_DATABASE": str(database),
        "SCREENING_SECRET_KEY": SECRET,
        "SCREENING_ENV": "development",
    }
    acknowledged: list[str] = []
    lock = threading.Lock()
    with gunicorn("wsgi:app", env, workers=2) as (base, proc):
        stop_at = time.monotonic() + 30  # the kill comes as soon as 10 sends are acknowledged

        def client(n: int) -> None:
            while time.monotonic() < stop_at:
                try:
                    reference = complete_and_send(base, name=f"Crash {n}", timeout=5)
                except (requests.RequestException, RuntimeError):
                    return  # the server died under this client: nothing was acknowledged
                with lock:
                    acknowledged.append(reference)

        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(client, n) for n in range(8)]
            while len(acknowledged) < 10 and time.monotonic() < stop_at:
                time.sleep(0.05)
            stop(proc, signal.SIGKILL)  # the whole process group, mid-request
            for future in futures:
                future.result(timeout=30)
    assert len(acknowledged) >= 10
    con = sqlite3.connect(database)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {row[0] for row in con.execute("SELECT reference FROM submissions")}
    finally:
        con.close()
    assert set(acknowledged) <= stored
    with gunicorn("wsgi:app", env, workers=2) as (base, _):
        assert complete_and_send(base)  # it serves again on the same database


def test_many_workers_starting_on_an_empty_database_migrate_it_once(tmp_path):
    database = tmp_path / "fresh.db"
    env = {
        "SCREENING_DATABASE": str(database),
        "SCREENING_SECRET_KEY": SECRET,
        "SCREENING_ENV": "development",
    }
    with gunicorn("wsgi:app", env, workers=4) as (base, _):
        for _ in range(8):
            assert requests.get(base + "/", timeout=5).status_code == 200
        assert complete_and_send(base)
    con = sqlite3.connect(database)
    try:
        names = [row[0] for row in con.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    finally:
        con.close()
    assert names == sorted(set(names), key=names.index), "each migration applied once"
    assert names[0] == "m001_initial"
