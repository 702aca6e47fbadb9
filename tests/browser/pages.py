"""Drive the questionnaire in a real browser, the way a patient would."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from conftest import DEFAULT_ANSWERS
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
REVIEWER = ("reviewer@clinic.example", "correct horse battery staple 42")
NEWCOMER = "newcomer@clinic.example"
FIRST_PASSWORD = "given-by-an-admin-4471-k"  # what `reviewer add --password-stdin` was given
SIZES = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}


def shoot(page, name: str) -> None:
    """Save a full-page screenshot under test-artifacts/screenshots/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


DEFAULTS = {**DEFAULT_ANSWERS, "walking_pattern": "no", "sudden_pain_minor_event": "no"}
# A journey through every step to an urgent summary (night pain), with cards on several topics.
URGENT_JOURNEY = {
    **DEFAULTS,
    "warning_signs": ["night_pain"],
    "pain_location": "both",
    "walking_pattern": "often",
    "diagnosis": ["stenosis"],
    "health_factors": ["diabetes"],
}


def fill_step(page, answers: dict) -> None:
    """Tick the answers for every question visible on this step, including those an answer reveals."""
    done: set[str] = set()
    for _ in range(4):
        blocks = [b for b in page.locator(".question:visible").all() if b.get_attribute("id") not in done]
        if not blocks:
            return
        for block in blocks:
            qid = block.get_attribute("id")
            done.add(qid)
            if qid in answers:
                _tick(page, block, qid, answers[qid])


def _tick(page, block, qid: str, value) -> None:
    wanted = [str(v) for v in (value if isinstance(value, list) else [value])]
    # Read the ids first: a ":checked" locator would point at another box once one is unticked.
    ticked = [box.get_attribute("id") for box in block.locator("input[type=checkbox]:checked").all()]
    for box_id in ticked:
        box = page.locator(f"#{box_id}")
        if box.get_attribute("value") not in wanted:
            page.locator(f"label[for='{box_id}']").click()
            expect(box).not_to_be_checked()
    for item in wanted:
        box = page.locator(f"#{qid}-{item}")
        if not box.is_checked():
            page.locator(f"label[for='{qid}-{item}']").click()
            expect(box).to_be_checked()


def press(page, name: str, *, role: str = "button", exact: bool = False) -> None:
    """Click a button (or link) that loads a new page, and wait until that page has loaded.

    Playwright's click returns once the navigation has started, not when the new page is there; a
    check made at that moment can still see the old page, or a half-parsed new one.
    """
    follow(page, page.get_by_role(role, name=name, exact=exact))


def follow(page, locator) -> None:
    """Click a locator that loads a new page, and wait for that page's load event."""
    with page.expect_navigation(wait_until="load"):
        locator.click()


def tick(page, label: str) -> None:
    """Click a choice's label, as a patient taps it, and make sure its box is then ticked."""
    page.get_by_text(label).click()
    expect(page.get_by_label(label)).to_be_checked()


def answer_all(
    page, base: str, answers: dict, *, shots: str = "", start: str = "Start now", go_on: str = "Continue"
) -> None:
    """Start and answer every step until the page has no question form (the buttons named in the page's
    language)."""
    page.goto(base + "/")
    press(page, start)
    for _ in range(12):
        if page.locator("form[data-questionnaire]").count() == 0:
            return
        fill_step(page, answers)
        if shots:
            shoot(page, f"{shots}-{page.url.rsplit('/', 1)[-1].split('?')[0]}")
        press(page, go_on)
    raise AssertionError(f"the questionnaire did not end: {page.url}")


def send_form(page, name: str, *, email: str = "", phone: str = "") -> str:
    """Fill the send form (contact by email when given, else phone), send it, and return the reference."""
    page.get_by_label("Your name").fill(name)
    if email:
        page.get_by_label("Email address").fill(email)
    if phone:
        page.get_by_label("Phone number").fill(phone)
    tick(page, "By email" if email else "By phone")
    tick(page, "I agree that my answers")
    press(page, "Send to the clinic")
    if page.locator(".reference").count() == 0:
        errors = page.locator(".error-summary")
        said = errors.inner_text() if errors.count() else page.locator("main").inner_text()[:300]
        raise AssertionError(f"sending ended on {page.url}, not the confirmation: {said}")
    return page.locator(".reference").inner_text()


class Passkey:
    """A reviewer's passkey, made once by a real ceremony in Chromium's virtual authenticator (DevTools'
    WebAuthn domain) and then lent to each test's page: its private key and signature counter move
    from one virtual authenticator to the next, as a security key moves between computers."""

    OPTIONS: ClassVar[dict] = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }

    def __init__(self):
        self.credential: dict | None = None

    def authenticator(self, page) -> tuple:
        """Give the page a virtual authenticator (holding this passkey once it exists)."""
        cdp = page.context.new_cdp_session(page)
        cdp.send("WebAuthn.enable", {"enableUI": False})
        found = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": self.OPTIONS})["authenticatorId"]
        if self.credential:
            cdp.send("WebAuthn.addCredential", {"authenticatorId": found, "credential": self.credential})
        return cdp, found

    def take_back(self, authenticator: tuple) -> None:
        """Keep the passkey as the authenticator now holds it (its counter moved on with each use)."""
        cdp, found = authenticator
        (self.credential,) = cdp.send("WebAuthn.getCredentials", {"authenticatorId": found})["credentials"]


def sign_in(page, passkey: Passkey, email: str = REVIEWER[0], password: str = REVIEWER[1]) -> None:
    """On the sign-in page, sign in with the password and then the passkey, as the reviewers do."""
    authenticator = passkey.authenticator(page)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    press(page, "Sign in")
    assert page.url.split("?")[0].endswith("/review/two-step"), page.url
    press(page, "Use my passkey")
    passkey.take_back(authenticator)
    assert "/review/two-step" not in page.url, page.locator("main").inner_text()[:300]
