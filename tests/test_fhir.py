"""FHIR R4 for the clinic's record system: every resource valid against the R4B models, the
Questionnaire's enableWhen agreeing with the engine, responses that map back to the answers given, and
a read-only API behind bearer tokens, audited."""

from __future__ import annotations

import json
import random

import pytest
import yaml
from conftest import DEFAULT_ANSWERS, RULES_DIR, Patient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhirpathpy import evaluate
from fhirpathpy.models import models

from screening import get_db
from screening.cli import cli
from screening.engine.answers import random_answer, random_answers
from screening.engine.cases import case_answers
from screening.fhir import resources as fhir
from screening.fhir.form import Form

SYSTEMS = fhir.Systems("https://clinic.example.org")
FHIR_JSON = "application/fhir+json"


@pytest.fixture
def app_config(app_config, store_kind):
    return {**app_config, "BASE_URL": "https://clinic.example.org"}


@pytest.fixture
def token(app, runner):
    result = runner.invoke(cli, ["api-token", "add", "ehr-engine"])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def sent(app, diff: dict) -> str:
    patient = Patient(app.test_client(), app.extensions["ruleset"])
    patient.summary(diff)
    patient.send(
        name="Ria Record", phone="555 010 0155", email="ria@example.com", contact_method="email", consent="y"
    )
    with app.app_context():
        return get_db().execute("SELECT reference FROM submissions ORDER BY id DESC").fetchone()[0]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# --- the Questionnaire ------------------------------------------------------------------------------


def test_metadata_and_the_questionnaire_are_public_and_valid(client, ruleset):
    meta = client.get("/fhir/metadata")
    assert meta.status_code == 200 and meta.mimetype == FHIR_JSON
    capability = CapabilityStatement.model_validate(meta.get_json())
    assert capability.fhirVersion == "4.0.1"
    bundle = Bundle.model_validate(client.get("/fhir/Questionnaire").get_json())
    assert bundle.type == "searchset" and len(bundle.entry) == 1
    read = client.get(f"/fhir/Questionnaire/{fhir.QUESTIONNAIRE_ID}").get_json()
    questionnaire = Questionnaire.model_validate(read)
    assert questionnaire.version == ruleset.version
    assert [g.linkId for g in questionnaire.item] == [s.id for s in ruleset.questionnaire.steps]
    items = {i.linkId: i for g in questionnaire.item for i in g.item}
    assert list(items) == list(ruleset.questionnaire.questions)
    assert items["emergency_signs"].repeats is True and items["major_trauma"].repeats is False
    assert [o.valueCoding.code for o in items["duration"].answerOption] == [
        o.id for o in ruleset.questionnaire.questions["duration"].options
    ]
    assert items["impact"].type == "integer" and items["surgery_when"].required is False
    assert client.get("/fhir/Questionnaire/other").status_code == 404


def enabled(item: dict, response: dict) -> bool:
    """Evaluate an item's enableWhen (R4 operator definitions) or its SDC enableWhenExpression."""
    for ext in item.get("extension", []):
        if ext["url"] == fhir.ENABLE_WHEN_EXPRESSION:
            result = evaluate(
                response, ext["valueExpression"]["expression"], {"resource": response}, model=models["r4"]
            )
            return result == [True]
    if "enableWhen" not in item:
        return True
    answers = {i["linkId"]: i["answer"] for g in response["item"] for i in g["item"]}
    results = []
    for when in item["enableWhen"]:
        given = answers.get(when["question"], [])
        if "answerCoding" in when:
            values, wanted = (
                [a["valueCoding"]["code"] for a in given if "valueCoding" in a],
                when["answerCoding"]["code"],
            )
        else:
            values, wanted = [a["valueInteger"] for a in given if "valueInteger" in a], when["answerInteger"]
        op = when["operator"]
        ok = {
            "=": any(v == wanted for v in values),
            "!=": any(v != wanted for v in values),
            ">=": any(v >= wanted for v in values),
            "<=": any(v <= wanted for v in values),
            ">": any(v > wanted for v in values),
            "<": any(v < wanted for v in values),
        }[op]
        results.append(ok)
    return all(results) if item.get("enableBehavior") == "all" else any(results)


