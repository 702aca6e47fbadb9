"""Keep the emergency stop from being edited away by accident.

`screening rules check` runs these checks after the cases:

- every answer marked `emergency: true` in questionnaire.yaml, chosen alone, reaches the emergency
  level;
- no combination of other answers turns an emergency answer into something less (searched over the
  answers the emergency rules read, as the firing check does for every rule), except the one answer
  that the questionnaire declares may qualify it (`emergency_unless`): with that answer, and only
  that, the emergency answer stops being an emergency;
- the emergency answers, their qualifiers, the emergency rules and the protected cases are as a
  clinical lead last approved them: the lock file records the emergency answers, which of them may
  be qualified and by what, each emergency rule's sources and a fingerprint of each protected case.
  Changing them on purpose means running `screening rules protect --approved-by NAME`, which
  rewrites the lock file.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import yaml

from . import roles, schemas, yamlfile
from .cases import case_answers
from .errors import Collector, Problem
from .loading import display_name, read_checked
from .rules import RuleSet

LOCK_FILE = "safety-lock.yaml"
SEARCH_LIMIT = 200_000
FIX_APPROVED = "If a clinical lead approved this change, run `screening rules protect --approved-by NAME`"


def check(rules_dir: Path, ruleset: RuleSet, errors: list[Problem], warnings: list[Problem]) -> None:
    """Report every way the emergency stop has been weakened."""
    rules_file = Collector(display_name(rules_dir, "rules.yaml"), errors)
    questions_file = Collector(display_name(rules_dir, "questionnaire.yaml"), errors)
    answers = []
    for question, option in ruleset.questionnaire.emergency_answers:
        answer = _alone(question, option)
        outcome = ruleset.evaluate(answer)
        if ruleset.is_emergency(outcome):
            answers.append(answer)  # then no other answers may take the emergency away
        else:
            questions_file.add(
                "emergency_option_lost",
                question.line,
                f"question '{question.id}'",
                option=option.id,
                got=outcome.level,
                emergency=ruleset.emergency_level.id,
            )
    _check_qualifiers_take_effect(ruleset, Collector(questions_file.file, warnings))
    cases = read_checked(rules_dir, "cases.yaml", schemas.CASES, [])
    protected = [case for case in (cases or {}).get("cases", []) if case.get("protected")]
    if cases is not None:
        defaults = cases.get("defaults", {})
        answers += [
            _step_answers(ruleset, case_answers(defaults, case))
            for case in protected
            if ruleset.is_emergency(ruleset.evaluate(case_answers(defaults, case)))
        ]
    answers = list({json.dumps(a, sort_keys=True): a for a in answers}.values())  # each searched once
    _check_bypass(ruleset, answers, rules_file, Collector(rules_file.file, warnings))
    _check_lock(rules_dir, ruleset, protected, errors)


def _step_answers(ruleset: RuleSet, answers: Mapping) -> dict:
    """Return only the answers on the emergency question's step: what the emergency stop sees."""
    step = ruleset.questionnaire.emergency_step.id
    return {k: v for k, v in answers.items() if ruleset.questionnaire.questions[k].step == step}


def qualifier_text(option) -> str:
    """Return how a qualified emergency answer is written in the lock file: 'question: answer'."""
    return f"{option.unless[0]}: {option.unless[1]}"


def _check_qualifiers_take_effect(ruleset: RuleSet, warnings: Collector) -> None:
    """A declared qualifier that the emergency rules ignore says something the rule set does not do."""
    for question, option in roles.qualified(ruleset.questionnaire):  # loading checked where each points
        qualified = {**_alone(question, option), option.unless[0]: option.unless[1]}
        if ruleset.is_emergency(ruleset.evaluate(qualified)):
            warnings.add(
                "qualifier_without_effect",
                question.line,
                f"question '{question.id}'",
                answer=f"{question.id}: {option.id}",
                qualifier=qualifier_text(option),
            )


def _alone(question, option) -> dict:
    """Return the answers in which this option is chosen and nothing else is answered."""
    return {question.id: [option.id] if question.type == "multi" else option.id}


