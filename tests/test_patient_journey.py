"""The patient's journey through the Flask test client: steps, branching, safety, summary, sending."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from conftest import DEFAULT_ANSWERS, Patient, page, rows, text_of

from screening import store

EXAMPLES = [
    (
        {
            "diagnosis": ["herniated_disc"],
            "pain_location": "leg",
            "walking_pattern": "no",
            "duration": "3_to_6_months",
        },
        "Topics that may be worth talking about with a spine specialist",
        ["herniated-disc", "benefits-and-limits"],
    ),
    (
        {
            "diagnosis": ["herniated_disc"],
            "pain_location": "leg",
            "walking_pattern": "no",
            "duration": "under_6_weeks",
            "treatments_tried": ["nothing"],
        },
        "Good to know",
        ["conservative-care-first", "benefits-and-limits"],
    ),
    (
        {
            "age_band": "80_plus",
            "bone_health": "yes",
            "sudden_pain_minor_event": "yes",
            "duration": "under_6_weeks",
            "imaging": "none",
        },
        "See a doctor soon",
        ["compression-fracture", "benefits-and-limits"],
    ),
    (
        {
            "prior_surgery": "never_helped",
            "surgery_when": "over_1_year",
            "duration": "over_6_months",
            "health_factors": ["smoking", "blood_thinners"],
        },
        "Topics that may be worth talking about with a spine specialist",
        ["failed-back-surgery", "smoking", "blood-thinners", "benefits-and-limits"],
    ),
]


def test_start_page_says_what_this_is(client):
    text = text_of(client.get("/"))
    for phrase in ["about 5 minutes", "not a diagnosis", "Nothing is sent to the clinic unless you choose"]:
        assert phrase in text


def test_start_creates_a_draft_and_a_cookie_with_only_its_token(patient, app):
    response = patient.start()
    assert response.status_code == 302
    assert response.headers["Location"] == "/step/safety"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("draft=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    token = cookie.split(";")[0].removeprefix("draft=")
    assert len(token) >= 40
    assert [r["token"] for r in rows(app, "drafts")] == [token]


def test_a_full_journey_shows_the_steps_in_order_with_progress(patient):
    patient.start()
    for number, step in enumerate(patient.ruleset.questionnaire.steps, start=1):
        response = patient.client.get(f"/step/{step.id}")
        assert f"Step {number} of 5" in text_of(response)
        response = patient.answer(step.id, DEFAULT_ANSWERS)
        assert response.status_code == 302
    assert response.headers["Location"] == "/check"


@pytest.mark.parametrize(("diff", "level_label", "topics"), EXAMPLES)
def test_the_summary_for_each_worked_example(patient, diff, level_label, topics):
    response = patient.summary(diff)
    assert response.status_code == 200
    html = page(response)
    cards = [section["aria-labelledby"].removeprefix("card-") for section in html.select("section.card")]
    assert cards == topics
    text = text_of(response)
    assert level_label in text
    assert "This is to help you learn. It is not a diagnosis." in text
    assert "It cannot rule out a serious problem." in text
    assert "If anything changes or gets worse, get care." in text
    assert "You told us:" in text


def test_an_urgent_summary_shows_the_urgent_notice_first(patient):
    response = patient.summary(EXAMPLES[2][0])
    first = page(response).select_one(".summary > div")
    assert "urgent-panel" in first["class"]
    assert "See a doctor soon" in first.get_text()
    assert "You may need an X-ray" in first.get_text()


@pytest.mark.parametrize(
    "answers",
    [
        {"emergency_signs": ["saddle_numbness"]},
        {"emergency_signs": ["bladder_change"]},
        {"emergency_signs": ["bowel_change"]},
        {"emergency_signs": ["leg_weakness", "chest_belly_pain"]},
        {"emergency_signs": ["chest_belly_pain"]},
        {"major_trauma": "yes"},
    ],
)
def test_an_emergency_answer_stops_the_questionnaire(patient, app, answers):
    patient.start()
    response = patient.answer("safety", {**DEFAULT_ANSWERS, **answers})
    assert response.headers["Location"] == "/emergency"
    text = text_of(patient.client.get("/emergency"))
    assert "Get help now" in text
    assert "Call 911 or go to the emergency department now." in text
    assert "If your legs are weak or numb, do not drive yourself." in text
    assert rows(app, "drafts") == [], "nothing is kept after an emergency"
    for url in ("/emergency", "/step/safety", "/step/about", "/check", "/summary"):
        again = patient.client.get(url, follow_redirects=True)
        assert "Call 911 or go to the emergency department now." in text_of(again), (
            f"{url} after an emergency"
        )


def test_the_emergency_number_comes_from_the_settings(app_config):
    from screening import create_app

    app = create_app({**app_config, "EMERGENCY_NUMBER": "112"})
    from conftest import Patient

    patient = Patient(app.test_client(), app.extensions["ruleset"])
    patient.start()
    response = patient.answer("safety", {**DEFAULT_ANSWERS, "major_trauma": "yes"})
    html = page(patient.client.get(response.headers["Location"]))
    text = html.get_text(" ", strip=True)
    assert "Call 112 or go to the emergency department now." in text
    assert "911" not in text
    assert html.select_one("a.emergency-number")["href"] == "tel:112"


def test_urgent_safety_answers_show_a_notice_on_the_next_step_once(patient):
    patient.start()
    response = patient.answer("safety", {**DEFAULT_ANSWERS, "warning_signs": ["fever", "cancer_history"]})
    assert response.headers["Location"] == "/step/about"
    text = text_of(patient.client.get("/step/about"))
    assert "See a doctor soon" in text
    assert "signs that could mean an infection" in text
    assert "back pain when you have had cancer" in text
    assert "See a doctor soon" not in text_of(patient.client.get("/step/about")), (
        "shown once, not on every reload"
    )


def test_an_urgent_answer_late_in_the_questionnaire_is_shown_at_once(patient):
    patient.start()
    answers = {**DEFAULT_ANSWERS, "age_band": "80_plus", "sudden_pain_minor_event": "yes"}
    for step_id in ("safety", "about", "told"):
        patient.answer(step_id, answers)
    assert "can be a sign of a broken bone in your spine" in text_of(patient.client.get("/step/treatments"))


def test_without_javascript_a_revealed_question_is_shown_before_going_on(patient, app):
    patient.start()
    patient.answer("safety", DEFAULT_ANSWERS)
    answers = {**DEFAULT_ANSWERS, "pain_location": "leg"}
    data = patient.step_data("about", DEFAULT_ANSWERS)  # rendered while pain_location was unanswered
    data["pain_location"] = "leg"
    response = patient.client.post("/step/about", data=data)
    assert response.status_code == 200
    html = page(response)
    assert not html.find(id="walking_pattern").has_attr("hidden")
    assert "Your answer added a new question below." in text_of(response)
    assert html.select(".error-message") == [], "no error before the patient has seen the question"
    assert json.loads(rows(app, "drafts")[0]["answers"]).get("pain_location") is None, "nothing stored yet"
    response = patient.answer("about", {**answers, "walking_pattern": "often"})
    assert response.headers["Location"] == "/step/told"


def test_changing_an_answer_drops_the_answers_it_hid(patient, app):
    answers = {**DEFAULT_ANSWERS, "pain_location": "leg", "walking_pattern": "often"}
    patient.complete(answers)
    assert json.loads(rows(app, "drafts")[0]["answers"])["walking_pattern"] == "often"
    response = patient.answer("about", {**answers, "pain_location": "back"}, query="?return=check")
    assert response.headers["Location"] == "/check"
    stored = json.loads(rows(app, "drafts")[0]["answers"])
    assert stored["pain_location"] == "back" and "walking_pattern" not in stored
    assert "Leg pain on walking" not in text_of(patient.client.get("/check"))


def test_hidden_questions_are_rendered_hidden_and_disabled(patient):
    patient.start()
    patient.answer("safety", DEFAULT_ANSWERS)
    html = page(patient.client.get("/step/about"))
    block = html.find(id="walking_pattern")
    assert block.has_attr("hidden")
    assert all(i.has_attr("disabled") for i in block.find_all("input"))
    assert json.loads(block["data-show-when"]) == {
        "question": "pain_location",
        "in": ["leg", "both", "unsure"],
    }


def test_check_your_answers_lists_every_answer_with_a_change_link(patient):
    patient.complete(DEFAULT_ANSWERS)
    response = patient.client.get("/check")
    html = page(response)
    keys = [dt.get_text(strip=True) for dt in html.select(".summary-list__key")]
    assert keys[:3] == [
        "New or worse signs in the last 2 weeks",
        "Pain started after a big accident",
        "Other health signs",
    ]
    assert len(keys) == len(DEFAULT_ANSWERS)
    links = [a["href"] for a in html.select(".summary-list__actions a")]
    assert "/step/about?return=check#duration" in links
    assert "/step/treatments?return=check#treatment_helped" in links


def test_the_check_page_sends_an_unfinished_questionnaire_back_to_the_missing_step(patient):
    patient.start()
    patient.answer("safety", DEFAULT_ANSWERS)
    assert patient.client.get("/check").headers["Location"] == "/step/about"
    assert patient.client.get("/summary").headers["Location"] == "/step/about"


def test_reload_and_a_second_tab_keep_the_answers(patient, client):
    patient.start()
    patient.answer("safety", DEFAULT_ANSWERS)
    patient.answer("about", {**DEFAULT_ANSWERS, "impact": 8})
    for _ in range(2):
        html = page(client.get("/step/about"))
        assert html.find("input", attrs={"name": "impact", "value": "8"}).has_attr("checked")
        assert html.find("input", attrs={"name": "duration", "value": "3_to_6_months"}).has_attr("checked")


def test_sending_stores_one_submission_with_what_the_patient_saw(patient, app):
    summary = patient.summary(EXAMPLES[0][0])
    response = patient.send(
        name="  Ann   Lee ", email="Ann@Example.com", phone="", contact_method="email", consent="y"
    )
    assert response.status_code == 302 and response.headers["Location"] == "/done"
    [row] = rows(app)
    assert row["status"] == "new"
    assert row["level"] == "discuss"
    assert json.loads(row["topics"]) == ["benefits-and-limits", "herniated-disc"]
    assert json.loads(row["answers"])["diagnosis"] == ["herniated_disc"]
    assert json.loads(row["outcome"])["level"] == "discuss"
    assert row["ruleset_version"] == patient.ruleset.version and len(row["ruleset_hash"]) == 64
    assert (row["name"], row["email"], row["phone"], row["contact_method"]) == (
        "Ann Lee",
        "Ann@example.com",
        "",
        "email",
    )
    shown = str(page(summary).select_one(".summary"))
    assert str(page_fragment(row["summary_html"])) == shown, "the stored summary is the one the patient saw"
    assert row["received"].endswith("+00:00")
    assert rows(app, "drafts") == [], "the draft is deleted once sent"
    done = text_of(patient.client.get("/done"))
    assert row["reference"] in done
    assert len(row["reference"]) == 9 and row["reference"][4] == "-"
    topics = rows(app, "submission_topics")
    assert sorted(t["topic"] for t in topics) == ["benefits-and-limits", "herniated-disc"]


def test_the_send_stores_the_summary_page_the_patient_read_not_a_new_one(patient, app, monkeypatch):
    """The summary page keeps itself with the draft; the send stores that page, even if the same answers
    would now make a different page (here the emergency number changed in between)."""
    kept = []
    keep = store.keep_summary
    monkeypatch.setattr(store, "keep_summary", lambda *args: kept.append(args[1]) or keep(*args))
    shown = str(page(patient.summary({})).select_one(".summary"))
    [draft] = rows(app, "drafts")
    assert draft["summary_html"] and str(page_fragment(draft["summary_html"])) == shown
    assert draft["summary_key"].startswith(f"en:{patient.ruleset.hash}:")
    again = str(page(patient.client.get("/summary")).select_one(".summary"))
    assert again == shown and rows(app, "drafts")[0]["summary_key"] == draft["summary_key"]
    assert kept == [draft["token"]], "kept once: a reload of the same page writes nothing"
    number = app.config["EMERGENCY_NUMBER"]
    app.config["EMERGENCY_NUMBER"] = "000"
    patient.send(name="Ann Lee", email="ann@example.com", contact_method="email", consent="y")
    [row] = rows(app)
    assert str(page_fragment(row["summary_html"])) == shown
    assert f"call {number}" in row["summary_html"] and "call 000" not in row["summary_html"]


def test_a_summary_kept_for_other_answers_or_another_language_is_made_again(patient, app):
    patient.summary({})
    kept = rows(app, "drafts")[0]["summary_key"]
    patient.answer("health", {**DEFAULT_ANSWERS, "health_factors": ["smoking"]})
    patient.client.get("/language/es?next=/send")
    patient.send(name="Ann Lee", email="ann@example.com", contact_method="email", consent="y")
    [row] = rows(app)
    assert row["language"] == "es"
    assert "card-smoking" in row["summary_html"], "made for the answers sent"
    assert "Hecho con las reglas" in row["summary_html"], "in the language sent"
    assert kept.startswith("en:")


def page_fragment(html: str):
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser").select_one(".summary")


def test_a_double_submit_stores_one_row(patient, app):
    patient.summary({})
    data = {
        **patient.send_fields(),
        "name": "Bo",
        "phone": "555 010 0199",
        "contact_method": "phone",
        "consent": "y",
    }
    first = patient.client.post("/send", data=data)
    second = patient.client.post("/send", data=data)
    assert first.headers["Location"] == second.headers["Location"] == "/done"
    assert len(rows(app)) == 1


def test_finishing_without_sending_keeps_nothing(patient, app):
    patient.summary({})
    response = patient.client.post("/finish", data={"csrf_token": patient.token("/summary")})
    assert response.headers["Location"] == "/finished"
    assert "we have deleted your answers" in text_of(patient.client.get("/finished"))
    assert rows(app, "drafts") == [] and rows(app) == []
    assert "draft=;" in response.headers["Set-Cookie"]


def test_the_confirmation_page_belongs_to_the_browser_that_sent(patient, app):
    patient.summary({})
    patient.send(name="Cy", email="cy@example.com", contact_method="email", consent="y")
    stranger = app.test_client()
    assert stranger.get("/done").headers["Location"] == "/"


def test_an_expired_draft_says_so_plainly(patient, monkeypatch):
    patient.start()
    patient.answer("safety", DEFAULT_ANSWERS)
    later = store.shift(store.now(), hours=25)
    monkeypatch.setattr(store, "now", lambda: later)
    response = patient.client.get("/step/about")
    assert response.status_code == 200
    assert "Your answers are no longer here" in text_of(response)
    assert "We keep answers for 24 hours" in text_of(response)


def test_expired_drafts_are_purged(app, monkeypatch):
    with app.app_context():
        from screening import get_db

        db = get_db()
        store.create_draft(db, 1)
        store.create_draft(db, 48)
        later = store.shift(store.now(), hours=2)
        monkeypatch.setattr(store, "now", lambda: later)
        assert store.purge_expired_drafts(db) == 1
        assert store.purge_expired_drafts(db) == 0


def test_abandoned_drafts_are_deleted_once_expired_when_someone_starts(app, patient, monkeypatch):
    patient.start()
    patient.answer("safety", DEFAULT_ANSWERS)  # then the patient walks away
    assert len(rows(app, "drafts")) == 1
    start = datetime.fromisoformat(store.now())
    clock = {"now": start + timedelta(minutes=5)}
    monkeypatch.setattr(store, "now", lambda: clock["now"].isoformat(timespec="microseconds"))
    Patient(app.test_client(), patient.ruleset).start()
    assert len(rows(app, "drafts")) == 2, "not expired yet, and a purge ran moments ago"
    clock["now"] = start + timedelta(hours=25)
    Patient(app.test_client(), patient.ruleset).start()
    assert len(rows(app, "drafts")) == 1, "the two expired drafts are gone; the new one stays"
    clock["now"] = start + timedelta(hours=25, minutes=5)
    db = store.connect(app.config["DATABASE"])
    db.write(
        "INSERT INTO drafts (token, answers, progress, created, updated, expires) "
        "VALUES ('stale', '{}', '{}', '2026-01-01', '2026-01-01', '2026-01-02')"
    )
    db.close()
    Patient(app.test_client(), patient.ruleset).start()
    assert "stale" in {r["token"] for r in rows(app, "drafts")}, "at most one purge every 10 minutes"
    clock["now"] = start + timedelta(hours=25, minutes=11)
    Patient(app.test_client(), patient.ruleset).start()
    assert "stale" not in {r["token"] for r in rows(app, "drafts")}


def test_without_a_draft_every_step_offers_to_start_again(client):
    for url in ["/step/safety", "/step/health", "/check", "/summary", "/send"]:
        response = client.get(url)
        assert "Start again" in text_of(response), url


def test_an_unknown_step_is_not_found(patient):
    patient.start()
    assert patient.client.get("/step/nope").status_code == 404


def test_topics_page_lists_every_card_with_sources(client, ruleset):
    html = page(client.get("/topics"))
    assert [s["id"].removeprefix("topic-") for s in html.select("section.card")] == list(ruleset.topics)
    text = html.get_text(" ")
    for source in ruleset.sources.values():
        assert source.title in text


@pytest.mark.parametrize(
    ("days", "promise"),
    [
        (2, ", most often within 2 work days."),
        (1, ", most often within 1 work day."),
        (0, "."),
    ],
)
def test_the_reply_time_the_pages_promise_is_the_clinics_setting(patient, app, days, promise):
    app.config["REPLY_DAYS"] = days
    patient.summary({})
    assert f"will get in touch{promise}" in text_of(patient.client.get("/send"))
    patient.send(name="Di", email="di@example.com", contact_method="email", consent="y")
    done = text_of(patient.client.get("/done"))
    assert f"contact you in the way you chose{promise}" in done
    if days == 0:
        assert "work day" not in done


def test_every_change_link_opens_its_question_and_saving_returns_to_the_check_page(patient, ruleset):
    patient.complete(DEFAULT_ANSWERS)
    html = page(patient.client.get("/check"))
    links = {a["href"].split("#")[1]: a["href"] for a in html.select(".summary-list__actions a")}
    questionnaire = ruleset.questionnaire
    assert sorted(links) == sorted(DEFAULT_ANSWERS), "one Change link per answer"
    for qid, href in links.items():
        step = next(s for s in questionnaire.steps if any(q.id == qid for q in s.questions))
        assert href == f"/step/{step.id}?return=check#{qid}"
        opened = page(patient.client.get(href.split("#")[0]))
        assert opened.find(id=qid) is not None, qid
        assert opened.find("button", string="Save and go back to your answers") is not None
        response = patient.answer(step.id, DEFAULT_ANSWERS, query="?return=check")
        assert response.headers["Location"] == "/check", qid
