"""A submission: what the patient told and was told, status changes and append-only notes, all audited."""

from __future__ import annotations

import re

import pytest
from conftest import REVIEWER_EMAIL
from markupsafe import escape

from screening import get_db, store

SUMMARY = '<section class="summary"><h2>What this may mean</h2><p>See a doctor soon.</p></section>'
URGENT = {"warning_signs": ["cancer_history"], "pain_location": "leg", "walking_pattern": "often"}


@pytest.fixture
def one(add_submissions):
    return add_submissions(
        {
            "answers": URGENT,
            "name": "Olga <b>Novak</b>",
            "email": "olga@example.org",
            "phone": "555-0101-2222",
            "summary_html": SUMMARY,
        }
    )[0]


def page_of(actions, reference: str = "BP-T001") -> str:
    response = actions.client.get(f"/review/submissions/{reference}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def audit_rows(app) -> list[dict]:
    with app.app_context():
        return list(get_db().query("SELECT * FROM audit ORDER BY id"))


def test_the_page_shows_contact_answers_rules_and_the_summary(app, reviewer, one, ruleset):
    page = page_of(reviewer)
    assert page.count("<h1>") == 1
    assert "<h1>Submission BP-T001</h1>" in page
    assert "Olga &lt;b&gt;Novak&lt;/b&gt;" in page, "contact details are escaped"
    assert "olga@example.org" in page
    assert "555-0101-2222" in page
    assert '<time datetime="2026-11-01T09:01:00.000000+00:00">2026-11-01 09:01 UTC</time>' in page
    assert f"version {ruleset.version}" in page
    assert ruleset.hash[:16] in page
    # Every question, in questionnaire order, with its answer or "Not asked".
    questions = re.findall(r'<span class="qid">\((\w+)\)</span>', page)
    assert questions == list(ruleset.questionnaire.questions)
    question = ruleset.questionnaire.questions["warning_signs"]
    assert question.label in page
    assert question.option("cancer_history").label in page
    # The rules that fired, with the answers that fired them.
    outcome = ruleset.evaluate(one["answers"])
    assert outcome.fired
    for item in outcome.fired:
        assert f"<code>{item.rule.id}</code>" in page
        for reason in item.reasons:
            assert str(escape(reason.text)) in page
    # The stored summary, exactly as the patient saw it.
    assert SUMMARY in page


def test_hidden_questions_are_shown_as_not_asked(reviewer, add_submissions, ruleset):
    add_submissions({"answers": {"emergency_signs": ["bladder_change"]}, "replace": True})
    page = page_of(reviewer)
    asked = page.count('<span class="not-asked">Not asked</span>')
    assert asked == len(ruleset.questionnaire.questions) - 1


def test_viewing_is_audited_without_answers_or_contact_details(app, reviewer, one):
    page_of(reviewer)
    rows = audit_rows(app)
    assert [(r["action"], r["reviewer_email"], r["submission_reference"]) for r in rows[-1:]] == [
        ("view", REVIEWER_EMAIL, "BP-T001")
    ]
    everything = repr(rows)
    for private in ("Olga", "Novak", "olga@example.org", "555", "cancer"):
        assert private not in everything


def move(actions, to_status: str, from_status: str, reference: str = "BP-T001"):
    return actions.post(
        f"/review/submissions/{reference}/status",
        {"from_status": from_status, "to_status": to_status},
        page=f"/review/submissions/{reference}",
    )


def status_of(app, reference: str = "BP-T001") -> str:
    with app.app_context():
        return store.submission_for_review(get_db(), reference)["status"]


def test_the_status_workflow_and_its_history(app, reviewer, one):
    for from_status, to_status in [
        ("new", "in_review"),
        ("in_review", "contacted"),
        ("contacted", "in_review"),
        ("in_review", "contacted"),
        ("contacted", "closed"),
        ("closed", "in_review"),
    ]:
        response = move(reviewer, to_status, from_status)
        assert response.status_code == 303
        assert status_of(app) == to_status
    page = page_of(reviewer)
    assert page.count("<tr><td><time") == 6
    assert "Contacted to Closed" in page
    rows = [r for r in audit_rows(app) if r["action"] == "status"]
    assert [r["detail"] for r in rows] == [
        "new -> in_review",
        "in_review -> contacted",
        "contacted -> in_review",
        "in_review -> contacted",
        "contacted -> closed",
        "closed -> in_review",
    ]
    assert {r["reviewer_email"] for r in rows} == {REVIEWER_EMAIL}


@pytest.mark.parametrize(
    ("current", "to_status", "message"),
    [
        ("new", "closed", "A submission cannot move from New to Closed."),
        ("contacted", "new", "A submission cannot move from Contacted to New."),
        ("in_review", "new", "A submission cannot move from In review to New."),
        ("closed", "contacted", "A submission cannot move from Closed to Contacted."),
        ("new", "archived", "A submission cannot move from New to archived."),
        ("new", "new", "A submission cannot move from New to New."),
    ],
)
def test_invalid_transitions_are_refused_with_a_message(
    app, reviewer, add_submissions, current, to_status, message
):
    add_submissions({"status": current})
    response = move(reviewer, to_status, current)
    assert response.status_code == 303
    assert status_of(app) == current
    assert message in reviewer.client.get(response.location).get_data(as_text=True)
    assert not [r for r in audit_rows(app) if r["action"] == "status"]


def test_a_stale_status_change_is_refused(app, reviewer, one):
    move(reviewer, "in_review", "new")
    response = move(reviewer, "in_review", "new")  # a second tab, still showing "new"
    page = reviewer.client.get(response.location).get_data(as_text=True)
    assert "Someone changed the status to In review while you were reading." in page
    assert len([r for r in audit_rows(app) if r["action"] == "status"]) == 1


def add_note(actions, body: str, reference: str = "BP-T001"):
    return actions.post(
        f"/review/submissions/{reference}/notes", {"body": body}, page=f"/review/submissions/{reference}"
    )


def test_notes_are_appended_with_author_and_time_newest_last(app, reviewer, one, clock):
    assert add_note(reviewer, "Called, no answer.").status_code == 303
    clock.advance(minutes=5)
    add_note(reviewer, "Left a <voicemail> & will retry.\nSecond line.")
    page = page_of(reviewer)
    first, second = page.index("Called, no answer."), page.index("Left a &lt;voicemail&gt; &amp; will retry.")
    assert first < second
    assert (
        f'<p class="note-meta">{REVIEWER_EMAIL}, <time datetime="2026-11-22T12:05:00.000000+00:00">' in page
    )
    assert [r["action"] for r in audit_rows(app) if r["action"] == "note"] == ["note", "note"]
    assert "voicemail" not in repr(audit_rows(app)), "note text stays out of the audit log"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Write the note first, or choose a new status."),
        ("   \n  ", "Write the note first, or choose a new status."),
        ("x" * 5001, "A note can be at most 5,000 characters."),
    ],
)
def test_bad_notes_are_refused_and_the_text_is_kept(app, reviewer, one, body, message):
    response = add_note(reviewer, body)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    if body.strip():
        assert body in page
    with app.app_context():
        assert store.submission_history(get_db(), one_id(app))[0] == []


