"""Several app hosts on one PostgreSQL database, with real gunicorn processes and a real server.

A patient whose requests alternate between two hosts finishes and sends. Fifty clients for a minute
across both hosts, with PostgreSQL restarted in the middle and one host killed later: every
acknowledged send is stored, a patient caught by the restart gets the "please try again" page with
their answers kept (never a 500), both hosts serve again by themselves, and the survivor goes on.
Bounded: CLIENTS threads for SECONDS, each request at most 30 s.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest
import requests
from bs4 import BeautifulSoup
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import itertools

from journey import HIDDEN, STEPS, _token, gunicorn

from screening import store

pytestmark = pytest.mark.slow
CLIENTS = 50
SECONDS = 60
RESTART_AT = 15  # seconds into the load
KILL_AT = 40
CONTACT = {
    "name": "Host Tester",
    "email": "host.tester@example.com",
    "contact_method": "email",
    "consent": "y",
}


def host_env(url: str) -> dict:
    return {
        "SCREENING_DATABASE": url,
        "SCREENING_SECRET_KEY": "hosts-test-secret-key-0123456789",  # one key for every host
        "SCREENING_ENV": "development",
        "SCREENING_DATABASE_POOL_TIMEOUT": "3",
    }


class Router:
    """A load balancer without sticky sessions: each request goes to the next live host in turn."""

    def __init__(self, bases: list[str]):
        self.bases = list(bases)
        self.dead: set[str] = set()
        self.turn = 0
        self.lock = threading.Lock()

    def next(self) -> str:
        with self.lock:
            live = [b for b in self.bases if b not in self.dead] or self.bases
            self.turn += 1
            return live[self.turn % len(live)]


class Patient:
    """One patient's journey over HTTP; a 503 is checked (friendly, answers kept) and tried again."""

    def __init__(self, router: Router, record: dict, lock: threading.Lock):
        self.router, self.record, self.lock = router, record, lock
        self.session = requests.Session()
        self.hosts_used: list[str] = []

    def request(self, method: str, path: str, data: dict | None = None) -> requests.Response:
        for _ in range(40):
            base = self.router.next()
            try:
                response = self.session.request(
                    method, base + path, data=data, timeout=30, allow_redirects=False
                )
            except requests.ConnectionError:
                time.sleep(0.2)  # a host that is down: the balancer sends the retry elsewhere
                continue
            self.hosts_used.append(base)
            if response.status_code == 503:
                self.check_friendly(response, data)
                time.sleep(0.5)
                continue
            if response.status_code >= 500:
                with self.lock:
                    self.record["server_errors"].append(f"{response.status_code} on {method} {path}")
                raise RuntimeError("server error")
            response.raise_for_status()
            if response.is_redirect:  # the next page may come from the other host
                return self.request("GET", response.headers["Location"].removeprefix(base))
            return response
        raise RuntimeError(f"{method} {path} did not succeed after 40 tries")

    def check_friendly(self, response: requests.Response, data: dict | None) -> None:
        html = BeautifulSoup(response.text, "html.parser")
        text = " ".join(html.get_text(" ").split())
        kept = True
        for name, value in (data or {}).items():
            if name in ("csrf_token", "shown", "idempotency_key") or not data:
                continue
            for one in value if isinstance(value, list) else [value]:
                field = html.find("input", attrs={"name": name, "value": one}) or html.find(
                    "input", attrs={"name": name}
                )
                if (
                    field is None
                    or (field.get("type") in ("radio", "checkbox") and not field.has_attr("checked"))
                    or (field.get("type") not in ("radio", "checkbox") and field.get("value") != one)
                ):
                    kept = False
        with self.lock:
            self.record["unavailable"].append(
                {
                    "friendly": "try again" in text.lower(),
                    "kept": kept,
                    "retry_after": response.headers.get("Retry-After"),
                }
            )

    def journey(self) -> str:
        r = self.request("GET", "/")
        r = self.request("POST", "/start", {"csrf_token": _token(r.text)})
        for step, answers in STEPS.items():
            token = _token(r.text) or _token(self.request("GET", f"/step/{step}").text)
            r = self.request(
                "POST", f"/step/{step}", {**answers, "csrf_token": token, "shown": " ".join(answers)}
            )
        r = self.request("POST", "/check", {"csrf_token": _token(r.text)})
        hidden = dict(HIDDEN.findall(self.request("GET", "/send").text))
        r = self.request("POST", "/send", {**hidden, **CONTACT})
        reference = BeautifulSoup(r.text, "html.parser").select_one(".reference")
        if reference is None:
            raise RuntimeError(f"no reference after sending (ended at {r.url})")
        return reference.get_text(strip=True)


