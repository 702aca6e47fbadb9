"""In a real browser: an emergency answer wins at once, the emergency page survives reload and Back,
and a teenager's questionnaire stops after the age."""

from __future__ import annotations

import pytest
from conftest import DEFAULT_ANSWERS
from playwright.sync_api import expect

from screening.rules import load_ruleset

from .pages import DEFAULTS, ROOT, fill_step, press, shoot

RULESET = load_ruleset(ROOT / "rules")
EMERGENCY = [(q.id, o.id, o.label) for q, o in RULESET.questionnaire.emergency_answers]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_each_emergency_answer_alone_goes_straight_to_help(browser, server, javascript):
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        for qid, option, label in EMERGENCY:
            page.goto(server + "/")
            press(page, "Start now")
            page.locator(f"label[for='{qid}-{option}']").click()
            expect(page.locator(f"#{qid}-{option}")).to_be_checked()
            press(page, "Continue")
            assert page.url.endswith("/emergency"), (label, page.url)
            assert page.locator("h1").inner_text() == RULESET.emergency_level.label
            assert page.locator(".error-summary").count() == 0
            assert page.locator("a.emergency-number").get_attribute("href") == "tel:911"
    finally:
        context.close()


def test_the_emergency_page_stays_after_reload_and_back(page, server):
    page.goto(server + "/")
    press(page, "Start now")
    page.locator("label[for='emergency_signs-bladder_change']").click()
    page.locator("label[for='warning_signs-fever']").click()
    press(page, "Continue")
    shoot(page, "emergency-alone")
    text = page.locator("main").inner_text()
    assert RULESET.urgent_level.label not in text, "urgent notices never sit beside 'now'"
    page.reload(wait_until="load")
    assert page.locator("h1").inner_text() == RULESET.emergency_level.label
    page.go_back(wait_until="load")
    assert page.locator("h1").inner_text() == RULESET.emergency_level.label


def test_a_teenager_stops_after_the_age_step(page, server):
    page.goto(server + "/")
    press(page, "Start now")
    fill_step(page, DEFAULTS)
    press(page, "Continue")
    fill_step(page, {**DEFAULTS, "age_band": "under_18"})
    press(page, "Continue")
    assert page.url.endswith("/check")
    shoot(page, "teen-check")
    press(page, "See my summary")
    titles = page.locator("section.card h3.card__title").all_inner_texts()
    assert titles == [RULESET.topics["adults-only"].title]
    shoot(page, "teen-summary")
    assert page.evaluate("document.body.scrollHeight") < 4000


def test_defaults_are_not_an_emergency():
    assert not RULESET.is_emergency(RULESET.evaluate(DEFAULT_ANSWERS))
