"""The FHIR wing: what the clinic's record system reads.

`resources.py` builds the FHIR R4 resources (Questionnaire, QuestionnaireResponse, Observation,
Patient, CapabilityStatement) as plain dicts, Flask-free; `api.py` is the read-only /fhir blueprint
that serves them behind bearer tokens.
"""
