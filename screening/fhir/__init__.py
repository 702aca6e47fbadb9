"""HL7 FHIR R4 for the clinic's record system: what it reads.

- `resources`: the Questionnaire, QuestionnaireResponse, Observation and Patient, as plain dicts, Flask-free;
  with `form` (the questionnaire kept per rule-set hash), `capability` (the CapabilityStatement),
  `ndjson` (the streaming NDJSON writer) and `search` (search parameters read into store queries),
  Flask-free too
- `api`: the read-only `/fhir` blueprint, with `http` (JSON only, bearer tokens and scopes,
  OperationOutcomes) and `bulk` (Bulk Data `$export`)

The wing may import the engine, the store and the app-wide modules of `screening`; never the patient or
review wings.
"""
