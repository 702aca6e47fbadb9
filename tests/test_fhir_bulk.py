"""FHIR Bulk Data `$export` (async kick-off, poll, manifest, NDJSON files for the token that asked,
DELETE, a day's keeping), responses that stay true after a rule change, and a seed without emergencies."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from conftest import RULES_DIR, Patient, make_token
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from screening import create_app, get_db, store
from screening.cli import cli
from screening.seed import seed

BASE = "https://clinic.example.org"
MODELS = {
    "Questionnaire": Questionnaire,
    "QuestionnaireResponse": QuestionnaireResponse,
    "Patient": FhirPatient,
    "Observation": Observation,
}
ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}

pytestmark = pytest.mark.both_stores


@pytest.fixture
def app_config(app_config, tmp_path, store_kind):
    return {**app_config, "BASE_URL": BASE, "EXPORT_DIR": str(tmp_path / "exports")}


@pytest.fixture
def token(runner):
    return make_token(runner, "ehr-engine")


@pytest.fixture
def seeded(app, ruleset) -> list[str]:
    with app.app_context():
        db = get_db()
        seed(db, ruleset, lambda outcome: "<p>seeded</p>", 30, make_reference=store.new_reference, rng_seed=5)
        return [
            row["reference"] for row in db.rows("SELECT reference FROM submissions ORDER BY received, id")
        ]


def call(client, token: str, method: str, url: str, **headers):
    return client.open(
        url.removeprefix(BASE), method=method, headers={"Authorization": f"Bearer {token}", **headers}
    )


def kick_off(client, token: str, url: str = "/fhir/$export") -> str:
    reply = call(client, token, "GET", url, **ASYNC)
    assert reply.status_code == 202, reply.get_json()
    return reply.headers["Content-Location"]


def manifest(client, token: str, poll_url: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        reply = call(client, token, "GET", poll_url)
        if reply.status_code == 200:
            assert reply.content_type == "application/json; charset=utf-8" and "Expires" in reply.headers
            return reply.get_json()
        assert reply.status_code == 202, reply.get_json()
        assert reply.headers["Retry-After"] == "2" and " of " in reply.headers["X-Progress"]
        time.sleep(0.05)
    raise AssertionError("the export did not finish in a minute")


def test_a_system_export_from_kick_off_to_files(client, token, seeded):
    poll_url = kick_off(client, token)
    assert poll_url.startswith(f"{BASE}/fhir/$export-poll/")
    found = manifest(client, token, poll_url)
    assert found["requiresAccessToken"] is True and found["error"] == []
    assert found["request"] == "http://localhost/fhir/$export"
    counts = {entry["type"]: entry["count"] for entry in found["output"]}
    assert counts == {"Questionnaire": 1, "Patient": 30, "QuestionnaireResponse": 30, "Observation": 30}
    for entry in found["output"]:
        reply = call(client, token, "GET", entry["url"])
        assert reply.status_code == 200 and reply.mimetype == "application/fhir+ndjson"
        lines = reply.get_data(as_text=True).splitlines()
        reply.close()  # send_file's handle
        assert len(lines) == entry["count"]
        for text in lines:
            MODELS[entry["type"]].model_validate(json.loads(text))
        if entry["type"] == "Patient":
            assert [json.loads(text)["id"] for text in lines] == seeded


def test_only_the_token_that_asked_gets_the_status_and_files(client, runner, token, seeded):
    other = make_token(runner, "someone-else")
    poll_url = kick_off(client, token)
    found = manifest(client, token, poll_url)
    for url in (poll_url, found["output"][0]["url"]):
        reply = call(client, other, "GET", url)
        assert reply.status_code == 404
        assert reply.get_json()["issue"][0]["diagnostics"] == (
            "There is no such export for this token (or it expired)."
        )
        assert client.get(url.removeprefix(BASE)).status_code == 401


@pytest.mark.parametrize(
    ("query", "headers", "status", "text"),
    [
        ("", {}, 400, "$export runs asynchronously: send Prefer: respond-async."),
        ("_outputFormat=text/csv", ASYNC, 400, "_outputFormat: only application/fhir+ndjson is served."),
        ("_typeFilter=Patient%3Factive%3Dtrue", ASYNC, 400, "$export does not support: _typeFilter."),
        ("_type=Encounter", ASYNC, 400, None),
        ("_since=yesterday", ASYNC, 400, "_since takes an instant, like 2026-11-01T00:00:00Z."),
    ],
)
def test_refused_kick_offs(client, token, query, headers, status, text):
    reply = call(client, token, "GET", f"/fhir/$export?{query}", **headers)
    assert reply.status_code == status
    if text is not None:
        assert reply.get_json()["issue"][0]["diagnostics"] == text


def test_type_since_patient_level_and_scopes(client, runner, token, seeded):
    found = manifest(client, token, kick_off(client, token, "/fhir/$export?_type=Observation,Patient"))
    assert [entry["type"] for entry in found["output"]] == ["Patient", "Observation"]
    found = manifest(client, token, kick_off(client, token, "/fhir/Patient/$export"))
    assert [entry["type"] for entry in found["output"]] == ["Patient", "QuestionnaireResponse", "Observation"]
    found = manifest(client, token, kick_off(client, token, "/fhir/$export?_since=2099-01-01T00:00:00Z"))
    assert found["output"] == [{"type": "Questionnaire", "url": found["output"][0]["url"], "count": 1}]
    limited = make_token(runner, "responses-only", "system/QuestionnaireResponse.read")
    found = manifest(client, limited, kick_off(client, limited))
    assert [entry["type"] for entry in found["output"]] == ["Questionnaire", "QuestionnaireResponse"]
    reply = call(client, limited, "GET", "/fhir/$export?_type=Patient", **ASYNC)
    assert reply.status_code == 403


def test_delete_cancels_and_removes_the_files(app, client, token, seeded):
    poll_url = kick_off(client, token)
    found = manifest(client, token, poll_url)
    folder = Path(app.config["EXPORT_DIR"]) / poll_url.rsplit("/", 1)[1]
    assert folder.is_dir()
    assert call(client, token, "DELETE", poll_url).status_code == 202
    assert not folder.exists()
    assert call(client, token, "GET", poll_url).status_code == 404
    assert call(client, token, "GET", found["output"][0]["url"]).status_code == 404


def test_files_are_kept_a_day_and_a_stalled_job_is_reported(app, client, token, seeded):
    poll_url = kick_off(client, token)
    manifest(client, token, poll_url)
    job_id = poll_url.rsplit("/", 1)[1]
    with app.app_context():
        old = store.shift(store.now(), hours=-25)
        get_db().write("UPDATE bulk_exports SET created = ? WHERE id = ?", [old, job_id])
    assert call(client, token, "GET", poll_url).status_code == 404
    assert not (Path(app.config["EXPORT_DIR"]) / job_id).exists()
    stalled = kick_off(client, token)
    manifest(client, token, stalled)
    with app.app_context():
        get_db().write(
            "UPDATE bulk_exports SET status = 'in-progress', heartbeat = ? WHERE id = ?",
            [store.shift(store.now(), minutes=-10), stalled.rsplit("/", 1)[1]],
        )
    reply = call(client, token, "GET", stalled)
    assert reply.status_code == 500
    assert (
        reply.get_json()["issue"][0]["diagnostics"]
        == "The export stopped (its server restarted); start again."
    )


def test_a_response_keeps_the_questionnaire_it_was_made_with(app, ruleset, tmp_path, token, app_config):
    """After a rule change, an old response keeps its own words; new ones get the new words."""
    patient = Patient(app.test_client(), ruleset)
    patient.summary({"impact": 7})
    patient.send(name="Ria Record", phone="555 010 0155", email="", contact_method="phone", consent="y")
    with app.app_context():
        old_reference = get_db().scalar("SELECT reference FROM submissions")
    changed = tmp_path / "rules"
    shutil.copytree(RULES_DIR, changed)
    text = (changed / "questionnaire.yaml").read_text()
    old_label = ruleset.questionnaire.questions["impact"].label
    (changed / "questionnaire.yaml").write_text(text.replace(old_label, "How much does it hold you back?", 1))
    later = create_app({**app_config, "RULES_DIR": str(changed)})
    assert later.extensions["ruleset"].hash != ruleset.hash
    client = later.test_client()
    response = call(client, token, "GET", f"/fhir/QuestionnaireResponse/{old_reference}").get_json()
    texts = {item["linkId"]: item["text"] for group in response["item"] for item in group["item"]}
    assert texts["impact"] == old_label
    questionnaire = client.get("/fhir/Questionnaire/back-pain-screening").get_json()
    now = {item["linkId"]: item["text"] for group in questionnaire["item"] for item in group["item"]}
    assert now["impact"] == "How much does it hold you back?"


def test_the_seed_stores_no_emergency(app, runner, ruleset):
    assert runner.invoke(cli, ["seed", "--count", "400", "--seed", "2"]).exit_code == 0
    with app.app_context():
        rows = get_db().rows("SELECT answers FROM submissions")
    assert len(rows) == 400
    assert not [row for row in rows if ruleset.is_emergency(ruleset.evaluate(json.loads(row["answers"])))]
