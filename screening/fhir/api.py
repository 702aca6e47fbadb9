"""The FHIR R4 API at /fhir for the clinic's integration engine: read-only.

`metadata` and the Questionnaire are public (they hold no one's data). QuestionnaireResponse search
and read need `Authorization: Bearer TOKEN` (tokens from `screening api-token add`); every read is in
the audit log under the token's name; failed tokens are throttled per address like sign-ins.
"""

from __future__ import annotations

import hashlib
import re

from flask import Blueprint, Response, current_app, json, request, url_for

from .. import get_db, get_read_db, get_ruleset, store
from . import resources as fhir

bp = Blueprint("api", __name__)

FHIR_JSON = "application/fhir+json"
MAX_COUNT = 100
FAILED_TOKEN_LIMIT = 20  # per client address per window, like the sign-in throttle
LAST_UPDATED = re.compile(r"(ge|gt)([0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2}))?)")
CURSOR = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+\+00:00)~([0-9]{1,18})")
REFERENCE = re.compile(r"[A-Z0-9-]{1,40}")


def _systems() -> fhir.Systems:
    base = current_app.config.get("BASE_URL") or request.host_url
    return fhir.Systems(base)


def _reply(resource: dict, status: int = 200) -> Response:
    response = Response(json.dumps(resource), status=status, mimetype=FHIR_JSON)
    response.headers["Cache-Control"] = "no-store"
    return response


def _problem(status: int, code: str, text: str) -> Response:
    return _reply(fhir.operation_outcome(code, text), status)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _authorized() -> dict | Response:
    """Return the live token for this request, or the 401 / 429 reply to send instead."""
    db = get_db()
    since = store.shift(store.now(), minutes=-current_app.config["SIGNIN_WINDOW_MINUTES"])
    key = "api-address:" + (request.remote_addr or "unknown")
    if store.count_signin_attempts(db, key, since) >= FAILED_TOKEN_LIMIT:
        return _problem(429, "throttled", "Too many requests with a wrong token. Try again later.")
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.startswith("Bearer ") else ""
    found = store.api_token(db, token_hash(token)) if token else None
    if found is None:
        store.reserve_signin_attempt(db, {key: FAILED_TOKEN_LIMIT + 1}, since)
        reply = _problem(401, "login", "A valid bearer token is needed: Authorization: Bearer TOKEN.")
        reply.headers["WWW-Authenticate"] = 'Bearer realm="fhir"'
        return reply
    return found


def _audit(token: dict, reference: str = "", detail: str = "") -> None:
    store.record_audit(
        get_db(), "api_read", reviewer_email=f"api token {token['name']}", reference=reference, detail=detail
    )


@bp.get("/metadata")
def metadata():
    return _reply(fhir.capability_statement(get_ruleset(), _systems()))


@bp.get("/Questionnaire")
def questionnaire_search():
    resource = fhir.questionnaire(get_ruleset(), _systems())
    return _reply(_bundle([resource], total=1))


@bp.get("/Questionnaire/<resource_id>")
def questionnaire_read(resource_id: str):
    if resource_id != fhir.QUESTIONNAIRE_ID:
        return _problem(404, "not-found", f"There is no Questionnaire '{resource_id[:64]}'.")
    return _reply(fhir.questionnaire(get_ruleset(), _systems()))


@bp.get("/QuestionnaireResponse/<reference>")
def response_read(reference: str):
    token = _authorized()
    if isinstance(token, Response):
        return token
    row = store.submission_for_review(get_db(), reference) if REFERENCE.fullmatch(reference) else None
    if row is None:
        return _problem(404, "not-found", "There is no QuestionnaireResponse with that id.")
    _audit(token, reference, "QuestionnaireResponse read")
    return _reply(fhir.questionnaire_response(row, get_ruleset(), _systems()))


@bp.get("/QuestionnaireResponse")
def response_search():
    token = _authorized()
    if isinstance(token, Response):
        return token
    args = request.args
    unknown = sorted(
        set(args) - {"identifier", "_lastUpdated", "_count", "_include", "_revinclude", "_cursor"}
    )
    if unknown:
        return _problem(400, "not-supported", f"Unknown search parameter: {', '.join(unknown)}.")
    reference = args.get("identifier", "").split("|")[-1]
    if reference and not REFERENCE.fullmatch(reference):
        return _problem(400, "value", "identifier must be a submission reference such as K7QM-2XPA.")
    updated = LAST_UPDATED.fullmatch(args.get("_lastUpdated", "")) if "_lastUpdated" in args else None
    if "_lastUpdated" in args and updated is None:
        return _problem(400, "value", "_lastUpdated takes ge or gt and a date, like ge2026-11-01.")
    count = args.get("_count", "20")
    if not re.fullmatch(r"[0-9]{1,3}", count) or not 1 <= int(count) <= MAX_COUNT:
        return _problem(400, "value", f"_count must be a whole number from 1 to {MAX_COUNT}.")
    cursor = CURSOR.fullmatch(args.get("_cursor", "")) if "_cursor" in args else None
    if "_cursor" in args and cursor is None:
        return _problem(400, "value", "_cursor is not one this server made; start from the first page.")
    includes = set(args.getlist("_include")) | set(args.getlist("_revinclude"))
    allowed = {"QuestionnaireResponse:subject", "Observation:derived-from", "*"}
    if includes - allowed:
        return _problem(
            400,
            "not-supported",
            "_include takes QuestionnaireResponse:subject; _revinclude Observation:derived-from.",
        )
    limit = int(count)
    rows = store.fhir_page(
        get_read_db(),
        reference=reference,
        updated_op=updated.group(1) if updated else "",
        updated=_instant(updated.group(2)) if updated else "",
        after=(cursor.group(1), int(cursor.group(2))) if cursor else None,
        limit=limit + 1,
    )
    more, rows = len(rows) > limit, rows[:limit]
    ruleset, systems = get_ruleset(), _systems()
    entries = []
    for row in rows:
        entries.append((fhir.questionnaire_response(row, ruleset, systems), "match"))
        if includes & {"QuestionnaireResponse:subject", "*"}:
            entries.append((fhir.patient(row, systems), "include"))
        if includes & {"Observation:derived-from", "*"}:
            entries.append((fhir.outcome_observation(row, ruleset, systems), "include"))
    links = []
    if more:
        last = rows[-1]
        query = {k: v for k, v in args.items(multi=True) if k != "_cursor"}
        following = url_for(
            ".response_search", **query, _cursor=f"{last['received']}~{last['id']}", _external=True
        )
        links.append({"relation": "next", "url": following})
    _audit(token, reference, f"QuestionnaireResponse search, {len(rows)} result(s)")
    return _reply(_bundle(entries, links=links))


def _instant(value: str) -> str:
    """Return a FHIR date or dateTime as the stored UTC text it compares with."""
    from datetime import UTC, datetime

    if "T" not in value:
        return f"{value}T00:00:00.000000+00:00"
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _bundle(entries, *, total: int | None = None, links=()) -> dict:
    items = []
    for entry in entries:
        resource, mode = entry if isinstance(entry, tuple) else (entry, "match")
        items.append(
            {
                "fullUrl": f"{_systems().base}/{resource['resourceType']}/{resource['id']}",
                "resource": resource,
                "search": {"mode": mode},
            }
        )
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": items}
    if total is not None:
        bundle["total"] = total
    if links:
        bundle["link"] = list(links)
    return bundle


@bp.route("/<path:anything>", methods=["POST", "PUT", "PATCH", "DELETE"])
def read_only(anything: str):
    return _problem(405, "not-supported", "This FHIR server is read-only.")
