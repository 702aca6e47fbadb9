"""Safety that a content edit cannot switch off: roles declared and checked, the emergency stop
guarded against edits, and the views driven by roles instead of ids or list positions."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import DEFAULT_ANSWERS, RULES_DIR, page, text_of
from engine_fixtures import edit, write_rules

from screening.engine.checks import check_rules_dir
from screening.engine.safety import fingerprint
from screening.rules import RuleSetError, load_ruleset

LEVELS = """\
  - {id: emergency, role: emergency, label: Get help now, summary: Go to the hospital now.}
  - {id: urgent, role: urgent, label: See a doctor soon, summary: See a doctor in a day or two.}
  - {id: discuss, label: Talk about it, summary: Talk to a doctor about this.}"""
APPROVE = "If a clinical lead approved this change, run `screening rules protect --approved-by NAME`."

BROKEN_ROLES = [
    pytest.param(
        edit("rules", "{id: emergency, role: emergency, label", "{id: emergency, label"),
        [
            "rules/rules.yaml: no level has 'role: emergency' (the level that stops the questionnaire and sends "
            "the patient to emergency care). Fix: Add 'role: emergency' to the level that stops the "
            "questionnaire and sends the patient to emergency care."
        ],
        id="emergency role missing",
    ),
    pytest.param(
        edit("rules", "{id: discuss, label", "{id: discuss, role: urgent, label"),
        [
            "rules/rules.yaml:5: level 'discuss': 'role: urgent' is on level 'urgent' and again on level "
            "'discuss'. Fix: Keep 'role: urgent' on one level only.",
            "rules/rules.yaml:29: rule 'leg-walk': it is at the urgent level 'discuss', but its topic 'legs' is "
            "not the safety topic 'safety'. Fix: Give rules at the urgent level the topic 'safety'; show another "
            "card with a rule of its own.",
        ],
        id="urgent role doubled",
    ),
    pytest.param(
        edit("rules", LEVELS, "\n".join(LEVELS.splitlines()[i] for i in (1, 0, 2))),
        [
            "rules/rules.yaml:4: level 'emergency': it has 'role: emergency', but it comes after 'urgent'; the "
            "emergency level must be the highest, listed first. Fix: List the levels highest first: the "
            "emergency level, then the urgent level, then the others.",
            "rules/rules.yaml:3: level 'urgent': it has 'role: urgent', but it must come right after the "
            "emergency level 'emergency'. Fix: List the levels highest first: the emergency level, then the "
            "urgent level, then the others.",
        ],
        id="levels reordered",
    ),
    pytest.param(
        edit("rules", LEVELS, "\n".join(LEVELS.splitlines()[i] for i in (0, 2, 1))),
        [
            "rules/rules.yaml:5: level 'urgent': it has 'role: urgent', but it must come right after the "
            "emergency level 'emergency'. Fix: List the levels highest first: the emergency level, then the "
            "urgent level, then the others.",
        ],
        id="urgent below another level",
    ),
    pytest.param(
        edit("rules", "safety: {role: safety, title", "safety: {title"),
        [
            "rules/rules.yaml: no topic has 'role: safety' (the topic that holds the safety notices). Fix: Add "
            "'role: safety' to the topic that holds the safety notices."
        ],
        id="safety role missing",
    ),
    pytest.param(
        edit("rules", "legs: {title", "legs: {role: safety, title"),
        [
            "rules/rules.yaml:12: topic 'legs': 'role: safety' is on topic 'safety' and again on topic 'legs'. "
            "Fix: Keep 'role: safety' on one topic only."
        ],
        id="safety role doubled",
    ),
    pytest.param(
        edit("rules", "    level: urgent\n    topic: safety", "    level: urgent\n    topic: legs"),
        [
            "rules/rules.yaml:22: rule 'fever': it is at the urgent level 'urgent', but its topic 'legs' is not "
            "the safety topic 'safety'. Fix: Give rules at the urgent level the topic 'safety'; show another "
            "card with a rule of its own."
        ],
        id="urgent rule outside the safety topic",
    ),
    pytest.param(
        edit(
            "rules",
            "    level: emergency\n    topic: safety",
            "    level: emergency\n    alone: true\n    topic: safety",
        ),
        [
            "rules/rules.yaml:15: rule 'numb': it is marked 'alone: true' but is at the emergency level "
            "'emergency'. Fix: Only rules below the urgent level can be alone; remove 'alone: true' or change "
            "the level."
        ],
        id="alone at the emergency level",
    ),
    pytest.param(
        edit("rules", "safety: {role: safety, title", "safety: {role: safety, hide_when_urgent: true, title"),
        [
            "rules/rules.yaml:11: topic 'safety': the safety topic cannot be hidden when an urgent rule fires. "
            "Fix: Remove 'hide_when_urgent: true' from it."
        ],
        id="safety topic hidden when urgent",
    ),
    pytest.param(
        edit(
            "questionnaire", "{id: numb, label: Numb legs, emergency: true}", "{id: numb, label: Numb legs}"
        ),
        [
            "rules/questionnaire.yaml: no option is marked 'emergency: true'. Fix: Mark each answer on the first "
            "step that sends the patient to emergency care 'emergency: true'."
        ],
        id="no emergency answers",
    ),
    pytest.param(
        edit("questionnaire", "{id: back, label: Back}", "{id: back, label: Back, emergency: true}"),
        [
            "rules/questionnaire.yaml:23: question 'where': option 'back' is marked 'emergency: true', but it is "
            "exclusive or on step 'about'. Fix: Only answers on the first step ('safety'), other than 'none of "
            "these', can be emergency answers."
        ],
        id="emergency answer off the safety step",
    ),
]

WEAKENED = [
    pytest.param(
        edit("questionnaire", "{id: fever, label: A fever}", "{id: fever, label: A fever, emergency: true}"),
        [
            "rules/questionnaire.yaml:12: question 'signs': option 'fever' is marked 'emergency: true', but "
            "chosen alone it gives level 'urgent', not the emergency level 'emergency'. Fix: Make an emergency "
            "rule fire for it."
        ],
        id="an emergency answer that reaches only urgent",
    ),
    pytest.param(
        edit(
            "rules",
            "    message: Numb legs need care now.\n    sources: [b]",
            "    message: Numb legs need care now.\n    sources: [a]",
        ),
        [
            "rules/rules.yaml:15: rule 'numb': emergency rule 'numb' no longer cites 'b', which it cited when it "
            "was approved. Fix: Cite it again. " + APPROVE
        ],
        id="an emergency rule loses a source",
    ),
    pytest.param(
        edit(
            "rules",
            "    when: {question: signs, has: numb}",
            "    when: {all: [{question: signs, has: numb}, {not: {question: where, is: leg}}]}",
        ),
        [
            "rules/cases.yaml:6: case 'numb' expected level emergency, got discuss. Fix: Fix the rule or the case.",
            "rules/cases.yaml:6: case 'numb' expected topics ['safety'], got ['basics', 'legs']. Fix: Fix the "
            "rules or the case.",
            "rules/rules.yaml: the emergency stop: it can be bypassed: signs=['numb'] with where=leg gives level "
            "'info'. Fix: Make the emergency rules fire on the emergency answers alone, whatever else is answered.",
        ],
        id="an answer combination bypasses the stop",
    ),
    pytest.param(
        edit("cases", "{name: numb, answers", "{name: numb, protected: true, answers"),
        [
            "rules/cases.yaml:6: case 'numb' is marked protected, but no clinical lead has approved it yet. Fix: "
            "Run `screening rules protect --approved-by NAME` once a clinical lead has approved it."
        ],
        id="a protected case never approved",
    ),
]


@pytest.mark.parametrize(("change", "expected"), BROKEN_ROLES)
def test_broken_role_declarations_are_refused_with_exact_messages(tmp_path, change, expected):
    folder = write_rules(tmp_path, **change)
    assert [str(problem) for problem in check_rules_dir(folder).errors] == expected
    with pytest.raises(RuleSetError):
        load_ruleset(folder)


@pytest.mark.parametrize(("change", "expected"), WEAKENED)
def test_a_weakened_emergency_stop_fails_the_check(tmp_path, change, expected):
    report = check_rules_dir(write_rules(tmp_path, **change))
    assert [str(problem) for problem in report.errors] == expected


def protected_rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(RULES_DIR, folder)
    return folder


def test_the_shipped_emergency_cases_are_protected_and_approved(tmp_path):
    report = check_rules_dir(RULES_DIR)
    assert report.errors == []
    folder = protected_rules(tmp_path)
    cases = (folder / "cases.yaml").read_text()
    assert cases.count("protected: true") >= 6


def test_changing_or_deleting_a_protected_case_fails_the_check(tmp_path):
    folder = protected_rules(tmp_path)
    cases = folder / "cases.yaml"
    text = cases.read_text()
    name = "'example 1: new bladder trouble is an emergency'"
    cases.write_text(
        text.replace("      emergency_signs: [bladder_change]\n", "      emergency_signs: [none]\n", 1)
    )
    changed = [p for p in check_rules_dir(folder).errors if p.code == "protected_case_changed"]
    assert [str(p) for p in changed] == [
        f"rules/cases.yaml:23: protected case {name} was changed since a clinical lead approved it. Fix: Undo "
        "the change. If a clinical lead approved it, run `screening rules protect --approved-by NAME`."
    ]
    start = text.index("  - name: " + name)
    end = text.index("\n  - name:", start + 1)
    cases.write_text(text[:start] + text[end + 1 :])
    assert [str(p) for p in check_rules_dir(folder).errors] == [
        f"rules/cases.yaml: protected case {name} was deleted. Fix: Restore it. " + APPROVE
    ]


def test_protect_records_an_approved_change(tmp_path):
    from click.testing import CliRunner

    from screening.cli import cli

    folder = protected_rules(tmp_path)
    cases = folder / "cases.yaml"
    cases.write_text(
        cases.read_text().replace(
            "name: 'example 1: new bladder trouble", "name: 'example 1: bladder trouble", 1
        )
    )
    assert not check_rules_dir(folder).ok
    runner = CliRunner()
    result = runner.invoke(
        cli, ["rules", "protect", "--approved-by", "Dr Ada Lane", "--rules-dir", str(folder)]
    )
    assert result.exit_code == 0, result.output
    assert "approved by Dr Ada Lane" in result.output
    assert check_rules_dir(folder).ok
    lock = (folder / "safety-lock.yaml").read_text()
    assert "approved_by: Dr Ada Lane" in lock
    assert "emergency_signs: bladder_change" in lock


def test_the_fingerprint_ignores_layout_but_not_meaning():
    case = {"name": "x", "answers": {"a": ["b"]}, "level": "emergency", "topics": ["safety"]}
    assert fingerprint(case) == fingerprint({**case, "protected": True})
    assert fingerprint(case) != fingerprint({**case, "level": "urgent"})


def test_renaming_the_safety_topic_keeps_the_emergency_outcome(tmp_path):
    folder = protected_rules(tmp_path)
    for name in ("rules.yaml", "cases.yaml", "es.yaml"):
        path = folder / name
        text = (
            path.read_text()
            .replace("topic: safety", "topic: red-flags")
            .replace("\n  safety:\n", "\n  red-flags:\n")
            .replace("  topics.safety.", "  topics.red-flags.")
        )
        path.write_text(re.sub(r"(?<=[\[ ])safety(?=[\],])", "red-flags", text))
    ruleset = load_ruleset(folder)
    outcome = ruleset.evaluate({"emergency_signs": ["bladder_change"]})
    assert ruleset.is_emergency(outcome)
    assert outcome.topics == ("red-flags",)
    assert ruleset.safety_topic.id == "red-flags"
    problems = check_rules_dir(folder).errors
    assert problems and {p.code for p in problems} == {"protected_case_changed", "version_reused"}, (
        "the protected cases changed with the rename, so the check asks for approval"
    )


def test_reordering_the_levels_is_refused(tmp_path):
    folder = protected_rules(tmp_path)
    path = folder / "rules.yaml"
    text = path.read_text()
    start, middle = text.index("  - id: emergency\n"), text.index("  - id: urgent\n")
    end = text.index("  - id: discuss\n")
    path.write_text(text[:start] + text[middle:end] + text[start:middle] + text[end:])
    with pytest.raises(RuleSetError, match="it has 'role: emergency', but it comes after 'urgent'"):
        load_ruleset(folder)


# --- the engine's roles, as the views use them --------------------------------------------------------


def test_the_views_get_safety_from_roles(ruleset):
    assert ruleset.emergency_level.role == "emergency"
    assert ruleset.urgent_level.role == "urgent"
    assert ruleset.safety_topic.role == "safety"
    both = ruleset.evaluate({"emergency_signs": ["bladder_change"], "warning_signs": ["fever"]})
    assert ruleset.is_emergency(both) and not ruleset.is_urgent(both)
    assert [f.rule.level for f in ruleset.emergency_notices(both)] == [ruleset.emergency_level.id]
    assert all(f.rule.level == ruleset.urgent_level.id for f in ruleset.urgent_notices(both))
    urgent = ruleset.evaluate({**DEFAULT_ANSWERS, "warning_signs": ["fever"]})
    assert ruleset.is_urgent(urgent) and not ruleset.is_emergency(urgent)
    assert [level.id for level in ruleset.card_levels()] == [
        level.id for level in ruleset.levels if not level.role
    ]


def test_no_view_or_template_names_a_level_or_topic_id(ruleset):
    root = RULES_DIR.parent
    sources = [*root.glob("screening/patient.py"), *root.glob("templates/patient/*.html")]
    ids = [level.id for level in ruleset.levels] + list(ruleset.topics)
    for path in sources:
        text = path.read_text()
        named = [i for i in ids if f'"{i}"' in text or f"'{i}'" in text]
        assert named == [], f"{path.name} names {named}"


# --- an emergency answer wins at once, through the test client -------------------------------------------


def emergency_options(ruleset):
    return [(q.id, o.id) for q, o in ruleset.questionnaire.emergency_answers]


def post_safety(patient, data: dict):
    shown = " ".join(q.id for q in patient.ruleset.questionnaire.step("safety").questions)
    form = {"csrf_token": patient.token("/step/safety"), "shown": shown, **data}
    return patient.client.post("/step/safety", data=form)


@pytest.mark.parametrize("extra", [{}, {"warning_signs": "not-an-option", "impact": "x"}])
def test_each_emergency_answer_alone_on_an_empty_safety_step_goes_straight_to_help(patient, ruleset, extra):
    for qid, option in emergency_options(ruleset):
        patient.start()
        response = post_safety(patient, {qid: option, **extra})
        assert response.status_code == 302 and response.headers["Location"] == "/emergency", (qid, option)
        text = text_of(patient.client.get("/emergency"))
        assert "Call 911 or go to the emergency department now." in text
        assert "There is a problem" not in text


def test_an_emergency_sign_ticked_with_none_still_wins(patient):
    patient.start()
    response = post_safety(patient, {"emergency_signs": ["none", "bladder_change"]})
    assert response.headers["Location"] == "/emergency"


def test_an_emergency_answer_after_the_draft_expired_still_reaches_help(patient, app):
    patient.start()
    patient.client.delete_cookie("draft")
    response = post_safety(patient, {"emergency_signs": "saddle_numbness"})
    assert response.headers["Location"] == "/emergency"


def test_urgent_notices_never_sit_on_the_emergency_page(patient):
    patient.start()
    post_safety(patient, {"emergency_signs": "bladder_change", "warning_signs": ["fever", "cancer_history"]})
    html = page(patient.client.get("/emergency"))
    text = html.get_text(" ", strip=True)
    assert "See a doctor soon" not in text
    assert "infection" not in text
    assert text.count("It is not a diagnosis") == 1
    assert html.select_one("a[href='tel:911']") is not None


def test_the_emergency_page_is_there_after_a_reload_and_back_until_a_new_start(patient):
    patient.start()
    post_safety(patient, {"major_trauma": "yes"})
    for url in ("/emergency", "/step/safety", "/summary", "/send"):
        assert "Get help now" in text_of(patient.client.get(url, follow_redirects=True)), url
    patient.start()
    assert "Safety check" in text_of(patient.client.get("/step/safety"))


def test_a_non_emergency_safety_step_still_needs_every_answer(patient):
    patient.start()
    response = post_safety(patient, {"warning_signs": "fever"})
    assert response.status_code == 400
    assert "There is a problem" in text_of(response)


# --- children: the questionnaire stops after the age -------------------------------------------------


def test_a_child_stops_after_the_age_and_gets_the_adults_only_card_alone(patient, ruleset):
    patient.start()
    patient.answer("safety", DEFAULT_ANSWERS)
    response = patient.answer("about", {**DEFAULT_ANSWERS, "age_band": "under_18"})
    assert response.headers["Location"] == "/check"
    check = page(patient.client.get("/check"))
    asked = [h2.get_text(strip=True) for h2 in check.select("h2")]
    assert "What you have been told" not in asked, "no step-3 answers to check"
    assert "What you have been told" in [li.get_text(strip=True) for li in check.select(".skipped li")]
    assert patient.client.get("/step/told").headers["Location"] == "/check"
    summary = page(patient.client.get("/summary"))
    cards = [section["aria-labelledby"].removeprefix("card-") for section in summary.select("section.card")]
    assert cards == ["adults-only"]


def test_a_child_with_a_warning_sign_sees_the_urgent_notice_first(patient):
    patient.start()
    patient.answer("safety", {**DEFAULT_ANSWERS, "warning_signs": ["fever"]})
    patient.answer("about", {**DEFAULT_ANSWERS, "age_band": "under_18"})
    summary = page(patient.client.get("/summary"))
    first = summary.select_one(".summary > div")
    assert "urgent-panel" in first["class"]
    cards = [section["aria-labelledby"].removeprefix("card-") for section in summary.select("section.card")]
    assert cards == ["adults-only"]


def test_the_step_count_follows_the_steps_that_are_asked(patient):
    patient.start()
    patient.answer("safety", DEFAULT_ANSWERS)
    assert "Step 2 of 5" in text_of(patient.client.get("/step/about"))
    patient.answer("about", {**DEFAULT_ANSWERS, "age_band": "under_18"})
    assert "Step 2 of 2" in text_of(patient.client.get("/step/about"))
