"""The language switch on a step keeps what is ticked (with and without JavaScript), an emergency answer
still wins when it is pressed, and two tabs of one browser never overwrite each other's answers silently."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .pages import DEFAULTS, fill_step, follow, press, shoot


@pytest.fixture(params=[True, False], ids=["javascript", "no-javascript"])
def any_page(browser, request):
    context = browser.new_context(java_script_enabled=request.param, viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page, request.param
    context.close()


def click_label(page, input_id: str) -> None:
    page.locator(f"label[for='{input_id}']").click()
    expect(page.locator(f"#{input_id}")).to_be_checked()


def to_step_two(page, server: str) -> None:
    page.goto(server + "/")
    press(page, "Start now")
    fill_step(page, DEFAULTS)
    press(page, "Continue")
    expect(page.locator("h1")).to_have_text("You and your pain")


def test_the_language_button_keeps_what_is_ticked_and_the_question_it_shows(any_page, server):
    page, javascript = any_page
    name = "js" if javascript else "nojs"
    to_step_two(page, server)
    click_label(page, "age_band-65_to_79")
    click_label(page, "duration-3_to_6_months")
    click_label(page, "pain_location-leg")
    if javascript:  # the page script shows the walking question at once
        click_label(page, "walking_pattern-often")
    else:
        expect(page.locator("#walking_pattern")).to_be_hidden()
    click_label(page, "impact-7")
    shoot(page, f"tabs-switch-before-{name}")
    follow(page, page.get_by_role("button", name="Español"))
    assert page.url.endswith("/step/about")
    assert page.locator("html").get_attribute("lang") == "es"
    expect(page.locator("h1")).to_have_text("Usted y su dolor")
    for input_id in ("age_band-65_to_79", "duration-3_to_6_months", "pain_location-leg", "impact-7"):
        expect(page.locator(f"#{input_id}")).to_be_checked()
    expect(page.locator("#walking_pattern")).to_be_visible()  # without JavaScript: shown by the server now
    if javascript:
        expect(page.locator("#walking_pattern-often")).to_be_checked()
    shoot(page, f"tabs-switch-after-{name}")
    follow(page, page.get_by_role("button", name="English"))
    expect(page.locator("h1")).to_have_text("You and your pain")
    expect(page.locator("#pain_location-leg")).to_be_checked()
    if not javascript:
        click_label(page, "walking_pattern-no")
    press(page, "Continue")
    expect(page.locator("h1")).to_have_text("What you have been told")
    follow(page, page.get_by_role("link", name="Back", exact=True))
    expect(page.locator("#age_band-65_to_79")).to_be_checked()


def test_enter_in_the_form_means_continue_never_the_language(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        to_step_two(page, server)
        fill_step(page, {**DEFAULTS, "walking_pattern": "no"})
        page.locator("#impact-5").focus()
        with page.expect_navigation(wait_until="load"):
            page.keyboard.press("Enter")
        assert page.locator("html").get_attribute("lang") == "en"
        expect(page.locator("h1")).to_have_text("What you have been told")
    finally:
        context.close()


def test_an_emergency_answer_wins_when_the_language_button_is_pressed(any_page, server):
    page, javascript = any_page
    page.goto(server + "/")
    press(page, "Start now")
    click_label(page, "emergency_signs-leg_weakness")
    follow(page, page.get_by_role("button", name="Español"))
    assert page.url.endswith("/emergency")
    expect(page.locator("h1")).to_have_text("Busque ayuda ahora")
    shoot(page, f"tabs-switch-emergency-{'js' if javascript else 'nojs'}")


def test_two_tabs_never_overwrite_each_other_silently(context, server):
    first, second = context.new_page(), context.new_page()
    for tab in (first, second):
        tab.set_default_timeout(15_000)
    to_step_two(first, server)  # tab 1 opens step 2 ...
    second.goto(server + "/step/about")  # ... tab 2 too, and saves it first
    fill_step(second, {**DEFAULTS, "age_band": "80_plus", "impact": 8})
    press(second, "Continue")
    fill_step(first, {**DEFAULTS, "age_band": "18_to_49", "impact": 2})
    with first.expect_navigation(wait_until="load") as sent:
        first.get_by_role("button", name="Continue").click()
    assert sent.value.status == 409
    expect(first.locator("h1")).to_have_text("You changed these answers in another tab or window")
    expect(first.locator("[data-saved]")).to_contain_text("80 or older")
    expect(first.locator("[data-sent]")).to_contain_text("18 to 49")
    shoot(first, "tabs-conflict")
    second.goto(server + "/step/about")
    expect(second.locator("#age_band-80_plus")).to_be_checked()  # nothing saved before the choice
    press(first, "Use the answers I just sent")
    expect(first.locator("h1")).to_have_text("What you have been told")
    second.goto(server + "/step/about")
    expect(second.locator("#age_band-18_to_49")).to_be_checked()
    shoot(second, "tabs-after-choice")


def test_the_browsers_back_button_then_continue_saves_without_a_conflict(any_page, server):
    page, _ = any_page
    to_step_two(page, server)
    fill_step(page, {**DEFAULTS, "walking_pattern": "no"})
    press(page, "Continue")
    expect(page.locator("h1")).to_have_text("What you have been told")
    with page.expect_navigation(wait_until="load"):
        page.go_back()
    expect(page.locator("h1")).to_have_text("You and your pain")
    click_label(page, "impact-9")
    with page.expect_navigation(wait_until="load") as sent:
        page.get_by_role("button", name="Continue").click()
    assert sent.value.status == 200  # after the redirect to the next step: saved, no 409
    expect(page.locator("h1")).to_have_text("What you have been told")
