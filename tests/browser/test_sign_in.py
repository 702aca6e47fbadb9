"""Two-step sign-in in Chromium: a newcomer sets up an authenticator app from the page (pyotp reads the
key it shows), the admin signs in with a passkey made by a real WebAuthn ceremony, and axe finds
nothing on the pages of the second step."""

from __future__ import annotations

import time

import pyotp
from playwright.sync_api import expect

from .pages import FIRST_PASSWORD, NEWCOMER, press, sign_in
from .test_accessibility import check_page

OWN_PASSWORD = "lantern-quietly-orbits-58"


def test_a_newcomer_sets_up_an_app_and_signs_in_with_its_codes(page, server):
    problems: list[str] = []
    page.goto(server + "/review/sign-in")
    page.get_by_label("Email").fill(NEWCOMER)
    page.get_by_label("Password").fill(FIRST_PASSWORD)
    press(page, "Sign in")
    assert page.url.endswith("/review/two-step/setup")
    expect(page.locator(".qr svg")).to_be_visible()
    check_page(page, "two-step-setup", problems)
    secret = page.locator("code.secret").inner_text().replace(" ", "")
    page.get_by_label("Code from your authenticator app").fill("000000")
    press(page, "Turn on the second step")
    expect(page.locator(".error-summary")).to_contain_text("That code is not right.")
    check_page(page, "two-step-setup-with-errors", problems)
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).now())
    press(page, "Turn on the second step")
    expect(page.locator(".recovery-codes code")).to_have_count(10)
    recovery = page.locator(".recovery-codes code").first.inner_text()
    check_page(page, "recovery-codes", problems)
    press(page, "I have kept them: continue", role="link")
    expect(page.locator(".flash")).to_contain_text("Choose your own password before you go on")
    page.get_by_label("Current password").fill(FIRST_PASSWORD)
    page.get_by_label("New password", exact=True).fill(OWN_PASSWORD)
    page.get_by_label("New password again").fill(OWN_PASSWORD)
    press(page, "Change password")
    press(page, "Sign out")

    page.get_by_label("Email").fill(NEWCOMER)
    page.get_by_label("Password").fill(OWN_PASSWORD)
    press(page, "Sign in")
    check_page(page, "two-step", problems)
    press(page, "Use a recovery code instead", role="link")
    check_page(page, "two-step-recovery", problems)
    press(page, "Back to the second step", role="link")
    # The code of the next 30 seconds: the one set-up used cannot be used again, and one step of drift is allowed.
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).at(time.time() + 30))
    press(page, "Continue")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inbox")
    press(page, "Sign out")

    page.get_by_label("Email").fill(NEWCOMER)
    page.get_by_label("Password").fill(OWN_PASSWORD)
    press(page, "Sign in")
    press(page, "Use a recovery code instead", role="link")
    page.get_by_label("Recovery code").fill(recovery)
    press(page, "Continue")
    expect(page.locator(".flash")).to_contain_text("9 of your recovery codes are left.")
    assert problems == [], "\n".join(problems)


def test_the_admin_signs_in_with_a_passkey_and_the_audit_log_says_so(page, server, passkey):
    page.goto(server + "/review/sign-in")
    sign_in(page, passkey)
    page.goto(server + "/review/audit")
    expect(page.locator("main")).to_contain_text("by passkey")
