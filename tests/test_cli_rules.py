"""`screening rules check` and `screening rules evaluate` through Click's runner."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from conftest import DEFAULT_ANSWERS, RULES_DIR
from engine_fixtures import edit, write_rules

from screening.cli import cli
from screening.rules import load_ruleset

DEFAULTS = {**DEFAULT_ANSWERS, "walking_pattern": "no", "sudden_pain_minor_event": "no"}

EXAMPLES = [
    ({"emergency_signs": ["bladder_change"]}, "emergency", ["safety"]),
    (
        {
            "diagnosis": ["herniated_disc"],
            "pain_location": "leg",
            "walking_pattern": "no",
            "duration": "3_to_6_months",
        },
        "discuss",
        ["benefits-and-limits", "herniated-disc"],
    ),
    (
        {
            "diagnosis": ["herniated_disc"],
            "pain_location": "leg",
            "walking_pattern": "no",
            "duration": "under_6_weeks",
            "treatments_tried": ["nothing"],
        },
        "info",
        ["benefits-and-limits", "conservative-care-first"],
    ),
    (
        {
            "age_band": "80_plus",
            "bone_health": "yes",
            "sudden_pain_minor_event": "yes",
            "duration": "under_6_weeks",
            "imaging": "none",
        },
        "urgent",
        ["benefits-and-limits", "compression-fracture", "safety"],
    ),
    (
        {
            "prior_surgery": "never_helped",
            "duration": "over_6_months",
            "health_factors": ["smoking", "blood_thinners"],
        },
        "discuss",
        ["benefits-and-limits", "blood-thinners", "failed-back-surgery", "smoking"],
    ),
]


@pytest.fixture
def run(monkeypatch):
    monkeypatch.delenv("SCREENING_RULES_DIR", raising=False)

    def invoke(*args, stdin=None):
        return CliRunner().invoke(cli, list(args), input=stdin)

    return invoke


def test_check_passes_on_the_shipped_rule_set(run):
    result = run("rules", "check")
    assert result.exit_code == 0, result.output
    assert re.match(
        r"Rule set \d{4}\.\d+\.\d+ is sound: \d+ questions, \d+ rules, \d+ cases passed", result.output
    )


def test_check_lists_every_problem_and_fails(run, tmp_path):
    text = edit("rules", "    level: urgent\n", "    level: soon\n")["rules"].replace(
        "topic: legs\n", "topic: leg\n"
    )
    result = run("rules", "check", "--rules-dir", str(write_rules(tmp_path, rules=text)))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "rules/rules.yaml:23: rule 'fever': unknown level 'soon'. Fix: Use one of the levels in rules.yaml: "
        "emergency, urgent, discuss, info.",
        "rules/rules.yaml:31: rule 'leg-walk': unknown topic 'leg' (did you mean 'legs'?). Fix: Add a card for "
        "it under 'topics:' in rules.yaml, or use an existing topic.",
        "2 problem(s) found.",
    ]


def test_check_reads_the_rules_dir_from_the_environment(run, tmp_path, monkeypatch):
    monkeypatch.setenv("SCREENING_RULES_DIR", str(write_rules(tmp_path)))
    result = run("rules", "check")
    assert result.exit_code == 0
    assert result.output.startswith("Rule set 1 is sound: 5 questions, 4 rules, 4 cases passed")


@pytest.mark.parametrize(("diff", "level", "topics"), EXAMPLES)
def test_evaluate_the_worked_examples(run, diff, level, topics):
    result = run("rules", "evaluate", "-", stdin=json.dumps({**DEFAULTS, **diff}))
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    assert (outcome["level"], outcome["topics"]) == (level, topics)
    assert outcome["ruleset"]["version"] == load_ruleset(RULES_DIR).version
    assert all(rule["reasons"] or rule["id"] == "what-miss-can-do" for rule in outcome["rules"])


def test_evaluate_reads_a_file(run, tmp_path):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(DEFAULTS))
    result = run("rules", "evaluate", str(path))
    assert json.loads(result.stdout)["rules"] == [
        {
            "id": "what-miss-can-do",
            "level": "info",
            "topic": "benefits-and-limits",
            "title": "What small-cut spine surgery can and cannot do",
            "reasons": [],
        }
    ]


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"pain": "back"}, "Error: question 'pain': there is no such question"),
        (
            {"pain_location": "arm"},
            "Error: question 'pain_location': 'arm' is not one of its options (back, leg, both, unsure)",
        ),
        (
            {"emergency_signs": ["none", "bladder_change"]},
            "Error: question 'emergency_signs': 'none' cannot be combined with other options",
        ),
        ({"impact": 12}, "Error: question 'impact': 12 is outside 0 to 10"),
        (
            {"diagnosis": "stenosis"},
            "Error: question 'diagnosis': it takes a list of option ids, found 'stenosis'",
        ),
    ],
)
def test_evaluate_refuses_invalid_answers_naming_the_question(run, answers, message):
    result = run("rules", "evaluate", "-", stdin=json.dumps(answers))
    assert result.exit_code == 1
    assert result.stderr.strip() == message
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (
            "{not json",
            "Error: the answers are not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        ("[1, 2]", "Error: the answers must be a JSON object of question id -> answer."),
    ],
)
def test_evaluate_refuses_what_is_not_a_json_object(run, stdin, message):
    result = run("rules", "evaluate", "-", stdin=stdin)
    assert result.exit_code == 1
    assert result.stderr.strip() == message
