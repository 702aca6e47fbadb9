"""Single sign-on against a real OpenID provider (panva's oidc-provider, started from tests/oidc/)."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlsplit, urlunsplit

import oidc_provider
import pytest
import requests
from conftest import ADMIN_EMAIL, PASSWORD, REVIEWER_EMAIL, ReviewerActions, text_of

from screening import StartupError, create_app, get_db, store
from screening.review import auth


@pytest.fixture(scope="session")
def provider():
    problem = oidc_provider.available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    running = oidc_provider.start()
    yield running
    running.stop()


@pytest.fixture
def sso_config(app_config, provider) -> dict:
    return {
        **app_config,
        "BASE_URL": oidc_provider.BASE_URL,
        "OIDC_ISSUER": provider.issuer,
        "OIDC_CLIENT_ID": oidc_provider.CLIENT_ID,
        "OIDC_CLIENT_SECRET": oidc_provider.CLIENT_SECRET,
        "OIDC_NAME": "Clinic Login",
    }


@pytest.fixture
def sso_app(sso_config, accounts_in):
    return accounts_in(create_app(sso_config))


@pytest.fixture
def accounts_in():
    def add(app):
        with app.app_context():
            # Passwords their owners chose (no forced change), as tests/conftest.py's accounts.
            auth.create_account(REVIEWER_EMAIL, password=PASSWORD, must_change=False)
            auth.create_account(ADMIN_EMAIL, password=PASSWORD, is_admin=True, must_change=False)
        return app

    return add


class SingleSignOn:
    """One browser: the app through Flask's test client, the provider through a requests session."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        self.actions = ReviewerActions(self.client)
        self.provider = requests.Session()

    def start(self, next_path: str | None = None) -> str:
        """Press "Sign in with ..." and return the provider's authorization URL."""
        query = f"?next={next_path}" if next_path else ""
        response = self.client.post(
            "/review/oidc/start" + query, data={"csrf_token": self.actions.token("/review/sign-in")}
        )
        assert response.status_code == 302, response.status_code
        return response.headers["Location"]

    def callback_for(self, email: str, next_path: str | None = None) -> str:
        return oidc_provider.log_in(self.provider, self.start(next_path), email)

    def finish(self, callback_url: str):
        parts = urlsplit(callback_url)
        return self.client.get(urlunsplit(("", "", parts.path, parts.query, "")))

    def sign_in(self, email: str, next_path: str | None = None):
        return self.finish(self.callback_for(email, next_path))

    def signed_in(self) -> bool:
        return self.client.get("/review/").status_code == 200


def audit_rows(app, action: str) -> list[dict]:
    with app.app_context():
        return store.audit_page(get_db(), store.AuditQuery(action=action))


def test_the_sign_in_page_offers_the_provider_by_name(sso_app, provider):
    response = sso_app.test_client().get("/review/sign-in")
    page = text_of(response)
    assert "Sign in with Clinic Login" in page
    assert "Or sign in with a password" in page
    # Browsers hold a form's redirect to form-action too: the provider's origin is allowed, nothing else.
    assert f"form-action 'self' {provider.issuer};" in response.headers["Content-Security-Policy"]


def test_without_an_issuer_there_is_no_single_sign_on(client):
    page = client.get("/review/sign-in")
    assert "Sign in with" not in text_of(page)
    assert "form-action 'self';" in page.headers["Content-Security-Policy"]
    assert client.get("/review/oidc/callback?code=x&state=y").status_code == 404


