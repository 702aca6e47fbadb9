"""A browser that prefers Spanish: every patient page type in Spanish at phone and desktop size, with
axe-core's checks and a screenshot each, and a switch to English part-way that keeps the answers."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .pages import DEFAULTS, SIZES, URGENT_JOURNEY, answer_all, fill_step, follow, press
from .test_accessibility import check_page


@pytest.fixture(params=list(SIZES))
def spanish_page(browser, request):
    context = browser.new_context(viewport=SIZES[request.param], locale="es-MX")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def answer_all_es(page, base: str, answers: dict) -> None:
    answer_all(page, base, answers, start="Empezar ahora", go_on="Seguir")


def test_every_patient_page_type_in_spanish(spanish_page, server):
    page = spanish_page
    problems: list[str] = []
    page.goto(server + "/")
    assert page.locator("html").get_attribute("lang") == "es"
    expect(page.locator("a.language-link")).to_have_text("English")
    check_page(page, "es-start", problems)
    press(page, "Empezar ahora")
    press(page, "Seguir")
    expect(page.locator(".error-summary")).to_contain_text("Hay un problema")
    check_page(page, "es-step-with-errors", problems)
    for _ in range(5):
        check_page(page, f"es-step-{page.url.rsplit('/', 1)[-1]}", problems)
        fill_step(page, URGENT_JOURNEY)
        press(page, "Seguir")
    check_page(page, "es-check-answers", problems)
    press(page, "Ver mi resumen")
    expect(page.locator("h1")).to_have_text("Su resumen")
    check_page(page, "es-summary-urgent", problems)
    press(page, "Enviar mis respuestas a la clínica")
    check_page(page, "es-send", problems)
    press(page, "Enviar a la clínica")
    expect(page.locator(".error-summary")).to_contain_text("Escriba su nombre.")
    check_page(page, "es-send-with-errors", problems)
    page.get_by_label("Su nombre").fill("Rosa Díaz")
    page.get_by_label("Número de teléfono").fill("555 010 0199")
    page.get_by_text("Por teléfono").click()
    page.get_by_text("Acepto que mis respuestas").click()
    press(page, "Enviar a la clínica")
    expect(page.locator("h1")).to_have_text("Sus respuestas se enviaron")
    check_page(page, "es-confirmation", problems)
    answer_all_es(page, server, {**DEFAULTS, "diagnosis": ["herniated_disc"], "pain_location": "leg"})
    press(page, "Ver mi resumen")
    check_page(page, "es-summary-discuss", problems)
    press(page, "Terminar sin enviar")
    check_page(page, "es-finished", problems)
    answer_all_es(page, server, {**DEFAULTS, "emergency_signs": ["leg_weakness"]})
    expect(page.locator("h1")).to_have_text("Busque ayuda ahora")
    check_page(page, "es-emergency", problems)
    for path, name in (("/topics", "es-topics"), ("/about", "es-about"), ("/nowhere", "es-not-found")):
        page.goto(server + path)
        check_page(page, name, problems)
    assert problems == [], "\n".join(problems)


def test_switching_to_english_part_way_keeps_the_answers(spanish_page, server):
    page = spanish_page
    page.goto(server + "/")
    press(page, "Empezar ahora")
    fill_step(page, DEFAULTS)
    press(page, "Seguir")
    fill_step(page, {**DEFAULTS, "age_band": "65_to_79"})
    press(page, "Seguir")
    expect(page.locator("h1")).to_have_text("Lo que le han dicho")
    follow(page, page.locator("button.language-link"))
    assert page.url.endswith("/step/told")
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.locator("h1")).to_have_text("What you have been told")
    follow(page, page.get_by_role("link", name="Back", exact=True))
    expect(page.locator("#age_band-65_to_79")).to_be_checked()
    expect(page.locator("button.language-link")).to_have_text("Español")