def one_id(app) -> int:
    with app.app_context():
        return store.submission_for_review(get_db(), "BP-T001")["id"]


def test_a_note_of_exactly_5000_characters_is_accepted(reviewer, one):
    assert add_note(reviewer, "y" * 5000).status_code == 303


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE notes SET body = 'changed'",
        "UPDATE status_changes SET to_status = 'closed'",
        "UPDATE audit SET action = 'nothing'",
        "DELETE FROM audit",
    ],
)
def test_history_cannot_be_edited_or_deleted(app, reviewer, one, statement):
    add_note(reviewer, "Original.")
    move(reviewer, "in_review", "new")
    with app.app_context():
        db = get_db()
        with pytest.raises(db.IntegrityError, match=r"append-only|cannot be deleted"):
            db.execute(statement)


def test_an_unknown_reference_is_404(reviewer):
    assert reviewer.client.get("/review/submissions/BP-NOPE").status_code == 404
    assert reviewer.post("/review/submissions/BP-NOPE/notes", {"body": "x"}).status_code == 404


def test_a_nurse_moves_new_to_contacted_in_one_step(app, reviewer, one):
    response = move(reviewer, "contacted", "new")
    assert response.status_code == 303
    assert status_of(app) == "contacted"
    assert [r["detail"] for r in audit_rows(app) if r["action"] == "status"] == ["new -> contacted"]


