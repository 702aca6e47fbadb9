"""The Bulk Data `$export` figure: a real gunicorn over the seeded database, kicked off, polled and
downloaded as an integration engine does; the time to the last byte and the server's peak memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from journey import gunicorn


def _request(url: str, token: str, **headers) -> urllib.request.Request:
    return urllib.request.Request(url, headers={"Authorization": f"Bearer {token}", **headers})


def _peak_mb(parent: int) -> float:
    """Return the largest peak resident memory (VmHWM) of the gunicorn master and its workers."""
    peaks = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if int(fields.get("PPid", "0")) == parent or status.parent.name == str(parent):
            peaks.append(int(fields.get("VmHWM", "0 kB").split()[0]) / 1024)
    return max(peaks, default=0.0)


def measure(database: str, secret: str, folder: Path) -> dict:
    """Export every submission of `database` through `GET /fhir/$export`; return the figures."""
    env = {
        "SCREENING_DATABASE": database,
        "SCREENING_SECRET_KEY": secret,
        "SCREENING_ENV": "production",
        "SCREENING_EXPORT_DIR": str(folder / "exports"),
    }
    screening = str(Path(sys.executable).parent / "screening")
    name = f"bench-{os.getpid()}-{int(time.time())}"
    added = subprocess.run(
        [screening, "api-token", "add", name],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    token = added.stdout.strip().splitlines()[-1]
    try:
        with gunicorn("wsgi:app", env, workers=1, ready="/fhir/metadata") as (base, proc):
            idle = _peak_mb(proc.pid)
            start = time.monotonic()
            kick = urllib.request.urlopen(_request(f"{base}/fhir/$export", token, Prefer="respond-async"))
            poll = kick.headers["Content-Location"].replace("http://127.0.0.1:5000", base)
            while True:
                reply = urllib.request.urlopen(_request(poll, token))
                if reply.status == 200:
                    manifest = json.loads(reply.read())
                    break
                time.sleep(min(float(reply.headers.get("Retry-After", "1")), 1.0))
            written = time.monotonic() - start
            size = resources = 0
            for output in manifest["output"]:
                url = output["url"].replace("http://127.0.0.1:5000", base)
                with urllib.request.urlopen(_request(url, token)) as download:
                    while chunk := download.read(1 << 20):
                        size += len(chunk)
                resources += output["count"]
            elapsed = time.monotonic() - start
            peak = _peak_mb(proc.pid)
    finally:
        subprocess.run(
            [screening, "api-token", "revoke", name], env={**os.environ, **env}, capture_output=True
        )
    return {
        "seconds": elapsed,
        "written": written,
        "peak": peak,
        "idle": idle,
        "mb": size / 1e6,
        "resources": resources,
    }
