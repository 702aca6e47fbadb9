"""Single sign-on in Chromium: the provider's own pages (panva's oidc-provider), the way back, the new
reviewer pages checked with axe, and the sign-out that offers the provider's end-session page."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import oidc_provider
import pytest
from journey import free_port, stop, wait_until_up

from .pages import REVIEWER, press
from .test_accessibility import check_page

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sso_server(tmp_path_factory):
    """The app under gunicorn with single sign-on to a real provider; yields its and the provider's URLs."""
    problem = oidc_provider.available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    folder = tmp_path_factory.mktemp("sso")
    base = f"http://127.0.0.1:{free_port()}"
    provider = oidc_provider.start(base)
    env = {
        **os.environ,
        "SCREENING_DATABASE": str(folder / "sso.db"),
        "SCREENING_SECRET_KEY": "browser-test-secret-key-0123456789",
        "SCREENING_ENV": "development",
        "SCREENING_BASE_URL": base,
        "SCREENING_OIDC_ISSUER": provider.issuer,
        "SCREENING_OIDC_CLIENT_ID": oidc_provider.CLIENT_ID,
        "SCREENING_OIDC_CLIENT_SECRET": oidc_provider.CLIENT_SECRET,
        "SCREENING_OIDC_NAME": "Clinic Login",
    }
    screening = str(Path(sys.executable).parent / "screening")
    subprocess.run([screening, "db", "migrate"], env=env, check=True, capture_output=True)
    subprocess.run(
        [screening, "reviewer", "add", REVIEWER[0], "--password-stdin"],
        env=env,
        input=REVIEWER[1] + "\n",
        text=True,
        check=True,
        capture_output=True,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-b", base.removeprefix("http://"), "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until_up(base + "/", proc)
        yield base, provider.issuer
    finally:
        stop(proc)
        provider.stop()


def through_the_provider(page, email: str) -> None:
    """Log in on the provider's development login page and consent, as a person would."""
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill("any password")
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    if page.locator("button[type=submit]", has_text="Continue").count():
        page.locator("button[type=submit]", has_text="Continue").click()
        page.wait_for_load_state()


def test_a_reviewer_signs_in_with_the_hospital_account_and_signs_out_there_too(page, sso_server):
    sso_server, issuer = sso_server
    problems: list[str] = []
    page.goto(sso_server + "/review/")
    check_page(page, "sign-in-with-single-sign-on", problems)
    press(page, "Sign in with Clinic Login")
    through_the_provider(page, REVIEWER[0])
    assert page.url.startswith(sso_server + "/review/")
    assert page.get_by_role("heading", level=1).inner_text() == "Inbox"
    page.goto(sso_server + "/review/account")
    check_page(page, "account", problems)
    page.get_by_role("link", name="Your sessions").click()
    assert "single sign-on" in page.locator("table.sessions").inner_text()
    check_page(page, "sessions", problems)
    press(page, "Sign out")
    assert page.url == sso_server + "/review/oidc/signed-out"
    check_page(page, "signed-out", problems)
    page.get_by_role("link", name="Sign out of Clinic Login").click()
    page.wait_for_load_state()
    assert page.url.startswith(issuer + "/session/end")
    assert problems == [], "\n".join(problems)


def test_someone_without_a_reviewer_account_reads_why(page, sso_server):
    sso_server, _ = sso_server
    problems: list[str] = []
    page.goto(sso_server + "/review/sign-in")
    press(page, "Sign in with Clinic Login")
    through_the_provider(page, "stranger@clinic.example")
    assert page.get_by_role("heading", level=1).inner_text() == "There is no reviewer account for you"
    check_page(page, "single-sign-on-refused", problems)
    page.goto(sso_server + "/review/")
    assert page.url.startswith(sso_server + "/review/sign-in")
    assert problems == [], "\n".join(problems)
