"""Every sentence on the patient's pages reads at US grade 8 or below, like the rule files' texts."""

from __future__ import annotations

import re

from conftest import DEFAULT_ANSWERS, page

from screening.engine.checks import GRADE_LIMIT, SENTENCE_WORDS, reading_grade
from screening.engine.sentences import sentences


def texts(response) -> list[str]:
    """Return the paragraphs, list items and headings a patient reads on a page."""
    html = page(response)
    for hidden in html.select("script, style, .visually-hidden, .sources, .small"):
        hidden.decompose()
    found = []
    for element in html.select(
        "main p, main li, main h1, main h2, main h3, main legend, main label, main button, main dt, main dd"
    ):
        text = " ".join(element.get_text(" ").split())
        if len(text.split()) >= SENTENCE_WORDS and not element.find(["p", "li"]):
            found.append(text)
    return found


def test_patient_pages_read_at_grade_8_or_below(patient, ruleset, client):
    pages = {"start": client.get("/"), "topics": client.get("/topics"), "about": client.get("/about")}
    patient.start()
    for step in ruleset.questionnaire.steps:
        pages[f"step {step.id}"] = client.get(f"/step/{step.id}")
        patient.answer(step.id, {**DEFAULT_ANSWERS, "warning_signs": ["fever"], "diagnosis": ["stenosis"]})
    pages["check"] = client.get("/check")
    pages["summary"] = client.get("/summary")
    pages["send"] = client.get("/send")
    pages["send errors"] = patient.send(name="")
    patient.start()
    patient.answer("safety", {**DEFAULT_ANSWERS, "major_trauma": "yes"})
    pages["emergency"] = client.get("/emergency")
    pages["finished"] = client.get("/finished")
    too_hard = []
    grades = []
    for name, response in pages.items():
        for text in texts(response):
            text = re.sub(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b", "code", text)
            for sentence in sentences(text):
                if len(sentence.split()) < SENTENCE_WORDS:
                    continue
                grade = reading_grade(sentence, ruleset.exempt_words)
                grades.append(grade)
                if grade > GRADE_LIMIT:
                    too_hard.append(f"{name}: grade {grade:.1f}: {sentence}")
    assert too_hard == [], "\n".join(too_hard)
    assert sum(grades) / len(grades) <= 7
