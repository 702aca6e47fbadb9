"""What the clinic's core patients and a child meet, through the Flask test client as a browser without
JavaScript: the both-legs follow-up on the safety step, a child's summary and send, recent surgery,
the scan card beside a topic to discuss, and urgent words that agree with each other."""

from __future__ import annotations

import json

import pytest
from conftest import DEFAULT_ANSWERS, page, rows, text_of

SAFETY = {"major_trauma": "no", "warning_signs": ["none"]}
FOLLOW_UP_HINT = 'Only answer this if you chose "Pain, numbness or tingling down both legs" above.'
CHILD_TEXT = (
    "You cannot send these answers to the clinic. Show this page to a parent or caregiver. Then see a doctor "
    "together."
)


def served_form(patient, step_id: str) -> dict:
    """Return the step's form as served: its hidden fields, as a browser without the script posts them."""
    html = page(patient.client.get(f"/step/{step_id}"))
    return {i["name"]: i.get("value", "") for i in html.select("form input[type=hidden]")}


def test_the_follow_up_is_on_the_safety_step_from_the_start_without_javascript(patient):
    patient.start()
    html = page(patient.client.get("/step/safety"))
    block = html.find(id="both_legs_onset")
    assert not block.has_attr("hidden"), "on the page before the sign is ticked"
    assert not any(i.has_attr("disabled") for i in block.find_all("input"))
    assert json.loads(block["data-show-when"]) == {"question": "emergency_signs", "has": "both_legs_pain"}
    assert block.select_one(".hint").get_text(strip=True) == FOLLOW_UP_HINT
    assert [i["value"] for i in block.find_all("input")] == ["new_or_worse", "long_standing", "unsure"]
    order = [b["id"] for b in html.select("form .question")]
    assert order[:2] == ["emergency_signs", "both_legs_onset"], "right after the signs"
    hint = html.find(id="emergency_signs-hint").get_text(strip=True)
    assert "If you are not sure, choose it." in hint, "the other signs keep the rule of thumb"


def test_long_standing_pain_in_both_legs_goes_on_with_one_press(patient, app):
    patient.start()
    data = served_form(patient, "safety")  # `shown` as served: the follow-up was not "shown" yet
    data.update(SAFETY, emergency_signs="both_legs_pain", both_legs_onset="long_standing")
    response = patient.client.post("/step/safety", data=data)
    assert response.status_code == 302 and response.headers["Location"] == "/step/about"
    stored = json.loads(rows(app, "drafts")[0]["answers"])
    assert stored["emergency_signs"] == ["both_legs_pain"] and stored["both_legs_onset"] == "long_standing"


@pytest.mark.parametrize(
    ("onset", "others"),
    [
        (None, SAFETY),
        ("new_or_worse", SAFETY),
        ("unsure", SAFETY),
        (None, {}),  # everything else on the step blank
        ("maybe", {"major_trauma": "perhaps"}),  # a value that is no option, and another one wrong
        ("unsure", {"warning_signs": ["none", "fever"]}),
    ],
)
def test_both_legs_that_is_new_unsure_or_blank_goes_to_the_emergency_page_at_once(
    patient, app, onset, others
):
    patient.start()
    data = {**served_form(patient, "safety"), **others, "emergency_signs": "both_legs_pain"}
    if onset:
        data["both_legs_onset"] = onset
    response = patient.client.post("/step/safety", data=data)
    assert response.headers["Location"] == "/emergency"
    assert rows(app, "drafts") == [], "the draft is gone: any page shows the emergency page again"
    text = text_of(patient.client.get("/emergency"))
    assert "Get help now" in text and "There is a problem" not in text


def test_long_standing_with_a_step_error_is_held_by_the_error_not_sent_on(patient):
    patient.start()
    data = {
        **served_form(patient, "safety"),
        "emergency_signs": "both_legs_pain",
        "both_legs_onset": "long_standing",
    }
    response = patient.client.post("/step/safety", data=data)
    assert response.status_code == 400
    html = page(response)
    assert [a.get_text(" ", strip=True) for a in html.select(".error-summary a")] == [
        "Pain started after a big accident: Choose an answer.",
        'Other health signs: Choose at least one answer. If none of them fit, choose "None of these".',
    ]
    block = html.find(id="both_legs_onset")
    assert block.find("input", attrs={"value": "long_standing"}).has_attr("checked"), "kept as answered"


def test_a_follow_up_answered_without_the_sign_is_not_kept(patient, app):
    patient.start()
    data = {
        **served_form(patient, "safety"),
        **SAFETY,
        "emergency_signs": "none",
        "both_legs_onset": "unsure",
    }
    response = patient.client.post("/step/safety", data=data)
    assert response.headers["Location"] == "/step/about"
    assert "both_legs_onset" not in json.loads(rows(app, "drafts")[0]["answers"])


