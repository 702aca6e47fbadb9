"""What ten patients met, in a real browser: the printed summary names the clinic, its phone and the day
and keeps each heading with its text; at 200% text on a phone no word breaks and nothing spills out; a
nurse's inbox keeps each topic inside its column."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from journey import gunicorn
from playwright.sync_api import expect

from .pages import (
    REVIEWER,
    SHOTS,
    URGENT_JOURNEY,
    answer_all,
    fill_step,
    follow,
    press,
    send_form,
    shoot,
)

CLINIC = {"SCREENING_CLINIC_NAME": "Northside Spine Clinic", "SCREENING_CLINIC_PHONE": "555 010 0100"}

# Every word of the main text that the browser laid out on more than one line, and whether the page or a
# 0-10 scale is wider than its box (WCAG 2.2 1.4.4 and 1.4.10).
BROKEN_WORDS = """() => {
  const broken = [];
  const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const style = node.parentElement && getComputedStyle(node.parentElement);
    if (!style || style.display === 'none' || style.visibility === 'hidden') continue;
    if (node.parentElement.closest('.visually-hidden, [hidden]')) continue;
    for (const match of node.textContent.matchAll(/[^\\s-]+-?/g)) {  // a line may end after a hyphen
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
      if (tops.size > 1) broken.push(match[0]);
    }
  }
  return broken;
}"""
OVERFLOW = """() => {
  const wide = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) wide.push(`page ${root.scrollWidth} > ${root.clientWidth}`);
  for (const scale of document.querySelectorAll('.scale')) {
    if (scale.scrollWidth > scale.clientWidth) wide.push(`scale ${scale.scrollWidth} > ${scale.clientWidth}`);
  }
  const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim() || !node.parentElement || node.parentElement.closest('.visually-hidden')) continue;
    let box = node.parentElement;
    while (box && getComputedStyle(box).display === 'inline') box = box.parentElement;
    const range = document.createRange();
    range.selectNodeContents(node);
    const outer = box.getBoundingClientRect();
    for (const r of range.getClientRects()) {
      if (r.width && (r.right > outer.right + 1 || r.left < outer.left - 1))
        wide.push(`"${node.textContent.trim().slice(0, 30)}" spills out of ${box.tagName.toLowerCase()}.${box.className}`);
    }
  }
  return wide;
}"""


@pytest.fixture(scope="module")
def clinic_server(tmp_path_factory):
    """The app under gunicorn for a clinic with a name and a phone number; yields its base URL."""
    folder = tmp_path_factory.mktemp("clinic")
    env = {
        "SCREENING_DATABASE": str(folder / "clinic.db"),
        "SCREENING_SECRET_KEY": "browser-test-secret-key-0123456789",
        "SCREENING_ENV": "development",
        **CLINIC,
    }
    screening = str(Path(sys.executable).parent / "screening")
    subprocess.run([screening, "db", "migrate"], env={**os.environ, **env}, check=True, capture_output=True)
    subprocess.run(
        [screening, "reviewer", "add", REVIEWER[0], "--password-stdin"],
        env={**os.environ, **env},
        input=REVIEWER[1] + "\n",
        text=True,
        check=True,
        capture_output=True,
    )
    with gunicorn("wsgi:app", env, workers=1, log=folder / "server.log") as (base, _):
        yield base


def at_200_percent(page) -> None:
    """Set the root font size to 200%, as a browser's text-size setting does."""
    page.evaluate("document.documentElement.style.fontSize = '200%'")


@pytest.mark.parametrize(
    ("language", "start", "go_on", "see"),
    [("en", "Start now", "Continue", "See my summary"), ("es", "Empezar ahora", "Seguir", "Ver mi resumen")],
)
def test_words_wrap_whole_and_nothing_spills_at_200_percent_text(
    browser, clinic_server, language, start, go_on, see
):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale=language)
    page = context.new_page()
    problems = []

    def check(name: str) -> None:
        at_200_percent(page)
        broken, wide = page.evaluate(BROKEN_WORDS), page.evaluate(OVERFLOW)
        if broken or wide:
            problems.append(f"{name}: broken {broken}, too wide {wide}")
        shoot(page, f"text-200-{language}-{name}")
        for part in (".scale", ".choices"):
            if page.locator(part).count():
                page.locator(part).first.scroll_into_view_if_needed()
                break
        page.screenshot(path=str(SHOTS / f"text-200-{language}-{name}-view-360.png"))

    try:
        page.goto(clinic_server + "/")
        check("start")
        press(page, start)
        for _ in range(6):
            if page.locator("form[data-questionnaire]").count() == 0:
                break
            check("step-" + page.url.rsplit("/", 1)[-1])
            fill_step(page, URGENT_JOURNEY)
            press(page, go_on)
        check("check")
        press(page, see)
        check("summary")
        page.goto(clinic_server + "/about")
        check("about")
    finally:
        context.close()
    assert problems == [], "\n".join(problems)


