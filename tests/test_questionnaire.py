"""Answer validation: the author's message (CLI) and the patient's message (web) for each problem."""

from __future__ import annotations

import pytest
from conftest import DEFAULT_ANSWERS

DEFAULTS = DEFAULT_ANSWERS


@pytest.mark.parametrize(
    ("answers", "author", "patient"),
    [
        (
            {"pain": "back"},
            "question 'pain': there is no such question",
            "Choose one of the answers on the list.",
        ),
        (
            {"pain_location": "arm"},
            "question 'pain_location': 'arm' is not one of its options (back, leg, both, unsure)",
            "Choose one of the answers on the list.",
        ),
        (
            {"pain_location": ["back"]},
            "question 'pain_location': ['back'] is not one of its options (back, leg, both, unsure)",
            "Choose one of the answers on the list.",
        ),
        (
            {"diagnosis": "stenosis"},
            "question 'diagnosis': it takes a list of option ids, found 'stenosis'",
            "Choose one of the answers on the list.",
        ),
        (
            {"diagnosis": ["stenosis", "stenosis"]},
            "question 'diagnosis': ['stenosis', 'stenosis'] is not one of its options (herniated_disc, "
            "stenosis, degenerative_disc, fracture, instability, other, not_told)",
            "Choose one of the answers on the list.",
        ),
        (
            {"emergency_signs": ["none", "bladder_change"]},
            "question 'emergency_signs': 'none' cannot be combined with other options",
            'You chose "None of these" and other answers too. Choose "None of these" alone, or untick it.',
        ),
        (
            {"treatments_tried": ["medicines", "nothing"]},
            "question 'treatments_tried': 'nothing' cannot be combined with other options",
            'You chose "Nothing yet" and other answers too. Choose "Nothing yet" alone, or untick it.',
        ),
        (
            {"impact": 11},
            "question 'impact': 11 is outside 0 to 10",
            "Choose a whole number from 0 to 10.",
        ),
        (
            {"impact": -1},
            "question 'impact': -1 is outside 0 to 10",
            "Choose a whole number from 0 to 10.",
        ),
        (
            {"impact": "5"},
            "question 'impact': it takes a whole number, found '5'",
            "Choose a whole number from 0 to 10.",
        ),
        (
            {"impact": True},
            "question 'impact': it takes a whole number, found True",
            "Choose a whole number from 0 to 10.",
        ),
        (
            {"impact": 4.5},
            "question 'impact': it takes a whole number, found 4.5",
            "Choose a whole number from 0 to 10.",
        ),
    ],
)
def test_invalid_answers(ruleset, answers, author, patient):
    errors = ruleset.questionnaire.validate(answers)
    assert [str(e) for e in errors] == [author]
    assert errors[0].message(ruleset.questionnaire.messages) == patient


def test_complete_answers_need_every_shown_question(ruleset):
    questionnaire = ruleset.questionnaire
    assert questionnaire.validate(DEFAULTS, complete=True) == []
    partial = {k: v for k, v in DEFAULTS.items() if k not in ("impact", "diagnosis", "age_band")}
    errors = questionnaire.validate(partial, complete=True)
    assert [(e.question, e.message(questionnaire.messages)) for e in errors] == [
        ("age_band", "Choose an answer."),
        ("impact", "Choose a number from 0 to 10."),
        (
            "diagnosis",
            'Choose at least one answer. If none of them fit, choose "No one has told me what is causing it".',
        ),
    ]


def test_hidden_questions_are_never_required(ruleset):
    answers = dict(DEFAULTS, pain_location="leg")
    assert [e.question for e in ruleset.questionnaire.validate(answers, complete=True)] == ["walking_pattern"]
    answers = dict(DEFAULTS, treatments_tried=["nothing"])
    del answers["treatment_duration"], answers["treatment_helped"]
    assert ruleset.questionnaire.validate(answers, complete=True) == []


def test_every_question_and_option_of_the_brief_is_there(ruleset):
    questions = ruleset.questionnaire.questions
    assert list(questions) == [
        "emergency_signs",
        "both_legs_onset",
        "major_trauma",
        "warning_signs",
        "age_band",
        "duration",
        "pain_location",
        "walking_pattern",
        "impact",
        "diagnosis",
        "imaging",
        "prior_surgery",
        "surgery_when",
        "bone_health",
        "sudden_pain_minor_event",
        "treatments_tried",
        "treatment_duration",
        "treatment_helped",
        "health_factors",
    ]
    assert [o.id for o in questions["diagnosis"].options] == [
        "herniated_disc",
        "stenosis",
        "degenerative_disc",
        "fracture",
        "instability",
        "other",
        "not_told",
    ]
    assert [o.id for o in questions["emergency_signs"].options] == [
        "saddle_numbness",
        "bladder_change",
        "bowel_change",
        "toilet_feeling",
        "sexual_change",
        "leg_weakness",
        "both_legs_pain",
        "chest_belly_pain",
        "none",
    ]
    assert [o.id for o in questions["both_legs_onset"].options] == ["new_or_worse", "long_standing", "unsure"]
    assert questions["both_legs_onset"].step == questions["emergency_signs"].step
    assert [o.id for o in questions["surgery_when"].options] == [
        "under_3_months",
        "3_to_12_months",
        "over_1_year",
    ]
    assert questions["surgery_when"].ordered
    exclusive = {q.id: [o.id for o in q.exclusive_options] for q in questions.values() if q.exclusive_options}
    assert exclusive == {
        "emergency_signs": ["none"],
        "warning_signs": ["none"],
        "diagnosis": ["not_told"],
        "treatments_tried": ["nothing"],
        "health_factors": ["none"],
    }
    assert [q.id for q in questions.values() if q.ordered] == [
        "age_band",
        "duration",
        "surgery_when",
        "treatment_duration",
    ]
