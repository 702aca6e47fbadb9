"""Every page type: axe-core finds no WCAG 2.2 A/AA violation, nothing scrolls sideways, targets are
large enough, and the summary prints on at most two pages without navigation or buttons."""

from __future__ import annotations

import io

from axe_playwright_python.sync_playwright import Axe

from .pages import (
    DEFAULTS,
    URGENT_JOURNEY,
    answer_all,
    fill_step,
    press,
    send_form,
    shoot,
    sign_in,
)

AXE = Axe()
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}

# Targets smaller than 44 px: only links inside running text, which WCAG 2.5.8 exempts ("inline").
SMALL_TARGETS = """
() => {
  const out = [];
  const seen = new Set();
  for (const el of document.querySelectorAll('a, button, input, select, textarea, summary')) {
    if (el.type === 'hidden') continue;
    let box = el;
    if (el.matches('input[type=radio], input[type=checkbox]')) {
      box = document.querySelector(`label[for="${el.id}"]`) || el;
    }
    if (seen.has(box)) continue;
    seen.add(box);
    const r = box.getBoundingClientRect();
    const style = getComputedStyle(box);
    if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') continue;
    if (box.classList.contains('skip-link')) continue;
    const inline = el.tagName === 'A' && el.closest('p, li, td, dd, caption') &&
      (el.closest('p, li, td, dd, caption').textContent.trim() !== el.textContent.trim());
    if (inline) continue;
    if (Math.min(r.width, r.height) < 44) out.push(`${el.tagName.toLowerCase()} "${(el.textContent || el.name || '').trim().slice(0, 30)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  return out;
}
"""


def check_page(page, name: str, problems: list[str]) -> None:
    """Run axe and the layout checks on the page as it is now; note every problem."""
    shoot(page, name)
    results = AXE.run(page, options=AXE_OPTIONS)
    for violation in results.response["violations"]:
        targets = [", ".join(node["target"]) for node in violation["nodes"]][:3]
        problems.append(f"{name}: axe {violation['id']} ({violation['impact']}) at {targets}")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if overflow > 0:
        problems.append(f"{name}: scrolls sideways by {overflow} px")
    for target in page.evaluate(SMALL_TARGETS):
        problems.append(f"{name}: small target {target}")


def test_every_patient_page_type(sized_page, server):
    page = sized_page
    problems: list[str] = []
    page.goto(server + "/")
    check_page(page, "start", problems)
    press(page, "Start now")
    press(page, "Continue")
    check_page(page, "step-with-errors", problems)
    for _ in range(5):
        check_page(page, f"step-{page.url.rsplit('/', 1)[-1]}", problems)
        fill_step(page, URGENT_JOURNEY)
        press(page, "Continue")
    check_page(page, "check-answers", problems)
    press(page, "See my summary")
    check_page(page, "summary-urgent", problems)
    press(page, "Send my answers to the clinic")
    check_page(page, "send", problems)
    press(page, "Send to the clinic")
    check_page(page, "send-with-errors", problems)
    send_form(page, "Axe Tester", email="axe.tester@example.com")
    check_page(page, "confirmation", problems)
    for name, diff in [
        ("summary-discuss", {"diagnosis": ["herniated_disc"], "pain_location": "leg"}),
        ("summary-consider", {"health_factors": ["weight"]}),
        ("summary-info", {}),
    ]:
        answer_all(page, server, {**DEFAULTS, **diff})
        press(page, "See my summary")
        check_page(page, name, problems)
    press(page, "Finish without sending")
    check_page(page, "finished", problems)
    answer_all(page, server, {**DEFAULTS, "emergency_signs": ["leg_weakness"]})
    check_page(page, "emergency", problems)
    page.goto(server + "/topics")
    check_page(page, "topics", problems)
    page.goto(server + "/nowhere")
    check_page(page, "not-found", problems)
    assert problems == [], "\n".join(problems)


def test_every_reviewer_page_type(sized_page, server, passkey):
    page = sized_page
    problems: list[str] = []
    answer_all(page, server, DEFAULTS)
    press(page, "See my summary")
    press(page, "Send my answers to the clinic")
    reference = send_form(page, "Page Checker", phone="555 010 0100")
    page.goto(server + "/review/")
    check_page(page, "sign-in", problems)
    sign_in(page, passkey)
    check_page(page, "inbox", problems)
    page.goto(f"{server}/review/submissions/{reference}")
    check_page(page, "submission", problems)
    for path, name in [
        ("/review/overview", "overview"),
        ("/review/audit", "audit"),
        ("/review/admin/reviewers", "admin-reviewers"),
        ("/review/account/two-step", "your-sign-in"),
        ("/review/confirm?next=/review/", "confirm"),
        ("/review/account/password", "password"),
    ]:
        page.goto(server + path)
        check_page(page, name, problems)
    press(page, "Change password")
    check_page(page, "password-with-errors", problems)
    assert problems == [], "\n".join(problems)


def test_the_summary_prints_on_two_pages_at_most_without_navigation_or_buttons(page, server):
    from pypdf import PdfReader

    answer_all(
        page,
        server,
        {
            **DEFAULTS,
            "diagnosis": ["herniated_disc", "stenosis"],
            "pain_location": "leg",
            "walking_pattern": "often",
            "health_factors": ["smoking", "diabetes"],
        },
    )
    press(page, "See my summary")
    page.emulate_media(media="print")
    hidden = page.evaluate(
        """() => [...document.querySelectorAll('header, footer, nav, button, form, .back-link')]
                 .filter(el => getComputedStyle(el).display !== 'none').map(el => el.outerHTML.slice(0, 60))"""
    )
    assert hidden == []
    pdf = page.pdf(format="Letter", print_background=True)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    assert pages <= 2, f"{pages} pages"
