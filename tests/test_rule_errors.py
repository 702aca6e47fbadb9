"""Every broken rule file gets exact messages: where, what is wrong, and how to fix it."""

from __future__ import annotations

import pytest
from engine_fixtures import edit, write_rules

from screening.engine.checks import check_rules_dir
from screening.rules import RuleSetError, load_ruleset

BROKEN = [
    pytest.param(
        edit("rules", "question: walk, is", "question: walks, is"),
        [
            "rules/rules.yaml:34: rule 'leg-walk': unknown question 'walks'. Fix: Use a question id from questionnaire.yaml (did you mean 'walk'?).",
        ],
        id="unknown question",
    ),
    pytest.param(
        edit("rules", "{question: signs, has: numb}", "{question: signs, has: numbness}"),
        [
            "rules/rules.yaml:18: rule 'numb': question 'signs' has no option 'numbness'. Fix: Use one of: numb, fever, none.",
        ],
        id="unknown option",
    ),
    pytest.param(
        edit("rules", '{question: walk, is: "yes"}', '{question: walk, has: "yes"}'),
        [
            "rules/rules.yaml:34: rule 'leg-walk': 'has' does not fit question 'walk', which is a single question. Fix: With a single question use: is, in.",
        ],
        id="has on a single-choice question",
    ),
    pytest.param(
        edit("rules", '{question: walk, is: "yes"}', '{question: walk, at_least: "yes"}'),
        [
            "rules/rules.yaml:34: rule 'leg-walk': 'at_least' needs an ordered question, but 'walk' is not ordered. Fix: Use 'in' with the options you mean, or add 'ordered: true' to the question if its options are in order.",
        ],
        id="at_least on an unordered choice",
    ),
    pytest.param(
        edit("rules", "{question: impact, at_least: 5}", "{question: impact, at_least: high}"),
        [
            "rules/rules.yaml:36: rule 'leg-walk': 'at_least' on question 'impact' needs a whole number, found 'high'. Fix: Write a whole number after 'at_least:'.",
        ],
        id="at_least with text on a number question",
    ),
    pytest.param(
        edit("rules", "{question: impact, at_least: 5}", "{question: impact, at_least: 12}"),
        [
            "rules/rules.yaml:36: rule 'leg-walk': 'at_least: 12' is outside the range of question 'impact' (0 to 10). Fix: Use a number from 0 to 10.",
        ],
        id="number outside the question's range",
    ),
    pytest.param(
        edit("rules", "{question: signs, has: fever}", "{question: signs, contains: fever}"),
        [
            "rules/rules.yaml:25: rule 'fever': unknown operator 'contains'. Fix: Use one of: is, in, has, has_any, has_all, at_least, at_most.",
        ],
        id="unknown operator",
    ),
    pytest.param(
        edit("rules", "{question: signs, has: fever}", "{question: signs, has: fever, has_any: [numb]}"),
        [
            "rules/rules.yaml:25: rule 'fever': a condition needs exactly one of all, any, not, or 'question' with one operator; found question with 2 operators. Fix: Write for example {question: duration, in: [3_to_6_months]} or {all: [...]}.",
        ],
        id="two operators in one leaf",
    ),
    pytest.param(
        edit("rules", "  - id: fever\n", "  - id: numb\n"),
        [
            "rules/rules.yaml:22: rule 'numb': this rule id is used twice (first on line 15). Fix: Give every rule its own id.",
        ],
        id="duplicate rule id",
    ),
    pytest.param(
        edit("questionnaire", "      - id: walk\n", "      - id: where\n"),
        [
            "rules/questionnaire.yaml:28: question 'where': this question id is used twice (first on line 23). Fix: Give every question its own id.",
            "rules/rules.yaml:34: rule 'leg-walk': unknown question 'walk'. Fix: Use a question id from questionnaire.yaml.",
        ],
        id="duplicate question id",
    ),
    pytest.param(
        edit("rules", "    sources: [a]\n  - id: basics", "    sources: [a, c]\n  - id: basics"),
        [
            "rules/rules.yaml:39: rule 'leg-walk': source 'c' is cited but not declared. Fix: Declare it under 'sources:' in rules.yaml, or fix its spelling.",
        ],
        id="undeclared source",
    ),
    pytest.param(
        edit(
            "rules",
            '  b: {title: Guide B, kind: guideline, publisher: A society, year: 2020, url: "https://example.org/b"}\n',
            '  b: {title: Guide B, kind: guideline, publisher: A society, year: 2020, url: "https://example.org/b"}\n'
            "  c: {title: Article C, kind: article}\n",
        ),
        [
            "rules/rules.yaml: source 'c': it is declared, but no rule or card cites it. Fix: Cite it, or remove it.",
        ],
        id="unused source",
    ),
    pytest.param(
        edit("rules", ', year: 2020, url: "https://example.org/b"}', "}"),
        [
            "rules/rules.yaml:9: source 'b': a guideline source needs year, url. Fix: Add the publisher, the year and an https:// link, so patients can read what the card cites.",
        ],
        id="guideline without a link",
    ),
    pytest.param(
        edit("rules", "    message: Numb legs need care now.\n", ""),
        [
            "rules/rules.yaml:15: rule 'numb': 'message' is missing. Fix: Add 'message:' here.",
        ],
        id="missing message",
    ),
    pytest.param(
        edit("rules", "    message: Numb legs need care now.\n", "    mesage: Numb legs need care now.\n"),
        [
            "rules/rules.yaml:15: rule 'numb': 'message' is missing. Fix: Add 'message:' here.",
            "rules/rules.yaml:20: rule 'numb': 'mesage' is not a known setting here (did you mean 'message'?). Fix: Remove it, or fix its spelling.",
        ],
        id="unknown key (typo)",
    ),
    pytest.param(
        edit("rules", "    level: urgent\n", "    level: soon\n"),
        [
            "rules/rules.yaml:23: rule 'fever': unknown level 'soon'. Fix: Use one of the levels in rules.yaml: emergency, urgent, discuss, info.",
        ],
        id="unknown level",
    ),
    pytest.param(
        edit("rules", "    topic: legs\n", "    topic: leg\n"),
        [
            "rules/rules.yaml:31: rule 'leg-walk': unknown topic 'leg' (did you mean 'legs'?). Fix: Add a card for it under 'topics:' in rules.yaml, or use an existing topic.",
        ],
        id="unknown topic",
    ),
    pytest.param(
        edit(
            "questionnaire",
            "options: [{id: back, label: Back}, {id: leg, label: Leg}]",
            "options: [{id: back, label: Back}, {id: leg, label: Leg, exclusive: true}]",
        ),
        [
            "rules/questionnaire.yaml:27: question 'where': option 'leg' is exclusive, but only multi questions can have one. Fix: Remove 'exclusive: true', or make the question 'type: multi'.",
        ],
        id="exclusive option on a single question",
    ),
    pytest.param(
        edit("cases", "answers: {}, level: info", "answers: {signs: [none, fever]}, level: info"),
        [
            "rules/cases.yaml:3: case 'plain': question 'signs': 'none' cannot be combined with other options. Fix: Fix the case's answers.",
        ],
        id="exclusive misuse in a case",
    ),
    pytest.param(
        edit("cases", "fires: [leg-walk]", "fires: [leg-walks]"),
        [
            "rules/cases.yaml:4: case 'legs' names unknown rule 'leg-walks' (did you mean 'leg-walk'?). Fix: Use a rule id from rules.yaml.",
        ],
        id="case names an unknown rule",
    ),
    pytest.param(
        edit("cases", "{name: plain, answers: {}, level: info", "{name: plain, answers: {}, level: discuss"),
        [
            "rules/cases.yaml:3: case 'plain' expected level discuss, got info. Fix: Fix the rule or the case.",
        ],
        id="case expects the wrong level",
    ),
    pytest.param(
        edit("rules", "    title: Leg pain when you walk\n", "    title: [Leg pain when you walk\n"),
        [
            "rules/rules.yaml:38: this is not valid YAML: expected ',' or ']', but got ':'. Fix: Check the indentation and quotes on this line.",
        ],
        id="YAML syntax error",
    ),
    pytest.param(
        edit(
            "questionnaire",
            "show_when: {question: where, is: leg}",
            "show_when: {question: how_long, is: long}",
        ),
        [
            "rules/questionnaire.yaml:32: question 'walk': question 'walk' is shown depending on 'how_long', which is not asked before it. Fix: Only refer to questions that come earlier in the questionnaire.",
        ],
        id="show_when on a later question",
    ),
    pytest.param(
        edit(
            "rules",
            '        - {question: walk, is: "yes"}\n',
            '        - {question: walk, is: "yes"}\n        - {question: where, is: back}\n',
        ),
        [
            "rules/rules.yaml:29: rule 'leg-walk': it can never fire: no valid answers make its condition true. Fix: Check the condition for options that contradict each other or questions hidden by it.",
        ],
        id="rule that can never fire",
    ),
    pytest.param(
        edit(
            "rules",
            "    when: {question: signs, has: fever}\n",
            "    when: {any: [{question: where, is: back}, {question: where, is: leg}]}\n",
        ),
        [
            "rules/rules.yaml:22: rule 'fever': it fires for every valid set of answers. Fix: Tighten its condition, or mark it 'always: true' and drop 'when' if that is the intent.",
        ],
        id="rule that always fires",
    ),
    pytest.param(
        edit("rules", "    always: true\n", ""),
        [
            "rules/rules.yaml:40: rule 'basics': it has no 'when' and is not marked 'always: true'. Fix: Add a 'when:' condition, or 'always: true' if it should show for everyone.",
        ],
        id="rule with neither when nor always",
    ),
    pytest.param(
        edit(
            "rules",
            "message: Most back pain gets better in time.",
            "message: Musculoskeletal discomfort characteristically demonstrates considerable spontaneous amelioration.",
        ),
        [
            'rules/rules.yaml:45: reading grade 37.7 is above 8: "Musculoskeletal discomfort characteristically demonstrates considerable spontaneous amelioration.". Fix: Use shorter sentences and shorter words.',
        ],
        id="text above grade 8",
    ),
    pytest.param(
        edit("questionnaire", "label: Numb legs", "label: Musculoskeletal pain"),
        [
            "rules/questionnaire.yaml:17: the label \"Musculoskeletal pain\" uses 'Musculoskeletal', a word of more than 3 syllables. Fix: Use a shorter word, or list it under readability_exempt_words if it is a medical name explained elsewhere.",
        ],
        id="long word in a short label",
    ),
    pytest.param(
        edit("questionnaire", "Choose a number from {min} to {max}.", "Choose a number up to {maximum}."),
        [
            "rules/questionnaire.yaml:6: message 'number_required': it uses {maximum}, which is not filled in. Fix: Use only {max}, {min}.",
        ],
        id="message uses an unknown field",
    ),
    pytest.param(
        edit(
            "questionnaire",
            "      - id: impact\n",
            "      - id: mood\n        type: single\n        label: How do you feel?\n        options: [{id: good, label: Good}, {id: low, label: Low}]\n      - id: impact\n",
        ),
        [
            "rules/questionnaire.yaml: question 'mood': it is asked, but no rule or question reads it. Fix: Use it in a rule, or add 'collected_for_reviewers: true' to say it is asked for the reviewers.",
        ],
        id="unused question",
    ),
]