def answer_sets(ruleset):
    cases = yaml.safe_load((RULES_DIR / "cases.yaml").read_text())
    sets = [case_answers(cases.get("defaults", {}), case) for case in cases["cases"]]
    rng = random.Random(14)
    questions = list(ruleset.questionnaire.questions.values())
    for _ in range(300):
        sets.append(random_answers(ruleset, rng))
        sets.append({q.id: random_answer(q, rng) for q in questions if rng.random() < 0.8})
    return sets


def conditional(item: dict) -> bool:
    return "enableWhen" in item or any(
        e["url"] == fhir.ENABLE_WHEN_EXPRESSION for e in item.get("extension", [])
    )


def test_enable_when_agrees_with_the_engine_for_every_case_and_random_answers(ruleset):
    """An item is enabled when its group is and it is (R4); together they say what show_when says."""
    questionnaire = fhir.questionnaire(ruleset, SYSTEMS)
    pairs = [(g, i) for g in questionnaire["item"] for i in g["item"]]
    assert {i["linkId"] for g, i in pairs if conditional(g) or conditional(i)} == {
        q.id for q in ruleset.questionnaire.questions.values() if q.show_when
    }
    disagreements = []
    for raw in answer_sets(ruleset):
        answers = ruleset.questionnaire.clean(raw)
        row = {
            "reference": "T-1",
            "received": "2026-11-22T12:00:00+00:00",
            "answers": answers,
            "ruleset_version": ruleset.version,
        }
        response = fhir.questionnaire_response(row, Form.of(ruleset), SYSTEMS)
        for group, item in pairs:
            question = ruleset.questionnaire.questions[item["linkId"]]
            engine = question.show_when is None or question.show_when.test(answers)
            if (enabled(group, response) and enabled(item, response)) != engine:
                disagreements.append((item["linkId"], answers))
    assert disagreements == []


def test_a_childs_hidden_steps_are_hidden_at_their_group(ruleset):
    """Each step with a show_when carries it on its group, and its items no longer repeat it."""
    groups = {g["linkId"]: g for g in fhir.questionnaire(ruleset, SYSTEMS)["item"]}
    hidden = [s.id for s in ruleset.questionnaire.steps if s.show_when is not None]
    assert hidden and all(conditional(groups[step]) for step in hidden)
    child = {
        "emergency_signs": ["none"],
        "major_trauma": "no",
        "warning_signs": ["none"],
        "age_band": "under_18",
    }
    row = {
        "reference": "T-1",
        "received": "2026-11-22T12:00:00+00:00",
        "answers": child,
        "ruleset_version": "x",
    }
    response = fhir.questionnaire_response(row, Form.of(ruleset), SYSTEMS)
    assert [step for step in hidden if enabled(groups[step], response)] == []
    only_the_steps = [
        item
        for step in ruleset.questionnaire.steps
        if step.show_when is not None
        for item in groups[step.id]["item"]
        if ruleset.questionnaire.questions[item["linkId"]].show_when_data == step.show_when_data
    ]
    assert only_the_steps and not any(conditional(item) for item in only_the_steps)


# --- a sent submission, through the API ------------------------------------------------------------


def test_a_response_maps_back_to_exactly_the_answers_given(app, client, token, ruleset):
    reference = sent(app, {"diagnosis": ["stenosis", "herniated_disc"], "impact": 7})
    reply = client.get(f"/fhir/QuestionnaireResponse/{reference}", headers=bearer(token))
    assert reply.status_code == 200 and reply.headers["Cache-Control"] == "no-store"
    response = QuestionnaireResponse.model_validate(reply.get_json())
    assert response.identifier.value == reference and response.status == "completed"
    back = {}
    for group in response.item:
        for item in group.item:
            question = ruleset.questionnaire.questions[item.linkId]
            if question.type == "number":
                back[item.linkId] = item.answer[0].valueInteger
            elif question.type == "multi":
                back[item.linkId] = [a.valueCoding.code for a in item.answer]
            else:
                back[item.linkId] = item.answer[0].valueCoding.code
    with app.app_context():
        stored = json.loads(
            get_db().execute("SELECT answers FROM submissions WHERE reference = ?", [reference]).fetchone()[0]
        )
    assert back == stored
    assert "walking_pattern" not in back, "only the answers that were shown"


