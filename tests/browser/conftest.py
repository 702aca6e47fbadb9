"""Browser fixtures: the real app under gunicorn on 127.0.0.1, and Debian's Chromium through Playwright."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from journey import gunicorn  # noqa: E402

from .pages import FIRST_PASSWORD, NEWCOMER, REVIEWER, SHOTS, SIZES, Passkey, press  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; CI must install Debian's chromium (see .ci/run)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The app under gunicorn with a fresh database and two reviewers (an admin, and a newcomer who has
    not signed in yet), with the second step required as in production; yields its base URL.

    The URL names localhost, not 127.0.0.1: passkeys need a host name for their relying party."""
    folder = tmp_path_factory.mktemp("browser")
    env = {
        "SCREENING_DATABASE": str(folder / "browser.db"),
        "SCREENING_SECRET_KEY": "browser-test-secret-key-0123456789",
        "SCREENING_ENV": "development",
        "SCREENING_TWO_STEP": "required",
    }
    screening = str(Path(sys.executable).parent / "screening")
    subprocess.run([screening, "db", "migrate"], env={**os.environ, **env}, check=True, capture_output=True)
    for email, role in ((REVIEWER[0], ["--admin"]), (NEWCOMER, [])):
        subprocess.run(
            [screening, "reviewer", "add", email, *role, "--password-stdin"],
            env={**os.environ, **env},
            input=FIRST_PASSWORD + "\n",
            text=True,
            check=True,
            capture_output=True,
        )
    with gunicorn("wsgi:app", env, workers=2, log=folder / "server.log") as (base, _):
        yield base.replace("127.0.0.1", "localhost")


@pytest.fixture(scope="session")
def passkey(browser, server) -> Passkey:
    """The admin reviewer's first sign-in, once per session: the password an admin chose, a passkey
    made by a real WebAuthn ceremony in Chromium's virtual authenticator, the recovery codes, and a
    password of their own. Later sign-ins lend the passkey to each test's browser."""
    key = Passkey()
    context = browser.new_context()
    page = context.new_page()
    try:
        authenticator = key.authenticator(page)
        page.goto(server + "/review/sign-in")
        page.get_by_label("Email").fill(REVIEWER[0])
        page.get_by_label("Password").fill(FIRST_PASSWORD)
        press(page, "Sign in")
        assert page.url.endswith("/review/two-step/setup"), page.url
        press(page, "Add a passkey")
        assert page.locator(".recovery-codes code").count() == 10
        press(page, "I have kept them: continue", role="link")
        assert page.url.endswith("/review/account/password"), "a password someone else chose is changed first"
        page.get_by_label("Current password").fill(FIRST_PASSWORD)
        page.get_by_label("New password", exact=True).fill(REVIEWER[1])
        page.get_by_label("New password again").fill(REVIEWER[1])
        press(page, "Change password")
        key.take_back(authenticator)
    finally:
        context.close()
    return key


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport=SIZES["phone"])
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


@pytest.fixture(params=list(SIZES))
def sized_page(browser, request):
    """A page at each size in turn: a phone (360 x 740) and a desktop (1280 x 800)."""
    context = browser.new_context(viewport=SIZES[request.param])
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def pytest_terminal_summary(terminalreporter):
    if SHOTS.exists() and any(SHOTS.iterdir()):
        terminalreporter.write_line(
            f"screenshots: {SHOTS.relative_to(ROOT)}/ ({len(list(SHOTS.iterdir()))} files)"
        )
