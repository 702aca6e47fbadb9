"""Admin pages: add, disable, enable and reset reviewers; read and filter the audit log."""

from __future__ import annotations

import html
import re

import pytest
from conftest import ADMIN_EMAIL, PASSWORD, REVIEWER_EMAIL, ReviewerActions

from screening import get_db, store

PAGE = "/review/admin/reviewers"


def shown_password(response) -> str:
    found = re.search(r'<p class="password"><code>([^<]+)</code></p>', response.get_data(as_text=True))
    assert found, "the new password is shown"
    return html.unescape(found.group(1))


def test_adding_a_reviewer_shows_the_password_once_and_it_works(app, admin):
    response = admin.post(PAGE, {"email": "new.person@clinic.example"}, page=PAGE)
    assert response.status_code == 200
    password = shown_password(response)
    assert password not in admin.client.get(PAGE).get_data(as_text=True)
    newcomer = ReviewerActions(app.test_client())
    assert newcomer.sign_in("new.person@clinic.example", password).status_code == 302
    assert newcomer.client.get("/review/audit").location == "/review/account/password", "first, their own"
    assert newcomer.choose_password(password).status_code == 303
    assert newcomer.client.get("/review/audit").status_code == 403, "added as a reviewer, not an admin"


def test_adding_an_admin(app, admin):
    password = shown_password(
        admin.post(PAGE, {"email": "second@clinic.example", "is_admin": "y"}, page=PAGE)
    )
    other = ReviewerActions(app.test_client())
    other.sign_in("second@clinic.example", password)
    other.choose_password(password)
    assert other.client.get("/review/audit").status_code == 200


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter the reviewer&#39;s email address."),
        ("not-an-email", "Enter a valid email address."),
        (REVIEWER_EMAIL, f"A reviewer with the email {REVIEWER_EMAIL} already exists."),
    ],
)
def test_adding_refuses_bad_or_taken_emails(admin, email, message):
    response = admin.post(PAGE, {"email": email}, page=PAGE)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_disable_enable_and_reset(app, admin, accounts):
    victim = ReviewerActions(app.test_client())
    victim.sign_in()
    target = accounts["reviewer"]
    response = admin.post(f"{PAGE}/{target}/disable", page=PAGE)
    assert response.status_code == 303
    assert f"{REVIEWER_EMAIL} is disabled and signed out." in admin.client.get(PAGE).get_data(as_text=True)
    assert victim.client.get("/review/").status_code == 302
    assert victim.sign_in().status_code == 200
    admin.post(f"{PAGE}/{target}/enable", page=PAGE)
    assert victim.sign_in().status_code == 302
    response = admin.post(f"{PAGE}/{target}/reset", page=PAGE)
    password = shown_password(response)
    assert victim.client.get("/review/").status_code == 302, "a reset ends their sessions"
    assert victim.sign_in(REVIEWER_EMAIL, PASSWORD).status_code == 200
    assert victim.sign_in(REVIEWER_EMAIL, password).status_code == 302
    with app.app_context():
        actions = [
            r["action"]
            for r in get_db().query("SELECT action FROM audit WHERE reviewer_email = ?", [ADMIN_EMAIL])
        ]
    assert [a for a in actions if a.startswith("reviewer_")] == [
        "reviewer_disable",
        "reviewer_enable",
        "reviewer_reset",
    ]


def test_an_admin_cannot_disable_themselves(app, admin, accounts):
    response = admin.post(f"{PAGE}/{accounts['admin']}/disable", page=PAGE)
    page = admin.client.get(response.location).get_data(as_text=True)
    assert "You cannot disable your own account." in page
    with app.app_context():
        assert store.get_reviewer(get_db(), accounts["admin"])["active"] == 1
    assert f'action="/review/admin/reviewers/{accounts["admin"]}/disable"' not in page


def test_unknown_reviewer_is_404(admin):
    assert admin.post(f"{PAGE}/999/disable", page=PAGE).status_code == 404


def audit_entries(response) -> list[str]:
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    return re.findall(r"<tr>\s*<td><time[^>]*>[^<]*</time></td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>", page)


def test_the_audit_log_lists_and_filters_entries(app, admin, reviewer, add_submissions, accounts):
    add_submissions({}, {})
    reviewer.client.get("/review/submissions/BP-T001")
    reviewer.client.get("/review/submissions/BP-T002")
    reviewer.client.get("/review/export.csv")
    everything = audit_entries(admin.client.get("/review/audit"))
    assert ("river@clinic.example", "Viewed a submission") in everything
    assert ("river@clinic.example", "Exported submissions") in everything
    views = audit_entries(admin.client.get("/review/audit?action=view"))
    assert views == [(REVIEWER_EMAIL, "Viewed a submission")] * 2
    one = admin.client.get("/review/audit?reference=BP-T002").get_data(as_text=True)
    assert one.count('<a href="/review/submissions/BP-T002">BP-T002</a>') == 1
    assert "BP-T001</a>" not in one
    mine = audit_entries(admin.client.get(f"/review/audit?reviewer={accounts['admin']}"))
    assert {who for who, _ in mine} == {ADMIN_EMAIL}
    assert audit_entries(admin.client.get("/review/audit?date_to=2000-01-01")) == []


def test_the_audit_log_pages_with_keysets(app, admin):
    with app.app_context():
        for n in range(120):
            store.record_audit(
                get_db(), "view", reviewer_email=f"r{n:03d}@clinic.example", reference=f"BP-{n:03d}"
            )
    first = admin.client.get("/review/audit?action=view")
    seen = [who for who, _ in audit_entries(first)]
    response = first
    while found := re.search(r'<a href="([^"]+)" rel="next">', response.get_data(as_text=True)):
        response = admin.client.get(html.unescape(found.group(1)))
        seen += [who for who, _ in audit_entries(response)]
    assert seen == [f"r{n:03d}@clinic.example" for n in range(119, -1, -1)]
