"""Real gunicorn workers under concurrent patients: no errors, and every acknowledged send is stored.

Bounded: at most CLIENTS threads for at most SECONDS, each finishing the journey it started."""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

from journey import complete_and_send, gunicorn

pytestmark = pytest.mark.slow
CLIENTS = 20
SECONDS = 8


def stored_references(database) -> set[str]:
    con = sqlite3.connect(database)
    try:
        return {row[0] for row in con.execute("SELECT reference FROM submissions")}
    finally:
        con.close()


def test_concurrent_patients_lose_nothing(tmp_path):
    database = tmp_path / "load.db"
    env = {
        "SCREENING_DATABASE": str(database),
        "SCREENING_SECRET_KEY": "load-test-secret-key-0123456789",
        "SCREENING_ENV": "development",
    }
    acknowledged: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()
    with gunicorn("wsgi:app", env, workers=3, log=tmp_path / "server.log") as (base, _):
        deadline = time.monotonic() + SECONDS

        def client(n: int) -> None:
            while time.monotonic() < deadline:
                try:
                    reference = complete_and_send(base, name=f"Client {n}")
                except Exception as exc:
                    with lock:
                        failures.append(repr(exc)[:300])
                    return
                with lock:
                    acknowledged.append(reference)

        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(client, range(CLIENTS)))
    assert failures == []
    assert len(acknowledged) >= CLIENTS, "every client finished at least one journey"
    assert stored_references(database) == set(acknowledged)
    log = (tmp_path / "server.log").read_text()
    assert "load.tester@example.com" not in log and "Client 1" not in log, "no contact details in the logs"