@pytest.mark.both_stores
def test_the_code_flow_signs_in_with_state_nonce_and_pkce(sso_app, provider):
    browser = SingleSignOn(sso_app)
    authorize = browser.start(next_path="/review/audit")
    parts = urlsplit(authorize)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}" == provider.issuer
    assert query["response_type"] == "code"
    assert query["scope"] == "openid email"
    assert query["client_id"] == oidc_provider.CLIENT_ID
    assert query["redirect_uri"] == oidc_provider.CALLBACK
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43 and len(query["state"]) >= 20 and len(query["nonce"]) >= 20
    callback = oidc_provider.log_in(browser.provider, authorize, ADMIN_EMAIL)
    assert parse_qs(urlsplit(callback).query)["state"] == [query["state"]]
    done = browser.finish(callback)
    assert done.status_code == 303 and done.headers["Location"] == "/review/audit"
    assert browser.signed_in()
    entry = audit_rows(sso_app, "signin")[0]
    assert (entry["reviewer_email"], entry["detail"], entry["address"]) == (
        ADMIN_EMAIL,
        "by single sign-on",
        "127.0.0.1",
    )


def test_a_replayed_callback_is_refused(sso_app):
    first = SingleSignOn(sso_app)
    callback = first.callback_for(REVIEWER_EMAIL)
    assert first.finish(callback).status_code == 303
    assert first.actions.sign_out().status_code in (302, 303)
    again = first.finish(callback)
    assert again.status_code == 403
    assert "The sign-in did not finish" in text_of(again)
    assert not first.signed_in()
    elsewhere = SingleSignOn(sso_app)
    assert elsewhere.finish(callback).status_code == 403
    assert not elsewhere.signed_in()


def test_a_forged_state_is_refused_and_signs_nobody_in(sso_app):
    browser = SingleSignOn(sso_app)
    parts = urlsplit(browser.callback_for(REVIEWER_EMAIL))
    query = parse_qs(parts.query)
    forged = urlunsplit(("", "", parts.path, f"code={query['code'][0]}&state=forged-state-value", ""))
    response = browser.client.get(forged)
    assert response.status_code == 403
    assert "The sign-in did not finish" in text_of(response)
    assert not browser.signed_in()
    assert "single sign-on: provider said no or could not be checked (MismatchingStateError)" in [
        row["detail"] for row in audit_rows(sso_app, "signin_failed")
    ]


def test_a_callback_without_code_or_with_the_providers_error_is_refused(sso_app):
    browser = SingleSignOn(sso_app)
    browser.start()
    response = browser.client.get("/review/oidc/callback?error=access_denied&state=x")
    assert response.status_code == 403
    assert not browser.signed_in()


@pytest.mark.parametrize(
    ("email", "heading", "advice"),
    [
        (
            oidc_provider.UNVERIFIED_EMAIL,
            "Your email address is not verified",
            "Ask your hospital's IT service desk to verify the email address on your account.",
        ),
        (
            "stranger@clinic.example",
            "There is no reviewer account for you",
            "Clinic Login signed you in as stranger@clinic.example, but no reviewer account here has that "
            "email address.",
        ),
    ],
)
def test_unverified_or_unknown_emails_get_a_clear_page_and_no_session(sso_app, email, heading, advice):
    with sso_app.app_context():
        if email == oidc_provider.UNVERIFIED_EMAIL:
            auth.create_account(email, password=PASSWORD)  # even an existing account needs the proof
    browser = SingleSignOn(sso_app)
    response = browser.sign_in(email)
    assert response.status_code == 403
    page = text_of(response)
    assert heading in page and advice in page
    assert not browser.signed_in()
    with sso_app.app_context():
        assert store.count_reviewers(get_db()) == 2 + (email == oidc_provider.UNVERIFIED_EMAIL)


def test_a_disabled_reviewer_gets_a_clear_page_and_no_session(sso_app):
    with sso_app.app_context():
        auth.set_active(store.find_reviewer(get_db(), REVIEWER_EMAIL), False)
    browser = SingleSignOn(sso_app)
    response = browser.sign_in(REVIEWER_EMAIL)
    assert response.status_code == 403
    assert "Your reviewer account is disabled" in text_of(response)
    assert not browser.signed_in()


