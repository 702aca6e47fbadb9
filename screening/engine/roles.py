"""Check the safety roles that rule files declare: which level is an emergency, which is urgent,
which topic holds the safety notices, and which answers are emergency signs.

The app's safety rests on these roles, never on ids or list positions, so loading refuses a rule set
where one is missing, given twice, or contradicted by the order of the levels.
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import Collector

LEVEL_MEANINGS = {
    "emergency": "stops the questionnaire and sends the patient to emergency care",
    "urgent": "tells the patient to see a doctor soon",
}
SAFETY_MEANING = "holds the safety notices"


def check(data: Mapping, levels, topics: Mapping, rules, collector: Collector) -> None:
    """Report missing, doubled or misplaced roles on levels and topics, and rules that contradict them."""
    levels_found = [(lv["id"], lv.get("role"), _role_line(lv)) for lv in data["levels"]]
    holders = _holders(levels_found, "level", LEVEL_MEANINGS, collector)
    _check_order([lv["id"] for lv in data["levels"]], holders, collector)
    safety = _holders(
        [(tid, t.get("role"), _role_line(t)) for tid, t in data["topics"].items()],
        "topic",
        {"safety": SAFETY_MEANING},
        collector,
    ).get("safety")
    safety_id = safety[0] if safety else None
    role_of = {level.id: level.role for level in levels}
    for rule in rules:
        role = role_of.get(rule.level, "")
        if role and safety_id and rule.topic != safety_id:
            collector.add(
                "role_rule_topic",
                rule.line,
                f"rule '{rule.id}'",
                role=role,
                level=rule.level,
                topic=rule.topic,
                safety=safety_id,
            )
        if role and rule.alone:
            collector.add("alone_at_role_level", rule.line, f"rule '{rule.id}'", role=role, level=rule.level)
    for tid, topic in data["topics"].items():
        if topic.get("hide_when_urgent") and topic.get("role") == "safety":
            collector.add("hide_safety_topic", topic.line_of("hide_when_urgent"), f"topic '{tid}'")


def check_questions(questionnaire, collector: Collector) -> None:
    """Require emergency options (`emergency: true`), all on the first step, none of them exclusive."""
    marked = questionnaire.emergency_answers
    if not marked:
        collector.add("emergency_options_missing", None, "")
        return
    first_step = questionnaire.steps[0].id
    for question, option in marked:
        if question.step != first_step or option.exclusive or question.type == "number":
            collector.add(
                "emergency_option_misplaced",
                question.line,
                f"question '{question.id}'",
                option=option.id,
                step=question.step,
                first=first_step,
            )
    for question, option in qualified(questionnaire):
        _check_qualifier(questionnaire, question, option, collector)


def qualified(questionnaire) -> list:
    """Return (question, option) for each emergency answer that another answer may qualify."""
    return [(q, o) for q in questionnaire.questions.values() for o in q.options if o.unless]


def _check_qualifier(questionnaire, question, option, collector: Collector) -> None:
    """An emergency answer may be qualified only by one answer of a one-choice question on its step."""
    subject = f"question '{question.id}'"
    qid, answer = option.unless
    other = questionnaire.questions.get(qid)
    if not option.emergency:
        collector.add("qualifier_not_emergency", question.line, subject, option=option.id)
    elif other is None:
        collector.add("qualifier_unknown", question.line, subject, option=option.id, question=qid)
    elif other.step != question.step or other.type != "single" or other.id == question.id:
        collector.add(
            "qualifier_misplaced", question.line, subject, option=option.id, question=qid, step=question.step
        )
    elif other.option(answer) is None:
        options = ", ".join(o.id for o in other.options)
        collector.add(
            "qualifier_unknown_answer", question.line, subject, question=qid, answer=answer, options=options
        )


def _holders(items, kind: str, meanings: Mapping[str, str], collector: Collector) -> dict:
    """Return role -> the (id, role, line) holding it, reporting roles held by none or by several."""
    found: dict[str, list] = {}
    for item in items:
        if item[1]:
            found.setdefault(item[1], []).append(item)
    holders = {}
    for role, meaning in meanings.items():
        having = found.get(role, [])
        if not having:
            collector.add("role_missing", None, "", kind=kind, role=role, meaning=meaning)
            continue
        holders[role] = having[0]
        for extra_id, _, line in having[1:]:
            collector.add(
                "role_doubled",
                line,
                f"{kind} '{extra_id}'",
                kind=kind,
                role=role,
                first=having[0][0],
                second=extra_id,
            )
    return holders


def _check_order(ids: list[str], holders: Mapping, collector: Collector) -> None:
    """The emergency level comes first (highest) and the urgent level right after it."""
    emergency, urgent = holders.get("emergency"), holders.get("urgent")
    if emergency is not None and ids.index(emergency[0]) != 0:
        collector.add(
            "role_order",
            emergency[2],
            f"level '{emergency[0]}'",
            level=emergency[0],
            role="emergency",
            detail=f"it comes after '{ids[0]}'; the emergency level must be the highest, listed first",
        )
    if emergency is not None and urgent is not None and ids.index(urgent[0]) != ids.index(emergency[0]) + 1:
        collector.add(
            "role_order",
            urgent[2],
            f"level '{urgent[0]}'",
            level=urgent[0],
            role="urgent",
            detail=f"it must come right after the emergency level '{emergency[0]}'",
        )


def _role_line(item) -> int | None:
    return item.line_of("role") if "role" in item else item.line