def test_search_by_identifier_with_includes(app, client, token):
    reference = sent(app, {"warning_signs": ["fever"]})
    sent(app, {})
    url = f"/fhir/QuestionnaireResponse?identifier={reference}&_include=QuestionnaireResponse:subject&_revinclude=Observation:derived-from"
    bundle = client.get(url, headers=bearer(token)).get_json()
    Bundle.model_validate(bundle)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["QuestionnaireResponse", "Patient", "Observation"]
    observation = Observation.model_validate(bundle["entry"][2]["resource"])
    assert observation.valueCodeableConcept.coding[0].code == "urgent"
    assert observation.derivedFrom[0].reference == f"QuestionnaireResponse/{reference}"
    patient = FhirPatient.model_validate(bundle["entry"][1]["resource"])
    assert patient.name[0].text == "Ria Record"
    assert {t.system: t.rank for t in patient.telecom} == {"phone": 2, "email": 1}


def test_search_pages_with_keyset_next_links_and_last_updated(app, client, token):
    references = [sent(app, {}) for _ in range(5)]
    seen, url = [], "/fhir/QuestionnaireResponse?_count=2&_lastUpdated=ge2026-01-01"
    for _ in range(5):
        bundle = client.get(url, headers=bearer(token)).get_json()
        seen += [e["resource"]["id"] for e in bundle["entry"]]
        following = [link["url"] for link in bundle.get("link", []) if link["relation"] == "next"]
        if not following:
            break
        url = following[0].replace("http://localhost", "")
    assert seen == references
    assert (
        client.get("/fhir/QuestionnaireResponse?_lastUpdated=gt2099-01-01", headers=bearer(token))
        .get_json()
        .get("entry", [])
        == []
    )


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("_count=0", 400),
        ("_count=101", 400),
        ("_lastUpdated=yesterday", 400),
        ("_cursor=nonsense", 400),
        ("color=red", 400),
        ("identifier=%00", 400),
    ],
)
def test_bad_searches_get_an_operation_outcome(client, token, query, status):
    reply = client.get(f"/fhir/QuestionnaireResponse?{query}", headers=bearer(token))
    assert reply.status_code == status
    OperationOutcome.model_validate(reply.get_json())


def test_no_token_a_wrong_one_and_a_revoked_one_get_401(app, client, runner, token):
    reference = sent(app, {})
    for headers in ({}, bearer("wrong"), {"Authorization": "Basic abc"}):
        reply = client.get(f"/fhir/QuestionnaireResponse/{reference}", headers=headers)
        assert reply.status_code == 401 and reply.headers["WWW-Authenticate"] == 'Bearer realm="fhir"'
        OperationOutcome.model_validate(reply.get_json())
    assert runner.invoke(cli, ["api-token", "revoke", "ehr-engine"]).exit_code == 0
    assert client.get(f"/fhir/QuestionnaireResponse/{reference}", headers=bearer(token)).status_code == 401
    assert "revoked" in runner.invoke(cli, ["api-token", "list"]).output


def test_every_read_is_audited_under_the_token_name(app, client, token):
    reference = sent(app, {})
    client.get(f"/fhir/QuestionnaireResponse/{reference}", headers=bearer(token))
    with app.app_context():
        rows = (
            get_db()
            .execute("SELECT reviewer_email, submission_reference FROM audit WHERE action = 'api_read'")
            .fetchall()
        )
    assert [tuple(r) for r in rows] == [("api token ehr-engine", reference)]


def test_wrong_tokens_are_throttled(client, token):
    codes = [
        client.get("/fhir/QuestionnaireResponse", headers=bearer("guess")).status_code for _ in range(21)
    ]
    assert codes[:20] == [401] * 20 and codes[20] == 429
    assert client.get("/fhir/QuestionnaireResponse", headers=bearer(token)).status_code == 429, (
        "the address waits"
    )


