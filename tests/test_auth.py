"""Reviewer sign-in: argon2id hashes, sessions that end for good, timeouts, and the password policy."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from conftest import ADMIN_EMAIL, PASSWORD, REVIEWER_EMAIL, ReviewerActions

from screening import get_db, store
from screening.review import auth

EASY_TO_GUESS = (
    "This password is easy to guess: it follows a pattern, such as keys next to each other or a common word"
    " with numbers. Choose a longer one, such as four unrelated words."
)
FAILURE_TEXT = "The email address or password is not right, or the account cannot sign in."


def session_cookie(client) -> str:
    return client.get_cookie("screening_session").value


def test_passwords_are_stored_as_argon2id_hashes(app, accounts):
    with app.app_context():
        row = store.find_reviewer(get_db(), REVIEWER_EMAIL)
    assert row["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in row["password_hash"]


def test_sign_in_starts_a_new_session_and_leads_to_the_inbox(client, accounts):
    actions = ReviewerActions(client)
    actions.token()
    before = session_cookie(client)
    response = actions.sign_in()
    assert response.status_code == 302
    assert response.location == "/review/"
    assert session_cookie(client) != before
    inbox = client.get("/review/")
    assert inbox.status_code == 200
    assert "<h1>Inbox</h1>" in inbox.get_data(as_text=True)


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(client, accounts):
    assert ReviewerActions(client).sign_in(next_path="/review/overview").location == "/review/overview"
    other = client.application.test_client()
    assert ReviewerActions(other).sign_in(next_path="//evil.example/review/").location == "/review/"


def test_signed_out_visitors_reach_the_sign_in_form(client):
    response = client.get("/review/", follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'type="password"' in page
    assert '<label for="email">Email address</label>' in page


def test_sign_out_ends_the_session_and_the_old_cookie_is_useless(client, reviewer):
    cookie = session_cookie(client)
    response = reviewer.sign_out()
    assert response.status_code == 302
    assert client.get("/review/").status_code == 302
    client.set_cookie("screening_session", cookie)
    replayed = client.get("/review/", follow_redirects=True)
    assert 'type="password"' in replayed.get_data(as_text=True)
    assert "<h1>Sign in</h1>" in replayed.get_data(as_text=True)


def test_sign_out_needs_a_post(reviewer):
    assert reviewer.client.get("/review/sign-out").status_code == 405


@pytest.mark.parametrize(
    ("steps", "signed_in"),
    [
        ([{"minutes": 29}], True),
        ([{"minutes": 31}], False),
        ([{"minutes": 25}, {"minutes": 25}, {"minutes": 25}], True),  # activity keeps it alive
        ([{"minutes": 29}] * 24 + [{"minutes": 30}], False),  # 12 hours at most, however active
        ([{"hours": 11, "minutes": 50}], False),  # idle
    ],
)
def test_sessions_end_when_idle_or_too_old(client, accounts, clock, steps, signed_in):
    actions = ReviewerActions(client)
    actions.sign_in()
    last = None
    for step in steps:
        clock.advance(**step)
        last = client.get("/review/overview")
    assert (last.status_code == 200) is signed_in


def test_an_expired_session_says_so_on_the_sign_in_page(client, accounts, clock):
    ReviewerActions(client).sign_in()
    clock.advance(minutes=45)
    page = client.get("/review/", follow_redirects=True).get_data(as_text=True)
    assert "Your session ended, so you were signed out." in page
    clock.advance(minutes=1)
    assert client.get("/review/").status_code == 302, "an expired session stays ended"


def failure_block(response) -> str:
    page = response.get_data(as_text=True)
    start = page.index('<div class="error-summary" role="alert" id="signin-failed">')
    return page[start : page.index("</div>", start)]


def test_unknown_email_wrong_password_and_disabled_account_fail_identically(app, client, accounts):
    with app.app_context():
        store.set_reviewer_active(get_db(), accounts["admin"], False)
    actions = ReviewerActions(client)
    responses = [
        actions.sign_in("nobody@clinic.example", PASSWORD),
        actions.sign_in(REVIEWER_EMAIL, "wrong-password-123"),
        actions.sign_in(ADMIN_EMAIL, PASSWORD),  # right password, disabled account
    ]
    assert {r.status_code for r in responses} == {200}
    blocks = {failure_block(r) for r in responses}
    assert len(blocks) == 1
    assert FAILURE_TEXT in blocks.pop()
    assert client.get("/review/").status_code == 302


def test_failed_sign_ins_are_audited_without_the_password_or_an_unknown_email(app, client, accounts):
    actions = ReviewerActions(client)
    actions.sign_in("stranger@clinic.example", "typed-secret-999")
    actions.sign_in(REVIEWER_EMAIL, "typed-secret-999")
    with app.app_context():
        rows = list(get_db().query("SELECT * FROM audit WHERE action = 'signin_failed' ORDER BY id"))
    assert [row["detail"].split(";")[0] for row in rows] == ["unknown email", "wrong password"]
    assert rows[1]["reviewer_email"] == REVIEWER_EMAIL
    text = repr(rows)
    assert "typed-secret-999" not in text
    assert "stranger@clinic.example" not in text


def test_sign_in_rehashes_a_password_hashed_with_other_parameters(app, client, accounts):
    with app.app_context():
        old = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash(PASSWORD)
        store.set_reviewer_password(get_db(), accounts["reviewer"], old)
    assert ReviewerActions(client).sign_in().status_code == 302
    with app.app_context():
        new = store.find_reviewer(get_db(), REVIEWER_EMAIL)["password_hash"]
    assert new != old
    assert new.startswith("$argon2id$v=19$m=8,t=1,p=1$")


def test_disabling_or_resetting_an_account_ends_its_sessions(app, client, reviewer, accounts):
    assert client.get("/review/overview").status_code == 200
    with app.app_context():
        store.set_reviewer_active(get_db(), accounts["reviewer"], False)
    assert client.get("/review/overview").status_code == 302
    with app.app_context():
        store.set_reviewer_active(get_db(), accounts["reviewer"], True)
    assert reviewer.sign_in().status_code == 302
    with app.app_context():
        auth.reset_password(store.get_reviewer(get_db(), accounts["reviewer"]))
    assert client.get("/review/overview").status_code == 302


def test_sign_in_and_sign_out_are_audited(app, reviewer, accounts):
    reviewer.sign_out()
    with app.app_context():
        actions = [row["action"] for row in get_db().query("SELECT action FROM audit ORDER BY id")]
    assert actions == ["signin", "signout"]


@pytest.mark.parametrize(
    ("password", "email", "problems"),
    [
        ("short-pw1", "a@b.example", ["Use at least 12 characters."]),
        (
            "password1234",
            "a@b.example",
            ["This password is on a list of common passwords. Choose one that is harder to guess."],
        ),
        (
            "Dragon!!2026",
            "a@b.example",
            ["This password is on a list of common passwords. Choose one that is harder to guess."],
        ),
        (
            "qwertyqwertyqwerty",
            "a@b.example",
            ["This password is on a list of common passwords. Choose one that is harder to guess."],
        ),
        (
            "maria.lopez-back-2026",
            "maria.lopez@clinic.example",
            ["Do not use your email address in your password."],
        ),
        ("abababababababab", "a@b.example", ["Use at least 5 different characters."]),
        ("x" * 129 + "yzabc", "a@b.example", ["Use at most 128 characters."]),
        (
            "aaaa",
            "a@b.example",
            ["Use at least 12 characters.", "Use at least 5 different characters."],
        ),
        ("plum-orbit-cactus-71", "river@clinic.example", []),
        # Keyboard walks and runs pass the length and list checks; zxcvbn's estimate refuses them.
        *(
            (walk, "a@b.example", [EASY_TO_GUESS])
            for walk in ("qazwsxedcrfv", "1qazxsw23edc", "123456789abc")
        ),
    ],
)
def test_password_policy(password, email, problems):
    assert auth.password_problems(password, email) == problems


def test_generated_passwords_meet_the_policy_and_differ():
    passwords = {auth.generate_password("someone@clinic.example") for _ in range(50)}
    assert len(passwords) == 50
    for password in passwords:
        assert auth.password_problems(password, "someone@clinic.example") == []
        assert len(password) == 23


def test_the_common_password_list_is_a_few_hundred_entries():
    assert 300 <= len(auth.common_passwords()) <= 2000
    assert "123456" in auth.common_passwords()
