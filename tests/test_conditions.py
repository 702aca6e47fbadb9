"""Each operator on each question type, the combinators, and hidden answers."""

from __future__ import annotations

import pytest
from engine_fixtures import write_rules

from screening.engine.conditions import OPERATORS, Compiler, allowed_operators
from screening.engine.errors import Collector
from screening.rules import load_ruleset


@pytest.fixture(scope="module")
def questionnaire(tmp_path_factory):
    return load_ruleset(write_rules(tmp_path_factory.mktemp("tiny"))).questionnaire


def compile_ok(questionnaire, data):
    problems = []
    condition = Compiler(questionnaire.questions, Collector("test", problems), "test").compile(data, 1)
    assert problems == []
    return condition


@pytest.mark.parametrize(
    ("condition", "answers", "expected"),
    [
        ({"question": "where", "is": "leg"}, {"where": "leg"}, True),
        ({"question": "where", "is": "leg"}, {"where": "back"}, False),
        ({"question": "where", "is": "leg"}, {}, False),
        ({"question": "where", "in": ["leg", "back"]}, {"where": "back"}, True),
        ({"question": "where", "in": ["leg"]}, {"where": "back"}, False),
        ({"question": "where", "in": ["leg"]}, {"where": ["leg"]}, False),
        ({"question": "signs", "has": "fever"}, {"signs": ["numb", "fever"]}, True),
        ({"question": "signs", "has": "fever"}, {"signs": ["numb"]}, False),
        ({"question": "signs", "has": "fever"}, {"signs": "fever"}, False),
        ({"question": "signs", "has_any": ["fever", "numb"]}, {"signs": ["numb"]}, True),
        ({"question": "signs", "has_any": ["fever"]}, {"signs": ["none"]}, False),
        ({"question": "signs", "has_all": ["fever", "numb"]}, {"signs": ["numb", "fever"]}, True),
        ({"question": "signs", "has_all": ["fever", "numb"]}, {"signs": ["numb"]}, False),
        ({"question": "impact", "at_least": 5}, {"impact": 5}, True),
        ({"question": "impact", "at_least": 5}, {"impact": 4}, False),
        ({"question": "impact", "at_least": 5}, {"impact": True}, False),
        ({"question": "impact", "at_most": 5}, {"impact": 0}, True),
        ({"question": "impact", "at_most": 5}, {"impact": 6}, False),
        ({"question": "how_long", "at_least": "long"}, {"how_long": "long"}, True),
        ({"question": "how_long", "at_least": "long"}, {"how_long": "short"}, False),
        ({"question": "how_long", "at_most": "short"}, {"how_long": "short"}, True),
        ({"question": "how_long", "at_most": "short"}, {"how_long": "long"}, False),
        ({"question": "how_long", "at_most": "short"}, {"how_long": "never"}, False),
        (
            {"all": [{"question": "where", "is": "leg"}, {"question": "impact", "at_least": 3}]},
            {"where": "leg", "impact": 3},
            True,
        ),
        (
            {"all": [{"question": "where", "is": "leg"}, {"question": "impact", "at_least": 3}]},
            {"where": "leg", "impact": 2},
            False,
        ),
        (
            {"any": [{"question": "where", "is": "leg"}, {"question": "impact", "at_least": 3}]},
            {"where": "back", "impact": 9},
            True,
        ),
        (
            {"any": [{"question": "where", "is": "leg"}, {"question": "impact", "at_least": 3}]},
            {"where": "back", "impact": 1},
            False,
        ),
        ({"not": {"question": "where", "is": "leg"}}, {"where": "back"}, True),
        ({"not": {"question": "where", "is": "leg"}}, {"where": "leg"}, False),
    ],
)
def test_operator_table(questionnaire, condition, answers, expected):
    assert compile_ok(questionnaire, condition).test(answers) is expected


def test_every_operator_is_tested_above():
    assert set(OPERATORS) == {"is", "in", "has", "has_any", "has_all", "at_least", "at_most"}


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("where", ["is", "in"]),
        ("how_long", ["is", "in", "at_least", "at_most"]),
        ("signs", ["has", "has_any", "has_all"]),
        ("impact", ["at_least", "at_most"]),
    ],
)
def test_operators_that_fit_each_question_type(questionnaire, question, expected):
    assert allowed_operators(questionnaire.questions[question]) == expected


def test_reasons_are_the_leaves_that_matched(questionnaire):
    condition = compile_ok(
        questionnaire,
        {
            "any": [
                {"question": "where", "is": "leg"},
                {"all": [{"question": "impact", "at_least": 8}, {"question": "how_long", "is": "long"}]},
                {"not": {"question": "signs", "has": "fever"}},
            ]
        },
    )
    answers = {"where": "back", "impact": 9, "how_long": "long", "signs": ["none"]}
    assert condition.test(answers)
    assert [(leaf.question, leaf.op) for leaf in condition.matches(answers)] == [
        ("impact", "at_least"),
        ("how_long", "is"),
    ]
    assert condition.questions() == {"where", "impact", "how_long", "signs"}


def test_hidden_answers_are_dropped_and_ignored(questionnaire):
    answers = {"where": "back", "walk": "yes"}
    assert questionnaire.clean(answers) == {"where": "back"}
    assert not questionnaire.is_shown("walk", answers)
    assert questionnaire.is_shown("walk", {"where": "leg"})
    assert [q.id for q in questionnaire.shown_questions("about", answers)] == ["where", "how_long", "impact"]


def test_hidden_answers_do_not_fire_rules(tmp_path):
    ruleset = load_ruleset(write_rules(tmp_path))
    answers = {"signs": ["none"], "where": "back", "walk": "yes", "how_long": "long", "impact": 9}
    outcome = ruleset.evaluate(answers)
    assert outcome.level == "info"
    assert "walk" not in outcome.answers
    assert ruleset.evaluate(dict(answers, where="leg")).level == "discuss"
