"""The JSON Schemas for the structure of questionnaire.yaml, rules.yaml and cases.yaml."""

from __future__ import annotations

ID = {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"}
TEXT = {"type": "string", "minLength": 1}
TEXT_LIST = {"type": "array", "items": TEXT}
ID_LIST = {"type": "array", "items": ID}
CONDITION = {"type": "object", "minProperties": 1}
LEVEL_ROLES = ("emergency", "urgent")
TOPIC_ROLES = ("safety",)
MESSAGE_KEYS = ("required", "required_multi", "exclusive", "not_a_choice", "number_required", "number_range")

TYPE_WORDS = {
    "string": "text",
    "str": "text",
    "array": "a list",
    "list": "a list",
    "LineList": "a list",
    "object": "a mapping (key: value lines)",
    "dict": "a mapping (key: value lines)",
    "LineDict": "a mapping (key: value lines)",
    "integer": "a whole number",
    "int": "a whole number",
    "boolean": "true or false",
    "bool": "true or false",
    "NoneType": "nothing",
    "float": "a decimal number",
}

OPTION = {
    "type": "object",
    "required": ["id", "label"],
    "additionalProperties": False,
    "properties": {
        "id": ID,
        "label": TEXT,
        "hint": TEXT,
        "exclusive": {"type": "boolean"},
        "emergency": {"type": "boolean"},
        "emergency_unless": {
            "type": "object",
            "required": ["question", "is"],
            "additionalProperties": False,
            "properties": {"question": ID, "is": ID},
        },
    },
}

QUESTION = {
    "type": "object",
    "required": ["id", "type", "label"],
    "additionalProperties": False,
    "properties": {
        "id": ID,
        "type": {"enum": ["single", "multi", "number"]},
        "label": TEXT,
        "short": TEXT,
        "hint": TEXT,
        "options": {"type": "array", "items": OPTION},
        "ordered": {"type": "boolean"},
        "min": {"type": "integer"},
        "max": {"type": "integer"},
        "min_label": TEXT,
        "max_label": TEXT,
        "show_when": CONDITION,
        "collected_for_reviewers": {"type": "boolean"},
        "optional": {"type": "boolean"},
        "on_page_from_start": {"type": "boolean"},
    },
}

QUESTIONNAIRE = {
    "type": "object",
    "required": ["messages", "steps"],
    "additionalProperties": False,
    "properties": {
        "messages": {
            "type": "object",
            "required": [
                "required",
                "required_multi",
                "exclusive",
                "not_a_choice",
                "number_required",
                "number_range",
            ],
            "additionalProperties": False,
            "properties": dict.fromkeys(MESSAGE_KEYS, TEXT),
        },
        "steps": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "title", "questions"],
                "additionalProperties": False,
                "properties": {
                    "id": ID,
                    "title": TEXT,
                    "intro": TEXT,
                    "show_when": CONDITION,
                    "questions": {"type": "array", "minItems": 1, "items": QUESTION},
                },
            },
        },
    },
}

RULES = {
    "type": "object",
    "required": ["version", "levels", "sources", "topics", "rules"],
    "additionalProperties": False,
    "properties": {
        "version": {"type": ["string", "number"]},
        "about": {
            "type": "object",
            "required": ["written_by", "reviewed_on", "next_review"],
            "additionalProperties": False,
            "properties": {
                "written_by": TEXT,
                "reviewed_on": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
                "next_review": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
            },
        },
        "readability_exempt_words": TEXT_LIST,
        "levels": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "label", "summary"],
                "additionalProperties": False,
                "properties": {
                    "id": ID,
                    "label": TEXT,
                    "summary": TEXT,
                    "heading": TEXT,
                    "role": {"enum": list(LEVEL_ROLES)},
                },
            },
        },
        "sources": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["title", "kind"],
                "additionalProperties": False,
                "properties": {
                    "title": TEXT,
                    "kind": {"enum": ["article", "guideline", "clinic"]},
                    "publisher": TEXT,
                    "year": {"type": "integer"},
                    "url": {"type": "string", "pattern": "^https://"},
                },
            },
        },
        "topics": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["title", "what"],
                "additionalProperties": False,
                "properties": {
                    "title": TEXT,
                    "what": TEXT,
                    "may_offer": TEXT,
                    "limits": TEXT,
                    "ask": TEXT_LIST,
                    "sources": ID_LIST,
                    "role": {"enum": list(TOPIC_ROLES)},
                    "hide_when_urgent": {"type": "boolean"},
                },
            },
        },
        "rules": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "level", "topic", "title", "message", "sources"],
                "additionalProperties": False,
                "properties": {
                    "id": ID,
                    "level": ID,
                    "topic": ID,
                    "when": CONDITION,
                    "always": {"type": "boolean"},
                    "alone": {"type": "boolean"},
                    "shown_with_level": ID,
                    "hidden_with_level": ID,
                    "title": TEXT,
                    "message": TEXT,
                    "instead_of_sending": TEXT,
                    "sources": {"type": "array", "minItems": 1, "items": ID},
                    "note": TEXT,
                },
            },
        },
    },
}

CASES = {
    "type": "object",
    "required": ["cases"],
    "additionalProperties": False,
    "properties": {
        "defaults": {"type": "object"},
        "cases": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "answers", "level", "topics"],
                "additionalProperties": False,
                "properties": {
                    "name": TEXT,
                    "answers": {"type": "object"},
                    "replace": {"type": "boolean"},
                    "level": ID,
                    "topics": ID_LIST,
                    "fires": ID_LIST,
                    "not_fires": ID_LIST,
                    "sending": {"type": "boolean"},
                    "protected": {"type": "boolean"},
                },
            },
        },
    },
}
