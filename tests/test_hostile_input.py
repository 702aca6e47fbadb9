"""Hostile input, as an attacker probes it: a 400 with the page's own message (or the value ignored
where that is kinder), never a 500, and nothing stored."""

from __future__ import annotations

import re
import sqlite3

import pytest
from conftest import ADMIN_EMAIL, DEFAULT_ANSWERS, ReviewerActions, text_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

UNREADABLE = "The web address has characters that nobody types"
DATE_RANGE = "Enter a date from 2000-01-01 to 2099-12-31."


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("/review/?q=ab%00cd", 400, UNREADABLE),
        ("/review/?view=all&q=a%0d%0ab", 400, UNREADABLE),
        ("/review/?view=all&date_to=9999-12-31", 200, DATE_RANGE),
        ("/review/?view=all&date_from=0001-01-01", 200, DATE_RANGE),
        ("/review/?view=all&date_from=%C2%B2026-01-01", 200, "Enter a date like 2026-11-22."),
        ("/review/audit?date_to=9999-12-31", 200, DATE_RANGE),
        ("/review/?view=all&after=2026-11-01T00:00:00.000000%2B00:00~12345678901234567890", 200, "Inbox"),
        ("/review/?view=all&after=2026-11-01T00:00:00.000000%2B00:00~%C2%B2", 200, "Inbox"),
        ("/review/audit?after=2026-11-01T00:00:00.000000%2B00:00~%C2%B2", 200, "Audit"),
        ("/review/audit?reviewer=99999999999999999999", 200, "Not a valid choice"),
        ("/review/submissions/%00", 404, "Page not found"),
    ],
)
def test_hostile_reviewer_links_get_a_page_never_a_500(admin, url, status, message):
    response = admin.client.get(url)
    assert response.status_code == status, url
    assert message in text_of(response)


def test_an_export_with_a_bad_filter_is_refused_before_its_first_byte(admin):
    response = admin.client.get("/review/export.csv?view=all&date_to=9999-12-31")
    assert response.status_code == 303
    assert response.headers["Content-Type"].startswith("text/html")
    followed = admin.client.get(response.headers["Location"])
    assert "Fix the filters below before downloading." in text_of(followed)


def test_a_reviewer_id_too_large_for_sqlite_is_not_found(admin):
    token = admin.token("/review/admin/reviewers")
    response = admin.client.post(
        "/review/admin/reviewers/99999999999999999999/disable", data={"csrf_token": token}
    )
    assert response.status_code == 404


def test_a_next_with_a_line_break_is_refused(client, accounts):
    actions = ReviewerActions(client)
    assert client.get("/review/sign-in?next=/review/%0d%0aSet-Cookie:x").status_code == 400
    response = actions.sign_in(next_path="/review/audit")
    assert response.headers["Location"] == "/review/audit"


def test_an_untrusted_host_gets_no_redirect_to_it(app_config):
    from screening import create_app

    client = create_app({**app_config, "TRUSTED_HOSTS": ["clinic.example.org"]}).test_client()
    assert client.get("/review", headers={"Host": "clinic.example.org"}).status_code == 308
    response = client.get("/review", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "evil.example" not in response.get_data(as_text=True)


@pytest.mark.parametrize("impact", ["²", "9" * 5000, "٣", "-1", "1e1", " 5"])
def test_junk_numbers_on_the_patient_side_get_a_message(patient, impact):
    patient.start()
    patient.answer("safety", DEFAULT_ANSWERS)
    response = patient.answer("about", DEFAULT_ANSWERS, extra={"impact": impact})
    assert response.status_code == 400
    assert "Choose a whole number from 0 to 10." in text_of(
        response
    ) or "Choose one of the answers" in text_of(response)


@pytest.mark.parametrize("name", ["Ann\x00Lee", "Ann\x07Lee", "Ann\x1bLee"])
def test_control_characters_in_a_name_are_refused_and_nothing_is_stored(patient, app, name):
    patient.summary({})
    response = patient.send(name=name, phone="555 010 0199", contact_method="phone", consent="y")
    assert response.status_code == 400
    assert "Your name has a character we cannot use. Type it again." in text_of(response)
    with sqlite3.connect(app.config["DATABASE"]) as db:
        assert db.execute("SELECT count(*) FROM submissions").fetchone()[0] == 0


def test_a_note_with_a_nul_is_refused(reviewer, add_submissions, app):
    (row,) = add_submissions({})
    url = f"/review/submissions/{row['reference']}"
    response = reviewer.post(f"{url}/notes", {"body": "call\x00back"}, page=url)
    assert response.status_code == 400
    assert "A note cannot hold control characters (such as NUL)." in text_of(response)
    with sqlite3.connect(app.config["DATABASE"]) as db:
        assert db.execute("SELECT count(*) FROM notes").fetchone()[0] == 0


# --- junk to every route, signed in and out ------------------------------------------------------------

PARAMS = [
    "q", "status", "level", "topic", "date_from", "date_to", "after", "before", "view", "order", "layout",
    "reviewer", "action", "reference", "next", "step_id", "body", "to_status", "from_status", "email",
    "password", "name", "phone", "consent", "key", "answers_digest", "current", "new", "confirm", "x",
]  # fmt: skip
JUNK = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["\x00", "²", "9" * 5000, "99999999999999999999", "9999-12-31", "-1", "../../etc", "%00", "<script>",
         "2026-11-01T00:00:00.000000+00:00~²", "urgent~2026-11-01T00:00:00+00:00~1", "\r\nX: y"]
    ),
)  # fmt: skip
STORED = ("submissions", "notes", "status_changes", "reviewers", "drafts", "outbox", "api_tokens")


def routes(app) -> list[tuple[str, str]]:
    adapter = app.url_map.bind("localhost")
    samples = {
        "reference": "BP-T001",
        "reviewer_id": 1,
        "step_id": "about",
        "filename": "site.css",
        "resource_id": "back-pain-screening",
        "anything": "Patient",
        "code": "es",
        "role": "exporter",
        "change": "give",
        "resource_type": "Patient",
        "level": "system",
        "job_id": "BP-T001",
        "kind": "Patient",
    }
    found = []
    for rule in app.url_map.iter_rules():
        url = adapter.build(rule.endpoint, {a: samples[a] for a in rule.arguments})
        found += [(method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def counts(app) -> dict:
    with sqlite3.connect(app.config["DATABASE"]) as db:
        return {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in STORED}  # noqa: S608


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_junk_to_every_route_signed_in_and_out_never_gives_a_5xx_nor_stores(
    app, accounts, add_submissions, data
):
    if not counts(app)["submissions"]:
        add_submissions({})
    signed_in = data.draw(st.booleans(), label="signed in")
    client = app.test_client()
    if signed_in:
        ReviewerActions(client).sign_in(ADMIN_EMAIL)
    method, url = data.draw(st.sampled_from(routes(app)), label="route")
    junk = data.draw(st.lists(st.tuples(st.sampled_from(PARAMS), JUNK), max_size=6), label="junk")
    before = counts(app)
    if method == "GET":
        response = client.get(url, query_string=junk)
    else:
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/").get_data(as_text=True))
        # Every posted value carries a NUL, so none of it may be stored, whatever the field.
        hostile = [(name, value + "\x00") for name, value in junk]
        response = client.post(url, data=MultiDict([*hostile, ("csrf_token", token.group(1))]))
    response.close()
    assert response.status_code < 500, (method, url, junk, response.status_code)
    after = counts(app)
    if method == "POST" and url in ("/start",):
        after["drafts"] = before["drafts"]  # starting makes an empty draft, by design
    assert after == before, (method, url, junk)
