"""The shipped rule set passes every named case in rules/cases.yaml, one test per case."""

from __future__ import annotations

import pytest
import yaml
from conftest import RULES_DIR

from screening.engine.cases import case_answers

CASES = yaml.safe_load((RULES_DIR / "cases.yaml").read_text())


def test_there_are_enough_cases():
    assert len(CASES["cases"]) >= 40


@pytest.mark.parametrize("case", CASES["cases"], ids=[c["name"] for c in CASES["cases"]])
def test_case(ruleset, case):
    answers = case_answers(CASES["defaults"], case)
    assert ruleset.questionnaire.validate(answers) == []
    outcome = ruleset.evaluate(answers)
    fired = {f.rule.id for f in outcome.fired}
    assert outcome.level == case["level"]
    assert list(outcome.topics) == sorted(case["topics"])
    assert set(case.get("fires", [])) <= fired
    assert not set(case.get("not_fires", [])) & fired


def test_reasons_use_the_patients_own_words(ruleset):
    answers = case_answers(
        CASES["defaults"],
        {
            "answers": {
                "diagnosis": ["herniated_disc", "other"],
                "pain_location": "leg",
                "walking_pattern": "no",
            }
        },
    )
    fired = {f.rule.id: f for f in ruleset.evaluate(answers).fired}
    assert [r.text for r in fired["herniated-disc-leg-pain"].reasons] == [
        "How long you have had pain: 3 months to less than 6 months",
        "Where the pain is: Mostly in my leg or legs",
        "What you have been told: A bulging or slipped disc (herniated disc)",
        "Treatments tried: Exercise with a therapist (physical therapy)",
    ]


def test_the_shipped_rule_set_is_sound():
    from screening.engine.checks import check_rules_dir

    report = check_rules_dir(RULES_DIR)
    assert [str(p) for p in report.errors] == []
    assert report.mean_grade <= 7
