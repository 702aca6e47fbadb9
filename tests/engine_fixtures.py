"""A tiny, valid rule set written into a folder, for tests that break it one piece at a time."""

from __future__ import annotations

from pathlib import Path

QUESTIONNAIRE = """\
messages:
  required: "Choose an answer."
  required_multi: "Choose at least one answer. If none fit, choose \\"{exclusive}\\"."
  exclusive: "You chose \\"{option}\\" and other answers. Choose it alone."
  not_a_choice: "Choose one of the answers on the list."
  number_required: "Choose a number from {min} to {max}."
  number_range: "Choose a whole number from {min} to {max}."
steps:
  - id: safety
    title: Safety check
    questions:
      - id: signs
        type: multi
        label: Have you had any of these?
        short: Signs
        options:
          - {id: numb, label: Numb legs, emergency: true}
          - {id: fever, label: A fever}
          - {id: none, label: None of these, exclusive: true}
  - id: about
    title: About you
    questions:
      - id: where
        type: single
        label: Where is the pain?
        short: Where
        options: [{id: back, label: Back}, {id: leg, label: Leg}]
      - id: walk
        type: single
        label: Does it hurt to walk?
        short: Walk
        show_when: {question: where, is: leg}
        options: [{id: "yes", label: "Yes"}, {id: "no", label: "No"}]
      - id: how_long
        type: single
        ordered: true
        label: How long have you had it?
        short: How long
        options: [{id: short, label: A short time}, {id: long, label: A long time}]
      - id: impact
        type: number
        min: 0
        max: 10
        label: How bad is it?
        short: How bad
"""

RULES = """\
version: "1"
levels:
  - {id: emergency, role: emergency, label: Get help now, summary: Go to the hospital now.}
  - {id: urgent, role: urgent, label: See a doctor soon, summary: See a doctor in a day or two.}
  - {id: discuss, label: Talk about it, summary: Talk to a doctor about this.}
  - {id: info, label: Good to know, summary: Read this when you can.}
sources:
  a: {title: Article A, kind: article}
  b: {title: Guide B, kind: guideline, publisher: A society, year: 2020, url: "https://example.org/b"}
topics:
  safety: {role: safety, title: Stay safe, what: Some signs need care now., sources: [b]}
  legs: {title: Legs, what: Leg pain can come from the back.}
  basics: {title: The basics, what: Most back pain gets better.}
rules:
  - id: numb
    level: emergency
    topic: safety
    when: {question: signs, has: numb}
    title: Get help now
    message: Numb legs need care now.
    sources: [b]
  - id: fever
    level: urgent
    topic: safety
    when: {question: signs, has: fever}
    title: See a doctor soon
    message: A fever with back pain needs a doctor soon.
    sources: [b]
  - id: leg-walk
    level: discuss
    topic: legs
    when:
      all:
        - {question: walk, is: "yes"}
        - {question: how_long, at_least: long}
        - {question: impact, at_least: 5}
    title: Leg pain when you walk
    message: This may be worth a talk with a doctor.
    sources: [a]
  - id: basics
    level: info
    topic: basics
    always: true
    title: The basics
    message: Most back pain gets better in time.
    sources: [a]
"""

CASES = """\
defaults: {signs: [none], where: back, how_long: long, impact: 5}
cases:
  - {name: plain, answers: {}, level: info, topics: [basics]}
  - {name: legs, answers: {where: leg, walk: "yes"}, level: discuss, topics: [basics, legs], fires: [leg-walk]}
  - {name: hidden walk, answers: {walk: "yes"}, level: info, topics: [basics], not_fires: [leg-walk]}
  - {name: numb, answers: {signs: [numb], where: leg, walk: "yes"}, level: emergency, topics: [safety]}
"""

SAFETY_LOCK = """\
approved_by: A clinical lead
approved_on: '2026-11-01'
emergency_answers: ['signs: numb']
emergency_rules:
  numb: [b]
protected_cases: {}
"""

FILES = {
    "questionnaire.yaml": QUESTIONNAIRE,
    "rules.yaml": RULES,
    "cases.yaml": CASES,
    "safety-lock.yaml": SAFETY_LOCK,
}


def write_rules(folder: Path, **changes: str) -> Path:
    """Write the tiny rule set into `folder`/rules; `changes` maps a file stem to its new text."""
    rules = folder / "rules"
    rules.mkdir(parents=True, exist_ok=True)
    for name, text in FILES.items():
        (rules / name).write_text(changes.get(name.removesuffix(".yaml"), text))
    return rules


def edit(name: str, old: str, new: str) -> dict:
    """Return a `changes` entry for write_rules: one exact replacement in one file."""
    text = FILES[f"{name}.yaml"]
    if old not in text:
        raise ValueError(f"{old!r} is not in {name}.yaml")
    return {name: text.replace(old, new, 1)}
