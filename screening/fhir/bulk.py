"""FHIR Bulk Data Access 2.0: `$export` at system level and for the Patient compartment.

The kick-off (`Prefer: respond-async`) answers 202 with a `Content-Location` to poll; a thread of the
worker that took the request writes one NDJSON file per resource type under SCREENING_EXPORT_DIR
(the instance folder by default) with the streaming writer, a keyset page at a time. Polls answer 202
with `X-Progress` and `Retry-After` until the manifest is ready. Files are served only with the token
that asked, for a day; `DELETE` on the poll address cancels the job and removes its files.
"""

from __future__ import annotations

import secrets
import shutil
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Blueprint, Response, current_app, json, request, send_file

from .. import csrf, get_db, store
from . import resources as fhir
from .form import Forms
from .http import FhirError, audit, authorized, lenient, problem, reply, scopes_of, systems
from .ndjson import SUBMISSION_TYPES, line, write_submissions
from .search import SearchError, date_range

bp = Blueprint("bulk", __name__)

KEPT = timedelta(days=1)
STALE = timedelta(minutes=5)  # no progress for this long: the worker that wrote it has gone
RETRY_AFTER_SECONDS = 2
NDJSON = "application/fhir+ndjson"
OUTPUT_FORMATS = {NDJSON, "application/ndjson", "ndjson"}
LEVEL_TYPES = {"system": ("Questionnaire", *SUBMISSION_TYPES), "patient": SUBMISSION_TYPES}
PARAMETERS = {"_outputFormat", "_since", "_type"}


@bp.get("/$export", defaults={"level": "system"})
@bp.get("/Patient/$export", defaults={"level": "patient"})
def kick_off(level: str):
    token = authorized()
    if "respond-async" not in [p.strip() for p in request.headers.get("Prefer", "").split(",")]:
        return problem(400, "not-supported", "$export runs asynchronously: send Prefer: respond-async.")
    unknown = sorted(set(request.args) - PARAMETERS)
    if unknown and not lenient():
        return problem(400, "not-supported", f"$export does not support: {', '.join(unknown)}.")
    if request.args.get("_outputFormat", NDJSON) not in OUTPUT_FORMATS:
        return problem(400, "not-supported", "_outputFormat: only application/fhir+ndjson is served.")
    types = _types(level, token)
    since = _since(request.args.get("_since", ""))
    _sweep(get_db())
    job = {
        "id": secrets.token_urlsafe(24),
        "token_id": token["id"],
        "request": request.url,
        "types": types,
        "since": since,
        "transaction_time": store.now(),
    }
    query = store.FhirQuery(since=since, dates=(("lt", job["transaction_time"], job["transaction_time"]),))
    job["total"] = store.fhir_count(get_db(), query)
    store.add_bulk_export(get_db(), job)
    audit(token, "", f"$export ({level}) of {', '.join(types)} started")
    app = current_app._get_current_object()
    worker = threading.Thread(
        target=_write, args=(app, job, query, systems().base), name=f"export-{job['id'][:8]}", daemon=True
    )
    worker.start()
    response = reply(fhir.operation_outcome("informational", "The export has started.", "information"), 202)
    response.headers["Content-Location"] = _poll_url(job["id"])
    return response


def _types(level: str, token: dict) -> list[str]:
    """Return the resource types asked for (all the token may read when `_type` is absent)."""
    readable = {"Questionnaire", *scopes_of(token)}
    offered = LEVEL_TYPES[level]
    if "_type" not in request.args:
        return [kind for kind in offered if kind in readable]
    asked = [kind.strip() for kind in request.args["_type"].split(",")]
    unknown = [kind for kind in asked if kind not in offered]
    if unknown:
        raise FhirError(400, "not-supported", f"_type: this export offers {', '.join(offered)}.")
    beyond = [kind for kind in asked if kind not in readable]
    if beyond:
        raise FhirError(403, "forbidden", f"This token's scopes do not include {', '.join(beyond)}.")
    return [kind for kind in offered if kind in asked]


def _since(value: str) -> str:
    if not value:
        return ""
    try:
        prefix, start, _ = date_range(value)
    except SearchError:
        prefix = "no"
    if prefix != "eq" or value.startswith("eq"):
        raise FhirError(400, "value", "_since takes an instant, like 2026-11-01T00:00:00Z.")
    return start


