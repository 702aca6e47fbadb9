"""Re-authentication before sensitive actions, the exporter role and export counts, passwords someone
else chose, and a lockout that stops attackers but not the owner's own browser (OWASP device cookie)."""

from __future__ import annotations

import pytest
from conftest import ADMIN_EMAIL, PASSWORD, REVIEWER_EMAIL, ReviewerActions, text_of
from test_two_step import TwoStep

from screening import alerts as notify
from screening import create_app, get_db, store

pytestmark = pytest.mark.both_stores
PAGE = "/review/admin/reviewers"


@pytest.fixture
def app(app_config):
    return create_app({**app_config, "TWO_STEP": "required"})


def audit(app, action: str) -> list[str]:
    with app.app_context():
        return [
            r["detail"]
            for r in get_db().query("SELECT detail FROM audit WHERE action = ? ORDER BY id", [action])
        ]


def sensitive(accounts) -> list[tuple[str, str, dict, str, int]]:
    """(method, path, form data, the page it comes back to, the status once done) of each action that
    asks again after 10 minutes."""
    someone = accounts["reviewer"]
    own = "/review/account/two-step"
    return [
        ("POST", f"{PAGE}/{someone}/reset", {}, PAGE, 200),
        ("POST", f"{PAGE}/{someone}/reset-two-step", {}, PAGE, 303),
        ("POST", f"{PAGE}/{someone}/admin/give", {}, PAGE, 303),
        ("POST", f"{PAGE}/{someone}/exporter/give", {}, PAGE, 303),
        ("POST", PAGE, {"email": "new.admin@clinic.example", "is_admin": "y"}, PAGE, 200),
        ("POST", f"{own}/recovery-codes", {}, own, 200),
        ("GET", "/review/export.csv?status=new", {}, "/review/export.csv?status=new", 200),
    ]


@pytest.mark.parametrize("number", range(7))
def test_sensitive_actions_ask_for_the_password_or_a_code_after_ten_minutes(app, accounts, clock, number):
    method, path, data, back_to, done = sensitive(accounts)[number]
    admin = TwoStep(app.test_client())
    admin.set_up(clock, ADMIN_EMAIL)
    clock.advance(minutes=11)
    send = (
        (lambda: admin.client.get(path)) if method == "GET" else (lambda: admin.post(path, data, page=PAGE))
    )
    asked = send()
    assert asked.status_code == 303 and asked.location.startswith("/review/confirm?next=")
    assert "Confirm it is you" in text_of(admin.client.get(asked.location))
    wrong = admin.client.post(asked.location, data={"password": "not-it", "csrf_token": admin.token(PAGE)})
    assert wrong.status_code == 400 and "That is not right. Try again." in text_of(wrong)
    back = admin.client.post(
        asked.location, data={"code": admin.code(clock), "csrf_token": admin.token(PAGE)}
    )
    assert back.location == back_to
    assert send().status_code == done, "done once confirmed"
    assert audit(app, "reauth") == ["by code"]
    assert audit(app, "reauth_failed") == [""]


def test_within_ten_minutes_nothing_is_asked_again(app, accounts, clock):
    admin = TwoStep(app.test_client())
    admin.set_up(clock, ADMIN_EMAIL)
    clock.advance(minutes=9)
    assert admin.post(f"{PAGE}/{accounts['reviewer']}/reset", page=PAGE).status_code == 200


def test_contact_exports_can_need_the_exporter_role_and_name_their_row_count(
    app, accounts, clock, add_submissions
):
    app.config["EXPORTS_NEED_ROLE"] = 1
    add_submissions({}, {}, {"status": "closed"})
    nurse = TwoStep(app.test_client())
    nurse.set_up(clock)
    refused = nurse.client.get("/review/export.csv")
    assert refused.status_code == 303
    assert "Downloading contact details needs the exporter role." in text_of(
        nurse.client.get(refused.location)
    )
    admin = TwoStep(app.test_client())
    admin.set_up(clock, ADMIN_EMAIL)
    admin.post(f"{PAGE}/{accounts['reviewer']}/exporter/give", page=PAGE)
    assert audit(app, "role_change") == [f"reviewer {REVIEWER_EMAIL}: now exporter"]
    assert nurse.client.get("/review/export.csv?status=new").status_code == 200
    assert audit(app, "export") == ["2 rows: status=new"]


