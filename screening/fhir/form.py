"""The questionnaire as a submission met it, as plain JSON: its steps, questions and option labels.

Kept per rule-set hash (table `questionnaire_versions`), so a QuestionnaireResponse is built from the
questions its patient answered, not from whatever the rule files say today. Flask-free.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .. import store


@dataclass(frozen=True)
class FormQuestion:
    id: str
    label: str
    type: str
    options: Mapping[str, str]

    def option_label(self, option_id) -> str:
        return self.options.get(str(option_id), str(option_id))


@dataclass(frozen=True)
class FormStep:
    id: str
    title: str
    questions: tuple[FormQuestion, ...]


@dataclass(frozen=True)
class Form:
    """The steps and questions of one questionnaire version, with what each question and option said."""

    version: str
    steps: tuple[FormStep, ...]

    @classmethod
    def from_json(cls, data: Mapping) -> Form:
        steps = tuple(
            FormStep(
                step["id"],
                step["title"],
                tuple(
                    FormQuestion(q["id"], q["label"], q["type"], dict(q.get("options", [])))
                    for q in step["questions"]
                ),
            )
            for step in data["steps"]
        )
        return cls(str(data["version"]), steps)

    @classmethod
    def of(cls, ruleset) -> Form:
        return cls.from_json(snapshot(ruleset))


def snapshot(ruleset) -> dict:
    """Return the rule set's questionnaire as JSON-ready data (what `Form.from_json` reads back)."""
    return {
        "version": ruleset.version,
        "steps": [
            {
                "id": step.id,
                "title": step.title,
                "questions": [
                    {
                        "id": q.id,
                        "label": q.label,
                        "type": q.type,
                        "options": [[o.id, o.label] for o in q.options],
                    }
                    for q in step.questions
                ],
            }
            for step in ruleset.questionnaire.steps
        ],
    }


class Forms:
    """The form of each rule-set hash, read once from the store; the current one where none was kept."""

    def __init__(self, db, ruleset):
        self.db = db
        self.current = Form.of(ruleset)
        self.by_hash: dict[str, Form] = {ruleset.hash: self.current}

    def for_row(self, row: Mapping) -> Form:
        key = row.get("ruleset_hash") or ""
        found = self.by_hash.get(key)
        if found is None:
            kept = store.kept_questionnaire(self.db, key) if key else None
            found = self.by_hash[key] = Form.from_json(kept) if kept else self.current
        return found
