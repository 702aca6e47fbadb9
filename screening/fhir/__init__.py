"""The FHIR wing: what the clinic's record system reads.

FHIR R4 resources are built Flask-free in `resources.py` (with `form.py`, the questionnaire kept per
rule-set hash, `capability.py`, the CapabilityStatement, and `ndjson.py`, the streaming NDJSON
writer); `search.py` reads search parameters into store queries (Flask-free too). The /fhir
blueprint is `api.py`, with `http.py` (JSON only, tokens and scopes, OperationOutcomes) and
`bulk.py` (Bulk Data `$export`). The wing imports the engine and the store, never the patient or
review wings.
"""
