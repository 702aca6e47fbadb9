"""What patients stumbled on around sending: urgent senders told not to wait, a way to reach the
clinic, the summary kept to print after sending, and pages that say each thing once."""

from __future__ import annotations

import pytest
from conftest import DEFAULT_ANSWERS, Patient, page, text_of

from screening import create_app

URGENT = {"warning_signs": ["fever"]}
CONTACT = {"name": "Pat Example", "phone": "555 010 0199", "contact_method": "phone", "consent": "y"}


@pytest.fixture
def clinic_patient(app_config):
    app = create_app(
        {**app_config, "CLINIC_NAME": "Lakeside Spine Clinic", "CLINIC_PHONE": "+1 555 010 0199"}
    )
    return Patient(app.test_client(), app.extensions["ruleset"])


def sent(patient, diff: dict):
    patient.summary(diff)
    response = patient.send(**CONTACT)
    assert response.headers["Location"] == "/done"
    return page(patient.client.get("/done"))


def test_an_urgent_sender_reads_see_a_doctor_first_and_not_to_wait(patient):
    patient.summary(URGENT)
    send_page = page(patient.client.get("/send"))
    first = send_page.select_one("main > div, main > .urgent-panel")
    assert "urgent-panel" in send_page.select_one(".urgent-panel")["class"]
    assert (
        send_page.select_one(".urgent-panel").find_next("h1").get_text() == "Send your answers to the clinic"
    )
    assert first is not None
    done = page(patient.client.post("/send", data=_send_data(patient), follow_redirects=True))
    panel = done.select_one("main .urgent-panel")
    assert panel is not None and panel.find_next(class_="confirmation-panel") is not None
    assert "See a doctor soon" in panel.get_text()
    assert "Do not wait for the clinic to contact you." in panel.get_text(), (
        "true whether they chose a call or an email"
    )
    assert "call you" not in panel.get_text()


def _send_data(patient):
    return {**patient.send_fields(), **CONTACT}


def test_a_sender_who_is_not_urgent_gets_no_urgent_notice(patient):
    done = sent(patient, {})
    assert done.select_one(".urgent-panel") is None


def test_the_clinic_phone_is_in_the_footer_and_on_the_done_page(clinic_patient):
    start = page(clinic_patient.client.get("/"))
    footer = " ".join(start.select_one("footer").get_text().split())
    assert "Call Lakeside Spine Clinic at +1 555 010 0199." in footer
    assert start.select_one("footer a[href='tel:+15550100199']") is not None
    done = sent(clinic_patient, {})
    text = " ".join(done.select_one("main").get_text().split())
    assert "If you call Lakeside Spine Clinic at +1 555 010 0199, give them this reference." in text


def test_without_clinic_settings_no_phone_is_promised(patient):
    footer = page(patient.client.get("/")).select_one("footer").get_text(" ", strip=True)
    assert "Questions about this tool?" not in footer
    done = sent(patient, {})
    assert "Give it to the clinic if you call them." in done.get_text(" ", strip=True)


def test_the_summary_can_be_seen_and_printed_after_sending(patient, app):
    patient.summary({})
    summary_cards = [
        s["aria-labelledby"] for s in page(patient.client.get("/summary")).select("section.card")
    ]
    patient.send(**CONTACT)
    done = page(patient.client.get("/done"))
    link = done.find("a", string="See or print the summary you sent")
    again = page(patient.client.get(link["href"]))
    assert [s["aria-labelledby"] for s in again.select("section.card")] == summary_cards
    assert again.select_one("[data-print]") is not None
    with patient.client.session_transaction() as session:
        session["sent_until"] = "2000-01-01T00:00:00+00:00"
    assert patient.client.get("/done/summary").headers["Location"] == "/"
    assert patient.client.get("/done").headers["Location"] == "/"


def test_another_browser_cannot_see_a_sent_summary(patient, app):
    sent(patient, {})
    assert app.test_client().get("/done/summary").headers["Location"] == "/"


def test_finishing_says_first_that_it_deletes_the_summary_and_offers_printing(patient):
    html = page(patient.summary({}))
    steps = html.select_one(".next-steps").get_text(" ", strip=True)
    assert "We delete your answers and this summary. To keep the summary, print it or save it first." in steps
    assert html.select_one(".next-steps [data-print]") is not None


def test_the_summary_says_each_thing_once_and_opens_with_its_topics(patient, ruleset):
    html = page(
        patient.summary(
            {"prior_surgery": "never_helped", "surgery_when": "over_1_year", "health_factors": ["smoking"]}
        )
    )
    text = html.select_one(".summary").get_text(" ", strip=True)
    info = [level for level in ruleset.levels if not level.role][-1]
    assert text.count(info.label) <= 1
    index = [a["href"] for a in html.select(".topic-index a")]
    cards = ["#" + s["aria-labelledby"] for s in html.select("section.card")]
    assert index == cards and len(cards) > 1
    version = html.find(string=lambda s: s and "Made with rule set" in s).parent
    assert "print-only" in version["class"]


def test_the_check_page_has_a_back_link_to_the_last_step(patient):
    patient.complete(DEFAULT_ANSWERS)
    back = page(patient.client.get("/check")).select_one("a.back-link")
    assert back["href"] == "/step/health"


def test_the_topics_page_never_repeats_a_level_label(client):
    text = text_of(client.get("/topics"))
    assert "Get help now: Get help now" not in text
    assert "See a doctor soon: See a doctor soon" not in text


def test_a_send_form_belongs_to_the_answers_it_was_opened_for(patient, app):
    """A send form opened for one questionnaire, sent after the same browser started another, stores
    nothing until the patient has seen the new summary."""
    patient.summary({})
    old_form = {**patient.send_fields(), **CONTACT}
    patient.complete({**DEFAULT_ANSWERS, "health_factors": ["smoking"]})
    patient.client.get("/summary")
    response = patient.client.post("/send", data=old_form)
    assert response.status_code == 409
    html = page(response)
    assert "Your answers changed after you opened this page" in html.get_text()
    assert "card-smoking" in str(html.select_one(".changed-summary")), "the new summary is shown"
    assert html.find("input", attrs={"name": "name"})["value"] == CONTACT["name"]
    with app.app_context():
        from screening import get_db

        assert get_db().execute("SELECT count(*) FROM submissions").fetchone()[0] == 0
    confirmed = {
        **old_form,
        **{i["name"]: i.get("value", "") for i in html.select("form input[type=hidden]")},
    }
    assert patient.client.post("/send", data=confirmed).headers["Location"] == "/done"