@pytest.mark.parametrize(("change", "expected"), BROKEN)
def test_each_broken_file_gets_exact_messages(tmp_path, change, expected):
    report = check_rules_dir(write_rules(tmp_path, **change))
    assert [str(problem) for problem in report.errors] == expected
    assert not report.ok


def test_the_tiny_rule_set_is_sound(tmp_path):
    report = check_rules_dir(write_rules(tmp_path))
    assert report.errors == []
    assert report.cases == 4


def test_every_problem_in_a_file_is_reported_at_once(tmp_path):
    change = edit("rules", "    level: urgent\n", "    level: soon\n")
    text = change["rules"].replace("{question: signs, has: numb}", "{question: sings, has: numb}")
    text = text.replace("    topic: legs\n", "    topic: leg\n")
    with pytest.raises(RuleSetError) as caught:
        load_ruleset(write_rules(tmp_path, rules=text))
    codes = [problem.code for problem in caught.value.problems]
    assert codes == ["unknown_question", "unknown_level", "unknown_topic"]


def test_a_missing_file_is_named(tmp_path):
    rules = write_rules(tmp_path)
    (rules / "rules.yaml").unlink()
    with pytest.raises(RuleSetError) as caught:
        load_ruleset(rules)
    assert [str(p) for p in caught.value.problems] == [
        "rules/rules.yaml: the file is missing. Fix: Create rules/rules.yaml; see the README for its format."
    ]
