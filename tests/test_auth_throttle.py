"""Failed sign-ins are throttled per account and per address, with counters every worker shares."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from conftest import PASSWORD, REVIEWER_EMAIL, ReviewerActions

from screening import get_db, store

WRONG = "not-the-password-1"

# One "worker": its own app instance on the shared database file, posting wrong passwords.
WORKER = textwrap.dedent(
    """
    import json, re, sys, time
    from screening import create_app
    config, attempts, start_at = json.loads(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    client = create_app(config).test_client()
    page = client.get("/review/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    time.sleep(max(0.0, start_at - time.time()))
    codes = []
    for _ in range(attempts):
        form = {"email": sys.argv[4], "password": sys.argv[5], "csrf_token": token}
        response = client.post("/review/sign-in", data=form)
        codes.append(response.status_code)
    print(json.dumps(codes))
    """
)


def test_the_sixth_failure_gets_429_and_a_page_that_says_try_later(client, accounts):
    actions = ReviewerActions(client)
    codes = [actions.sign_in(REVIEWER_EMAIL, WRONG).status_code for _ in range(5)]
    assert codes == [200] * 5
    sixth = actions.sign_in(REVIEWER_EMAIL, PASSWORD)
    assert sixth.status_code == 429
    page = sixth.get_data(as_text=True)
    assert "Too many sign-in attempts" in page
    assert "try again later" in page
    assert client.get("/review/").status_code == 302, (
        "the right password does not get through while throttled"
    )


def test_the_throttle_lifts_after_the_window(client, accounts, clock):
    actions = ReviewerActions(client)
    for _ in range(5):
        actions.sign_in(REVIEWER_EMAIL, WRONG)
    assert actions.sign_in().status_code == 429
    clock.advance(minutes=16)
    assert actions.sign_in().status_code == 302


def test_a_successful_sign_in_clears_the_account_counter(client, accounts):
    actions = ReviewerActions(client)
    for _ in range(4):
        actions.sign_in(REVIEWER_EMAIL, WRONG)
    assert actions.sign_in().status_code == 302
    actions.sign_out()
    for _ in range(4):
        assert actions.sign_in(REVIEWER_EMAIL, WRONG).status_code == 200
    assert actions.sign_in().status_code == 302


def test_one_address_is_throttled_across_many_emails(app, client, accounts):
    app.config["SIGNIN_MAX_ADDRESS_ATTEMPTS"] = 6
    actions = ReviewerActions(client)
    codes = [actions.sign_in(f"guess{n}@clinic.example", WRONG).status_code for n in range(7)]
    assert codes == [200] * 6 + [429]
    other = ReviewerActions(app.test_client())
    response = other.client.post(
        "/review/sign-in",
        data={"email": REVIEWER_EMAIL, "password": PASSWORD, "csrf_token": other.token()},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert response.status_code == 302, "another address is not affected"


def test_throttled_attempts_are_audited_once_per_window(app, client, accounts):
    actions = ReviewerActions(client)
    for _ in range(9):
        actions.sign_in(REVIEWER_EMAIL, WRONG)
    with app.app_context():
        rows = list(get_db().query("SELECT action FROM audit ORDER BY id"))
    assert [row["action"] for row in rows] == ["signin_failed"] * 5 + ["signin_throttled"]


def test_two_worker_processes_share_one_counter(app_config, accounts, app):
    """Two app instances in two processes, posting at the same moment: five failures in all, not ten."""
    import time

    start_at = time.time() + 2.0
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, json.dumps(app_config), "6", str(start_at), REVIEWER_EMAIL, WRONG],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
        results.append(json.loads(out))
    codes = results[0] + results[1]
    assert codes.count(200) == 5, results
    assert codes.count(429) == 7, results
    with app.app_context():
        since = store.shift(store.now(), minutes=-15)
        key = "email:" + store_key(REVIEWER_EMAIL)
        assert store.count_signin_attempts(get_db(), key, since) == 5


def store_key(email: str) -> str:
    import hashlib

    return hashlib.sha256(email.lower().encode()).hexdigest()


def sign_in_from(app, address: str, email: str, password: str) -> int:
    other = ReviewerActions(app.test_client())
    return other.client.post(
        "/review/sign-in",
        data={"email": email, "password": password, "csrf_token": other.token()},
        environ_base={"REMOTE_ADDR": address},
    ).status_code


def test_failures_from_elsewhere_do_not_lock_the_owner_out_of_their_own_address(app, accounts):
    codes = [
        sign_in_from(app, f"198.51.100.{n}", REVIEWER_EMAIL, WRONG) for n in range(1, 10) for _ in range(5)
    ]
    assert set(codes) == {200}, "five per address and account, from nine addresses"
    assert sign_in_from(app, "192.0.2.1", REVIEWER_EMAIL, PASSWORD) == 302, (
        "the owner signs in from their own"
    )


def test_the_account_as_a_whole_has_a_higher_limit(app, accounts):
    app.config["SIGNIN_MAX_ACCOUNT_ATTEMPTS"] = 12
    codes = [
        sign_in_from(app, f"198.51.100.{n}", REVIEWER_EMAIL, WRONG) for n in range(1, 5) for _ in range(3)
    ]
    assert codes == [200] * 12
    assert sign_in_from(app, "192.0.2.1", REVIEWER_EMAIL, PASSWORD) == 429


def test_admins_are_told_when_an_account_is_hammered(app, accounts, admin):
    app.config["SIGNIN_HAMMER_NOTICE"] = 8
    for n in range(1, 4):
        for _ in range(3):
            sign_in_from(app, f"198.51.100.{n}", REVIEWER_EMAIL, WRONG)
    with app.app_context():
        actions = [r["action"] for r in get_db().query("SELECT action FROM audit ORDER BY id")]
    assert actions.count("signin_hammered") == 1, "once per window"
    page = admin.client.get("/review/overview").get_data(as_text=True)
    assert "Many failed sign-ins" in page
    assert f"account {REVIEWER_EMAIL}" in page
