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


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize(
    ("onset", "lands_on"), [("long_standing", "/step/about"), ("new_or_worse", "/emergency")]
)
def test_pain_in_both_legs_goes_on_only_when_long_standing(browser, server, javascript, onset, lands_on):
    """One press of Continue carries the sign and its follow-up, with or without the page script."""
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        page.goto(server + "/")
        press(page, "Start now")
        follow_up = page.locator("#both_legs_onset")
        if javascript:
            expect(follow_up).to_be_hidden()
        else:
            expect(follow_up).to_be_visible()
        page.locator("label[for='emergency_signs-both_legs_pain']").click()
        expect(follow_up).to_be_visible()
        page.locator(f"label[for='both_legs_onset-{onset}']").click()
        page.locator("label[for='major_trauma-no']").click()
        page.locator("label[for='warning_signs-none']").click()
        shoot(page, f"both-legs-{onset}-{'js' if javascript else 'nojs'}")
        press(page, "Continue")
        assert page.url.endswith(lands_on), page.url
        assert page.locator(".error-summary").count() == 0
    finally:
        context.close()


def test_a_teenagers_summary_offers_printing_and_finishing_not_sending(page, server):
    page.goto(server + "/")
    press(page, "Start now")
    fill_step(page, DEFAULTS)
    press(page, "Continue")
    fill_step(page, {**DEFAULTS, "age_band": "under_18"})
    press(page, "Continue")
    press(page, "See my summary")
    next_steps = page.locator(".next-steps")
    expect(next_steps).to_contain_text("Show this page to a parent or caregiver. Then see a doctor together.")
    assert page.get_by_role("button", name="Send my answers to the clinic").count() == 0
    expect(page.get_by_role("button", name="Print or save this summary")).to_be_visible()
    expect(page.get_by_role("button", name="Finish", exact=True)).to_be_visible()
    shoot(page, "teen-no-sending")
    page.goto(server + "/send")
    assert page.locator("h1").inner_text() == "These answers cannot be sent"
    assert page.locator("input[name=name]").count() == 0
