"""The FHIR R4 API at /fhir for the clinic's integration engine: read-only.

`metadata` and the Questionnaire are public (they hold no one's data). Patient, QuestionnaireResponse
and Observation (read and search) need `Authorization: Bearer TOKEN` (tokens from `screening api-token
add`, optionally limited to some types by scope); every read is in the audit log under the token's
name; failed tokens are throttled per address like sign-ins. Every Bundle member is readable at its
fullUrl; an unknown path gets 404 and a write 405, each with an OperationOutcome. Bulk Data `$export`
lives in `bulk.py`, search parameters in `search.py`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, request
from werkzeug.exceptions import HTTPException

from .. import get_db, get_read_db, get_ruleset, store
from . import bulk, search
from . import resources as fhir
from .capability import capability_statement
from .form import Forms, snapshot
from .http import FhirError, audit, authorized, check_format, lenient, problem, reply, subset, systems

bp = Blueprint("api", __name__)
bp.register_blueprint(bulk.bp)
PRIVATE = ("QuestionnaireResponse", "Patient", "Observation")


@bp.record_once
def _keep_questionnaire(state) -> None:
    """Keep this rule set's questionnaire under its hash, so responses made with it stay true later."""
    from ..db import open_database

    ruleset = state.app.extensions["ruleset"]
    db = open_database(state.app.config)
    try:
        store.keep_questionnaire(db, ruleset.hash, ruleset.version, snapshot(ruleset))
    finally:
        db.close()


@bp.before_request
def _json_only():
    return check_format()


@bp.errorhandler(FhirError)
def _refused(exc: FhirError):
    return exc.reply()


@bp.errorhandler(search.SearchError)
def _bad_search(exc: search.SearchError):
    return problem(exc.status, exc.code, exc.text)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return problem(exc.code or 500, "exception", exc.description or exc.name)


@bp.get("/metadata")
def metadata():
    return reply(capability_statement(get_ruleset(), systems()))


@bp.get("/Questionnaire")
def questionnaire_search():
    pairs = list(request.args.items(multi=True))
    wanted = search.parse("Questionnaire", pairs, lenient=lenient(), reference_system="")
    ruleset, where = get_ruleset(), systems()
    found = search.questionnaire_matches(pairs, ruleset.version, where)
    resources = [fhir.questionnaire(ruleset, where)] if found else []
    if wanted.summary_count:
        resources = []
    entries = [(subset(r, wanted.elements) if wanted.elements else r, "match") for r in resources]
    return reply(_bundle(entries, wanted, total=int(found)))


@bp.get("/Questionnaire/<resource_id>")
def questionnaire_read(resource_id: str):
    if resource_id != fhir.QUESTIONNAIRE_ID:
        return problem(404, "not-found", f"There is no Questionnaire '{resource_id[:64]}'.")
    return reply(fhir.questionnaire(get_ruleset(), systems()), elements=_elements())


def _elements() -> tuple[str, ...]:
    return search.elements(request.args["_elements"]) if "_elements" in request.args else ()


@bp.get("/<any(QuestionnaireResponse, Patient, Observation):resource_type>/<resource_id>")
def read(resource_type: str, resource_id: str):
    token = authorized(resource_type)
    reference = (
        search.reference_of(resource_type, resource_id) if search.FHIR_ID.fullmatch(resource_id) else None
    )
    row = store.submission_for_review(get_db(), reference) if reference else None
    if row is None:
        return problem(404, "not-found", f"There is no {resource_type} with the id {resource_id[:64]!r}.")
    audit(token, reference, f"{resource_type} read")
    return reply(_resource(resource_type, row, Forms(get_db(), get_ruleset())), elements=_elements())


