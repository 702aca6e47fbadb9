"""The /fhir API as an integration engine meets it: search parameters with their exact meaning, every
Bundle member readable at its fullUrl, OperationOutcomes for every refusal, JSON only, and a
CapabilityStatement that says what the server does."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from conftest import make_token
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from screening import get_db, store
from screening.cli import cli
from screening.seed import seed

BASE = "https://clinic.example.org"
SID = f"{BASE}/fhir/sid/reference"
CONTENT_TYPE = "application/fhir+json; charset=utf-8"
MODELS = {
    "Questionnaire": Questionnaire,
    "QuestionnaireResponse": QuestionnaireResponse,
    "Patient": FhirPatient,
    "Observation": Observation,
}
# Five submissions at instants that sit on the edges of the ranges the searches name.
INSTANTS = {
    "A": "2025-12-31T23:00:00.000000+00:00",
    "B": "2026-01-15T10:00:00.000000+00:00",
    "C": "2026-05-31T23:59:59.500000+00:00",
    "D": "2026-06-01T00:00:00.000000+00:00",
    "E": "2026-07-04T12:00:00.000000+00:00",
}


@pytest.fixture
def app_config(app_config, tmp_path, store_kind):
    return {**app_config, "BASE_URL": BASE, "EXPORT_DIR": str(tmp_path / "exports")}


@pytest.fixture
def token(runner):
    return make_token(runner)


@pytest.fixture
def stored(app, ruleset) -> dict[str, str]:
    """Seed one submission per instant; return {letter: reference}."""
    with app.app_context():
        db = get_db()
        seed(db, ruleset, lambda outcome: "<p>seeded</p>", len(INSTANTS), make_reference=store.new_reference)
        rows = db.rows("SELECT id, reference FROM submissions ORDER BY id")
        for row, instant in zip(rows, INSTANTS.values(), strict=True):
            db.write("UPDATE submissions SET received = ? WHERE id = ?", [instant, row["id"]])
        return {letter: row["reference"] for letter, row in zip(INSTANTS, rows, strict=True)}


def get(client, token: str, url: str, **headers):
    return client.get(url, headers={"Authorization": f"Bearer {token}", **headers})


def found(client, token: str, url: str) -> list[str]:
    reply = get(client, token, url)
    assert reply.status_code == 200, reply.get_json()
    return [e["resource"]["id"] for e in reply.get_json().get("entry", []) if e["search"]["mode"] == "match"]


@pytest.mark.both_stores
@pytest.mark.parametrize(
    ("query", "letters"),
    [
        ("_lastUpdated=ge2026-01-01&_lastUpdated=lt2026-06-01", "BC"),
        ("_lastUpdated=2026", "BCDE"),
        ("_lastUpdated=eq2026", "BCDE"),
        ("_lastUpdated=2026-06", "D"),
        ("_lastUpdated=eq2026-06-01", "D"),
        ("_lastUpdated=ne2026", "A"),
        ("_lastUpdated=gt2026-05", "DE"),
        ("_lastUpdated=le2026-05", "ABC"),
        ("_lastUpdated=lt2026-01-15T10:00:00Z", "A"),
        ("_lastUpdated=ge2026-01-15T10:00:00Z", "BCDE"),
        ("_lastUpdated=gt2026-01-15T10:00:00Z", "CDE"),
        ("_lastUpdated=2026-01-15T11:00:00%2B01:00", "B"),
        ("_lastUpdated=2026-05-31T23:59:59.5Z", "C"),
        ("_lastUpdated=ge2026-07&_lastUpdated=le2026-06", ""),
    ],
)
def test_last_updated_prefixes_ranges_and_and(client, token, stored, query, letters):
    expected = [stored[letter] for letter in letters]
    for kind, suffix in (("QuestionnaireResponse", ""), ("Patient", ""), ("Observation", "-outcome")):
        assert found(client, token, f"/fhir/{kind}?{query}") == [r + suffix for r in expected], kind


def test_identifier_and_id_searches(client, token, stored):
    a, b = stored["A"], stored["B"]
    cases = {
        f"identifier={quote(SID)}|{a}": [a],
        f"identifier=http://other.example/sid|{a}": [],
        f"identifier=|{a}": [],
        f"identifier={a}": [a],
        f"identifier={a},{b}": [a, b],
        f"identifier={a}&identifier={b}": [],
        f"identifier={quote(SID)}|": list(stored.values()),
        "identifier=http://other.example/sid|": [],
        f"_id={a}": [a],
        "_id=nope": [],
        f"_id={a}&identifier={b}": [],
    }
    for query, expected in cases.items():
        assert found(client, token, f"/fhir/QuestionnaireResponse?{query}") == expected, query
    assert found(client, token, f"/fhir/Observation?_id={a}-outcome") == [f"{a}-outcome"]
    assert found(client, token, f"/fhir/Observation?_id={a}") == []
    assert found(client, token, f"/fhir/Patient?identifier={a}") == [a]


@pytest.mark.parametrize(
    ("query", "status", "text"),
    [
        (
            "color=red",
            400,
            "Unknown search parameter 'color' for QuestionnaireResponse; supported: _count, _elements, "
            "_format, _id, _include, _lastUpdated, _pretty, _revinclude, _summary, identifier. "
            "Send Prefer: handling=lenient to have unknown parameters ignored.",
        ),
        ("identifier:exact=K7QM-2XPA", 400, None),
        ("_lastUpdated=sa2026", 400, None),
        ("_lastUpdated=2026-13", 400, "_lastUpdated: '2026-13' is not a real date."),
        ("_summary=true", 400, "_summary takes count or false here."),
        ("_elements=id;status", 400, None),
        ("_id=a b", 400, None),
        ("_pretty=yes", 400, "_pretty takes true or false."),
        ("_format=xml", 406, "_format=xml is not served: this server speaks FHIR JSON only."),
        ("_format=application/fhir%2Bxml", 406, None),
    ],
)
def test_refused_searches_get_an_operation_outcome(client, token, query, status, text):
    reply = get(client, token, f"/fhir/QuestionnaireResponse?{query}")
    assert reply.status_code == status and reply.content_type == CONTENT_TYPE
    outcome = OperationOutcome.model_validate(reply.get_json())
    if text is not None:
        assert outcome.issue[0].diagnostics == text


def test_lenient_handling_ignores_unknown_parameters_and_says_so(client, token, stored):
    url = f"/fhir/QuestionnaireResponse?color=red&identifier={stored['B']}&_count=5"
    bundle = get(client, token, url, Prefer="handling=lenient").get_json()
    Bundle.model_validate(bundle)
    assert bundle["link"][0] == {
        "relation": "self",
        "url": f"http://localhost/fhir/QuestionnaireResponse?identifier={stored['B']}&_count=5",
    }
    outcome = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    assert outcome[0]["resource"]["issue"][0]["diagnostics"] == "Ignored unknown parameters: color."
    assert [e["resource"]["id"] for e in bundle["entry"] if e["search"]["mode"] == "match"] == [stored["B"]]


@pytest.mark.parametrize(
    ("query", "total"),
    [
        ("", 1),
        (f"url={quote(BASE)}/fhir/Questionnaire/back-pain-screening", 1),
        ("url=http://other.example/Questionnaire/back-pain-screening", 0),
        ("_id=back-pain-screening", 1),
        ("_id=nope", 0),
        ("status=active", 1),
        ("status=retired", 0),
        ("version=0.0.0", 0),
    ],
)
def test_questionnaire_search_honours_url_version_id_and_status(client, query, total):
    bundle = client.get(f"/fhir/Questionnaire?{query}").get_json()
    Bundle.model_validate(bundle)
    assert bundle["total"] == total and len(bundle.get("entry", [])) == total


def test_questionnaire_search_by_its_version_and_unknown_parameters(client, ruleset):
    assert client.get(f"/fhir/Questionnaire?version={ruleset.version}").get_json()["total"] == 1
    reply = client.get("/fhir/Questionnaire?publisher=me")
    assert reply.status_code == 400 and reply.get_json()["resourceType"] == "OperationOutcome"


def test_every_bundle_member_is_readable_at_its_full_url(client, token, stored):
    url = "/fhir/QuestionnaireResponse?_include=QuestionnaireResponse:subject&_revinclude=Observation:derived-from"
    bundle = get(client, token, url).get_json()
    assert len(bundle["entry"]) == 3 * len(stored)
    for entry in bundle["entry"]:
        assert entry["fullUrl"].startswith(f"{BASE}/fhir/")
        reply = get(client, token, entry["fullUrl"].removeprefix(BASE))
        assert reply.status_code == 200 and reply.content_type == CONTENT_TYPE
        assert reply.get_json() == entry["resource"]
        MODELS[entry["resource"]["resourceType"]].model_validate(reply.get_json())


@pytest.mark.parametrize(
    ("method", "path", "status", "text"),
    [
        ("GET", "/fhir/Foo", 404, "There is no 'Foo' here: see /fhir/metadata for what is."),
        ("GET", "/fhir/", 404, "There is no '' here: see /fhir/metadata for what is."),
        ("GET", "/fhir/Patient/K7QM-2XPA", 404, "There is no Patient with the id 'K7QM-2XPA'."),
        ("GET", "/fhir/Observation/K7QM-2XPA", 404, "There is no Observation with the id 'K7QM-2XPA'."),
        (
            "GET",
            "/fhir/QuestionnaireResponse/K7QM-2XPA/_history/1",
            404,
            "This server keeps no history: read the resource itself.",
        ),
        ("POST", "/fhir/Patient", 405, "This FHIR server is read-only."),
        ("PUT", "/fhir/Patient/K7QM-2XPA", 405, "This FHIR server is read-only."),
        ("DELETE", "/fhir/Questionnaire/back-pain-screening", 405, "This FHIR server is read-only."),
        ("POST", "/fhir/metadata", 405, "This FHIR server is read-only."),
    ],
)
def test_unknown_paths_and_writes_get_an_operation_outcome(client, token, method, path, status, text):
    reply = client.open(path, method=method, headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == status and reply.content_type == CONTENT_TYPE
    assert OperationOutcome.model_validate(reply.get_json()).issue[0].diagnostics == text


def test_json_only_pretty_elements_and_summary_count(client, token, stored):
    assert get(client, token, "/fhir/metadata?_format=application/fhir+json").status_code == 200
    plain = get(client, token, "/fhir/QuestionnaireResponse?_format=json")
    assert plain.status_code == 200 and plain.content_type == CONTENT_TYPE
    assert "\n" not in plain.get_data(as_text=True)
    pretty = get(client, token, "/fhir/QuestionnaireResponse?_pretty=true").get_data(as_text=True)
    assert pretty.startswith('{\n  "resourceType": "Bundle"') and json.loads(pretty) == plain.get_json()
    xml = get(client, token, "/fhir/metadata", Accept="application/fhir+xml")
    assert xml.status_code == 406 and xml.get_json()["resourceType"] == "OperationOutcome"
    assert get(client, token, "/fhir/metadata", Accept="application/fhir+xml, */*;q=0.1").status_code == 200
    count = get(client, token, "/fhir/QuestionnaireResponse?_summary=count&_lastUpdated=2026").get_json()
    Bundle.model_validate(count)
    assert count["total"] == 4 and "entry" not in count
    assert count["link"][0]["url"].endswith("?_summary=count&_lastUpdated=2026")
    trimmed = get(client, token, f"/fhir/QuestionnaireResponse?_elements=identifier,status&_id={stored['A']}")
    resource = trimmed.get_json()["entry"][0]["resource"]
    assert set(resource) == {"resourceType", "id", "meta", "identifier", "status"}
    assert resource["meta"]["tag"][0]["code"] == "SUBSETTED"
    read = get(client, token, f"/fhir/Patient/{stored['A']}?_elements=name").get_json()
    assert set(read) == {"resourceType", "id", "meta", "name"}


def test_every_searchset_has_a_self_link_and_pages_have_next_links(client, token, stored):
    url = "/fhir/Patient?_count=2"
    seen = []
    while url:
        bundle = get(client, token, url).get_json()
        Bundle.model_validate(bundle)
        links = {link["relation"]: link["url"] for link in bundle["link"]}
        assert links["self"].startswith("http://localhost/fhir/Patient?_count=2")
        seen += [e["resource"]["id"] for e in bundle["entry"]]
        url = links.get("next", "").removeprefix("http://localhost")
    assert seen == list(stored.values())


def test_the_capability_statement_lists_what_the_server_does(client, token, stored):
    statement = client.get("/fhir/metadata").get_json()
    CapabilityStatement.model_validate(statement)
    rest = statement["rest"][0]
    assert {r["type"] for r in rest["resource"]} == {
        "Questionnaire",
        "QuestionnaireResponse",
        "Patient",
        "Observation",
    }
    samples = {
        "_lastUpdated": "ge2026-01-01",
        "_id": "x",
        "identifier": stored["A"],
        "url": "x",
        "version": "1",
    }
    samples["status"] = "active"
    for resource in rest["resource"]:
        kind = resource["type"]
        assert {i["code"] for i in resource["interaction"]} == {"read", "search-type"}
        for param in resource["searchParam"]:
            reply = get(client, token, f"/fhir/{kind}?{param['name']}={samples[param['name']]}")
            assert reply.status_code == 200, (kind, param["name"], reply.get_json())
        for param in rest["searchParam"]:
            value = {
                "_count": "1",
                "_elements": "id",
                "_summary": "count",
                "_format": "json",
                "_pretty": "true",
            }
            assert (
                get(client, token, f"/fhir/{kind}?{param['name']}={value[param['name']]}").status_code == 200
            )
    undeclared = get(client, token, "/fhir/QuestionnaireResponse?patient=x")
    assert undeclared.status_code == 400
    assert "api-token add" in rest["security"]["description"]
    assert [op["name"] for op in rest["operation"]] == ["export"]


def test_a_token_limited_by_scope_reads_only_its_types(client, runner, stored):
    limited = make_token(runner, "responses-only", "system/QuestionnaireResponse.read")
    assert get(client, limited, f"/fhir/QuestionnaireResponse/{stored['A']}").status_code == 200
    for path in (
        f"/fhir/Patient/{stored['A']}",
        "/fhir/Observation",
        "/fhir/QuestionnaireResponse?_include=*",
    ):
        reply = get(client, limited, path)
        assert reply.status_code == 403 and reply.get_json()["issue"][0]["code"] == "forbidden", path
    assert "system/QuestionnaireResponse.read" in runner.invoke(cli, ["api-token", "list"]).output
    wrong = runner.invoke(cli, ["api-token", "add", "x", "--scope", "patient/*.read"])
    assert wrong.exit_code == 2 and "expected system/TYPE.read" in wrong.output
