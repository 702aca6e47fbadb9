"""Name every problem a rule file can have, in one catalogue, with where it is and how to fix it."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

# code -> (what is wrong, how to fix it); both are str.format templates over the problem's params.
CATALOGUE: dict[str, tuple[str, str]] = {
    "file_missing": ("the file is missing", "Create {file}; see the README for its format."),
    "yaml_syntax": ("this is not valid YAML: {detail}", "Check the indentation and quotes on this line."),
    "duplicate_key": ("the key '{key}' appears twice here", "Keep one of them."),
    "schema_required": ("'{key}' is missing", "Add '{key}:' here."),
    "schema_unknown_key": ("'{key}' is not a known setting here{suggest}", "Remove it, or fix its spelling."),
    "schema_type": ("'{key}' should be {expected}, found {found}", "Write {expected} here."),
    "schema_other": ("'{key}': {detail}", "See the README for this file's format."),
    "duplicate_id": (
        "this {kind} id is used twice (first on line {first})",
        "Give every {kind} its own id.",
    ),
    "unknown_question": (
        "unknown question '{question}'",
        "Use a question id from questionnaire.yaml{suggest}.",
    ),
    "unknown_option": (
        "question '{question}' has no option '{option}'",
        "Use one of: {options}{suggest}.",
    ),
    "operator_needs_type": (
        "'{op}' does not fit question '{question}', which is a {qtype} question",
        "With a {qtype} question use: {allowed}.",
    ),
    "operator_unordered": (
        "'{op}' needs an ordered question, but '{question}' is not ordered",
        "Use 'in' with the options you mean, or add 'ordered: true' to the question if its options are "
        "in order.",
    ),
    "operator_value": (
        "'{op}' on question '{question}' needs {expected}, found {found}",
        "Write {expected} after '{op}:'.",
    ),
    "number_out_of_range": (
        "'{op}: {value}' is outside the range of question '{question}' ({low} to {high})",
        "Use a number from {low} to {high}.",
    ),
    "condition_shape": (
        "a condition needs exactly one of all, any, not, or 'question' with one operator; found {found}",
        "Write for example {{question: duration, in: [3_to_6_months]}} or {{all: [...]}}.",
    ),
    "unknown_operator": (
        "unknown operator '{op}'{suggest}",
        "Use one of: is, in, has, has_any, has_all, at_least, at_most.",
    ),
    "empty_combinator": ("'{op}' has an empty list", "Give '{op}' at least one condition."),
    "show_when_order": (
        "question '{question}' is shown depending on '{other}', which is not asked before it",
        "Only refer to questions that come earlier in the questionnaire.",
    ),
    "options_for_number": (
        "question '{question}' is a number question and cannot have options",
        "Remove 'options', or change its type to single or multi.",
    ),
    "options_missing": ("question '{question}' has no options", "Add at least two options."),
    "range_missing": (
        "number question '{question}' needs 'min' and 'max' with min below max",
        "Add for example 'min: 0' and 'max: 10'.",
    ),
    "exclusive_not_multi": (
        "option '{option}' is exclusive, but only multi questions can have one",
        "Remove 'exclusive: true', or make the question 'type: multi'.",
    ),
    "ordered_not_single": (
        "question '{question}' is marked ordered, but only single questions can be",
        "Remove 'ordered: true'.",
    ),
    "message_unknown_field": (
        "it uses {{{field}}}, which is not filled in",
        "Use only {allowed}.",
    ),
    "unknown_level": ("unknown level '{level}'", "Use one of the levels in rules.yaml: {levels}."),
    "unknown_topic": (
        "unknown topic '{topic}'{suggest}",
        "Add a card for it under 'topics:' in rules.yaml, or use an existing topic.",
    ),
    "undeclared_source": (
        "source '{source}' is cited but not declared{suggest}",
        "Declare it under 'sources:' in rules.yaml, or fix its spelling.",
    ),
    "guideline_incomplete": (
        "a guideline source needs {missing}",
        "Add the publisher, the year and an https:// link, so patients can read what the card cites.",
    ),
    "unused_source": ("it is declared, but no rule or card cites it", "Cite it, or remove it."),
    "unused_topic": (
        "no rule shows this card",
        "Add a rule for it, or remove the card.",
    ),
    "unused_question": (
        "it is asked, but no rule or question reads it",
        "Use it in a rule, or add 'collected_for_reviewers: true' to say it is asked for the reviewers.",
    ),
    "always_without_when": (
        "it has no 'when' and is not marked 'always: true'",
        "Add a 'when:' condition, or 'always: true' if it should show for everyone.",
    ),
    "always_with_when": (
        "it is marked 'always: true' but also has a 'when'",
        "Remove one of them.",
    ),
    "never_fires": (
        "it can never fire: no valid answers make its condition true",
        "Check the condition for options that contradict each other or questions hidden by it.",
    ),
    "always_fires": (
        "it fires for every valid set of answers",
        "Tighten its condition, or mark it 'always: true' and drop 'when' if that is the intent.",
    ),
    "search_too_large": (
        "it reads too many answers to check every combination ({count})",
        "Split it into smaller rules.",
    ),
    "grade_too_high": (
        'reading grade {grade:.1f} is above {limit}: "{text}"',
        "Use shorter sentences and shorter words.",
    ),
    "label_word_too_long": (
        "the label \"{text}\" uses '{word}', a word of more than {limit} syllables",
        "Use a shorter word, or list it under readability_exempt_words if it is a medical name explained "
        "elsewhere.",
    ),
    "grade_mean_too_high": (
        "the mean reading grade of all {count} patient sentences is {grade:.2f}, above {limit}",
        "Simplify the texts listed with the highest grades.",
    ),
    "role_missing": (
        "no {kind} has 'role: {role}' (the {kind} that {meaning})",
        "Add 'role: {role}' to the {kind} that {meaning}.",
    ),
    "role_doubled": (
        "'role: {role}' is on {kind} '{first}' and again on {kind} '{second}'",
        "Keep 'role: {role}' on one {kind} only.",
    ),
    "role_order": (
        "it has 'role: {role}', but {detail}",
        "List the levels highest first: the emergency level, then the urgent level, then the others.",
    ),
    "role_rule_topic": (
        "it is at the {role} level '{level}', but its topic '{topic}' is not the safety topic '{safety}'",
        "Give rules at the {role} level the topic '{safety}'; show another card with a rule of its own.",
    ),
    "alone_at_role_level": (
        "it is marked 'alone: true' but is at the {role} level '{level}'",
        "Only rules below the urgent level can be alone; remove 'alone: true' or change the level.",
    ),
    "hide_safety_topic": (
        "the safety topic cannot be hidden when an urgent rule fires",
        "Remove 'hide_when_urgent: true' from it.",
    ),
    "emergency_options_missing": (
        "no option is marked 'emergency: true'",
        "Mark each answer on the first step that sends the patient to emergency care 'emergency: true'.",
    ),
    "emergency_option_misplaced": (
        "option '{option}' is marked 'emergency: true', but it is exclusive or on step '{step}'",
        "Only answers on the first step ('{first}'), other than 'none of these', can be emergency answers.",
    ),
    "qualifier_not_emergency": (
        "option '{option}' has 'emergency_unless', but it is not marked 'emergency: true'",
        "Only an emergency answer can be qualified: remove 'emergency_unless', or mark the option.",
    ),
    "qualifier_unknown": (
        "option '{option}' is qualified by question '{question}', which does not exist",
        "Name a question of the same step in 'emergency_unless'.",
    ),
    "qualifier_misplaced": (
        "option '{option}' is qualified by question '{question}', which is not a one-choice question on "
        "step '{step}'",
        "Qualify an emergency answer only with a one-choice question on its own step.",
    ),
    "qualifier_unknown_answer": (
        "question '{question}' has no option '{answer}' to qualify an emergency answer with",
        "Use one of: {options}.",
    ),
    "step_show_when_order": (
        "step '{step}' is shown depending on '{other}', which is not asked on an earlier step",
        "Only refer to questions on earlier steps.",
    ),
    "emergency_option_lost": (
        "option '{option}' is marked 'emergency: true', but chosen alone it gives level '{got}', not the "
        "emergency level '{emergency}'",
        "Make an emergency rule fire for it.",
    ),
    "emergency_answer_lost": (
        "'{answer}' was approved as an emergency answer, but it is gone or no longer marked "
        "'emergency: true'",
        "Restore it. If a clinical lead approved this change, run `screening rules protect --approved-by "
        "NAME`.",
    ),
    "emergency_bypass": (
        "it can be bypassed: {answer} with {other} gives level '{got}'",
        "Make the emergency rules fire on the emergency answers alone, whatever else is answered.",
    ),
    "qualifier_unapproved": (
        "'{answer}' stops being an emergency when {qualifier}, but no clinical lead has approved that",
        "Remove 'emergency_unless'. If a clinical lead approved it, run `screening rules protect "
        "--approved-by NAME`.",
    ),
    "qualifier_changed": (
        "'{answer}' was approved to stop being an emergency only when {approved}, but now it says "
        "{qualifier}",
        "Restore it. If a clinical lead approved this change, run `screening rules protect --approved-by "
        "NAME`.",
    ),
    "qualifier_lost": (
        "'{answer}' was approved to stop being an emergency when {approved}, but that is no longer declared",
        "Restore it. If a clinical lead approved this change, run `screening rules protect --approved-by "
        "NAME`.",
    ),
    "qualifier_without_effect": (
        "'{answer}' is declared to stop being an emergency when {qualifier}, but with that answer it is "
        "still an emergency",
        "Make the emergency rule skip it with that answer, or remove 'emergency_unless'.",
    ),
    "level_bound_order": (
        "'{key}: {bound}' must name a level above the rule's own level '{level}'",
        "Name a higher level, or remove '{key}'.",
    ),
    "level_bound_both": (
        "it has both 'shown_with_level' and 'hidden_with_level'",
        "Keep one; write two rules to show different words.",
    ),
    "emergency_rule_lost": (
        "emergency rule '{rule}' was approved, but it is gone or no longer at the emergency level",
        "Restore it. If a clinical lead approved this change, run `screening rules protect --approved-by "
        "NAME`.",
    ),
    "emergency_source_lost": (
        "emergency rule '{rule}' no longer cites '{source}', which it cited when it was approved",
        "Cite it again. If a clinical lead approved this change, run `screening rules protect "
        "--approved-by NAME`.",
    ),
    "protected_case_changed": (
        "protected case '{case}' was changed since a clinical lead approved it",
        "Undo the change. If a clinical lead approved it, run `screening rules protect --approved-by NAME`.",
    ),
    "protected_case_missing": (
        "protected case '{case}' was deleted",
        "Restore it. If a clinical lead approved this change, run `screening rules protect --approved-by "
        "NAME`.",
    ),
    "protected_case_unrecorded": (
        "case '{case}' is marked protected, but no clinical lead has approved it yet",
        "Run `screening rules protect --approved-by NAME` once a clinical lead has approved it.",
    ),
    "version_reused": (
        "version {version} was released with other content; raise `version`, then run `screening rules "
        "release`",
        "Or put back the files of that release: every submission made under it keeps its version and hash.",
    ),
    "translation_missing": (
        "'{key}' has no {language} in {file}",
        "Add it to {file}; `screening rules translate` prints what is missing, with the hash to record.",
    ),
    "translation_stale": (
        "'{key}': the English changed since this was translated; it now reads \"{english}\"",
        "Check the translation against the new English, then set its source_hash to {hash}.",
    ),
    "translation_fields": (
        "'{key}' fills in {found}, but the English fills in {english}",
        "Keep each {{name}} of the English, spelled as it is there; only the words around it change.",
    ),
    "translation_unknown": (
        "'{key}' matches no text in the rule files{suggest}",
        "Remove it, or fix the key.",
    ),
    "ease_too_low": (
        'reading ease {ease:.0f} is below {limit}: "{text}"',
        "Use shorter words and sentences (Fernández Huerta).",
    ),
    "ease_page_too_low": (
        "the Spanish of {page} has a reading ease of {ease:.0f}, below {limit}",
        "Use shorter words and sentences on this page (Fernández Huerta).",
    ),
    "case_invalid_answers": ("case '{case}': {detail}", "Fix the case's answers."),
    "case_unknown_rule": (
        "case '{case}' names unknown rule '{rule}'{suggest}",
        "Use a rule id from rules.yaml.",
    ),
    "case_level": ("case '{case}' expected level {expected}, got {got}", "Fix the rule or the case."),
    "case_topics": ("case '{case}' expected topics {expected}, got {got}", "Fix the rules or the case."),
    "case_fires": (
        "case '{case}' expected rule '{rule}' to fire, but it did not",
        "Fix the rule or the case.",
    ),
    "case_sending": (
        "case '{case}' expected sending to the clinic to be offered: {expected}",
        "Fix the rule's 'instead_of_sending' or the case.",
    ),
    "case_not_fires": (
        "case '{case}' expected rule '{rule}' not to fire, but it did",
        "Fix the rule or the case.",
    ),
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the rule files: where, what, and how to fix it."""

    code: str
    file: str
    line: int | None
    subject: str
    params: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def message(self) -> str:
        return CATALOGUE[self.code][0].format(**self.params)

    @property
    def fix(self) -> str:
        return CATALOGUE[self.code][1].format(**self.params)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        subject = f" {self.subject}:" if self.subject else ""
        return f"{where}:{subject} {self.message}. Fix: {self.fix}"


def suggest(name: object, choices) -> str:
    """Return ' (did you mean 'x'?)' for the closest choice, or ''."""
    if not isinstance(name, str):
        return ""
    close = difflib.get_close_matches(name, [str(c) for c in choices], n=1, cutoff=0.7)
    return f" (did you mean '{close[0]}'?)" if close else ""


class Collector:
    """Gather problems for one file, so that loading reports every problem at once."""

    def __init__(self, file: str, problems: list[Problem]):
        self.file = file
        self.problems = problems

    def add(self, code: str, line: int | None, subject: str = "", **params) -> None:
        if code not in CATALOGUE:
            raise KeyError(f"unknown problem code {code!r}")
        self.problems.append(Problem(code, self.file, line, subject, params))