@bp.get("/<any(QuestionnaireResponse, Patient, Observation):resource_type>")
def search_type(resource_type: str):
    token = authorized(resource_type)
    wanted = search.parse(
        resource_type,
        list(request.args.items(multi=True)),
        lenient=lenient(),
        reference_system=systems().reference,
    )
    included = {"QuestionnaireResponse:subject": "Patient", "Observation:derived-from": "Observation"}
    for include in wanted.includes:
        for kind in included.values() if include == "*" else [included[include]]:
            authorized(kind)
    db = get_read_db()  # the replica when one is set and fresh enough (screening/db.py)
    if wanted.summary_count:
        total = store.fhir_count(db, wanted.query) if wanted.query is not None else 0
        audit(token, "", f"{resource_type} search count, {total}")
        return reply(_bundle([], wanted, total=total))
    rows = (
        store.fhir_search(db, wanted.query, after=wanted.after, limit=wanted.count + 1)
        if wanted.query
        else []
    )
    more, rows = len(rows) > wanted.count, rows[: wanted.count]
    forms = Forms(db, get_ruleset())
    entries = []
    for row in rows:
        resource = _resource(resource_type, row, forms)
        entries.append((subset(resource, wanted.elements) if wanted.elements else resource, "match"))
        if wanted.includes & {"QuestionnaireResponse:subject", "*"}:
            entries.append((_resource("Patient", row, forms), "include"))
        if wanted.includes & {"Observation:derived-from", "*"}:
            entries.append((_resource("Observation", row, forms), "include"))
    following = f"{rows[-1]['received']}~{rows[-1]['id']}" if more else None
    reference = rows[0]["reference"] if len(rows) == 1 else ""
    audit(token, reference, f"{resource_type} search, {len(rows)} result(s)")
    return reply(_bundle(entries, wanted, following=following))


def _resource(resource_type: str, row: dict, forms: Forms) -> dict:
    ruleset, where = get_ruleset(), systems()
    if resource_type == "Patient":
        return fhir.patient(row, where)
    if resource_type == "Observation":
        return fhir.outcome_observation(row, ruleset, where)
    return fhir.questionnaire_response(row, forms.for_row(row), where)


def _bundle(
    entries, wanted: search.Search, *, total: int | None = None, following: str | None = None
) -> dict:
    """Return a searchset Bundle: self link (the parameters used), next link, and what was ignored."""
    base = systems().base
    items = [
        {
            "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
            "resource": resource,
            "search": {"mode": mode},
        }
        for resource, mode in entries
    ]
    if wanted.ignored:
        names = ", ".join(sorted(set(wanted.ignored)))
        notice = fhir.operation_outcome("not-supported", f"Ignored unknown parameters: {names}.", "warning")
        items.append({"resource": notice, "search": {"mode": "outcome"}})
    cursor = [("_cursor", request.args["_cursor"])] if "_cursor" in request.args else []
    links = [{"relation": "self", "url": _url([*wanted.used, *cursor])}]
    if following:
        links.append({"relation": "next", "url": _url([*wanted.used, ("_cursor", following)])})
    bundle = {"resourceType": "Bundle", "type": "searchset", "link": links}
    if items:
        bundle["entry"] = items  # FHIR has no empty arrays
    if total is not None:
        bundle["total"] = total
    return bundle


def _url(pairs) -> str:
    return request.base_url + ("?" + urlencode(pairs) if pairs else "")


@bp.get("/", defaults={"anything": ""})
@bp.get("/<path:anything>")
def unknown(anything: str):
    kind = anything.split("/")[0]
    if kind in ("Questionnaire", *PRIVATE) and "/_history" in anything:
        return problem(404, "not-found", "This server keeps no history: read the resource itself.")
    return problem(404, "not-found", f"There is no {anything[:64]!r} here: see /fhir/metadata for what is.")


@bp.route("/", methods=["POST", "PUT", "PATCH", "DELETE"], defaults={"anything": ""})
@bp.route("/<path:anything>", methods=["POST", "PUT", "PATCH", "DELETE"])
def read_only(anything: str):
    return problem(405, "not-supported", "This FHIR server is read-only.")
