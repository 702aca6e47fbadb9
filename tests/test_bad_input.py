"""Random junk posted to the questionnaire's forms: always a clear page, never a crash, nothing stored."""

from __future__ import annotations

import json
import sqlite3
import uuid

from conftest import DEFAULT_ANSWERS, Patient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from screening import create_app

FIELDS = st.sampled_from(
    [*DEFAULT_ANSWERS, "shown", "csrf_token", "name", "email", "phone", "consent", "key", "x"]
)
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["none", "yes", "no", "11", "-1", "5", "leg", "<script>", "' OR 1=1 --", "\x00", "=cmd"]),
)
FORMS = st.lists(st.tuples(FIELDS, VALUES), max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(step=st.sampled_from(["safety", "about", "told", "treatments", "health"]), junk=FORMS)
def test_junk_on_a_step_gets_a_page_and_stores_nothing_invalid(app_config, ruleset, step, junk):
    database = f"{app_config['DATABASE']}-{uuid.uuid4().hex}"
    app = create_app({**app_config, "DATABASE": database, "WTF_CSRF_ENABLED": False})
    patient = Patient(app.test_client(), ruleset)
    patient.start()
    response = patient.client.post(f"/step/{step}", data=MultiDict(junk))
    assert response.status_code in (200, 302, 400), response.status_code
    con = sqlite3.connect(app.config["DATABASE"])
    try:
        row = con.execute("SELECT answers FROM drafts").fetchone()
        answers = json.loads(row[0]) if row else {}  # an emergency answer deletes the draft at once
    finally:
        con.close()
    assert ruleset.questionnaire.validate(answers) == [], "whatever was stored is valid"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=FORMS)
def test_junk_on_the_send_form_never_stores_an_invalid_submission(app_config, ruleset, junk):
    database = f"{app_config['DATABASE']}-{uuid.uuid4().hex}"
    app = create_app({**app_config, "DATABASE": database, "WTF_CSRF_ENABLED": False})
    patient = Patient(app.test_client(), ruleset)
    patient.complete(DEFAULT_ANSWERS)
    response = patient.client.post("/send", data=MultiDict(junk))
    assert response.status_code in (200, 302, 400, 409)
    con = sqlite3.connect(app.config["DATABASE"])
    try:
        rows = con.execute("SELECT name, email, phone, contact_method FROM submissions").fetchall()
    finally:
        con.close()
    for name, email, phone, method in rows:
        assert name.strip() and (email or phone) and method in ("email", "phone")
        assert ("consent", "y") in junk or any(k == "consent" and v for k, v in junk)
