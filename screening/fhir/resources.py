"""HL7 FHIR R4 (4.0.1) resources for the clinic's record system, following the SDC guide: the
questionnaire built from the rule files, and each sent submission as a QuestionnaireResponse, an
Observation of the outcome and a Patient. Plain dicts (JSON-ready); knows nothing of Flask.

Codes are the rule set's own ids: each question's option ids in a code system of that question (so a
(system, code) pair has one display), level ids and topic ids in their own, all under the site's base
URL. A QuestionnaireResponse is built from the questionnaire its submission was made with (`form.Form`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

from ..engine.rules import RuleSet
from .form import Form

FHIR_VERSION = "4.0.1"
QUESTIONNAIRE_ID = "back-pain-screening"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
ENABLE_WHEN_EXPRESSION = (
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression"
)
OPTION_EXCLUSIVE = "http://hl7.org/fhir/StructureDefinition/questionnaire-optionExclusive"
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
SLIDER_STEP = "http://hl7.org/fhir/StructureDefinition/questionnaire-sliderStepValue"
# What the app draws for each question type (numbers are a row of 0-10 choices: a slider's steps).
CONTROLS = {"single": "radio-button", "multi": "check-box", "number": "slider"}


class Systems:
    """The code systems and identifier namespaces, under the site's base URL."""

    def __init__(self, base_url: str):
        base = base_url.rstrip("/") + "/fhir"
        self.base = base
        self.levels = f"{base}/CodeSystem/levels"
        self.topics = f"{base}/CodeSystem/topics"
        self.outcome = f"{base}/CodeSystem/observations"
        self.reference = f"{base}/sid/reference"
        self.questionnaire = f"{base}/Questionnaire/{QUESTIONNAIRE_ID}"

    def answers(self, question_id: str) -> str:
        """Return the code system of one question's options (its option ids are the codes)."""
        return f"{self.base}/CodeSystem/answers-{question_id}"


# --- the Questionnaire -------------------------------------------------------------------------------


def questionnaire(ruleset: RuleSet, systems: Systems) -> dict:
    """Return the current questionnaire: a group per step, an item per question."""
    groups = []
    for step in ruleset.questionnaire.steps:
        group = {
            "linkId": step.id,
            "type": "group",
            "text": step.title,
            "item": [_question_item(ruleset, question, systems, step) for question in step.questions],
        }
        if step.show_when_data is not None:  # a hidden step is hidden whole: no empty group header
            _add_enable_when(group, ruleset, step.show_when_data, systems)
        groups.append(group)
    return {
        "resourceType": "Questionnaire",
        "id": QUESTIONNAIRE_ID,
        "url": systems.questionnaire,
        "version": ruleset.version,
        "name": "BackPainScreening",
        "title": "Back pain questionnaire",
        "status": "active",
        "subjectType": ["Patient"],
        "item": groups,
    }


def _question_item(ruleset: RuleSet, question, systems: Systems, step) -> dict:
    item: dict = {"linkId": question.id, "text": question.label, "required": not question.optional}
    control = {"coding": [{"system": ITEM_CONTROL_SYSTEM, "code": CONTROLS[question.type]}]}
    item["extension"] = [{"url": ITEM_CONTROL, "valueCodeableConcept": control}]
    if question.type == "number":
        item["type"] = "integer"
        item["extension"] += [
            {"url": MIN_VALUE, "valueInteger": question.min},
            {"url": MAX_VALUE, "valueInteger": question.max},
            {"url": SLIDER_STEP, "valueInteger": 1},
        ]
    else:
        item["type"] = "choice"
        item["repeats"] = question.type == "multi"
        item["answerOption"] = [_option(systems, question, o) for o in question.options]
    condition = _own_condition(question, step)
    if condition is not None:
        _add_enable_when(item, ruleset, condition, systems)
    return item


def _option(systems: Systems, question, option) -> dict:
    answer: dict = {"valueCoding": _coding(systems, question.id, option.id, option.label)}
    if option.exclusive:
        answer["extension"] = [{"url": OPTION_EXCLUSIVE, "valueBoolean": True}]
    return answer


