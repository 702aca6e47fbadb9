"""What every /fhir reply shares: JSON only (`_format`, `Accept`), `_pretty`, `_elements`, the content
type with its charset, OperationOutcomes for errors, bearer tokens with their scopes, and the audit."""

from __future__ import annotations

import hashlib
import json
import re

from flask import Response, current_app, request

from .. import get_db, store
from . import resources as fhir

FHIR_JSON = "application/fhir+json"
CONTENT_TYPE = f"{FHIR_JSON}; charset=utf-8"
FAILED_TOKEN_LIMIT = 20  # per client address per window, like the sign-in throttle
JSON_FORMATS = {"json", "application/json", "application/fhir+json", "application/json+fhir"}
SCOPE = re.compile(r"system/(\*|Patient|QuestionnaireResponse|Observation)\.(read|rs|\*)")
PRIVATE_TYPES = ("Patient", "QuestionnaireResponse", "Observation")
SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}
ALWAYS_KEPT = {"resourceType", "id", "meta"}


class FhirError(Exception):
    """A request this server refuses; `reply()` is the OperationOutcome to send."""

    def __init__(self, status: int, code: str, text: str):
        super().__init__(text)
        self.status, self.code, self.text = status, code, text

    def reply(self) -> Response:
        return problem(self.status, self.code, self.text)


def systems() -> fhir.Systems:
    return fhir.Systems(current_app.config.get("BASE_URL") or request.host_url)


def reply(resource: dict, status: int = 200, elements: tuple[str, ...] = ()) -> Response:
    """Return the resource as FHIR JSON (indented with `_pretty=true`; trimmed to `elements`)."""
    if elements and resource.get("resourceType") not in ("Bundle", "OperationOutcome"):
        resource = subset(resource, elements)
    pretty = request.args.get("_pretty") == "true"
    body = json.dumps(resource, indent=2 if pretty else None, ensure_ascii=False)
    response = Response(body, status=status, content_type=CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


def problem(status: int, code: str, text: str) -> Response:
    return reply(fhir.operation_outcome(code, text), status)


def subset(resource: dict, elements: tuple[str, ...]) -> dict:
    """Return the resource with only the named top-level elements, tagged SUBSETTED as FHIR asks."""
    kept = {key: value for key, value in resource.items() if key in ALWAYS_KEPT or key in elements}
    meta = dict(kept.get("meta", {}))
    meta["tag"] = [*meta.get("tag", []), SUBSETTED]
    kept["meta"] = meta
    return kept


def check_format() -> Response | None:
    """Refuse anything but JSON: `_format` or an `Accept` that asks for XML only gets 406."""
    wanted = request.args.get("_format")
    # An unescaped "+" in a query string reads as a space: application/fhir json is fhir+json.
    if wanted is not None and wanted.split(";")[0].strip().replace(" ", "+") not in JSON_FORMATS:
        return problem(
            406, "not-supported", f"_format={wanted[:40]} is not served: this server speaks FHIR JSON only."
        )
    accept = request.accept_mimetypes
    if accept and not any(accept[kind] for kind in JSON_FORMATS if "/" in kind):
        return problem(406, "not-supported", "This server answers in application/fhir+json only.")
    if request.args.get("_pretty", "false") not in ("true", "false"):
        return problem(400, "value", "_pretty takes true or false.")
    return None


def lenient() -> bool:
    """Return whether the client asked (`Prefer: handling=lenient`) that unknown parameters be ignored."""
    preferences = [part.strip() for part in request.headers.get("Prefer", "").split(",")]
    return "handling=lenient" in preferences


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def scopes_of(token: dict) -> set[str]:
    """Return the resource types a token may read (all private ones when it names no scope)."""
    names = (token.get("scopes") or "").split()
    if not names:
        return set(PRIVATE_TYPES)
    types = set()
    for name in names:
        kind = SCOPE.fullmatch(name).group(1)
        types |= set(PRIVATE_TYPES) if kind == "*" else {kind}
    return types


def authorized(resource_type: str | None = None) -> dict:
    """Return the live token for this request; raise FhirError 401, 403 or 429 otherwise."""
    db = get_db()
    since = store.shift(store.now(), minutes=-current_app.config["SIGNIN_WINDOW_MINUTES"])
    key = "api-address:" + (request.remote_addr or "unknown")
    if store.count_signin_attempts(db, key, since) >= FAILED_TOKEN_LIMIT:
        raise FhirError(429, "throttled", "Too many requests with a wrong token. Try again later.")
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.startswith("Bearer ") else ""
    found = store.api_token(db, token_hash(token)) if token else None
    if found is None:
        store.reserve_signin_attempt(db, {key: FAILED_TOKEN_LIMIT + 1}, since)
        raise Unauthorized()
    if resource_type is not None and resource_type not in scopes_of(found):
        raise FhirError(403, "forbidden", f"This token's scopes do not include system/{resource_type}.read.")
    return found


class Unauthorized(FhirError):
    def __init__(self):
        super().__init__(401, "login", "A valid bearer token is needed: Authorization: Bearer TOKEN.")

    def reply(self) -> Response:
        response = super().reply()
        response.headers["WWW-Authenticate"] = 'Bearer realm="fhir"'
        return response


def audit(token: dict, reference: str = "", detail: str = "") -> None:
    store.record_audit(
        get_db(), "api_read", reviewer_email=f"api token {token['name']}", reference=reference, detail=detail
    )
