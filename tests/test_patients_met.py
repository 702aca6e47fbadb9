"""What ten patients met: a child told why the questionnaire ends early, and a card's "why" that names
every answer that points to it."""

from __future__ import annotations

import pytest
from conftest import DEFAULT_ANSWERS, Patient, page, text_of

KEVIN = {**DEFAULT_ANSWERS, "age_band": "under_18"}
HELEN = {
    **DEFAULT_ANSWERS,
    "age_band": "65_to_79",
    "duration": "over_6_months",
    "pain_location": "both",
    "walking_pattern": "often",
    "diagnosis": ["stenosis"],
    "sudden_pain_minor_event": "no",
}


@pytest.mark.parametrize(
    ("accept", "heading", "because", "ending"),
    [
        (
            "en",
            "Why there are fewer questions",
            "Because of what you told us (Age: Under 18), we did not ask about:",
            "That is not a mistake. Your summary says what to do next.",
        ),
        (
            "es",
            "Por qué hay menos preguntas",
            "Por lo que nos dijo (Edad: Menos de 18), no le preguntamos sobre:",
            "No es un error. Su resumen le dice qué hacer ahora.",
        ),
    ],
)
def test_kevin_is_told_why_steps_3_to_5_were_skipped(app, ruleset, accept, heading, because, ending):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept
    patient = Patient(client, ruleset)
    patient.start()
    assert patient.answer("safety", KEVIN).headers["Location"] == "/step/about"
    assert patient.answer("about", KEVIN).headers["Location"] == "/check", "a child's questionnaire ends here"
    response = client.get("/check")
    note = page(response).select_one(".skipped")
    assert note.h2.get_text(strip=True) == heading
    assert note.select_one("p").get_text(" ", strip=True) == because
    translated = app.extensions["rulesets"][accept]
    assert [li.get_text(strip=True) for li in note.select("li")] == [
        step.title for step in translated.questionnaire.steps[2:]
    ]
    assert ending in text_of(response)


def test_an_adult_who_answered_every_step_sees_no_such_note(patient):
    patient.complete(DEFAULT_ANSWERS)
    assert page(patient.client.get("/check")).select_one(".skipped") is None


def test_the_why_of_a_card_names_every_answer_that_points_to_it(patient, ruleset):
    """Helen was told of stenosis and her legs ache on walking: both answers are the stenosis card's why."""
    response = patient.summary(HELEN)
    card = page(response).select_one("section[aria-labelledby='card-spinal-stenosis']")
    why = [li.get_text(" ", strip=True) for li in card.select(".card__why li")]
    questions = ruleset.questionnaire.questions
    assert why == [
        f"{questions['duration'].short}: {questions['duration'].option_label('over_6_months')}",
        f"{questions['walking_pattern'].short}: {questions['walking_pattern'].option_label('often')}",
        f"{questions['diagnosis'].short}: {questions['diagnosis'].option_label('stenosis')}",
    ]
    assert len(card.select(".card__why")) == 1, "one why per card, after its messages"
    fired = [f.rule.id for f in ruleset.evaluate(HELEN).fired if f.rule.topic == "spinal-stenosis"]
    assert fired == ["stenosis-told"], "one message: the walking rule itself does not fire"


@pytest.mark.parametrize(
    ("answers", "holds"),
    [
        ({"walking_pattern": "often", "duration": "over_6_months", "diagnosis": ["stenosis"]}, True),
        ({"walking_pattern": "often", "duration": "over_6_months", "diagnosis": ["not_told"]}, True),
        ({"walking_pattern": "no", "duration": "over_6_months", "diagnosis": ["stenosis"]}, False),
        ({"walking_pattern": "often", "duration": "under_6_weeks", "diagnosis": ["stenosis"]}, False),
    ],
)
def test_a_condition_holds_but_for_its_exclusions(ruleset, answers, holds):
    rule = next(rule for rule in ruleset.rules if rule.id == "stenosis-walking-pattern")
    assert rule.when.holds_but_for_exclusions(answers) is holds


@pytest.mark.parametrize(
    ("accept", "phone", "made_on"),
    [
        ("en", "Phone: 555 010 0100", "Made on November 23, 2026."),
        ("es", "Teléfono: 555 010 0100", "Hecho el 23 de noviembre de 2026."),
    ],
)
def test_the_print_view_names_the_clinic_its_phone_and_the_day(app, ruleset, clock, accept, phone, made_on):
    """The day is the clinic's: 03:00 UTC on the 24th is still the 23rd in Chicago."""
    from datetime import UTC, datetime

    app.config.update(
        CLINIC_NAME="Northside Spine Clinic", CLINIC_PHONE="555 010 0100", TIMEZONE="America/Chicago"
    )
    clock.now = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept
    patient = Patient(client, ruleset)
    response = patient.summary({})
    header = page(response).select_one(".print-only.print-header")
    assert [p.get_text(" ", strip=True) for p in header.select("p")] == [
        f"Northside Spine Clinic . {phone}",
        made_on,
    ]
