"""Sessions kept on the server: Your sessions, signing out the others, an admin ending someone's, and what
each sign-in leaves in the audit log (the way in and the client's address, through trusted proxies)."""

from __future__ import annotations

import pytest
from conftest import ADMIN_EMAIL, PASSWORD, REVIEWER_EMAIL, ReviewerActions, page, text_of

from screening import create_app, get_db, store
from screening.review import sessions

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
pytestmark = pytest.mark.both_stores


def signed_in(app, email=REVIEWER_EMAIL, agent=FIREFOX, address="127.0.0.1") -> ReviewerActions:
    client = app.test_client()
    client.environ_base.update(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
    actions = ReviewerActions(client)
    assert actions.sign_in(email).status_code == 302
    return actions


def can_read(actions: ReviewerActions) -> bool:
    return actions.client.get("/review/").status_code == 200


def test_your_account_leads_to_your_sessions(app, accounts):
    me = signed_in(app)
    account = page(me.client.get("/review/account"))
    assert account.find("a", string="Your sessions")["href"] == "/review/account/sessions"
    assert page(me.client.get("/review/")).find("a", string="Your account")["href"] == "/review/account"


def test_your_sessions_lists_each_browser_with_how_and_where_it_signed_in(app, accounts):
    phone = signed_in(app, agent=SAFARI, address="10.0.0.7")
    desk = signed_in(app, agent=FIREFOX, address="10.0.0.8")
    table = page(desk.client.get("/review/account/sessions")).find("table", class_="sessions")
    rows = [
        [" ".join(cell.get_text(" ").split()) for cell in row.find_all(["th", "td"])[:3]]
        for row in table.tbody.find_all("tr")
    ]
    assert sorted(rows) == [
        ["Firefox on Windows (this browser)", "10.0.0.8", "password"],
        ["Safari on iOS", "10.0.0.7", "password"],
    ]
    assert "Sign out other sessions" in text_of(phone.client.get("/review/account/sessions"))


def test_sign_out_other_sessions_ends_them_on_their_next_request_and_keeps_this_one(app, accounts):
    phone = signed_in(app, agent=SAFARI)
    tablet = signed_in(app, agent=SAFARI)
    desk = signed_in(app)
    other_account = signed_in(app, ADMIN_EMAIL)
    response = desk.post("/review/account/sessions", page="/review/account/sessions")
    assert response.status_code == 303
    assert "Signed out of 2 other sessions. This one stays signed in." in text_of(
        desk.client.get("/review/account/sessions")
    )
    assert can_read(desk) and can_read(other_account)
    assert not can_read(phone) and not can_read(tablet)
    assert "This is the only session. There is nothing else to sign out." in text_of(
        desk.client.get("/review/account/sessions")
    )
    with app.app_context():
        row = store.audit_page(get_db(), store.AuditQuery(action="sessions_end"))[0]
    assert (row["reviewer_email"], row["detail"]) == (REVIEWER_EMAIL, "own other sessions (2 ended)")


def test_an_admin_ends_a_reviewers_sessions(app, accounts):
    phone, desk = signed_in(app, agent=SAFARI), signed_in(app)
    admin = signed_in(app, ADMIN_EMAIL)
    response = admin.post(
        f"/review/admin/reviewers/{accounts['reviewer']}/end-sessions", page="/review/admin/reviewers"
    )
    assert response.status_code == 303
    assert f"{REVIEWER_EMAIL}: 2 sessions ended." in text_of(admin.client.get("/review/admin/reviewers"))
    assert not can_read(phone) and not can_read(desk) and can_read(admin)


def test_only_admins_end_other_peoples_sessions(app, accounts):
    reviewer, admin = signed_in(app), signed_in(app, ADMIN_EMAIL)
    response = reviewer.post(f"/review/admin/reviewers/{accounts['admin']}/end-sessions")
    assert response.status_code == 403
    assert can_read(admin)


def test_end_all_sessions_ends_this_browser_too(app, accounts):
    desk = signed_in(app)
    with app.test_request_context():
        assert sessions.end_all_sessions(accounts["reviewer"]) == 1
    assert not can_read(desk)


def test_start_session_refuses_a_way_in_it_does_not_know(app, accounts):
    with app.test_request_context(), pytest.raises(ValueError, match="unknown sign-in method 'magic'"):
        sessions.start_session({"id": accounts["reviewer"], "email": REVIEWER_EMAIL, "is_admin": 0}, "magic")


@pytest.mark.parametrize(
    ("agent", "shown"),
    [
        (FIREFOX, "Firefox on Windows"),
        (SAFARI, "Safari on iOS"),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
            "Chrome on Linux",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/126.0 Safari/537.36 Edg/126.0",
            "Edge on Windows",
        ),
        ("curl/8.5.0", "curl/8.5.0"),
        ("", "Unknown browser"),
    ],
)
def test_browser_names(agent, shown):
    assert sessions.browser_name(agent) == shown


