"""Pain down both legs and its follow-up: the one emergency answer that another answer may qualify.

Which answer may be qualified, and by what, is declared in questionnaire.yaml (`emergency_unless`),
checked at load, recorded in rules/safety-lock.yaml and guarded by `screening rules check`; every
other emergency answer still wins whatever else is answered.
"""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner
from conftest import DEFAULT_ANSWERS, RULES_DIR
from engine_fixtures import QUESTIONNAIRE, write_rules
from hypothesis import given, settings
from hypothesis import strategies as st

from screening.cli import cli
from screening.engine.checks import check_rules_dir
from screening.rules import RuleSetError, load_ruleset

RULESET = load_ruleset(RULES_DIR)
SIGNS = [o.id for o in RULESET.questionnaire.questions["emergency_signs"].options if not o.exclusive]
APPROVE = "If a clinical lead approved this change, run `screening rules protect --approved-by NAME`."


@pytest.mark.parametrize(
    ("signs", "onset", "level"),
    [
        (["both_legs_pain"], None, "emergency"),
        (["both_legs_pain"], "new_or_worse", "emergency"),
        (["both_legs_pain"], "unsure", "emergency"),
        (["both_legs_pain"], "long_standing", "info"),
        (["both_legs_pain", "saddle_numbness"], "long_standing", "emergency"),
        (["both_legs_pain", "chest_belly_pain"], "long_standing", "emergency"),
        (["none"], "new_or_worse", "info"),  # hidden without the sign: ignored
    ],
)
def test_both_legs_is_an_emergency_unless_long_standing(signs, onset, level):
    answers = {**DEFAULT_ANSWERS, "emergency_signs": signs}
    if onset:
        answers["both_legs_onset"] = onset
    outcome = RULESET.evaluate(answers)
    assert outcome.level == level
    if level != "emergency":
        assert "both_legs_onset" not in outcome.answers or signs == ["both_legs_pain"]


def test_the_emergency_stop_needs_only_the_safety_step():
    for onset in (None, "new_or_worse", "unsure"):
        answers = {"emergency_signs": ["both_legs_pain"], **({"both_legs_onset": onset} if onset else {})}
        assert RULESET.emergency_from_partial(answers) is not None, onset
    assert (
        RULESET.emergency_from_partial(
            {"emergency_signs": ["both_legs_pain"], "both_legs_onset": "long_standing"}
        )
        is None
    )


@settings(max_examples=300, deadline=None)
@given(
    signs=st.lists(st.sampled_from(SIGNS), min_size=1, unique=True),
    onset=st.sampled_from([None, "new_or_worse", "long_standing", "unsure"]),
    trauma=st.sampled_from(["yes", "no"]),
)
def test_only_the_declared_answer_takes_an_emergency_away(signs, onset, trauma):
    answers = {**DEFAULT_ANSWERS, "emergency_signs": signs, "major_trauma": trauma}
    if onset:
        answers["both_legs_onset"] = onset
    standing = [s for s in signs if s != "both_legs_pain"] or (
        ["both_legs_pain"] if onset != "long_standing" else []
    )
    expected = bool(standing) or trauma == "yes"
    assert RULESET.is_emergency(RULESET.evaluate(answers)) is expected


def test_the_shipped_qualifier_is_declared_and_approved():
    question = RULESET.questionnaire.questions["emergency_signs"]
    assert question.option("both_legs_pain").unless == ("both_legs_onset", "long_standing")
    assert [o.id for _, o in RULESET.questionnaire.emergency_answers if o.unless] == ["both_legs_pain"]
    lock = (RULES_DIR / "safety-lock.yaml").read_text()
    assert (
        "emergency_qualifiers:\n  'emergency_signs: both_legs_pain': 'both_legs_onset: long_standing'\n"
        in lock
    )
    assert check_rules_dir(RULES_DIR).errors == []


# --- where a qualifier may be declared: checked at load, exact messages ----------------------------

FOLLOW_UP = """
      - id: onset
        type: single
        label: Is it new?
        short: New
        options: [{id: new, label: New}, {id: old, label: Old}]"""

NONE = "          - {id: none, label: None of these, exclusive: true}"


