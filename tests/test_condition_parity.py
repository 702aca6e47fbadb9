"""The page script and the Python engine read every `show_when` the same way.

`screening/static/app.js` shows and hides questions in the browser with its own reading of the
condition language. This runs that code in Node against the Python engine, for every question's
`show_when`, over the answers of every case in cases.yaml and a few thousand random answer sets, and
fails on any disagreement. An operator the script does not know fails here, not in a patient's browser.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from screening.engine.answers import random_answer, random_answers
from screening.engine.cases import case_answers
from screening.engine.conditions import Compiler
from screening.engine.errors import Collector

ROOT = Path(__file__).resolve().parent.parent
APP_JS = ROOT / "screening" / "static" / "app.js"
RANDOM_SETS = 3000

HARNESS = """
const conditions = require(process.argv[1]);
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = input.checks.map(([cond, answers]) => {
  try { return conditions.test(cond, answers, input.orders); } catch (error) { return "error: " + error.message; }
});
process.stdout.write(JSON.stringify(out));
"""


def run_in_node(orders: dict, checks: list) -> list:
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is missing; CI must install Debian's nodejs (see .ci/run)")
        pytest.skip("node is not installed (apt-get install nodejs)")
    payload = json.dumps({"orders": orders, "checks": checks})
    done = subprocess.run(
        [node, "-e", HARNESS, str(APP_JS)],
        input=payload,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


def answer_sets(ruleset) -> list[dict]:
    """Every case's answers, random answer sets as patients send them, and random ones that ignore
    visibility (so that conditions meet answers their questions would have hidden too)."""
    cases = yaml.safe_load((ROOT / "rules" / "cases.yaml").read_text())
    sets = [case_answers(cases.get("defaults", {}), case) for case in cases["cases"]]
    rng = random.Random(8)
    questions = list(ruleset.questionnaire.questions.values())
    for _ in range(RANDOM_SETS // 2):
        sets.append(random_answers(ruleset, rng))
        sets.append({q.id: random_answer(q, rng) for q in questions if rng.random() < 0.8})
    return sets


def orders_of(questionnaire) -> dict:
    return {q.id: [o.id for o in q.options] for q in questionnaire.questions.values() if q.ordered}


def test_the_page_script_agrees_with_the_engine_on_every_show_when(ruleset):
    questionnaire = ruleset.questionnaire
    conditional = [q for q in questionnaire.questions.values() if q.show_when is not None]
    assert conditional, "the questionnaire has questions shown only sometimes"
    checks, expected = [], []
    for answers in answer_sets(ruleset):
        for cleaned in (answers, questionnaire.clean(answers)):
            for question in conditional:
                checks.append([question.show_when_data, cleaned])
                expected.append(question.show_when.test(cleaned))
    got = run_in_node(orders_of(questionnaire), checks)
    disagreements = [
        (question_data, answers, python, js)
        for (question_data, answers), python, js in zip(checks, expected, got, strict=True)
        if python != js
    ]
    assert len(got) > 10_000
    assert disagreements == [], f"{len(disagreements)} disagreements, first: {disagreements[0]}"


@pytest.mark.parametrize(
    ("condition", "answers"),
    [
        ({"question": "impact", "at_least": 7}, {"impact": 7}),
        ({"question": "duration", "at_most": "6_to_12_weeks"}, {"duration": "under_6_weeks"}),
        (
            {"question": "diagnosis", "has_all": ["stenosis", "fracture"]},
            {"diagnosis": ["fracture", "stenosis"]},
        ),
        ({"not": {"question": "age_band", "is": "under_18"}}, {}),
        (
            {"any": [{"question": "pain_location", "in": ["leg"]}, {"question": "impact", "at_most": 2}]},
            {"impact": 1},
        ),
    ],
)
def test_each_operator_reads_the_same(ruleset, condition, answers):
    compiled = Compiler(ruleset.questionnaire.questions, Collector("t", []), "test").compile(condition, 1)
    got = run_in_node(orders_of(ruleset.questionnaire), [[condition, answers]])
    assert got == [compiled.test(answers)] == [True]


def test_an_operator_the_script_does_not_know_fails_here(ruleset):
    got = run_in_node({}, [[{"question": "impact", "between": [1, 3]}, {"impact": 2}]])
    assert got == ["error: unknown operator: between"]
