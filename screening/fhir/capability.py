"""The CapabilityStatement: every interaction, search parameter and operation the /fhir API serves,
and how a client gets a token. Flask-free; `tests/test_fhir_api.py` checks it against the server."""

from __future__ import annotations

from ..engine.rules import RuleSet
from .resources import FHIR_VERSION, Systems

BULK_DATA = "http://hl7.org/fhir/uv/bulkdata"
PATIENT_EXPORT = f"{BULK_DATA}/OperationDefinition/patient-export"
DATE_HELP = (
    "eq, ne, lt, le, gt, ge (none means eq); a year, month, day or instant is the range it names, in UTC "
    "without an offset; repeat the parameter for AND"
)
COMMON = [
    {"name": "_id", "type": "token", "documentation": "the resource id; several separated by commas"},
    {"name": "_lastUpdated", "type": "date", "documentation": DATE_HELP},
]
RESULTS = [
    {"name": "_count", "type": "number", "documentation": "entries per page, 1 to 100 (20)"},
    {"name": "_elements", "type": "string", "documentation": "top-level elements to keep (SUBSETTED)"},
    {"name": "_summary", "type": "token", "documentation": "count (the total alone) or false"},
    {"name": "_format", "type": "token", "documentation": "json only; xml gets 406"},
    {"name": "_pretty", "type": "token", "documentation": "true indents the JSON"},
]


def _identifier(systems: Systems) -> dict:
    return {
        "name": "identifier",
        "type": "token",
        "documentation": f"the submission reference; with a system, only {systems.reference} matches",
    }


def capability_statement(
    ruleset: RuleSet, systems: Systems, software: str = "Back pain questionnaire"
) -> dict:
    """Return what this server does, as a CapabilityStatement."""
    read_search = [{"code": "read"}, {"code": "search-type"}]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-07",
        "kind": "instance",
        "instantiates": [f"{BULK_DATA}/CapabilityStatement/bulk-data"],
        "software": {"name": software, "version": ruleset.version},
        "implementation": {"description": "Back pain screening questionnaire", "url": systems.base},
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": (
                        "Patient, QuestionnaireResponse, Observation and $export need "
                        "Authorization: Bearer TOKEN. The clinic's administrator makes a token with "
                        "`screening api-token add NAME`, optionally limited with --scope "
                        "system/QuestionnaireResponse.read (or system/Patient.read, "
                        "system/Observation.read). "
                        "Unknown search parameters get 400 unless the request says Prefer: handling=lenient."
                    )
                },
                "resource": [
                    {
                        "type": "Questionnaire",
                        "interaction": read_search,
                        "searchParam": [
                            {"name": "_id", "type": "token"},
                            {"name": "url", "type": "uri"},
                            {"name": "version", "type": "token"},
                            {"name": "status", "type": "token"},
                        ],
                    },
                    {
                        "type": "QuestionnaireResponse",
                        "interaction": read_search,
                        "searchParam": [*COMMON, _identifier(systems)],
                        "searchInclude": ["QuestionnaireResponse:subject"],
                        "searchRevInclude": ["Observation:derived-from"],
                    },
                    {
                        "type": "Patient",
                        "interaction": read_search,
                        "searchParam": [*COMMON, _identifier(systems)],
                        "operation": [
                            {
                                "name": "export",
                                "definition": f"{BULK_DATA}/OperationDefinition/patient-export",
                            }
                        ],
                    },
                    {"type": "Observation", "interaction": read_search, "searchParam": list(COMMON)},
                ],
                "searchParam": RESULTS,
                "operation": [{"name": "export", "definition": f"{BULK_DATA}/OperationDefinition/export"}],
            }
        ],
    }