def questionnaire(option: str, *, follow_up: bool = True) -> dict:
    """Return write_rules changes: the tiny questionnaire with one option line replaced (and a follow-up)."""
    text = QUESTIONNAIRE.replace("          - {id: numb, label: Numb legs, emergency: true}", option)
    if follow_up:
        text = text.replace(NONE, NONE + FOLLOW_UP)
    return {"questionnaire": text}


NUMB = "          - {id: numb, label: Numb legs, emergency: true, emergency_unless: {question: %s, is: %s}}"
LOAD_ERRORS = [
    pytest.param(
        questionnaire(
            "          - {id: numb, label: Numb legs, emergency: true}\n"
            "          - {id: cold, label: Cold legs, emergency_unless: {question: onset, is: old}}"
        ),
        "rules/questionnaire.yaml:12: question 'signs': option 'cold' has 'emergency_unless', but it is not "
        "marked 'emergency: true'. Fix: Only an emergency answer can be qualified: remove 'emergency_unless', "
        "or mark the option.",
        id="not an emergency answer",
    ),
    pytest.param(
        questionnaire(NUMB % ("onsett", "old")),
        "rules/questionnaire.yaml:12: question 'signs': option 'numb' is qualified by question 'onsett', which "
        "does not exist. Fix: Name a question of the same step in 'emergency_unless'.",
        id="unknown question",
    ),
    pytest.param(
        questionnaire(NUMB % ("where", "back")),
        "rules/questionnaire.yaml:12: question 'signs': option 'numb' is qualified by question 'where', which "
        "is not a one-choice question on step 'safety'. Fix: Qualify an emergency answer only with a one-choice "
        "question on its own step.",
        id="question on another step",
    ),
    pytest.param(
        questionnaire(NUMB % ("signs", "fever")),
        "rules/questionnaire.yaml:12: question 'signs': option 'numb' is qualified by question 'signs', which "
        "is not a one-choice question on step 'safety'. Fix: Qualify an emergency answer only with a one-choice "
        "question on its own step.",
        id="its own choose-all question",
    ),
    pytest.param(
        questionnaire(NUMB % ("onset", "older")),
        "rules/questionnaire.yaml:12: question 'signs': question 'onset' has no option 'older' to qualify an "
        "emergency answer with. Fix: Use one of: new, old.",
        id="unknown answer",
    ),
]


@pytest.mark.parametrize(("edits", "message"), LOAD_ERRORS)
def test_a_qualifier_in_the_wrong_place_stops_the_load(tmp_path, edits, message):
    folder = write_rules(tmp_path, **edits)
    with pytest.raises(RuleSetError) as raised:
        load_ruleset(folder)
    assert [str(p) for p in raised.value.problems] == [message]


# --- the lock: adding, changing or dropping a qualifier waits for a clinical lead ---------------------


def shipped_copy(tmp_path):
    folder = tmp_path / "rules"
    shutil.copytree(RULES_DIR, folder)
    return folder


def rewrite(folder, name, old, new):
    path = folder / name
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def qualify_leg_weakness(folder, *, in_rule: bool) -> None:
    rewrite(
        folder,
        "questionnaire.yaml",
        "          - id: leg_weakness\n            emergency: true\n",
        "          - id: leg_weakness\n            emergency: true\n"
        "            emergency_unless: {question: both_legs_onset, is: long_standing}\n",
    )
    if in_rule:
        rewrite(
            folder,
            "rules.yaml",
            "has_any: [saddle_numbness, bladder_change, bowel_change, toilet_feeling, sexual_change, leg_weakness]",
            "has_any: [saddle_numbness, bladder_change, bowel_change, toilet_feeling, sexual_change]\n"
            "        - all:\n"
            "            - {question: emergency_signs, has: leg_weakness}\n"
            "            - not: {question: both_legs_onset, is: long_standing}",
        )


def without_release_and_translation(report):
    return [str(p) for p in report.errors if not p.code.startswith(("version_", "translation_"))]


