"""The answers a case of cases.yaml stands for: its own laid over the shared defaults."""

from __future__ import annotations

from collections.abc import Mapping

from . import yamlfile


def case_answers(defaults: Mapping, case: Mapping) -> dict:
    """Return a case's answers: its own over the defaults, or its own alone with `replace: true`."""
    answers = {} if case.get("replace") else yamlfile.plain(defaults)
    answers.update(yamlfile.plain(case["answers"]))
    return answers