def test_sign_ins_and_admin_actions_keep_the_client_address(app, accounts):
    admin = signed_in(app, ADMIN_EMAIL, address="192.0.2.10")
    admin.post(
        "/review/admin/reviewers",
        {"email": "new.admin@clinic.example", "is_admin": "y"},
        page="/review/admin/reviewers",
    )
    with app.app_context():
        entries = store.audit_page(get_db(), store.AuditQuery())
    latest = [(e["action"], e["detail"], e["address"]) for e in entries[:2]]
    assert latest == [
        ("reviewer_add", "reviewer new.admin@clinic.example, with admin rights", "192.0.2.10"),
        ("signin", "by password", "192.0.2.10"),
    ]


@pytest.mark.parametrize(("hops", "expected"), [(0, "10.0.0.2"), (1, "203.0.113.9"), (2, "198.51.100.4")])
def test_the_address_comes_through_as_many_proxies_as_trusted(app_config, hops, expected):
    from screening.review import auth

    app = create_app({**app_config, "PROXY_HOPS": hops})
    with app.app_context():
        auth.create_account(REVIEWER_EMAIL, password=PASSWORD)
    client = app.test_client()
    client.environ_base.update(
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.4, 203.0.113.9",
        HTTP_X_FORWARDED_PROTO="http",
    )
    assert ReviewerActions(client).sign_in().status_code == 302
    with app.app_context():
        entry = store.audit_page(get_db(), store.AuditQuery(action="signin"))[0]
    assert entry["address"] == expected


def test_production_cookies_carry_the_host_prefix(app_config, ruleset):
    from conftest import Patient

    app = create_app({**app_config, "SCREENING_ENV": "production", "TRUSTED_HOSTS": None})
    client = app.test_client()
    client.environ_base.update({"wsgi.url_scheme": "https"})
    assert Patient(client, ruleset).start().status_code == 302
    names = {cookie.key for cookie in client._cookies.values()}
    assert {"__Host-screening_session", "__Host-draft"} <= names
    headers = client.get("/", base_url="https://localhost").headers.getlist("Set-Cookie")
    assert all("Secure" in header and "Domain" not in header and "Path=/" in header for header in headers)


def test_development_cookies_keep_their_plain_names(client, ruleset):
    from conftest import Patient

    Patient(client, ruleset).start()
    assert {cookie.key for cookie in client._cookies.values()} >= {"screening_session", "draft"}


@pytest.mark.parametrize(
    ("method", "detail"),
    [
        ("password", "by password"),
        ("code", "by password and code"),
        ("passkey", "by passkey"),
        ("recovery code", "by password and recovery code"),
        ("single sign-on", "by single sign-on"),
    ],
)
def test_every_way_in_is_named_in_the_audit_log_and_on_the_session(app, accounts, method, detail):
    with app.test_request_context(headers={"User-Agent": FIREFOX}, environ_base={"REMOTE_ADDR": "192.0.2.5"}):
        app.preprocess_request()  # as a request would: the client's address for the audit log
        sessions.start_session(store.get_reviewer(get_db(), accounts["reviewer"]), method)
        (row,) = sessions.live_sessions(accounts["reviewer"])
        entry = store.audit_page(get_db(), store.AuditQuery(action="signin"))[0]
    assert (row["method"], row["browser"], row["address"], row["current"]) == (
        detail.removeprefix("by "),
        "Firefox on Windows",
        "192.0.2.5",
        True,
    )
    assert (entry["detail"], entry["address"]) == (detail, "192.0.2.5")


def test_admin_grants_from_the_command_line_say_so(app, runner):
    from screening.cli import cli

    runner.invoke(cli, ["reviewer", "add", "boss@clinic.example", "--admin"])
    runner.invoke(cli, ["reviewer", "add", "staff@clinic.example"])
    with app.app_context():
        rows = [(row["detail"], row["address"]) for row in store.audit_page(get_db(), store.AuditQuery())]
    assert rows == [
        ("reviewer staff@clinic.example (command line)", ""),
        ("reviewer boss@clinic.example, with admin rights (command line)", ""),
    ]


def test_the_audit_log_shows_each_entrys_address(app, accounts):
    admin = signed_in(app, ADMIN_EMAIL, address="198.51.100.23")
    table = page(admin.client.get("/review/audit")).find("table", class_="audit")
    headers = [th.get_text() for th in table.thead.find_all("th")]
    first = [td.get_text() for td in table.tbody.find("tr").find_all("td")]
    assert headers[-1] == "Address" and first[-1] == "198.51.100.23" and first[-2] == "by password"
