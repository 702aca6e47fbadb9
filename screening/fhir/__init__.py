"""HL7 FHIR R4 for the clinic's record system.

- `resources`: the Questionnaire, QuestionnaireResponse, Observation and Patient, as plain dicts;
  Flask-free, it may import only the standard library and `screening.engine`
- `api`: the read-only `/fhir` blueprint with bearer tokens; it may import Flask, the store and the
  app-wide modules of `screening`, and `resources`
"""
