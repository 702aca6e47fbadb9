"""Every patient page is well formed; each validation message is exact; bad input stores nothing."""

from __future__ import annotations

import json

import pytest
from conftest import DEFAULT_ANSWERS, page, text_of

from screening import store


def assert_well_formed(response):
    """One <title>, one <h1>, a label for every visible input, a legend for every radio/checkbox group."""
    html = page(response)
    assert html.title and html.title.get_text(strip=True), "page has a title"
    assert len(html.find_all("h1")) == 1, "exactly one h1"
    assert html.html["lang"] == "en"
    for field in html.find_all(["input", "select", "textarea"]):
        if field.get("type") in ("hidden", "submit"):
            continue
        assert field.get("id") and html.find("label", attrs={"for": field["id"]}), f"label for {field}"
        if field.get("type") in ("radio", "checkbox") and field.get("name") != "consent":
            fieldset = field.find_parent("fieldset")
            assert fieldset is not None and fieldset.find("legend"), (
                f"fieldset and legend for {field['name']}"
            )


def draft_answers(app) -> dict:
    db = store.connect(app.config["DATABASE"])
    try:
        return json.loads(db.scalar("SELECT answers FROM drafts"))
    finally:
        db.close()


def test_every_patient_page_is_well_formed(patient, client):
    pages = [client.get("/"), client.get("/topics"), client.get("/step/about")]
    patient.start()
    for step in patient.ruleset.questionnaire.steps:
        pages.append(client.get(f"/step/{step.id}"))
        patient.answer(step.id, {**DEFAULT_ANSWERS, "pain_location": "leg", "walking_pattern": "no"})
    pages += [client.get("/check"), client.get("/summary"), client.get("/send")]
    pages.append(patient.send(name="", contact_method="email"))
    pages.append(patient.send(name="Di", email="di@example.com", contact_method="email", consent="y"))
    pages.append(client.get("/done"))
    pages.append(client.get("/finished"))
    pages.append(client.get("/missing-page"))
    patient.start()
    pages.append(patient.answer("safety", {**DEFAULT_ANSWERS, "major_trauma": "yes"}))
    for response in pages:
        if response.status_code == 302:
            response = client.get(response.headers["Location"])
        assert_well_formed(response)


@pytest.mark.parametrize(
    ("step", "change", "field", "message"),
    [
        (
            "safety",
            {"emergency_signs": None},
            "emergency_signs",
            'Choose at least one answer. If none of them fit, choose "None of these".',
        ),
        ("safety", {"major_trauma": None}, "major_trauma", "Choose an answer."),
        (
            "safety",
            {"warning_signs": ["none", "fever"]},
            "warning_signs",
            'You chose "None of these" and other answers too. Choose "None of these" alone, or untick it.',
        ),
        ("safety", {"major_trauma": "maybe"}, "major_trauma", "Choose one of the answers on the list."),
        (
            "safety",
            {"emergency_signs": ["none", "hacked"]},
            "emergency_signs",
            "Choose one of the answers on the list.",
        ),
        ("about", {"impact": None}, "impact", "Choose a number from 0 to 10."),
        ("about", {"impact": "11"}, "impact", "Choose one of the answers on the list."),
        ("about", {"impact": "-1"}, "impact", "Choose one of the answers on the list."),
        ("about", {"age_band": "<script>"}, "age_band", "Choose one of the answers on the list."),
        (
            "told",
            {"diagnosis": ["not_told", "stenosis"]},
            "diagnosis",
            'You chose "No one has told me what is causing it" and other answers too. '
            'Choose "No one has told me what is causing it" alone, or untick it.',
        ),
        (
            "treatments",
            {"treatments_tried": ["nothing", "injection"]},
            "treatments_tried",
            'You chose "Nothing yet" and other answers too. Choose "Nothing yet" alone, or untick it.',
        ),
        ("treatments", {"treatment_helped": None}, "treatment_helped", "Choose an answer."),
        (
            "health",
            {"health_factors": None},
            "health_factors",
            'Choose at least one answer. If none of them fit, choose "None of these".',
        ),
    ],
)
def test_step_validation_messages(patient, app, step, change, field, message):
    patient.start()
    for earlier in patient.ruleset.questionnaire.steps:
        if earlier.id == step:
            break
        patient.answer(earlier.id, DEFAULT_ANSWERS)
    before = draft_answers(app)
    data = patient.step_data(step, DEFAULT_ANSWERS)
    for name, value in change.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    response = patient.client.post(f"/step/{step}", data=data)
    assert response.status_code == 400
    html = page(response)
    assert html.find(id=f"{field}-error").get_text(" ", strip=True) == f"Error: {message}"
    summary = html.select_one(".error-summary")
    assert summary.find("a").get_text(strip=True).endswith(message)
    assert summary.find("a")["href"].startswith(f"#{field}-")
    assert html.title.get_text().startswith("Error: ")
    assert draft_answers(app) == before, "nothing is stored from an invalid step"


