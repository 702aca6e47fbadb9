"""Start panva's oidc-provider (tests/oidc/provider.js) and drive its login pages like a browser."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import requests
from bs4 import BeautifulSoup

HERE = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "screening-tests"
CLIENT_SECRET = "a-client-secret-for-the-tests-only-0123456789"
BASE_URL = "http://localhost"  # the test client's own address
CALLBACK = BASE_URL + "/review/oidc/callback"
AFTER_LOGOUT = BASE_URL + "/review/sign-in"
UNVERIFIED_EMAIL = "unverified@clinic.example"
START_SECONDS = 60


def available() -> str | None:
    """Return why the provider cannot start here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed (Debian: apt-get install nodejs npm)"
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        return "oidc-provider is not installed: run `npm ci` in tests/oidc (make test does)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Provider:
    """A running provider: its issuer URL and process."""

    issuer: str
    process: subprocess.Popen

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(base_url: str = BASE_URL) -> Provider:
    """Start the provider on a free port of 127.0.0.1, with its one client registered for the app at
    `base_url`, and wait until it answers discovery."""
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "REDIRECT_URI": base_url + "/review/oidc/callback",
        "POST_LOGOUT_URI": base_url + "/review/sign-in",
        "UNVERIFIED_EMAILS": UNVERIFIED_EMAIL,
    }
    process = subprocess.Popen(
        ["node", "provider.js"], cwd=HERE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    issuer = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the OpenID provider exited with status {process.returncode}")
        try:
            if requests.get(issuer + "/.well-known/openid-configuration", timeout=2).ok:
                return Provider(issuer, process)
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the OpenID provider did not answer within {START_SECONDS} s")


def log_in(browser: requests.Session, authorize_url: str, email: str) -> str:
    """Follow the provider's pages from the authorization URL: log in as `email`, consent, and return
    the URL the provider sends the browser back to (the app's callback, with code and state)."""
    url = authorize_url
    for _ in range(12):
        if url.startswith(BASE_URL + "/"):
            return url
        response = browser.get(url, allow_redirects=False, timeout=10)
        if response.is_redirect:
            url = urljoin(url, response.headers["Location"])
            continue
        form = BeautifulSoup(response.text, "html.parser").find("form")
        assert form is not None, f"no form on the provider's page {url}: {response.text[:300]}"
        data = {
            field["name"]: field.get("value", "") for field in form.find_all("input") if field.get("name")
        }
        if "login" in data:
            data.update(login=email, password="any password: the development login page accepts it")
        posted = browser.post(urljoin(url, form["action"]), data=data, allow_redirects=False, timeout=10)
        assert posted.is_redirect, posted.text[:300]
        url = urljoin(url, posted.headers["Location"])
    raise AssertionError("the provider never sent the browser back")