# Each heading of the printed summary, and whether the block after it starts in the same column.
HEADINGS_AND_NEXT = """() => [...document.querySelectorAll('.summary h2, .summary h3, .summary h4')]
  .filter(h => h.offsetParent !== null && h.nextElementSibling)
  .map(h => [h.textContent.trim(), Math.round(h.getBoundingClientRect().left),
             Math.round(h.nextElementSibling.getBoundingClientRect().left)])"""


@pytest.mark.parametrize(
    ("language", "button", "made_on", "phone"),
    [
        ("en", "Start now", "Made on {day:%B} {day.day}, {day.year}.", "Phone: 555 010 0100"),
        ("es", "Empezar ahora", "Hecho el {day.day} de {month} de {day.year}.", "Teléfono: 555 010 0100"),
    ],
)
def test_the_printed_summary_names_the_clinic_its_phone_and_the_day(
    browser, clinic_server, language, button, made_on, phone
):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale=language)
    page = context.new_page()
    try:
        answer_all(
            page,
            clinic_server,
            {**URGENT_JOURNEY, "health_factors": ["diabetes", "smoking", "blood_thinners"]},
            start=button,
            go_on="Seguir" if language == "es" else "Continue",
        )
        press(page, "Ver mi resumen" if language == "es" else "See my summary")
        header = page.locator(".print-header")
        expect(header).to_be_hidden()
        page.emulate_media(media="print")
        expect(header).to_be_visible()
        day = datetime.now(UTC).date()
        months = [
            "enero",
            "febrero",
            "marzo",
            "abril",
            "mayo",
            "junio",
            "julio",
            "agosto",
            "septiembre",
            "octubre",
            "noviembre",
            "diciembre",
        ]
        text = header.inner_text()
        assert CLINIC["SCREENING_CLINIC_NAME"] in text and phone in text
        assert made_on.format(day=day, month=months[day.month - 1]) in text
        alone = [name for name, left, below in page.evaluate(HEADINGS_AND_NEXT) if abs(left - below) > 2]
        assert alone == [], "a heading at the foot of a column, its text in the next"
        page.screenshot(path=str(SHOTS / f"print-summary-{language}-1280.png"), full_page=True)
    finally:
        context.close()


def test_the_inbox_keeps_each_topic_inside_its_column_at_1280(browser, clinic_server, ruleset):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        answers = {
            **URGENT_JOURNEY,
            "diagnosis": ["herniated_disc", "stenosis", "degenerative_disc", "instability"],
            "pain_location": "leg",
            "treatments_tried": ["physical_therapy"],
            "treatment_helped": "no",
            "imaging": "none",
            "health_factors": ["smoking", "diabetes", "blood_thinners", "weight", "heart_lung"],
        }
        answer_all(page, clinic_server, answers)
        press(page, "See my summary")
        press(page, "Send my answers to the clinic")
        reference = send_form(page, "Toni Topics", phone="555 010 0142")
        page.goto(clinic_server + "/review/")
        page.get_by_label("Email").fill(REVIEWER[0])
        page.get_by_label("Password").fill(REVIEWER[1])
        press(page, "Sign in")
        assert page.url.endswith("/review/account/password"), "a password someone else chose is changed first"
        page.get_by_label("Current password").fill(REVIEWER[1])
        page.get_by_label("New password", exact=True).fill("nurse-chose-this-one-58")
        page.get_by_label("New password again").fill("nurse-chose-this-one-58")
        press(page, "Change password")
        row = page.locator("table.inbox tr", has=page.get_by_role("link", name=reference))
        titles = {rule.id: rule.title for rule in ruleset.rules}
        expect(row.locator(".why")).to_have_text(titles["night-pain"])
        spills = page.evaluate(
            """() => [...document.querySelectorAll('table.inbox td')].flatMap(cell => {
                 const box = cell.getBoundingClientRect();
                 return [...cell.querySelectorAll('*')].filter(el => {
                   const r = el.getBoundingClientRect();
                   return r.width && (r.right > box.right + 1 || r.left < box.left - 1);
                 }).map(el => el.textContent.trim().slice(0, 40));
               })"""
        )
        assert spills == []
        topics = row.locator("td.topics li").all_inner_texts()
        assert len(topics) >= 6 and "Benefits and limits" not in " ".join(topics)
        shoot(page, "nurse-inbox-topics")
        follow(page, page.get_by_role("link", name=reference))
        page.get_by_role("button", name="Move to Tried, not reached").click()
        expect(page.locator(".flash")).to_contain_text("Status changed to Tried, not reached.")
        follow(page, page.get_by_role("link", name="Back to the inbox"))
        expect(row.locator("td").last.locator("xpath=preceding-sibling::td[1]")).to_contain_text(
            "1 try, last"
        )
        shoot(page, "nurse-inbox-tried")
    finally:
        context.close()