CONTACT = {
    "name": "Ann Lee",
    "email": "ann@example.com",
    "phone": "",
    "contact_method": "email",
    "consent": "y",
}


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"name": "   "}, {"name": "Enter your name."}),
        ({"name": "x" * 101}, {"name": "Your name must be 100 letters or fewer."}),
        (
            {"email": "", "phone": ""},
            {"contact_method": "Give us a phone number or an email address, so we can reach you."},
        ),
        ({"email": "ann@"}, {"email": "Enter an email address like name@example.com."}),
        ({"phone": "call me"}, {"phone": "Enter a phone number with 7 to 20 digits, like 555 010 0199."}),
        ({"phone": "123"}, {"phone": "Enter a phone number with 7 to 20 digits, like 555 010 0199."}),
        ({"contact_method": ""}, {"contact_method": "Choose how you would like us to contact you."}),
        ({"contact_method": "fax"}, {"contact_method": "Choose how you would like us to contact you."}),
        (
            {"contact_method": "phone"},
            {"contact_method": "You chose phone. Enter your phone number, or choose email."},
        ),
        (
            {"email": "", "phone": "555 010 0199"},
            {"contact_method": "You chose email. Enter your email address, or choose phone."},
        ),
        ({"consent": ""}, {"consent": "Tick the box to say we may send your answers to the clinic."}),
    ],
)
def test_send_form_messages_and_nothing_stored(patient, app, change, errors):
    patient.summary({})
    data = {k: v for k, v in {**CONTACT, **change}.items() if v != ""}
    response = patient.send(**data)
    assert response.status_code == 400
    html = page(response)
    for field, message in errors.items():
        assert html.find(id=f"{field}-error").get_text(" ", strip=True) == f"Error: {message}"
    assert [a.get_text(strip=True) for a in html.select(".error-summary a")] == list(errors.values())
    db = store.connect(app.config["DATABASE"])
    assert db.scalar("SELECT count(*) FROM submissions") == 0
    db.close()


def test_consent_box_starts_unticked(patient):
    patient.summary({})
    assert not page(patient.client.get("/send")).find(id="consent").has_attr("checked")


def test_a_lost_form_token_shows_the_step_again_with_the_answers_kept(patient):
    patient.start()
    data = patient.step_data("safety", {**DEFAULT_ANSWERS, "warning_signs": ["night_pain"]})
    data["csrf_token"] = "stale-token"
    response = patient.client.post("/step/safety", data=data)
    assert response.status_code == 400
    assert "This page was open a long time, so we could not save it." in text_of(response)
    html = page(response)
    assert html.find("input", attrs={"name": "warning_signs", "value": "night_pain"}).has_attr("checked")
    assert html.find("input", attrs={"name": "csrf_token"})["value"] != "stale-token"


def test_a_lost_form_token_on_the_send_form_keeps_the_details_but_not_the_consent(patient):
    patient.summary({})
    response = patient.send(**{**CONTACT, "csrf_token": "stale"})
    assert response.status_code == 400
    assert "we could not send it" in text_of(response)
    html = page(response)
    assert html.find(id="name")["value"] == "Ann Lee"
    assert not html.find(id="consent").has_attr("checked")


def test_security_headers_and_no_store(patient, client):
    patient.start()
    for url in ["/", "/step/safety", "/topics"]:
        response = client.get(url)
        headers = response.headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Cache-Control"] == "no-store"
    with client.get("/static/site.css") as static:
        assert "no-store" not in (static.headers.get("Cache-Control") or "")


def test_no_inline_script_or_style_anywhere(patient, client):
    patient.complete(DEFAULT_ANSWERS)
    for url in ["/", "/step/about", "/check", "/summary", "/send", "/topics"]:
        html = page(client.get(url))
        assert all(script.get("src") for script in html.find_all("script")), url
        assert not html.find(attrs={"style": True}), url
        assert not html.find("style"), url


def test_a_request_that_is_too_large_is_refused(patient):
    patient.start()
    response = patient.client.post("/step/safety", data={"emergency_signs": "x" * 70_000})
    assert response.status_code == 413
    assert "Too much was sent" in text_of(response)


def test_production_cookies_are_secure(app_config):
    from screening import create_app

    app = create_app({**app_config, "SCREENING_ENV": "production"})
    response = app.test_client().post("/start", data={}, base_url="https://clinic.example")
    assert response.status_code == 400  # no form token: refused, and says so plainly
    assert "Please try that again" in text_of(response)
    client = app.test_client()
    home = client.get("/", base_url="https://clinic.example")
    found = page(home).find("input", attrs={"name": "csrf_token"})["value"]
    response = client.post("/start", data={"csrf_token": found}, base_url="https://clinic.example")
    assert "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_every_page_has_a_favicon_and_a_description(client):
    for url in ("/", "/topics", "/about", "/review/sign-in"):
        html = page(client.get(url))
        icon = html.find("link", rel="icon")
        served = client.get(icon["href"])
        served.close()
        assert served.status_code == 200 and served.mimetype == "image/svg+xml", url
        assert len(html.find("meta", attrs={"name": "description"})["content"]) > 50, url