def test_the_api_is_read_only(client, token):
    reply = client.post("/fhir/QuestionnaireResponse", headers=bearer(token), json={})
    assert reply.status_code == 405


def test_a_token_is_printed_once_and_names_are_unique(runner, token):
    again = runner.invoke(cli, ["api-token", "add", "ehr-engine"])
    assert again.exit_code == 1 and "exists already" in again.output
    assert token not in runner.invoke(cli, ["api-token", "list"]).output


def test_export_fhir_writes_ndjson_with_the_questionnaire_first(app, runner, tmp_path):
    references = [sent(app, {}), sent(app, {"warning_signs": ["fever"]})]
    target = tmp_path / "out.ndjson"
    result = runner.invoke(cli, ["export", "--fhir", str(target)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [r["resourceType"] for r in lines] == [
        "Questionnaire",
        *["Patient", "QuestionnaireResponse", "Observation"] * 2,
    ]
    models_by_type = {
        "Questionnaire": Questionnaire,
        "Patient": FhirPatient,
        "QuestionnaireResponse": QuestionnaireResponse,
        "Observation": Observation,
    }
    for resource in lines:
        models_by_type[resource["resourceType"]].model_validate(resource)
    assert {r["id"] for r in lines if r["resourceType"] == "Patient"} == set(references)
    assert runner.invoke(cli, ["export"]).exit_code == 2, "one of --csv or --fhir"


def test_defaults_send(ruleset):
    assert ruleset.questionnaire.validate(DEFAULT_ANSWERS) == []


def test_the_questionnaire_tells_renderers_what_the_app_draws(ruleset):
    """optionExclusive on every exclusive option, the control of each question, a slider for 0-10."""
    questionnaire = fhir.questionnaire(ruleset, SYSTEMS)
    Questionnaire.model_validate(questionnaire)
    items = {i["linkId"]: i for g in questionnaire["item"] for i in g["item"]}
    for question in ruleset.questionnaire.questions.values():
        item = items[question.id]
        controls = [e for e in item["extension"] if e["url"] == fhir.ITEM_CONTROL]
        code = controls[0]["valueCodeableConcept"]["coding"][0]["code"]
        assert code == {"single": "radio-button", "multi": "check-box", "number": "slider"}[question.type]
        for option, answer in zip(question.options, item.get("answerOption", []), strict=True):
            exclusive = [e for e in answer.get("extension", []) if e["url"] == fhir.OPTION_EXCLUSIVE]
            assert exclusive == (
                [{"url": fhir.OPTION_EXCLUSIVE, "valueBoolean": True}] if option.exclusive else []
            )
    none_of_these = items["emergency_signs"]["answerOption"][-1]
    assert none_of_these["valueCoding"]["code"] == "none" and none_of_these["extension"][0]["valueBoolean"]


def test_a_system_and_code_have_one_display_and_codes_are_option_ids(ruleset):
    """`none` is "No" for one question and "None of these" for another: each question has its system."""
    displays: dict[tuple[str, str], set[str]] = {}
    questionnaire = fhir.questionnaire(ruleset, SYSTEMS)
    for group in questionnaire["item"]:
        for item in group["item"]:
            question = ruleset.questionnaire.questions[item["linkId"]]
            codes = [a["valueCoding"]["code"] for a in item.get("answerOption", [])]
            assert codes == [o.id for o in question.options]
            for answer in item.get("answerOption", []):
                coding = answer["valueCoding"]
                assert coding["system"] == f"{SYSTEMS.base}/CodeSystem/answers-{question.id}"
                displays.setdefault((coding["system"], coding["code"]), set()).add(coding["display"])
            for when in item.get("enableWhen", []):
                if "answerCoding" in when:
                    coding = when["answerCoding"]
                    displays.setdefault((coding["system"], coding["code"]), set()).add(coding["display"])
    assert all(len(found) == 1 for found in displays.values())
    labels_of_none = {
        q.option_label("none")
        for q in ruleset.questionnaire.questions.values()
        if "none" in [o.id for o in q.options]
    }
    assert len(labels_of_none) > 1, "the reason for a system per question is still there"