def _standing(ruleset: RuleSet, answers: Mapping) -> bool:
    """Return whether the answers hold an emergency answer that no declared qualifier takes away."""
    for question, option in ruleset.questionnaire.emergency_answers:
        given = answers.get(question.id)
        chosen = option.id in given if isinstance(given, list) else given == option.id
        if chosen and not (option.unless and answers.get(option.unless[0]) == option.unless[1]):
            return True
    return False


# --- no answer combination bypasses the stop --------------------------------------------------------


def _check_bypass(ruleset: RuleSet, answers: list[dict], errors: Collector, warnings: Collector) -> None:
    read = set()
    for rule in ruleset.rules:
        if rule.when is not None and _is_emergency(ruleset, rule):
            read |= rule.when.questions()
    questions = ruleset.questionnaire.questions
    for qid in list(read):
        if questions[qid].show_when is not None:
            read |= questions[qid].show_when.questions()
    ordered = [qid for qid in questions if qid in read]
    domains = [_domain(questions[qid]) for qid in ordered]
    size = 1
    for domain in domains:
        size *= len(domain)
    if size * max(len(answers), 1) > SEARCH_LIMIT:
        warnings.add("search_too_large", None, "the emergency stop", count=size * len(answers))
        return
    for answer in answers:
        for combo in itertools.product(*domains):
            others = {qid: value for qid, value in zip(ordered, combo, strict=True) if value is not None}
            merged = _merge(questions, others, answer)
            outcome = ruleset.evaluate(merged)
            if not ruleset.is_emergency(outcome) and _standing(ruleset, ruleset.questionnaire.clean(merged)):
                errors.add(
                    "emergency_bypass",
                    None,
                    "the emergency stop",
                    answer=_show(answer),
                    other=_show({k: v for k, v in merged.items() if k not in answer or v != answer[k]}),
                    got=outcome.level,
                )
                return


