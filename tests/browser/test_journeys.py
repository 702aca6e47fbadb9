"""Patients and reviewers in a real browser (Debian's Chromium): journeys, branching, keyboard, print."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from screening.rules import load_ruleset

from .pages import DEFAULTS, ROOT, answer_all, fill_step, follow, press, send_form, shoot, sign_in

RULESET = load_ruleset(ROOT / "rules")
EXAMPLES = [
    ("emergency", {"emergency_signs": ["bladder_change"]}, "emergency", ["safety"]),
    (
        "herniated-disc",
        {"diagnosis": ["herniated_disc"], "pain_location": "leg", "walking_pattern": "no"},
        "discuss",
        ["herniated-disc", "benefits-and-limits"],
    ),
    (
        "too-early",
        {
            "diagnosis": ["herniated_disc"],
            "pain_location": "leg",
            "walking_pattern": "no",
            "duration": "under_6_weeks",
            "treatments_tried": ["nothing"],
        },
        "info",
        ["conservative-care-first", "benefits-and-limits"],
    ),
    (
        "fracture",
        {
            "age_band": "80_plus",
            "bone_health": "yes",
            "sudden_pain_minor_event": "yes",
            "duration": "under_6_weeks",
            "imaging": "none",
        },
        "urgent",
        ["compression-fracture", "benefits-and-limits"],
    ),
    (
        "after-surgery",
        {
            "prior_surgery": "never_helped",
            "surgery_when": "over_1_year",
            "duration": "over_6_months",
            "health_factors": ["smoking", "blood_thinners"],
        },
        "discuss",
        ["failed-back-surgery", "smoking", "blood-thinners", "benefits-and-limits"],
    ),
]


@pytest.mark.parametrize(("name", "diff", "level", "topics"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_worked_examples_end_on_the_right_page(page, server, name, diff, level, topics):
    answer_all(page, server, {**DEFAULTS, **diff}, shots=f"example-{name}" if name == "fracture" else "")
    if level == "emergency":
        assert page.locator("h1").inner_text() == "Get help now"
        assert "Call 911" in page.locator(".emergency-panel").inner_text()
        shoot(page, "emergency")
        return
    assert page.url.endswith("/check")
    shoot(page, f"check-{name}")
    press(page, "See my summary")
    assert page.locator("h1").inner_text() == "Your summary"
    assert RULESET.level(level).label in page.locator(".summary").inner_text()
    titles = page.locator("section.card h3.card__title").all_inner_texts()
    assert titles == [RULESET.topics[t].title for t in topics]
    shoot(page, f"summary-{name}")


def test_a_patient_sends_the_summary_and_gets_a_reference(page, server):
    answer_all(page, server, DEFAULTS)
    press(page, "See my summary")
    press(page, "Send my answers to the clinic")
    shoot(page, "send")
    press(page, "Send to the clinic")
    expect(page.locator(".error-summary")).to_be_visible()
    shoot(page, "send-errors")
    reference = send_form(page, "Pat Browser", email="pat.browser@example.com")
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", reference)
    shoot(page, "done")


def test_questions_show_and_hide_at_once_with_javascript(page, server):
    page.goto(server + "/")
    press(page, "Start now")
    fill_step(page, DEFAULTS)
    press(page, "Continue")
    walking = page.locator("#walking_pattern")
    expect(walking).to_be_hidden()
    page.locator("label[for='pain_location-leg']").click()
    expect(walking).to_be_visible()
    page.locator("label[for='pain_location-back']").click()
    expect(walking).to_be_hidden()
    page.locator("label[for='age_band-80_plus']").click()
    fill_step(page, {**DEFAULTS, "age_band": "80_plus"})
    press(page, "Continue")
    sudden = page.locator("#sudden_pain_minor_event")
    expect(sudden).to_be_visible()
    fill_step(page, DEFAULTS)
    press(page, "Continue")
    duration = page.locator("#treatment_duration")
    expect(duration).to_be_hidden()
    page.locator("label[for='treatments_tried-physical_therapy']").click()
    expect(duration).to_be_visible()
    page.locator("label[for='treatments_tried-physical_therapy']").click()
    page.locator("label[for='treatments_tried-nothing']").click()
    expect(duration).to_be_hidden()


def test_the_journey_works_without_javascript(browser, server):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        page.goto(server + "/")
        press(page, "Start now")
        fill_step(page, DEFAULTS)
        press(page, "Continue")
        page.locator("label[for='pain_location-both']").click()
        fill_step(page, {k: v for k, v in DEFAULTS.items() if k != "pain_location"})
        press(page, "Continue")
        assert "Your answer added a new question below." in page.content()
        shoot(page, "nojs-revealed")
        page.locator("label[for='walking_pattern-often']").click()
        press(page, "Continue")
        for _ in range(6):  # a revealed question takes one more Continue without JavaScript
            if page.url.endswith("/check"):
                break
            fill_step(page, DEFAULTS)
            press(page, "Continue")
        press(page, "See my summary")
        assert "A narrow space for the nerves (spinal stenosis)" in page.locator(".summary").inner_text()
    finally:
        context.close()


def test_back_reload_and_change_links_keep_the_answers(page, server):
    page.goto(server + "/")
    press(page, "Start now")
    fill_step(page, DEFAULTS)
    press(page, "Continue")
    fill_step(page, {**DEFAULTS, "impact": 8})
    press(page, "Continue")
    page.go_back()
    page.reload()
    assert page.locator("#impact-8").is_checked()
    press(page, "Back", role="link", exact=True)
    assert page.locator("#warning_signs-none").is_checked()
    answer_all(page, server, DEFAULTS)
    press(page, "Change how long you have had pain", role="link")
    assert page.url.endswith("/step/about?return=check#duration")
    page.locator("label[for='duration-over_6_months']").click()
    press(page, "Save and go back to your answers")
    assert page.url.split("#")[0].endswith("/check")
    assert "6 months or longer" in page.locator("main").inner_text()


def test_the_whole_questionnaire_by_keyboard_alone(page, server):
    page.goto(server + "/")
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    for _ in range(5):
        if page.get_by_role("button", name="Start now").evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("Tab")
    outline = page.evaluate(
        "getComputedStyle(document.activeElement).outlineStyle + getComputedStyle(document.activeElement).boxShadow"
    )
    assert outline != "nonenone", "focus is visible"
    page.keyboard.press("Enter")
    page.wait_for_url("**/step/safety")
    # Continue with nothing chosen: focus moves to the error summary.
    page.locator("main button[type=submit]").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector(".error-summary")
    # The page script moves focus once it has run (it is deferred): wait for that, up to the timeout.
    page.wait_for_function("document.activeElement.classList.contains('error-summary')")
    for step in RULESET.questionnaire.steps:
        for question in step.questions:
            block = page.locator(f"#{question.id}")
            if block.count() == 0 or block.is_hidden():
                continue
            wanted = DEFAULTS[question.id]
            first = wanted[0] if isinstance(wanted, list) else wanted
            target = page.locator(f"#{question.id}-{first}")
            if question.type == "multi":
                target.focus()
                if not target.is_checked():
                    page.keyboard.press("Space")
                for box in block.locator("input:checked").all():
                    if box.get_attribute("value") != str(first):
                        box.focus()
                        page.keyboard.press("Space")
            else:
                block.locator("input").first.focus()
                options = block.locator("input").all()
                index = [o.get_attribute("value") for o in options].index(str(first))
                page.keyboard.press("Space")
                for _ in range(index):
                    page.keyboard.press("ArrowRight")
            assert target.is_checked(), question.id
        page.locator("main button[type=submit]").focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.locator(".error-summary").count() == 0, page.locator(".error-summary").inner_text()
    assert page.url.endswith("/check")


def test_a_reviewer_works_a_submission_through(browser, server, passkey):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = context.new_page()
    try:
        answer_all(page, server, {**DEFAULTS, "diagnosis": ["stenosis"]})
        press(page, "See my summary")
        press(page, "Send my answers to the clinic")
        reference = send_form(page, "Rita Review", phone="555 010 0123")

        page.goto(server + "/review/")
        assert "/review/sign-in" in page.url
        sign_in(page, passkey)
        follow(page, page.get_by_role("link", name="All submissions"))
        page.locator("input[name=q]").fill(reference)
        press(page, "Apply filters")
        shoot(page, "inbox")
        follow(page, page.get_by_role("link", name=reference))
        assert "Rita Review" in page.content()
        shoot(page, "submission")
        press(page, "Move to In review")
        page.locator("textarea[name=body]").fill("Called back, left a message.")
        press(page, "Save")
        assert "Called back, left a message." in page.content()
        page.goto(f"{server}/review/?q={reference}")
        with page.expect_download() as download:
            page.get_by_role("link", name=re.compile("as CSV for other programs")).click()
        with open(download.value.path(), encoding="utf-8") as f:
            text = f.read()
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [r["reference"] for r in rows] == [reference]
        assert rows[0]["status"] == "in_review" and rows[0]["diagnosis"] == "stenosis"
    finally:
        context.close()


def test_back_and_reload_at_every_step_keep_the_answers(page, server):
    answers = {**DEFAULTS, "pain_location": "both", "walking_pattern": "sometimes", "impact": 7}
    page.goto(server + "/")
    press(page, "Start now")
    for step in RULESET.questionnaire.steps:
        fill_step(page, answers)
        press(page, "Continue")
        page.go_back(wait_until="load")
        page.reload(wait_until="load")
        for question in step.questions:
            block = page.locator(f"#{question.id}")
            if block.is_hidden():
                continue
            wanted = answers[question.id]
            for value in wanted if isinstance(wanted, list) else [wanted]:
                assert page.locator(f"#{question.id}-{value}").is_checked(), (step.id, question.id)
        press(page, "Continue")
    assert page.url.endswith("/check")