def _write(app, job: dict, query, base: str) -> None:
    """Write the job's files (in its own thread, with its own connection); record the manifest."""
    from ..db import open_database

    db = open_database(app.config)
    folder = _folder(app, job["id"])
    try:
        folder.mkdir(parents=True, exist_ok=True)
        ruleset, where = app.extensions["ruleset"], fhir.Systems(base)
        counts = {}
        if "Questionnaire" in job["types"]:
            (folder / "Questionnaire.ndjson").write_text(line(fhir.questionnaire(ruleset, where)), "utf-8")
            counts["Questionnaire"] = 1
        wanted = [kind for kind in job["types"] if kind in SUBMISSION_TYPES]
        files = {kind: open(folder / f"{kind}.ndjson", "w", encoding="utf-8") for kind in wanted}  # noqa: SIM115
        live = [True]

        def progress(done: int) -> bool:
            live[0] = store.bulk_export_progress(db, job["id"], done)
            return live[0]

        try:
            counts |= write_submissions(
                store.iter_fhir(db, query), files, Forms(db, ruleset), ruleset, where, progress
            )
        finally:
            for handle in files.values():
                handle.close()
        if not live[0] or store.bulk_export(db, job["id"]) is None:
            shutil.rmtree(folder, ignore_errors=True)  # cancelled meanwhile
            return
        output = [
            {"type": kind, "url": f"{base}/$export-file/{job['id']}/{kind}.ndjson", "count": counts[kind]}
            for kind in job["types"]
            if counts.get(kind)
        ]
        store.finish_bulk_export(db, job["id"], output=output)
    except Exception:
        app.logger.exception("Bulk export %s failed", job["id"][:8])
        store.finish_bulk_export(db, job["id"], error="The export failed on the server; start a new one.")
    finally:
        db.close()


@bp.get("/$export-poll/<job_id>")
def poll(job_id: str):
    job = _own_job(job_id)
    if job["status"] == "in-progress" and _older(job["heartbeat"], STALE):
        store.finish_bulk_export(
            get_db(), job_id, error="The export stopped (its server restarted); start again."
        )
        job = _own_job(job_id)
    if job["status"] == "in-progress":
        response = Response(status=202)
        response.headers["X-Progress"] = f"{job['progress']} of {job['total']} submissions written"
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response.headers["Cache-Control"] = "no-store"
        return response
    if job["status"] == "error":
        return problem(500, "exception", job["error"])
    manifest = {
        "transactionTime": job["transaction_time"],
        "request": job["request"],
        "requiresAccessToken": True,
        "output": job["output"],
        "error": [],
    }
    response = Response(json.dumps(manifest), status=200, content_type="application/json; charset=utf-8")
    expires = datetime.fromisoformat(job["created"]) + KEPT
    response.headers["Expires"] = expires.strftime("%a, %d %b %Y %H:%M:%S GMT")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.delete("/$export-poll/<job_id>")
@csrf.exempt  # a bearer token, no cookie: nothing for a forged form to do (api.bp is exempt whole)
def cancel(job_id: str):
    job = _own_job(job_id)
    store.delete_bulk_export(get_db(), job["id"])
    shutil.rmtree(_folder(current_app, job["id"]), ignore_errors=True)
    return reply(fhir.operation_outcome("informational", "The export is cancelled.", "information"), 202)


@bp.get(
    "/$export-file/<job_id>/<any(Questionnaire, Patient, QuestionnaireResponse, Observation):kind>.ndjson"
)
def download(job_id: str, kind: str):
    token = authorized()
    job = _own_job(job_id, token)
    path = _folder(current_app, job["id"]) / f"{kind}.ndjson"
    if job["status"] != "complete" or kind not in job["types"] or not path.exists():
        return problem(404, "not-found", "There is no such file in this export.")
    audit(token, "", f"$export file {kind}")
    return send_file(path, mimetype=NDJSON, max_age=0, conditional=False)


def _own_job(job_id: str, token: dict | None = None) -> dict:
    """Return the job if the token that asked for it is the one in this request; 404 otherwise."""
    token = token or authorized()
    job = store.bulk_export(get_db(), job_id) if len(job_id) < 64 else None
    if job is None or job["token_id"] != token["id"]:
        raise FhirError(404, "not-found", "There is no such export for this token (or it expired).")
    if _older(job["created"], KEPT):
        _sweep(get_db())
        raise FhirError(404, "not-found", "There is no such export for this token (or it expired).")
    return job


def _sweep(db) -> None:
    """Remove the exports older than a day, rows and files."""
    for job_id in store.expired_bulk_exports(db, store.shift(store.now(), seconds=-KEPT.total_seconds())):
        shutil.rmtree(_folder(current_app, job_id), ignore_errors=True)
        store.delete_bulk_export(db, job_id)


def _older(timestamp: str, age: timedelta) -> bool:
    return datetime.fromisoformat(timestamp) < datetime.now(UTC) - age


def _folder(app, job_id: str) -> Path:
    return Path(app.config["EXPORT_DIR"]) / job_id


def _poll_url(job_id: str) -> str:
    return f"{systems().base}/$export-poll/{job_id}"