def work(actions, body: str, to_status: str, from_status: str = "new"):
    return actions.post(
        "/review/submissions/BP-T001/notes",
        {"body": body, "to_status": to_status, "from_status": from_status},
        page="/review/submissions/BP-T001",
    )


def test_a_note_and_a_status_change_in_one_form(app, reviewer, one):
    response = work(reviewer, "Called, left a message.", "contacted")
    assert response.status_code == 303
    assert "Note added and status changed to Contacted." in reviewer.client.get(response.location).get_data(
        as_text=True
    )
    assert status_of(app) == "contacted"
    with app.app_context():
        notes, changes = store.submission_history(get_db(), one_id(app))
    assert [n["body"] for n in notes] == ["Called, left a message."]
    assert [(c["from_status"], c["to_status"]) for c in changes] == [("new", "contacted")]
    assert [r["action"] for r in audit_rows(app) if r["action"] in ("note", "status")] == ["status", "note"]


def test_a_status_alone_from_the_note_form(app, reviewer, one):
    assert work(reviewer, "", "in_review").status_code == 303
    assert status_of(app) == "in_review"
    assert not [r for r in audit_rows(app) if r["action"] == "note"]


def test_the_note_form_offers_only_allowed_moves(reviewer, one):
    from bs4 import BeautifulSoup

    select = BeautifulSoup(page_of(reviewer), "html.parser").find("select", attrs={"name": "to_status"})
    options = [(o["value"], o.get_text()) for o in select.find_all("option")]
    assert options == [
        ("", "Keep it as New"),
        ("in_review", "In review"),
        ("attempted", "Tried, not reached"),
        ("contacted", "Contacted"),
    ]


def test_a_stale_note_and_status_stores_neither_and_keeps_the_text(app, reviewer, one):
    assert move(reviewer, "in_review", "new").status_code == 303
    response = work(reviewer, "Called, no answer.", "contacted", from_status="new")
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "Someone changed the status while you were reading, so nothing was saved." in text
    assert "Called, no answer." in text
    assert status_of(app) == "in_review"
    with app.app_context():
        notes, _ = store.submission_history(get_db(), one_id(app))
    assert notes == []


def test_a_move_the_status_does_not_allow_is_refused_in_the_note_form(app, reviewer, one):
    response = work(reviewer, "Done.", "closed")
    assert response.status_code == 400
    assert "Not a valid choice." in response.get_data(as_text=True)
    assert status_of(app) == "new"


def test_the_reasons_for_an_urgent_level_are_at_the_top_and_contacts_are_links(reviewer, one):
    from bs4 import BeautifulSoup

    html = BeautifulSoup(page_of(reviewer), "html.parser")
    why = html.select_one(".why-first")
    assert why.find_previous("h1").get_text() == "Submission BP-T001"
    assert why.find_next("section")["aria-labelledby"] == "contact-title", "before the contact details"
    assert "Why the level is “See a doctor soon”" in why.get_text(" ", strip=True)
    assert "Other health signs: You have had cancer" in why.get_text(" ", strip=True)
    assert html.select_one("a[href='tel:55501012222']").get_text() == "555-0101-2222"
    assert html.select_one("a[href='mailto:olga@example.org']") is not None


def test_a_submission_without_a_safety_level_has_no_reasons_box(reviewer, add_submissions):
    add_submissions({"reference": "BP-PLAIN"})
    assert 'class="why-first"' not in page_of(reviewer, "BP-PLAIN")