def _own_condition(question, step):
    """Return the question's condition without its step's (which its group carries), or None."""
    data = question.show_when_data
    if step.show_when_data is None or data is None:
        return data
    if data == step.show_when_data:
        return None
    return data["all"][1]  # the engine joins a step's condition and the question's as all: [step, own]


def _add_enable_when(item: dict, ruleset: RuleSet, condition, systems: Systems) -> None:
    """Say when the item is shown: plain enableWhen when it can, an SDC FHIRPath expression otherwise."""
    simple = _enable_when(ruleset, condition, systems)
    if simple is not None:
        item["enableWhen"], item["enableBehavior"] = simple
        return
    expression = {"language": "text/fhirpath", "expression": fhirpath(ruleset, condition)}
    item.setdefault("extension", []).append({"url": ENABLE_WHEN_EXPRESSION, "valueExpression": expression})


def _enable_when(ruleset: RuleSet, condition: Mapping, systems: Systems):
    """Return (enableWhen, enableBehavior) when plain enableWhen says exactly what the condition says.

    That is one leaf that is true when some answer equals one of a few values (or a number bound), or an
    `all` of such leaves each needing one value. Anything else (`not`, unanswered-is-true) returns None.
    """
    if "question" in condition:
        checks = _leaf_checks(ruleset, condition, systems)
        return (checks, "any") if checks else None
    if "all" in condition:
        parts = [
            _leaf_checks(ruleset, leaf, systems) if "question" in leaf else None for leaf in condition["all"]
        ]
        if all(part is not None and len(part) == 1 for part in parts):
            return [part[0] for part in parts], "all"
    return None


def _leaf_checks(ruleset: RuleSet, leaf: Mapping, systems: Systems) -> list[dict] | None:
    qid = leaf["question"]
    question = ruleset.questionnaire.questions[qid]
    if question.type == "number":
        if "at_least" in leaf:
            return [{"question": qid, "operator": ">=", "answerInteger": leaf["at_least"]}]
        if "at_most" in leaf:
            return [{"question": qid, "operator": "<=", "answerInteger": leaf["at_most"]}]
        return None
    values = _leaf_values(question, leaf)
    if values is None:
        return None
    return [
        {"question": qid, "operator": "=", "answerCoding": _coding(systems, qid, v, question.option_label(v))}
        for v in values
    ]


def _leaf_values(question, leaf: Mapping) -> list[str] | None:
    """Return the option ids a leaf accepts when "any answer equals one of them" says it exactly."""
    ids = [o.id for o in question.options]
    if "is" in leaf or "has" in leaf:
        return [leaf.get("is", leaf.get("has"))]
    if "in" in leaf or "has_any" in leaf:
        return list(leaf.get("in", leaf.get("has_any")))
    if "at_least" in leaf:
        return ids[ids.index(leaf["at_least"]) :]
    if "at_most" in leaf:
        return ids[: ids.index(leaf["at_most"]) + 1]
    return None  # has_all needs every value


def fhirpath(ruleset: RuleSet, condition: Mapping) -> str:
    """Return a FHIRPath expression over %resource that is true exactly when the condition is.

    Every leaf is written to give true or false (never empty), so `not` means what the engine means:
    a leaf on an unanswered question is false, and its `not` is true.
    """
    for op in ("all", "any"):
        if op in condition:
            joiner = " and " if op == "all" else " or "
            return "(" + joiner.join(fhirpath(ruleset, part) for part in condition[op]) + ")"
    if "not" in condition:
        return f"({fhirpath(ruleset, condition['not'])}).not()"
    qid = condition["question"]
    question = ruleset.questionnaire.questions[qid]
    answers = f"%resource.repeat(item).where(linkId='{qid}').answer.value"
    if question.type == "number":
        op = ">=" if "at_least" in condition else "<="
        bound = condition.get("at_least", condition.get("at_most"))
        return f"{answers}.where($this {op} {int(bound)}).exists()"
    codes = f"{answers}.code"
    if "has_all" in condition:
        return (
            "(" + " and ".join(f"{codes}.where($this = '{v}').exists()" for v in condition["has_all"]) + ")"
        )
    values = _leaf_values(question, condition)
    wanted = " | ".join(f"'{v}'" for v in values)
    return f"{codes}.where($this in ({wanted})).exists()"


# --- a sent submission ---------------------------------------------------------------------------------