def test_the_overview_notes_an_export_of_over_1000_rows(app, accounts, clock, runner):
    from screening.cli import cli

    assert runner.invoke(cli, ["seed", "--count", "1001", "--seed", "7"]).exit_code == 0
    admin = TwoStep(app.test_client())
    admin.set_up(clock, ADMIN_EMAIL)
    assert admin.client.get("/review/export.csv").status_code == 200
    assert audit(app, "export_bulk") == ["1,001 rows: all submissions"]
    overview = text_of(admin.client.get("/review/overview"))
    assert "Large downloads" in overview and f"{ADMIN_EMAIL}: 1,001 rows: all submissions" in overview


@pytest.fixture
def optional(app_config):
    return create_app(app_config)


def test_a_password_an_admin_chose_must_be_changed_at_first_sign_in(optional, accounts):
    admin = ReviewerActions(optional.test_client())
    admin.sign_in(ADMIN_EMAIL)
    shown = admin.post(f"{PAGE}/{accounts['reviewer']}/reset", page=PAGE).get_data(as_text=True)
    given = shown.split('<p class="password"><code>')[1].split("<")[0]
    person = ReviewerActions(optional.test_client())
    assert person.sign_in(REVIEWER_EMAIL, given).location == "/review/"
    for path in ("/review/", "/review/overview", "/review/account/two-step"):
        assert person.client.get(path).location == "/review/account/password", path
    assert "Choose your own password before you go on" in text_of(
        person.client.get("/review/account/password")
    )
    assert person.choose_password(given).location == "/review/"
    assert person.client.get("/review/").status_code == 200


def test_a_password_piped_to_reviewer_add_must_be_changed_too(optional, runner):
    from screening.cli import cli

    result = runner.invoke(
        cli, ["reviewer", "add", "piped@clinic.example", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    person = ReviewerActions(optional.test_client())
    person.sign_in("piped@clinic.example")
    assert person.client.get("/review/").location == "/review/account/password"


def sign_in_from(app, address: str, password: str, client=None) -> int:
    actions = ReviewerActions(client or app.test_client())
    return actions.client.post(
        "/review/sign-in",
        data={"email": REVIEWER_EMAIL, "password": password, "csrf_token": actions.token()},
        environ_base={"REMOTE_ADDR": address},
    ).status_code


def test_failures_from_elsewhere_never_lock_out_a_browser_that_signed_in_before(optional, accounts):
    owner = optional.test_client()
    assert sign_in_from(optional, "192.0.2.1", PASSWORD, owner) == 302
    ReviewerActions(owner).sign_out()
    optional.config["SIGNIN_MAX_ACCOUNT_ATTEMPTS"] = 12
    codes = [sign_in_from(optional, f"198.51.100.{n}", "wrong-guess") for n in range(1, 5) for _ in range(3)]
    assert codes == [200] * 12
    assert sign_in_from(optional, "192.0.2.1", PASSWORD) == 429, (
        "a new browser waits, even on the right address"
    )
    assert sign_in_from(optional, "192.0.2.1", PASSWORD, owner) == 302, "the owner's own browser gets in"
    with optional.app_context():
        db = get_db()
        rows = store.claim_alerts(db, "test", store.shift(store.now(), minutes=1))
    assert [(r["kind"], r["email"]) for r in rows] == [("lockout", REVIEWER_EMAIL)], "mailed once"
    ((_, mail),) = notify.messages(
        rows, notify.Settings(base_url="https://clinic.example.org", mail_from="a@b.c")
    )
    body = mail.get_content()
    assert mail["Subject"] == "Many failed sign-ins to your account"
    assert "198.51.100" not in body and "wrong-guess" not in body and PASSWORD not in body


def test_the_owners_browser_has_its_own_limit(optional, accounts):
    owner = optional.test_client()
    sign_in_from(optional, "192.0.2.1", PASSWORD, owner)
    ReviewerActions(owner).sign_out()
    codes = [sign_in_from(optional, "192.0.2.1", "wrong-guess", owner) for _ in range(6)]
    assert codes == [200] * 5 + [429]
    assert sign_in_from(optional, "192.0.2.1", PASSWORD) == 302, "its failures are its own, not the account's"


def test_a_forged_device_cookie_is_ignored(optional, accounts):
    client = optional.test_client()
    client.set_cookie("screening_device", "forged.value.here", path="/review/")
    codes = [sign_in_from(optional, "192.0.2.1", "wrong-guess", client) for _ in range(6)]
    assert codes == [200] * 5 + [429]
    assert sign_in_from(optional, "192.0.2.9", PASSWORD) == 302, "counted per address, as before"