def _domain(question) -> list:
    """Every answer a question can have, unanswered (None) included; choose-all as valid subsets."""
    if question.type == "number":
        return [None, question.min, (question.min + question.max) // 2, question.max]
    if question.type == "single":
        return [None, *(option.id for option in question.options)]
    plain = [option.id for option in question.options if not option.exclusive]
    sizes = range(1, len(plain) + 1) if len(plain) <= 10 else (1, 2, 3, len(plain))
    subsets = [list(c) for n in sizes for c in itertools.combinations(plain, n)]
    return [None, *subsets, *([option.id] for option in question.options if option.exclusive)]


def _merge(questions: Mapping, others: Mapping, answer: Mapping) -> dict:
    """Lay the emergency answer over the others (choose-all answers combined when both are valid)."""
    merged = dict(others)
    for qid, value in answer.items():
        exclusive = {o.id for o in questions[qid].options if o.exclusive}
        mine, theirs = set(value) if isinstance(value, list) else None, merged.get(qid)
        if mine is not None and isinstance(theirs, list) and not exclusive & (mine | set(theirs)):
            merged[qid] = sorted(mine | set(theirs))
        else:
            merged[qid] = value
    return merged


def _show(answers: Mapping) -> str:
    return ", ".join(f"{k}={v}" for k, v in answers.items()) or "no other answers"


# --- the lock file: emergency rules' sources and the protected cases, as approved --------------------


def fingerprint(case: Mapping) -> str:
    """Return a short hash of what a case says, whatever its YAML layout."""
    plain = {k: v for k, v in yamlfile.plain(case).items() if k != "protected"}
    return hashlib.sha256(json.dumps(plain, sort_keys=True).encode()).hexdigest()[:16]


def lock_data(ruleset: RuleSet, cases: list, approved_by: str, today: date) -> dict:
    """Return what the lock file records for the rule set as it is now."""
    return {
        "approved_by": approved_by,
        "approved_on": today.isoformat(),
        "emergency_answers": [f"{q.id}: {o.id}" for q, o in ruleset.questionnaire.emergency_answers],
        "emergency_qualifiers": {
            f"{q.id}: {o.id}": qualifier_text(o) for q, o in roles.qualified(ruleset.questionnaire)
        },
        "emergency_rules": {r.id: list(r.sources) for r in ruleset.rules if _is_emergency(ruleset, r)},
        "protected_cases": {case["name"]: fingerprint(case) for case in cases if case.get("protected")},
    }


def write_lock(rules_dir: Path, ruleset: RuleSet, approved_by: str, today: date) -> dict:
    """Record the emergency rules and protected cases as approved; return what was written."""
    cases = read_checked(rules_dir, "cases.yaml", schemas.CASES, [])
    data = lock_data(ruleset, (cases or {}).get("cases", []), approved_by, today)
    header = (
        "# The safety content a clinical lead approved: the emergency answers, the one answer (if any)\n"
        "# that may qualify each, each emergency rule with the sources it must keep citing, and a\n"
        "# fingerprint of each protected case in cases.yaml.\n"
        "# `screening rules check` fails when they change. Written by `screening rules protect\n"
        "# --approved-by NAME`; do not edit by hand.\n"
    )
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    (Path(rules_dir) / LOCK_FILE).write_text(header + text, encoding="utf-8")
    return data


def _check_lock(rules_dir: Path, ruleset: RuleSet, protected: list, errors: list[Problem]) -> None:
    lock_file = Collector(display_name(rules_dir, LOCK_FILE), errors)
    lock = yamlfile.load(Path(rules_dir) / LOCK_FILE, lock_file)
    if lock is None:
        return
    rules_file = Collector(display_name(rules_dir, "rules.yaml"), errors)
    cases_file = Collector(display_name(rules_dir, "cases.yaml"), errors)
    marked = {f"{q.id}: {o.id}" for q, o in ruleset.questionnaire.emergency_answers}
    approved = lock.get("emergency_answers") or []
    for index, answer in enumerate(approved):
        if answer not in marked:
            lock_file.add("emergency_answer_lost", approved.line_of(index), "", answer=answer)
    _check_locked_qualifiers(
        ruleset, lock, lock_file, Collector(display_name(rules_dir, "questionnaire.yaml"), errors)
    )
    rules = {rule.id: rule for rule in ruleset.rules}
    for rid, sources in (lock.get("emergency_rules") or {}).items():
        rule = rules.get(rid)
        if rule is None or not _is_emergency(ruleset, rule):
            line = lock["emergency_rules"].line_of(rid)
            lock_file.add("emergency_rule_lost", line, f"rule '{rid}'", rule=rid)
            continue
        for source in sources:
            if source not in rule.sources:
                rules_file.add("emergency_source_lost", rule.line, f"rule '{rid}'", rule=rid, source=source)
    recorded = dict(lock.get("protected_cases") or {})
    for case in protected:
        name = case["name"]
        if name not in recorded:
            cases_file.add("protected_case_unrecorded", case.line, "", case=name)
        elif recorded.pop(name) != fingerprint(case):
            cases_file.add("protected_case_changed", case.line, "", case=name)
    for name in recorded:
        cases_file.add("protected_case_missing", None, "", case=name)


def _check_locked_qualifiers(ruleset: RuleSet, lock, lock_file: Collector, questions_file: Collector) -> None:
    """Any qualifier added, changed or dropped since the lock was written needs a clinical lead."""
    approved = dict(lock.get("emergency_qualifiers") or {})
    for question, option in roles.qualified(ruleset.questionnaire):
        answer, qualifier = f"{question.id}: {option.id}", qualifier_text(option)
        subject = f"question '{question.id}'"
        if answer not in approved:
            questions_file.add(
                "qualifier_unapproved", question.line, subject, answer=answer, qualifier=qualifier
            )
        elif (was := approved.pop(answer)) != qualifier:
            questions_file.add(
                "qualifier_changed", question.line, subject, answer=answer, approved=was, qualifier=qualifier
            )
    for answer, was in approved.items():
        lock_file.add(
            "qualifier_lost", lock["emergency_qualifiers"].line_of(answer), "", answer=answer, approved=was
        )


def _is_emergency(ruleset: RuleSet, rule) -> bool:
    return ruleset.level(rule.level).role == "emergency"
