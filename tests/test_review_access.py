"""Every reviewer page is behind sign-in, and admin pages are for admins: checked over the whole url map."""

from __future__ import annotations

import pytest
from conftest import ReviewerActions

# Every endpoint of the review blueprint, with who may use it. A new route fails
# test_every_review_route_is_listed until it is added here, so none can be forgotten.
ACCESS = {
    "review.sign_in": "public",
    "review.sign_out": "reviewer",
    "review.inbox": "reviewer",
    "review.overview": "reviewer",
    "review.submission": "reviewer",
    "review.change_status": "reviewer",
    "review.add_note": "reviewer",
    "review.export_csv": "reviewer",
    "review.change_password": "reviewer",
    "review.alerts": "reviewer",
    "review.audit": "admin",
    "review.reviewers": "admin",
    "review.disable_reviewer": "admin",
    "review.enable_reviewer": "admin",
    "review.reset_reviewer": "admin",
    "review.reset_two_step": "admin",
    "review.change_role": "admin",
    "review.confirm": "reviewer",
    "review.two_step_account": "reviewer",
    "review.new_recovery_codes": "reviewer",
    # The second step: open to a browser whose password was right a moment ago, else back to sign-in.
    "review.two_step": "signing in",
    "review.two_step_passkey": "signing in",
    "review.two_step_recovery": "signing in",
    "review.two_step_setup": "signing in",
    "review.two_step_setup_passkey": "signing in",
    "review.account": "reviewer",
    "review.your_sessions": "reviewer",
    "review.end_reviewer_sessions": "admin",
    "review.allow_password_signin": "admin",
    "review.refuse_password_signin": "admin",
    "review.oidc_signed_out": "public",
    # Single sign-on's own pages: not found while SCREENING_OIDC_ISSUER is unset (tests/test_oidc.py).
    "review.oidc_start": "single sign-on",
    "review.oidc_callback": "single sign-on",
}


def review_routes(app) -> list[tuple[str, str, str]]:
    """Return (endpoint, method, url) for every review route, with sample values for its arguments."""
    samples = {"reference": "BP-T001", "reviewer_id": 1, "role": "exporter", "change": "give"}
    adapter = app.url_map.bind("localhost")
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("review."):
            continue
        url = adapter.build(rule.endpoint, {argument: samples[argument] for argument in rule.arguments})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, method, url))
    return routes


def blueprint_routes() -> list[tuple[str, str, str]]:
    """The review blueprint's routes, read from a bare app at collection time (no database needed)."""
    from flask import Flask

    from screening import review

    bare = Flask(__name__)
    bare.register_blueprint(review.bp, url_prefix="/review")
    return review_routes(bare)


ROUTES = blueprint_routes()
FORM_DATA = {"body": "A note", "from_status": "new", "to_status": "in_review", "email": "new@clinic.example"}


EMPTY_FORM_REFUSED = {
    ("review.change_password", "POST"): "Enter your current password.",
    ("review.confirm", "POST"): "Enter your password or a code from your app.",
    ("review.two_step_setup", "POST"): "Enter the 6-digit code.",
}


def test_every_review_route_is_listed(app):
    assert {endpoint for endpoint, _, _ in review_routes(app)} == set(ACCESS)
    assert review_routes(app) == ROUTES


def call(actions: ReviewerActions, method: str, url: str, form_page: str = "/review/sign-in"):
    if method == "GET":
        return actions.client.get(url)
    return actions.client.post(url, data={**FORM_DATA, "csrf_token": actions.token(form_page)})


@pytest.mark.parametrize(("endpoint", "method", "url"), ROUTES)
def test_signed_out_visitors_are_sent_to_sign_in(client, add_submissions, accounts, endpoint, method, url):
    add_submissions({})
    response = call(ReviewerActions(client), method, url)
    if ACCESS[endpoint] == "single sign-on":
        assert response.status_code == 404
    elif ACCESS[endpoint] == "public":
        assert response.status_code == 200
    elif ACCESS[endpoint] == "signing in":
        assert response.status_code == 303
        assert response.location.startswith("/review/sign-in")
    else:
        assert response.status_code == 302
        assert response.location.startswith("/review/sign-in")


@pytest.mark.parametrize(("endpoint", "method", "url"), ROUTES)
def test_reviewers_cannot_use_admin_pages(reviewer, add_submissions, endpoint, method, url):
    add_submissions({})
    response = call(reviewer, method, url, form_page="/review/overview")
    if ACCESS[endpoint] == "admin":
        assert response.status_code == 403
    elif ACCESS[endpoint] == "single sign-on":
        assert response.status_code == 404
    elif (endpoint, method) in EMPTY_FORM_REFUSED:
        assert response.status_code == 400, "an empty form reaches the view and is refused"
        assert EMPTY_FORM_REFUSED[endpoint, method] in response.get_data(as_text=True)
    else:
        assert response.status_code in (200, 302, 303)


@pytest.mark.parametrize(("endpoint", "method", "url"), [r for r in ROUTES if ACCESS[r[0]] == "admin"])
def test_admins_can_use_admin_pages(admin, add_submissions, accounts, endpoint, method, url):
    add_submissions({})
    url = url.replace("/reviewers/1/", f"/reviewers/{accounts['reviewer']}/")
    response = call(admin, method, url, form_page="/review/overview")
    assert response.status_code in (200, 303)


def test_the_forbidden_page_says_so(reviewer):
    response = reviewer.client.get("/review/audit")
    assert response.status_code == 403
    assert "You cannot open this page" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/review/", "/review/submissions/BP-T001", "/review/admin/reviewers"])
def test_pages_that_show_answers_are_never_cached(admin, add_submissions, path):
    add_submissions({})
    response = admin.client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_posts_without_a_csrf_token_are_refused(reviewer, add_submissions):
    add_submissions({})
    response = reviewer.client.post("/review/submissions/BP-T001/notes", data={"body": "no token"})
    assert response.status_code == 400
    assert "That form had expired" in response.get_data(as_text=True)
