"""A scripted patient over HTTP (no JavaScript), and a gunicorn process to drive: shared by
`make bench` and the load and crash tests."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
HIDDEN = re.compile(r'<input id="[^"]*" name="([^"]+)" type="hidden" value="([^"]*)"')
STEPS = {
    "safety": {"emergency_signs": ["none"], "major_trauma": "no", "warning_signs": ["none"]},
    "about": {"age_band": "50_to_64", "duration": "3_to_6_months", "pain_location": "back", "impact": "5"},
    "told": {"diagnosis": ["herniated_disc"], "imaging": "mri", "prior_surgery": "no", "bone_health": "no"},
    "treatments": {
        "treatments_tried": ["physical_therapy"],
        "treatment_duration": "6_to_12_weeks",
        "treatment_helped": "a_little",
    },
    "health": {"health_factors": ["smoking"]},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app: str, env: dict, *, workers: int = 2, log: Path | None = None, ready: str = "/"):
    """Serve `app` with gunicorn on a free 127.0.0.1 port; yield its base URL; stop it on exit."""
    port = free_port()
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "-" if log else "/dev/null",
            "--graceful-timeout",
            "5",
            app,
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + ready, proc)
        yield base, proc
    finally:
        stop(proc)
        if log:
            out.close()


def wait_until_up(url: str, proc, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def stop(proc, sig=signal.SIGTERM) -> None:
    """End the process group we started, and wait for it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _token(html: str) -> str:
    match = TOKEN.search(html)
    return (match.group(1) or match.group(2)) if match else ""


def complete_and_send(base: str, name: str = "Load Tester", timeout: float = 30) -> str:
    """Answer every step, see the summary and send it; return the reference code shown."""
    s, data = ready_to_send(base, timeout)
    data.update(name=name, email="load.tester@example.com", contact_method="email", consent="y")
    r = s.post(base + "/send", data=data, timeout=timeout)
    r.raise_for_status()
    match = re.search(r'class="reference">([A-Z0-9-]+)<', r.text)
    if not match or not r.url.endswith("/done"):
        raise RuntimeError(f"no reference after sending (ended at {r.url})")
    return match.group(1)


def ready_to_send(base: str, timeout: float = 30) -> tuple[requests.Session, dict]:
    """Answer every step and open the send page; return the session and the send form's hidden fields."""
    s = requests.Session()
    token = _token(s.get(base + "/", timeout=timeout).text)
    r = s.post(base + "/start", data={"csrf_token": token}, timeout=timeout)
    for step, answers in STEPS.items():
        token = _token(r.text) or _token(s.get(f"{base}/step/{step}", timeout=timeout).text)
        r = s.post(
            f"{base}/step/{step}",
            data={**answers, "csrf_token": token, "shown": " ".join(answers)},
            timeout=timeout,
        )
        r.raise_for_status()
    r = s.post(base + "/check", data={"csrf_token": _token(r.text)}, timeout=timeout)
    r.raise_for_status()
    r = s.get(base + "/send", timeout=timeout)
    return s, dict(HIDDEN.findall(r.text))