def keep_sending(
    router: Router, record: dict, lock: threading.Lock, acknowledged: list, started: float, until
):
    """One client: patient after patient until `until()` (a time.monotonic() value) has passed. Each send
    acknowledged goes into `acknowledged` as (seconds since `started`, reference, host of the send), each
    failure into record["failures"] (the tests fail on any)."""
    while time.monotonic() < until():
        patient = Patient(router, record, lock)
        try:
            reference = patient.journey()
        except Exception as exc:  # counted, and the test fails on any
            with lock:
                record["failures"].append(repr(exc)[:200])
            continue
        with lock:
            acknowledged.append((time.monotonic() - started, reference, patient.hosts_used[-1]))


def assert_nothing_lost(record: dict, sent: set[str], stored_references: set[str]) -> None:
    """Check what patients met through an outage: no 500, no journey given up, every acknowledged send
    stored, and patients caught by it shown the friendly "try again" page with their answers kept."""
    assert record["server_errors"] == [], "never a 500"
    assert record["failures"] == []
    assert sent <= stored_references, "every acknowledged send is stored"
    assert record["unavailable"], "the outage caught some patients mid-journey"
    assert all(u["friendly"] and u["kept"] and u["retry_after"] == "10" for u in record["unavailable"])


def stored(url: str) -> set[str]:
    db = store.connect(url)
    try:
        return {row["reference"] for row in db.rows("SELECT reference FROM submissions")}
    finally:
        db.close()


def healthy_after(bases: list[str], since: float, limit: float = 30) -> float:
    """Return the seconds from `since` until every host's /healthz says 200."""
    waiting = set(bases)
    while waiting and time.monotonic() - since < limit:
        for base in list(waiting):
            try:
                if requests.get(base + "/healthz", timeout=2).status_code == 200:
                    waiting.discard(base)
            except requests.RequestException:
                pass
        time.sleep(0.2)
    assert not waiting, f"{sorted(waiting)} did not serve again within {limit} s"
    return time.monotonic() - since


@pytest.fixture
def shared_database(postgres):
    url = postgres.create_database("hosts", template="screening_template")
    yield url
    postgres.drop_database("hosts")


def test_a_patient_whose_requests_alternate_between_two_hosts_finishes_and_sends(shared_database, tmp_path):
    with ExitStack() as stack:
        bases = [
            stack.enter_context(
                gunicorn("wsgi:app", host_env(shared_database), workers=1, log=tmp_path / f"{n}.log")
            )[0]
            for n in range(2)
        ]
        record = {"server_errors": [], "unavailable": []}
        patient = Patient(Router(bases), record, threading.Lock())
        reference = patient.journey()
    assert record == {"server_errors": [], "unavailable": []}
    assert stored(shared_database) == {reference}
    uses = patient.hosts_used
    assert len(uses) >= 18 and all(a != b for a, b in itertools.pairwise(uses)), (
        "each request on the other host"
    )


def test_fifty_clients_across_two_hosts_survive_a_database_restart_and_a_dead_host(
    shared_database, postgres, tmp_path
):
    record: dict = {"server_errors": [], "unavailable": [], "failures": []}
    acknowledged: list[tuple[float, str, str]] = []  # (when, reference, host of the send)
    lock = threading.Lock()
    with ExitStack() as stack:
        hosts = [
            stack.enter_context(
                gunicorn("wsgi:app", host_env(shared_database), workers=2, log=tmp_path / f"{n}.log")
            )
            for n in range(2)
        ]
        bases = [base for base, _ in hosts]
        router = Router(bases)
        started = time.monotonic()
        deadline = started + SECONDS
        events: dict[str, float] = {}

        def client(n: int) -> None:
            keep_sending(router, record, lock, acknowledged, started, lambda: deadline)

        def operator() -> None:
            time.sleep(RESTART_AT)
            events["restart"] = time.monotonic() - started
            postgres.restart(pause=2)
            events["back"] = time.monotonic() - started
            events["healthy_after"] = healthy_after(bases, time.monotonic())
            time.sleep(max(0.0, KILL_AT - (time.monotonic() - started)))
            router.dead.add(bases[1])
            os.killpg(hosts[1][1].pid, signal.SIGKILL)  # the whole host: master and workers
            events["kill"] = time.monotonic() - started

        with ThreadPoolExecutor(CLIENTS + 1) as pool:
            pool.submit(operator)
            list(pool.map(client, range(CLIENTS)))
    sent = {reference for _, reference, _ in acknowledged}
    print(
        f"\n{len(sent)} sends acknowledged in {SECONDS} s by {CLIENTS} clients on 2 hosts; "
        f"{len(record['unavailable'])} 'try again' pages; hosts healthy {events['healthy_after']:.1f} s after "
        f"the restart; {sum(1 for t, _, _ in acknowledged if t > events['kill'])} sends after one host was killed"
    )
    assert_nothing_lost(record, sent, stored(shared_database))
    assert events["healthy_after"] < 15, "both hosts serve again by themselves within seconds"
    after_kill = [host for when, _, host in acknowledged if when > events["kill"] + 1]
    assert after_kill and set(after_kill) == {bases[0]}, "the surviving host goes on serving"