def questionnaire_response(row: Mapping, form: Form, systems: Systems) -> dict:
    """Return the answers that were shown, as given, grouped by step, in the words of `form` (the
    questionnaire the submission was made with)."""
    answers = json.loads(row["answers"]) if isinstance(row["answers"], str) else dict(row["answers"])
    groups = []
    for step in form.steps:
        items = []
        for question in step.questions:
            if question.id not in answers:
                continue
            value = answers[question.id]
            if question.type == "number":
                given = [{"valueInteger": int(value)}]
            else:
                values = value if isinstance(value, list) else [value]
                given = [
                    {"valueCoding": _coding(systems, question.id, v, question.option_label(v))}
                    for v in values
                ]
            items.append({"linkId": question.id, "text": question.label, "answer": given})
        if items:
            groups.append({"linkId": step.id, "text": step.title, "item": items})
    return {
        "resourceType": "QuestionnaireResponse",
        "id": row["reference"],
        "meta": {"lastUpdated": row["received"]},
        "identifier": {"system": systems.reference, "value": row["reference"]},
        "questionnaire": f"{systems.questionnaire}|{row['ruleset_version']}",
        "status": "completed",
        "subject": {"reference": f"Patient/{row['reference']}"},
        "authored": row["received"],
        "item": groups,
    }


def outcome_observation(row: Mapping, ruleset: RuleSet, systems: Systems) -> dict:
    """Return the outcome: the level as the value, each topic and the rule-set version as components."""
    topics = json.loads(row["topics"]) if isinstance(row["topics"], str) else list(row["topics"])
    level_label = next((lv.label for lv in ruleset.levels if lv.id == row["level"]), row["level"])
    topic_code = {"coding": [{"system": systems.outcome, "code": "topic", "display": "Topic shown"}]}
    components = [
        {
            "code": topic_code,
            "valueCodeableConcept": {
                "coding": [
                    {
                        "system": systems.topics,
                        "code": topic,
                        "display": ruleset.topics[topic].title if topic in ruleset.topics else topic,
                    }
                ]
            },
        }
        for topic in topics
    ]
    components.append(
        {
            "code": {
                "coding": [{"system": systems.outcome, "code": "ruleset-version", "display": "Rule set"}]
            },
            "valueString": f"{row['ruleset_version']} ({row['ruleset_hash'][:16]})",
        }
    )
    return {
        "resourceType": "Observation",
        "id": f"{row['reference']}-outcome",
        "meta": {"lastUpdated": row["received"]},
        "status": "final",
        "code": {
            "coding": [
                {"system": systems.outcome, "code": "screening-outcome", "display": "Screening outcome"}
            ]
        },
        "subject": {"reference": f"Patient/{row['reference']}"},
        "effectiveDateTime": row["received"],
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{row['reference']}"}],
        "valueCodeableConcept": {
            "coding": [{"system": systems.levels, "code": row["level"], "display": level_label}]
        },
        "component": components,
    }


def patient(row: Mapping, systems: Systems) -> dict:
    """Return the contact details the patient gave with their consent."""
    telecom = []
    for system, value in (("phone", row.get("phone")), ("email", row.get("email"))):
        if value:
            preferred = row.get("contact_method") == system
            telecom.append({"system": system, "value": value, "use": "home", "rank": 1 if preferred else 2})
    return {
        "resourceType": "Patient",
        "id": row["reference"],
        "identifier": [{"system": systems.reference, "value": row["reference"]}],
        "name": [{"text": row["name"]}],
        "telecom": telecom,
    }


def resources_for(row: Mapping, form: Form, ruleset: RuleSet, systems: Systems) -> Iterator[dict]:
    """Yield a submission's Patient, QuestionnaireResponse and Observation."""
    yield patient(row, systems)
    yield questionnaire_response(row, form, systems)
    yield outcome_observation(row, ruleset, systems)


def operation_outcome(code: str, text: str, severity: str = "error") -> dict:
    """Return an OperationOutcome with one issue (`code` from FHIR's issue-type value set)."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": text}],
    }


def _coding(systems: Systems, question_id: str, code: str, display: str) -> dict:
    return {"system": systems.answers(question_id), "code": str(code), "display": display}