def test_the_long_standing_patient_reaches_a_stenosis_summary_and_can_send(patient, app):
    answers = {
        **DEFAULT_ANSWERS,
        "emergency_signs": ["both_legs_pain"],
        "both_legs_onset": "long_standing",
        "age_band": "80_plus",
        "pain_location": "both",
        "walking_pattern": "often",
        "sudden_pain_minor_event": "no",
        "duration": "over_6_months",
    }
    response = patient.summary(answers)
    html = page(response)
    assert html.select_one("#card-spinal-stenosis") is not None
    assert "Both legs: new or worse in the last 2 weeks" in text_of(patient.client.get("/check"))
    response = patient.send(name="Helen Ortiz", phone="5551234567", contact_method="phone", consent="y")
    assert response.headers["Location"] == "/done"
    assert json.loads(rows(app)[0]["answers"])["both_legs_onset"] == "long_standing"


# --- a child's summary and send ------------------------------------------------------------------

CHILD = {**DEFAULT_ANSWERS, "age_band": "under_18"}


def test_a_childs_summary_says_to_show_a_parent_and_offers_no_sending(patient):
    response = patient.summary(CHILD)
    assert response.status_code == 200
    html = page(response)
    assert html.select_one(".next-steps").get_text(" ", strip=True).startswith("What to do now " + CHILD_TEXT)
    assert html.find("form", attrs={"action": "/send"}) is None
    assert "Send my answers" not in text_of(response)
    assert html.find("form", attrs={"action": "/finish"}) is not None
    assert html.select("[data-print]"), "printing is offered"
    level = html.select_one(".level-panel").get_text(" ", strip=True)
    assert "surgery" not in level, "no promise of surgery facts above a card that has none"
    assert [h.get_text(strip=True) for h in html.select("section.card h3")] == ["This tool is for adults"]
    assert "Sending your answers" not in html.select_one(".safety-net").get_text(), "no sending to speak of"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_send_page_refuses_a_childs_draft_and_stores_nothing(patient, app, method):
    patient.summary(CHILD)
    token = patient.token("/summary")
    if method == "GET":
        response = patient.client.get("/send")
        assert response.status_code == 200
    else:
        fields = {"csrf_token": token, "name": "Kevin", "phone": "5550001111", "contact_method": "phone"}
        response = patient.client.post("/send", data={**fields, "consent": "y", "key": "k" * 32})
        assert response.status_code == 403
    html = page(response)
    assert html.find("h1").get_text(strip=True) == "These answers cannot be sent"
    assert CHILD_TEXT in text_of(response)
    assert html.find("input", attrs={"name": "name"}) is None, "never the contact form"
    assert rows(app) == [] and rows(app, "outbox") == []
    assert len(rows(app, "drafts")) == 1, "the answers stay for printing and finishing"


def test_a_child_with_a_warning_sign_is_urgent_and_still_cannot_send(patient, app):
    response = patient.summary({**CHILD, "warning_signs": ["fever"]})
    assert page(response).select_one(".summary .urgent-panel") is not None
    assert CHILD_TEXT in text_of(response)
    assert patient.client.post("/send", data={"csrf_token": patient.token("/summary")}).status_code == 403
    assert rows(app) == []


def test_a_childs_summary_in_spanish(patient):
    patient.client.set_cookie("lang", "es")
    patient.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    text = text_of(patient.summary(CHILD))
    assert "No puede enviar estas respuestas a la clínica." in text
    assert "Enviar mis respuestas" not in text


# --- surgery in the last 3 months, the scan card, urgent words ---------------------------------------


def test_six_weeks_after_surgery_with_a_fever_the_urgent_notice_comes_alone(patient):
    html = page(
        patient.summary(
            {"prior_surgery": "different_pain", "surgery_when": "under_3_months", "warning_signs": ["fever"]}
        )
    )
    assert html.select_one("#card-failed-back-surgery") is None
    panel = html.select_one(".summary .urgent-panel").get_text(" ", strip=True)
    assert "pain after recent spine surgery" in panel and "signs that could mean an infection" in panel


def test_the_scan_card_beside_a_topic_to_discuss_lets_the_specialist_decide(patient):
    html = page(patient.summary({"imaging": "none", "diagnosis": ["instability"]}))
    card = html.select_one("section.card:has(#card-imaging)").get_text(" ", strip=True)
    assert "The spine specialist will decide if you need a scan, and which kind." in card
    assert "not need a scan" not in card and "Most" not in card
    alone = page(patient.summary({"imaging": "none"})).select_one("section.card:has(#card-imaging)")
    assert "Most back pain does not need a scan." in alone.get_text(" ", strip=True)


def test_urgent_words_agree_on_the_step_and_the_summary(patient):
    patient.start()
    patient.answer("safety", {**DEFAULT_ANSWERS, "warning_signs": ["night_pain"]})
    step = text_of(patient.client.get("/step/about"))
    assert (
        "You can still finish the questions below, but they do not take the place of seeing a doctor." in step
    )
    summary = text_of(patient.summary({"warning_signs": ["night_pain"]}))
    for text in (step, summary):
        assert "can wait" not in text