def test_a_new_qualifier_fails_the_check_until_a_clinical_lead_approves_it(tmp_path):
    folder = shipped_copy(tmp_path)
    qualify_leg_weakness(folder, in_rule=True)
    report = check_rules_dir(folder)
    assert without_release_and_translation(report) == [
        "rules/questionnaire.yaml:18: question 'emergency_signs': 'emergency_signs: leg_weakness' stops being an "
        "emergency when both_legs_onset: long_standing, but no clinical lead has approved that. Fix: Remove "
        "'emergency_unless'. If a clinical lead approved it, run `screening rules protect --approved-by NAME`."
    ]
    result = CliRunner().invoke(
        cli, ["rules", "protect", "--approved-by", "Dr Ada Lane", "--rules-dir", str(folder)]
    )
    assert result.exit_code == 0, result.output
    assert "2 qualified emergency answer(s)" in result.output
    assert without_release_and_translation(check_rules_dir(folder)) == []


def test_a_qualifier_the_rules_do_not_declare_is_a_bypass(tmp_path):
    folder = shipped_copy(tmp_path)
    qualify_leg_weakness(folder, in_rule=True)
    rewrite(  # the rule now lets leg weakness go, but the questionnaire no longer says so
        folder,
        "questionnaire.yaml",
        "            emergency_unless: {question: both_legs_onset, is: long_standing}\n"
        '            label: "Weakness',
        '            label: "Weakness',
    )
    errors = without_release_and_translation(check_rules_dir(folder))
    assert errors == [
        "rules/rules.yaml: the emergency stop: it can be bypassed: emergency_signs=['leg_weakness'] with "
        "emergency_signs=['both_legs_pain', 'leg_weakness'], both_legs_onset=long_standing gives level 'info'. "
        "Fix: Make the emergency rules fire on the emergency answers alone, whatever else is answered."
    ]


BYPASS_LONG_STANDING = (
    "rules/rules.yaml: the emergency stop: it can be bypassed: emergency_signs=['both_legs_pain'] with "
    "both_legs_onset=long_standing gives level 'info'. Fix: Make the emergency rules fire on the emergency "
    "answers alone, whatever else is answered."
)


def test_changing_the_approved_qualifier_fails_the_check(tmp_path):
    folder = shipped_copy(tmp_path)
    rewrite(
        folder,
        "questionnaire.yaml",
        "emergency_unless: {question: both_legs_onset, is: long_standing}",
        "emergency_unless: {question: both_legs_onset, is: unsure}",
    )
    errors = without_release_and_translation(check_rules_dir(folder))
    assert errors == [
        BYPASS_LONG_STANDING,  # the rule still lets long-standing go, which the declaration no longer covers
        "rules/questionnaire.yaml:18: question 'emergency_signs': 'emergency_signs: both_legs_pain' was approved "
        "to stop being an emergency only when both_legs_onset: long_standing, but now it says both_legs_onset: "
        f"unsure. Fix: Restore it. {APPROVE}",
    ]


def test_dropping_the_qualifier_fails_the_check(tmp_path):
    folder = shipped_copy(tmp_path)
    rewrite(
        folder,
        "questionnaire.yaml",
        "            emergency_unless: {question: both_legs_onset, is: long_standing}\n",
        "",
    )
    errors = without_release_and_translation(check_rules_dir(folder))
    assert errors == [
        BYPASS_LONG_STANDING,
        "rules/safety-lock.yaml:18: 'emergency_signs: both_legs_pain' was approved to stop being an emergency "
        f"when both_legs_onset: long_standing, but that is no longer declared. Fix: Restore it. {APPROVE}",
    ]


def test_a_declared_qualifier_the_rules_ignore_is_a_warning(tmp_path):
    folder = shipped_copy(tmp_path)
    qualify_leg_weakness(folder, in_rule=False)
    warnings = [str(p) for p in check_rules_dir(folder).warnings]
    assert (
        "rules/questionnaire.yaml:18: question 'emergency_signs': 'emergency_signs: leg_weakness' is declared to "
        "stop being an emergency when both_legs_onset: long_standing, but with that answer it is still an "
        "emergency. Fix: Make the emergency rule skip it with that answer, or remove 'emergency_unless'."
    ) in warnings