def test_create_reviewers_makes_non_admin_accounts_without_passwords(sso_config, accounts_in):
    app = accounts_in(create_app({**sso_config, "OIDC_CREATE_REVIEWERS": 1}))
    browser = SingleSignOn(app)
    assert browser.sign_in("new.nurse@clinic.example").status_code == 303
    assert browser.signed_in()
    assert browser.client.get("/review/admin/reviewers").status_code == 403
    with app.app_context():
        row = store.find_reviewer(get_db(), "new.nurse@clinic.example")
    assert (row["is_admin"], row["active"], row["password_signin"]) == (0, 1, 0)
    added = audit_rows(app, "reviewer_add")[0]
    assert (
        added["detail"]
        == "reviewer new.nurse@clinic.example, not an admin, made at their first single sign-on"
    )
    unverified = SingleSignOn(app).sign_in(oidc_provider.UNVERIFIED_EMAIL)
    assert unverified.status_code == 403


def test_signing_out_links_to_the_providers_end_session_endpoint(sso_app, provider):
    browser = SingleSignOn(sso_app)
    browser.sign_in(REVIEWER_EMAIL)
    out = browser.actions.sign_out()
    assert out.status_code == 303 and out.headers["Location"] == "/review/oidc/signed-out"
    page = browser.client.get("/review/oidc/signed-out")
    from conftest import page as soup

    link = soup(page).find("a", string="Sign out of Clinic Login")["href"]
    parts = urlsplit(link)
    query = parse_qs(parts.query)
    discovery = requests.get(provider.issuer + "/.well-known/openid-configuration", timeout=10).json()
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == discovery["end_session_endpoint"]
    assert query["client_id"] == [oidc_provider.CLIENT_ID]
    assert query["post_logout_redirect_uri"] == [oidc_provider.AFTER_LOGOUT]
    assert not browser.signed_in()
    confirm = browser.provider.get(link, timeout=10)
    assert confirm.status_code == 200 and "logout" in confirm.text.lower()


def test_a_password_sign_out_does_not_send_anyone_to_the_provider(sso_app):
    actions = ReviewerActions(sso_app.test_client())
    actions.sign_in()
    out = actions.sign_out()
    assert out.headers["Location"] == "/review/sign-in"


def test_an_admin_chooses_who_keeps_password_sign_in(sso_app):
    admin = ReviewerActions(sso_app.test_client())
    assert admin.sign_in(ADMIN_EMAIL).status_code == 302
    with sso_app.app_context():
        reviewer_id = store.find_reviewer(get_db(), REVIEWER_EMAIL)["id"]
    password_user = ReviewerActions(sso_app.test_client())
    assert password_user.sign_in().status_code == 302
    off = admin.post(
        f"/review/admin/reviewers/{reviewer_id}/password-sign-in/refuse", page="/review/admin/reviewers"
    )
    assert off.status_code == 303
    assert f"{REVIEWER_EMAIL} can now sign in only by single sign-on." in text_of(
        admin.client.get("/review/admin/reviewers")
    )
    assert password_user.client.get("/review/").status_code == 302  # its password session ended
    refused = ReviewerActions(sso_app.test_client()).sign_in()
    assert refused.status_code == 200 and "Sign-in failed" in text_of(refused)
    assert f"password sign-in not allowed for this account; account {REVIEWER_EMAIL}" in [
        row["detail"] for row in audit_rows(sso_app, "signin_failed")
    ]
    assert SingleSignOn(sso_app).sign_in(REVIEWER_EMAIL).status_code == 303  # single sign-on still works
    assert [row["detail"] for row in audit_rows(sso_app, "password_signin")] == [
        f"reviewer {REVIEWER_EMAIL}: password sign-in refused"
    ]
    on = admin.post(
        f"/review/admin/reviewers/{reviewer_id}/password-sign-in/allow", page="/review/admin/reviewers"
    )
    assert on.status_code == 303
    assert ReviewerActions(sso_app.test_client()).sign_in().status_code == 302


