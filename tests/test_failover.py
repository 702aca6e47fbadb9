"""Failover to a synchronous standby, with real servers: a primary and a hot standby from Debian's
binaries, two gunicorn hosts on the two-host URL, patients sending through both.

The primary is killed under load and the standby promoted: every acknowledged send is on the promoted
server, nobody meets a 500, a patient caught in the gap gets the "try again" page with their answers
kept, sends are acknowledged again within 15 s of the promotion, with no app restart. /healthz answers
within a second all along, says 503 naming the primary while there is none, and 200 steadily after.
Bounded: CLIENTS threads until AFTER seconds past the promotion, each request at most 30 s.
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests
from conftest import replicated
from test_hosts import Router, assert_nothing_lost, gunicorn, healthy_after, host_env, keep_sending, stored

pytestmark = pytest.mark.slow
CLIENTS = 20
KILL_AT = 8  # seconds into the load
GAP = 3  # seconds without a primary before the standby is promoted
AFTER = 12  # seconds of load after the promotion
STEADY = 4  # seconds /healthz is watched once both hosts are healthy again
LIMIT = KILL_AT + GAP + AFTER + 40  # the load stops by then whatever happens
# Threads, as the README runs gunicorn: a request waiting for the database holds one thread, not the
# worker, so /healthz is answered while patients' requests wait.
THREADS = {"GUNICORN_CMD_ARGS": "--threads 8"}


def two_host_url(primary, standby, dbname: str) -> str:
    return (
        f"postgresql://screening@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/{dbname}"
        "?target_session_attrs=read-write"
    )


def watch_health(bases: list[str], seconds: float) -> list[tuple[int, float, dict]]:
    """Ask every host's /healthz in turn for `seconds`; return (status, seconds taken, body) of each."""
    seen = []
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        for base in bases:
            asked = time.monotonic()
            response = requests.get(base + "/healthz", timeout=5)
            seen.append((response.status_code, time.monotonic() - asked, response.json()))
        time.sleep(0.1)
    return seen


def health_times(logs: list[Path], status: int) -> list[float]:
    """Return the seconds each host took over GET /healthz answered with `status`, from gunicorn's access
    log (the server's own clock: this process's threads share one interpreter, so its clock waits too)."""
    line = re.compile(rf'"GET /healthz HTTP/1.1" {status} \d+ ([0-9.]+)s$')
    return [float(m.group(1)) for log in logs for m in map(line.search, log.read_text().splitlines()) if m]


def test_killing_the_primary_and_promoting_the_standby_loses_no_acknowledged_send(tmp_path):
    record: dict = {"server_errors": [], "unavailable": [], "failures": []}
    acknowledged: list[tuple[float, str, str]] = []
    events: dict = {}
    lock = threading.Lock()
    logs = [tmp_path / "host-1.log", tmp_path / "host-2.log"]
    with replicated("failover") as (primary, standby), ExitStack() as stack:
        url = two_host_url(primary, standby, "failover")
        bases = [
            stack.enter_context(gunicorn("wsgi:app", {**host_env(url), **THREADS}, workers=2, log=log))[0]
            for log in logs
        ]
        router = Router(bases)
        started = time.monotonic()
        events["end"] = started + LIMIT  # moved to AFTER seconds past the promotion

        def client(n: int) -> None:
            keep_sending(router, record, lock, acknowledged, started, lambda: events["end"])

        def operator() -> None:
            time.sleep(KILL_AT)
            primary.stop("immediate")
            events["kill"] = time.monotonic() - started
            try:
                events["gap_health"] = watch_health(bases, GAP)
            finally:
                standby.promote()
                events["promoted"] = time.monotonic() - started
                events["end"] = time.monotonic() + AFTER
            events["healthy_after"] = healthy_after(bases, time.monotonic())
            events["steady_health"] = watch_health(bases, STEADY)

        with ThreadPoolExecutor(CLIENTS + 1) as pool:
            done = pool.submit(operator)
            list(pool.map(client, range(CLIENTS)))
            done.result()
        on_promoted = stored(standby.url("failover"))
    sent = {reference for _, reference, _ in acknowledged}
    before = [when for when, _, _ in acknowledged if when < events["kill"]]
    after = [when for when, _, _ in acknowledged if when > events["promoted"]]
    first_after = min(after) - events["promoted"]
    unavailable = health_times(logs, 503)
    print(
        f"\n{len(sent)} sends acknowledged ({len(before)} before the kill, {len(after)} after the promotion), "
        f"all on the promoted server; {len(record['unavailable'])} 'try again' pages; first send "
        f"{first_after:.1f} s after the promotion; hosts healthy {events['healthy_after']:.1f} s after it; "
        f"/healthz with no primary: {len(unavailable)} answers, the slowest in {max(unavailable):.2f} s "
        f"({max(taken for _, taken, _ in events['gap_health']):.2f} s as this busy process saw it)"
    )
    assert before, "sends were acknowledged by the first primary"
    assert_nothing_lost(record, sent, on_promoted)  # every acknowledged send is on the promoted server
    assert first_after < 15, "sends are acknowledged again soon after the promotion, with no restart"
    gap = events["gap_health"]
    assert unavailable and max(unavailable) < 1, "/healthz answers within a second with no primary"
    assert [(status, body) for status, _, body in gap[-2:]] == [
        (503, {"status": "unavailable", "database": "primary"})
    ] * 2, "both hosts say which database they cannot reach"
    steady = events["steady_health"]
    assert {status for status, _, _ in steady} == {200}, "no flapping once the database is back"
