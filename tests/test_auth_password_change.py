"""A signed-in reviewer changes their own password: the policy, exact messages, the throttle, the
audit log, and every other session of the account ending while this one goes on."""

from __future__ import annotations

import pytest
from conftest import PASSWORD, REVIEWER_EMAIL, ReviewerActions

from screening import get_db, store

NEW = "kettle harbour violet 2049"
PAGE = "/review/account/password"


def change(actions: ReviewerActions, current: str, new: str, confirm: str | None = None):
    data = {"current": current, "new": new, "confirm": new if confirm is None else confirm}
    return actions.post(PAGE, data, page=PAGE)


def audit_actions(app) -> list[str]:
    with app.app_context():
        return [row[0] for row in get_db().execute("SELECT action FROM audit ORDER BY id").fetchall()]


def test_the_page_is_reached_from_the_reviewer_nav(reviewer):
    inbox = reviewer.client.get("/review/").get_data(as_text=True)
    assert f'href="{PAGE}">Your password</a>' in inbox
    page = reviewer.client.get(PAGE).get_data(as_text=True)
    assert "<h1>Change your password</h1>" in page
    assert 'autocomplete="current-password"' in page and page.count('autocomplete="new-password"') == 2


@pytest.mark.parametrize(
    ("current", "new", "confirm", "messages"),
    [
        (
            "",
            "",
            "",
            [
                "Enter your current password.",
                "Enter a new password.",
                "Enter the new password again.",
            ],
        ),
        (PASSWORD, "short-1", "short-1", ["Use at least 12 characters."]),
        (
            PASSWORD,
            "password1234",
            "password1234",
            ["This password is on a list of common passwords. Choose one that is harder to guess."],
        ),
        (
            PASSWORD,
            "river-the-reviewer-9",
            "river-the-reviewer-9",
            ["Do not use your email address in your password."],
        ),
        (PASSWORD, PASSWORD, PASSWORD, ["Choose a password that is different from your current one."]),
        (PASSWORD, NEW, NEW + "x", ["The two new passwords are not the same."]),
        ("not-the-password-1", NEW, NEW, ["The current password is not right."]),
    ],
)
def test_a_refused_change_says_why_and_changes_nothing(app, reviewer, current, new, confirm, messages):
    response = change(reviewer, current, new, confirm)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    for message in messages:
        assert message in page
    reviewer.sign_out()
    assert ReviewerActions(reviewer.client).sign_in(REVIEWER_EMAIL, PASSWORD).status_code == 302, (
        "old one works"
    )


def test_a_change_keeps_this_session_and_ends_the_others(app, client, accounts):
    here = ReviewerActions(client)
    here.sign_in()
    elsewhere = ReviewerActions(app.test_client())
    elsewhere.sign_in()
    assert elsewhere.client.get("/review/").status_code == 200
    response = change(here, PASSWORD, NEW)
    assert response.status_code == 303 and response.location == "/review/"
    inbox = client.get("/review/")
    assert inbox.status_code == 200
    assert "Your password is changed." in inbox.get_data(as_text=True)
    assert elsewhere.client.get("/review/").status_code == 302, "the other browser is signed out"
    here.sign_out()
    assert ReviewerActions(client).sign_in(REVIEWER_EMAIL, PASSWORD).status_code == 200, "the old one fails"
    assert ReviewerActions(app.test_client()).sign_in(REVIEWER_EMAIL, NEW).status_code == 302
    with app.app_context():
        row = store.find_reviewer(get_db(), REVIEWER_EMAIL)
    assert row["password_hash"].startswith("$argon2id$") and NEW not in row["password_hash"]
    assert "password_change" in audit_actions(app)


def test_guessing_the_current_password_is_throttled_like_sign_in(app, reviewer):
    # Signing in cleared the account's counter; five wrong guesses use up the window's attempts.
    codes = [change(reviewer, f"guess-number-{n}", NEW).status_code for n in range(5)]
    assert codes == [400] * 5
    sixth = change(reviewer, PASSWORD, NEW)
    assert sixth.status_code == 429
    assert "Too many sign-in attempts" in sixth.get_data(as_text=True)
    actions = audit_actions(app)
    assert actions.count("password_change_failed") == 5 and "password_change" not in actions
    with app.app_context():
        details = [row[0] or "" for row in get_db().execute("SELECT detail FROM audit").fetchall()]
    assert not any("guess-number" in detail for detail in details), "no typed password in the audit log"