def test_an_admin_cannot_turn_off_their_own_password_sign_in(sso_app):
    admin = ReviewerActions(sso_app.test_client())
    admin.sign_in(ADMIN_EMAIL)
    with sso_app.app_context():
        admin_id = store.find_reviewer(get_db(), ADMIN_EMAIL)["id"]
    admin.post(f"/review/admin/reviewers/{admin_id}/password-sign-in/refuse", page="/review/admin/reviewers")
    assert "You cannot turn off password sign-in for your own account. Ask another admin." in text_of(
        admin.client.get("/review/admin/reviewers")
    )
    assert ReviewerActions(sso_app.test_client()).sign_in(ADMIN_EMAIL).status_code == 302


@pytest.mark.parametrize(
    ("issuer", "accepted"),
    [
        ("https://login.example.org/realms/clinic", True),
        ("http://127.0.0.1:8080", True),
        ("http://localhost:8080/realms/test", True),
        ("http://login.example.org/realms/clinic", False),
        ("http://127.0.0.1.example.org", False),
        ("ftp://login.example.org", False),
        ("login.example.org", False),
    ],
)
def test_a_non_local_issuer_must_use_https_or_the_app_refuses_to_start(
    monkeypatch, tmp_path, issuer, accepted
):
    monkeypatch.setenv("SCREENING_ENV", "development")
    monkeypatch.setenv("SCREENING_DATABASE", str(tmp_path / "t.db"))
    monkeypatch.setenv("SCREENING_OIDC_ISSUER", issuer)
    monkeypatch.setenv("SCREENING_OIDC_CLIENT_ID", "client")
    monkeypatch.setenv("SCREENING_OIDC_CLIENT_SECRET", "secret")
    if accepted:
        assert create_app(default_env="development").config["OIDC_ISSUER"] == issuer
        return
    with pytest.raises(StartupError) as refused:
        create_app(default_env="development")
    assert str(refused.value) == (
        "SCREENING_OIDC_ISSUER: expected an https:// address like https://login.example.org/realms/clinic, "
        f"found {issuer!r} (http:// is accepted only on 127.0.0.1 or localhost, for tests)."
    )


def test_an_issuer_without_its_client_secret_refuses_to_start(monkeypatch, tmp_path):
    monkeypatch.setenv("SCREENING_ENV", "development")
    monkeypatch.setenv("SCREENING_DATABASE", str(tmp_path / "t.db"))
    monkeypatch.setenv("SCREENING_OIDC_ISSUER", "https://login.example.org")
    monkeypatch.setenv("SCREENING_OIDC_CLIENT_ID", "client")
    with pytest.raises(StartupError, match=r"^SCREENING_OIDC_CLIENT_SECRET: not set\. "):
        create_app(default_env="development")


def test_a_forged_callback_sent_to_a_signed_in_reviewer_neither_signs_them_out_nor_in_as_another(sso_app):
    victim = SingleSignOn(sso_app)
    assert victim.sign_in(REVIEWER_EMAIL).status_code == 303
    attacker = SingleSignOn(sso_app)
    forged = attacker.callback_for(ADMIN_EMAIL)
    assert victim.finish(forged).status_code == 403
    assert victim.signed_in()
    assert "Audit" not in text_of(victim.client.get("/review/"))  # still the reviewer, not the admin


def test_a_password_chosen_by_someone_else_is_not_asked_of_a_single_sign_on_session(sso_config, provider):
    app = create_app(sso_config)
    with app.app_context():
        auth.create_account("newcomer@clinic.example", password=PASSWORD, must_change=True)
    browser = SingleSignOn(app)
    browser.sign_in("newcomer@clinic.example")
    response = browser.client.get("/review/")
    assert response.status_code == 200, "the provider vouched for them; no password was used"
    by_password = app.test_client()
    ReviewerActions(by_password).sign_in("newcomer@clinic.example", PASSWORD)
    forced = by_password.get("/review/")
    assert forced.status_code == 303 and forced.headers["Location"] == "/review/account/password"