# --- rules shown only beside, or hidden beside, a higher level --------------------------------------


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            "    shown_with_level: discus\n",
            "rules/rules.yaml:{n}: rule 'scan-decided-by-specialist': unknown level 'discus'",
        ),
        (
            "    shown_with_level: info\n",
            "rules/rules.yaml:{n}: rule 'scan-decided-by-specialist': 'shown_with_level: info' must name a "
            "level above the rule's own level 'info'. Fix: Name a higher level, or remove 'shown_with_level'.",
        ),
        (
            "    shown_with_level: discuss\n    hidden_with_level: urgent\n",
            "rules/rules.yaml:{n}: rule 'scan-decided-by-specialist': it has both 'shown_with_level' and "
            "'hidden_with_level'. Fix: Keep one; write two rules to show different words.",
        ),
    ],
)
def test_level_bounds_are_checked_at_load(tmp_path, lines, message):
    folder = shipped_copy(tmp_path)
    shipped = "    shown_with_level: discuss  # only beside a topic to discuss; otherwise no-scan-yet shows\n"
    rewrite(folder, "rules.yaml", shipped, lines)
    text = (folder / "rules.yaml").read_text()
    n = text[: text.index(lines)].count("\n") + len(lines.splitlines())  # the last line written
    with pytest.raises(RuleSetError) as raised:
        load_ruleset(folder)
    found = [str(p) for p in raised.value.problems]
    assert len(found) == 1 and found[0].startswith(message.format(n=n)), found


@pytest.mark.parametrize(
    ("diff", "fires", "not_fires"),
    [
        ({"imaging": "none"}, "no-scan-yet", "scan-decided-by-specialist"),
        ({"imaging": "none", "diagnosis": ["instability"]}, "scan-decided-by-specialist", "no-scan-yet"),
        ({"imaging": "unsure", "diagnosis": ["stenosis"]}, "scan-decided-by-specialist", "no-scan-yet"),
    ],
)
def test_the_scan_card_beside_a_topic_to_discuss_says_the_specialist_decides(diff, fires, not_fires):
    fired = {f.rule.id for f in RULESET.evaluate({**DEFAULT_ANSWERS, **diff}).fired}
    assert fires in fired and not_fires not in fired
    texts = [
        f.rule.message
        for f in RULESET.evaluate({**DEFAULT_ANSWERS, **diff}).fired
        if f.rule.topic == "imaging"
    ]
    texts.append(RULESET.topics["imaging"].what)
    if fires == "scan-decided-by-specialist":
        assert not any("not need a scan" in t or "need no scan" in t for t in texts), texts


# --- children, and surgery in the last 3 months -------------------------------------------------------


def test_a_childs_outcome_offers_no_sending_and_an_adults_does():
    child = RULESET.evaluate({**DEFAULT_ANSWERS, "age_band": "under_18"})
    assert RULESET.instead_of_sending(child) == (
        "You cannot send these answers to the clinic. Show this page to a parent or caregiver. Then see a "
        "doctor together."
    )
    assert RULESET.instead_of_sending(RULESET.evaluate(DEFAULT_ANSWERS)) == ""


def test_a_case_that_expects_sending_wrongly_fails_the_check(tmp_path):
    folder = shipped_copy(tmp_path)
    rewrite(
        folder,
        "cases.yaml",
        "    not_fires: [what-miss-can-do]\n    sending: false\n",
        "    not_fires: [what-miss-can-do]\n    sending: true\n",
    )
    errors = [str(p) for p in check_rules_dir(folder).errors]
    assert [e.split(": ", 1)[1] for e in errors] == [
        "case 'under 18 shows the adults-only card alone' expected sending to the clinic to be offered: True. "
        "Fix: Fix the rule's 'instead_of_sending' or the case."
    ]


@pytest.mark.parametrize(
    ("when", "card"),
    [("under_3_months", False), ("3_to_12_months", True), ("over_1_year", True), (None, True)],
)
def test_the_persistent_pain_card_waits_3_months_after_surgery(when, card):
    answers = {**DEFAULT_ANSWERS, "prior_surgery": "never_helped"}
    if when:
        answers["surgery_when"] = when
    outcome = RULESET.evaluate(answers)
    assert ("failed-back-surgery" in outcome.topics) is card
    assert RULESET.is_urgent(outcome) is (when == "under_3_months")
