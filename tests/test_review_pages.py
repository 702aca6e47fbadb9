"""Every reviewer page: a title, one h1, labelled inputs, headed tables, no inline style or script."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

PAGES = [
    "/review/sign-in",
    "/review/",
    "/review/?status=new&q=ab&date_from=bad",
    "/review/overview",
    "/review/submissions/BP-T001",
    "/review/audit",
    "/review/admin/reviewers",
]


def check_page(html: str) -> None:
    soup = BeautifulSoup(html, "html.parser")
    assert soup.title and soup.title.get_text(strip=True)
    assert len(soup.find_all("h1")) == 1
    assert soup.find("link", rel="stylesheet", href="/static/review.css")
    assert not soup.find_all(style=True), "inline styles break the CSP"
    assert not soup.find_all("style")
    assert not [s for s in soup.find_all("script") if not s.get("src")], "inline scripts break the CSP"
    for field in soup.find_all(["input", "select", "textarea"]):
        if field.get("type") in ("hidden", "submit"):
            continue
        assert field.get("id"), field
        assert soup.find("label", attrs={"for": field["id"]}), f"no label for {field}"
    for table in soup.find_all("table"):
        assert table.find("caption"), table
        for header in table.find_all("th"):
            assert header.get("scope") in ("col", "row"), header
    ids = [tag["id"] for tag in soup.find_all(id=True)]
    assert len(ids) == len(set(ids)), "ids are unique"
    for form in soup.find_all("form", method="post"):
        assert form.find("input", attrs={"name": "csrf_token"}), form


@pytest.mark.parametrize("path", PAGES)
def test_reviewer_pages_are_well_formed(client, admin, add_submissions, path):
    add_submissions({"answers": {"health_factors": ["smoking"]}})
    admin.client.get("/review/submissions/BP-T001")
    user = client if path == "/review/sign-in" else admin.client
    response = user.get(path)
    assert response.status_code == 200
    check_page(response.get_data(as_text=True))


def test_the_throttled_and_expired_form_pages_are_well_formed(client, accounts):
    from conftest import REVIEWER_EMAIL, ReviewerActions

    actions = ReviewerActions(client)
    for _ in range(6):
        response = actions.sign_in(REVIEWER_EMAIL, "wrong-password-1")
    assert response.status_code == 429
    check_page(response.get_data(as_text=True))
    expired = client.post("/review/sign-in", data={"email": "x", "password": "y"})
    assert expired.status_code == 400
    check_page(expired.get_data(as_text=True))


def test_the_signed_in_header_has_the_reviewer_nav(admin, reviewer):
    soup = BeautifulSoup(admin.client.get("/review/").get_data(as_text=True), "html.parser")
    nav = soup.find("nav", attrs={"aria-label": "Reviewer pages"})
    assert [a.get_text() for a in nav.find_all("a")] == [
        "Inbox",
        "Overview",
        "Audit",
        "Reviewers",
        "Your account",
        "Your password",
        "Your sign-in",
        "Your alerts",
    ]
    assert nav.find("a", attrs={"aria-current": "page"}).get_text() == "Inbox"
    assert soup.find("form", action="/review/sign-out").find("button").get_text() == "Sign out"
    plain = BeautifulSoup(reviewer.client.get("/review/").get_data(as_text=True), "html.parser")
    links = plain.find("nav", attrs={"aria-label": "Reviewer pages"}).find_all("a")
    assert [a.get_text() for a in links] == [
        "Inbox",
        "Overview",
        "Your account",
        "Your password",
        "Your sign-in",
        "Your alerts",
    ]
