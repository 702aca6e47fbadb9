"""Two-step sign-in with an authenticator app's codes (RFC 6238) and recovery codes, as production
runs it (SCREENING_TWO_STEP=required), on the app's settable clock: pyotp makes the codes."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from conftest import ADMIN_EMAIL, PASSWORD, REVIEWER_EMAIL, ReviewerActions, page, text_of

from screening import StartupError, config, create_app, get_db, store

pytestmark = pytest.mark.both_stores


@pytest.fixture
def app(app_config):
    return create_app({**app_config, "TWO_STEP": "required"})


class TwoStep(ReviewerActions):
    """A browser signing in with a password and then a code from the app whose secret it holds."""

    secret = ""

    def setup_page(self):
        return self.client.get("/review/two-step/setup")

    def read_secret(self) -> str:
        shown = page(self.setup_page()).select_one("code.secret").get_text()
        self.secret = shown.replace(" ", "")
        return shown

    def code(self, clock, steps: int = 0) -> str:
        return pyotp.TOTP(self.secret).at(clock.now + timedelta(seconds=30 * steps))

    def send_code(self, code: str, path: str = "/review/two-step"):
        # Any page the browser may open gives the session's token; the sign-in page always opens.
        return self.client.post(path, data={"code": code, "csrf_token": self.token("/review/sign-in")})

    def set_up(self, clock, email: str = REVIEWER_EMAIL) -> list[str]:
        """Sign in for the first time, set up the app, and return the recovery codes shown."""
        assert self.sign_in(email).location == "/review/two-step/setup"
        self.read_secret()
        response = self.send_code(self.code(clock), "/review/two-step/setup")
        assert response.status_code == 200, text_of(response)
        return [code.get_text() for code in page(response).select(".recovery-codes code")]


def audit_details(app, action: str) -> list[str]:
    with app.app_context():
        return [
            r["detail"]
            for r in get_db().query("SELECT detail FROM audit WHERE action = ? ORDER BY id", [action])
        ]


def test_setup_shows_a_qr_code_and_the_secret_in_fours_and_waits_for_a_first_code(client, accounts, clock):
    browser = TwoStep(client)
    assert browser.sign_in().location == "/review/two-step/setup"
    assert client.get("/review/").location.startswith("/review/sign-in"), "no session before the second step"
    setup = browser.setup_page()
    assert page(setup).select_one(".qr svg") is not None, "a QR code drawn here, not fetched from elsewhere"
    shown = browser.read_secret()
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{4})+", shown)
    wrong = browser.send_code("000000", "/review/two-step/setup")
    assert wrong.status_code == 400
    assert "That code is not right." in text_of(wrong)
    with client.application.app_context():
        assert store.get_reviewer(get_db(), accounts["reviewer"])["totp_secret"] is None, "not before a code"
    response = browser.send_code(browser.code(clock), "/review/two-step/setup")
    codes = [code.get_text() for code in page(response).select(".recovery-codes code")]
    assert len(codes) == len(set(codes)) == 10
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get("/review/").status_code == 200, "signed in"
    with client.application.app_context():
        stored = [r["code_hash"] for r in get_db().query("SELECT code_hash FROM recovery_codes")]
    assert len(stored) == 10 and all(h.startswith("$argon2id$") for h in stored), "kept hashed"
    assert not any(code in " ".join(stored) for code in codes)
    assert audit_details(client.application, "signin") == ["by password and code"]


def test_a_code_is_accepted_once_and_one_step_either_side(app, accounts, clock):
    first = TwoStep(app.test_client())
    first.set_up(clock)
    again = TwoStep(app.test_client())
    again.secret = first.secret
    assert again.sign_in().location == "/review/two-step"
    refused = again.send_code(first.code(clock))
    assert refused.status_code == 400, "the code that set the app up cannot sign in again"
    assert "it was used already" in text_of(refused)
    assert again.send_code(again.code(clock, steps=-1)).status_code == 400, "older than the last one used"
    assert again.send_code(again.code(clock, steps=2)).status_code == 400, "two steps ahead is too far"
    assert again.send_code(again.code(clock, steps=1)).location == "/review/", "one step ahead: drift"
    clock.advance(seconds=90)
    later = TwoStep(app.test_client())
    later.secret = first.secret
    later.sign_in()
    assert later.send_code(later.code(clock, steps=-1)).location == "/review/", "one step behind: drift"
    assert audit_details(app, "signin") == ["by password and code"] * 3
    assert audit_details(app, "two_step_failed") == ["wrong or reused code"] * 3


def test_a_recovery_code_signs_in_once(app, accounts, clock):
    codes = TwoStep(app.test_client()).set_up(clock)
    browser = TwoStep(app.test_client())
    browser.sign_in()
    path = "/review/two-step/recovery"
    response = browser.send_code(codes[3].upper().replace("-", " "), path)
    assert response.location == "/review/"
    assert "9 of your recovery codes are left." in text_of(
        browser.client.get("/review/", follow_redirects=True)
    )
    again = TwoStep(app.test_client())
    again.sign_in()
    refused = again.send_code(codes[3], path)
    assert refused.status_code == 400
    assert "That recovery code is not right, or it was used already." in text_of(refused)
    assert audit_details(app, "signin") == ["by password and code", "by password and recovery code"]


def test_wrong_codes_count_against_the_sign_in_throttle(app, accounts, clock):
    TwoStep(app.test_client()).set_up(clock)
    guesser = TwoStep(app.test_client())
    guesser.sign_in()
    codes = [guesser.send_code(f"{n:06d}").status_code for n in range(7)]
    assert codes == [400] * 5 + [429, 429], "five wrong codes, as five wrong passwords, then no more"
    assert "Too many sign-in attempts" in text_of(guesser.send_code("123456"))


def test_the_second_step_times_out_after_ten_minutes(app, accounts, clock):
    first = TwoStep(app.test_client())
    first.set_up(clock)
    slow = TwoStep(app.test_client())
    slow.secret = first.secret
    slow.sign_in()
    clock.advance(minutes=11)
    response = slow.send_code(slow.code(clock))
    assert response.location == "/review/sign-in"


def signed_in_admin(app, clock) -> TwoStep:
    admin = TwoStep(app.test_client())
    admin.set_up(clock, ADMIN_EMAIL)
    return admin


def test_an_admin_resets_a_second_step_and_the_person_sets_one_up_again(app, accounts, clock):
    person = TwoStep(app.test_client())
    person.set_up(clock)
    admin = signed_in_admin(app, clock)
    target = f"/review/admin/reviewers/{accounts['reviewer']}/reset-two-step"
    response = admin.post(target, page="/review/admin/reviewers")
    assert response.location == "/review/admin/reviewers"
    assert person.client.get("/review/").location.startswith("/review/sign-in"), "their sessions ended"
    assert audit_details(app, "two_step_reset") == [f"reviewer {REVIEWER_EMAIL}"]
    assert person.sign_in().location == "/review/two-step/setup"


def test_an_admin_cannot_reset_their_own_account_from_the_admin_page(app, accounts, clock):
    admin = signed_in_admin(app, clock)
    for action in ("reset", "reset-two-step"):
        response = admin.post(
            f"/review/admin/reviewers/{accounts['admin']}/{action}", page="/review/admin/reviewers"
        )
        assert response.location == "/review/admin/reviewers"
        follow = admin.client.get(response.location)
        assert "You cannot reset your own account here." in text_of(follow)
    assert audit_details(app, "two_step_reset") == audit_details(app, "reviewer_reset") == []


def test_optional_second_step_lets_a_password_alone_sign_in(app_config, accounts, clock):
    app = create_app({**app_config, "TWO_STEP": "optional"})
    browser = TwoStep(app.test_client())
    assert browser.sign_in().location == "/review/"
    assert audit_details(app, "signin") == ["by password"]


@pytest.mark.parametrize(
    ("env", "value", "message"),
    [
        (
            "production",
            "off",
            "SCREENING_TWO_STEP: off is refused in production; use required (the default) or optional.",
        ),
        (
            "development",
            "sometimes",
            "SCREENING_TWO_STEP: expected required, optional or off (development only), found 'sometimes'.",
        ),
    ],
)
def test_off_is_refused_in_production(monkeypatch, env, value, message):
    monkeypatch.setenv("SCREENING_SECRET_KEY", "a-long-enough-secret-for-production")
    monkeypatch.setenv("SCREENING_ENV", env)
    monkeypatch.setenv("SCREENING_TWO_STEP", value)
    with pytest.raises(config.ConfigError) as refused:
        config.from_environment()
    assert str(refused.value) == message


def test_a_production_app_given_off_does_not_start(app_config):
    with pytest.raises(StartupError, match="SCREENING_TWO_STEP: off is refused in production"):
        create_app({**app_config, "SCREENING_ENV": "production", "TWO_STEP": "off"})


def test_the_defaults_are_required_in_production_and_optional_in_development(monkeypatch):
    monkeypatch.delenv("SCREENING_TWO_STEP", raising=False)
    assert config.value("SCREENING_TWO_STEP", "production") == "required"
    assert config.value("SCREENING_TWO_STEP", "development") == "optional"


def test_password_is_not_enough_for_the_pages_of_the_second_step(client, accounts):
    for path in ("/review/two-step", "/review/two-step/recovery", "/review/two-step/setup"):
        assert client.get(path).location == "/review/sign-in", path
    browser = ReviewerActions(client)
    assert browser.sign_in(password="not-" + PASSWORD).status_code == 200
    assert client.get("/review/two-step").location == "/review/sign-in", "a wrong password starts nothing"


def test_the_command_line_resets_a_lone_admins_second_step(app, accounts, clock, runner):
    from screening.cli import cli

    admin = TwoStep(app.test_client())
    admin.set_up(clock, ADMIN_EMAIL)
    result = runner.invoke(cli, ["reviewer", "reset-two-step", ADMIN_EMAIL])
    assert result.exit_code == 0, result.output
    assert result.output == f"Reset the second step of {ADMIN_EMAIL}; their sessions have ended.\n"
    assert admin.client.get("/review/").location.startswith("/review/sign-in")
    assert admin.sign_in(ADMIN_EMAIL).location == "/review/two-step/setup"
    assert audit_details(app, "two_step_reset") == [f"reviewer {ADMIN_EMAIL} (command line)"]


def test_a_password_alone_cannot_replace_a_second_step_that_exists(app, accounts, clock):
    owner = TwoStep(app.test_client())
    owner.set_up(clock)
    thief = TwoStep(app.test_client())
    assert thief.sign_in().location == "/review/two-step"
    assert thief.setup_page().location == "/review/two-step"
    token = thief.token()
    assert thief.client.post(
        "/review/two-step/setup", data={"code": "123456", "csrf_token": token}
    ).location == ("/review/two-step")
    passkey = thief.client.post(
        "/review/two-step/setup/passkey", data={"credential": "{}", "csrf_token": token}
    )
    assert passkey.location == "/review/two-step"
    with app.app_context():
        assert store.list_passkeys(get_db(), accounts["reviewer"]) == []
        assert store.get_reviewer(get_db(), accounts["reviewer"])["totp_pending"] is None
