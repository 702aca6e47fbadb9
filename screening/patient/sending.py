"""The summary and sending it to the clinic: the summary page (kept with the draft as the patient saw
it), the send form, the stored submission and its alerts, the confirmation with the summary as sent,
and finishing without sending."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import datetime, timedelta

from flask import (
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from .. import faults, get_db, get_ruleset, store, web
from . import drafts
from .drafts import DRAFT_COOKIE
from .forms import SendForm
from .language import current_language, patient_ruleset
from .steps import bp, outcome_or_redirect, show_emergency


@bp.get("/summary")
def summary():
    draft = drafts.current(with_summary=True)
    if draft is None:
        return drafts.expired()
    outcome, detour = outcome_or_redirect(draft)
    if detour is not None:
        return detour
    if patient_ruleset().is_emergency(outcome):
        with faults.tolerated(f"{request.method} {request.path} (deleting the draft)"):
            store.delete_draft(get_db(), draft["token"])
        return show_emergency(outcome)
    html = _summary_html(outcome)
    _keep_summary(draft, answers_digest(outcome.answers), html)
    instead = patient_ruleset().instead_of_sending(outcome)
    return render_template(
        "patient/summary.html", outcome=outcome, summary_html=html, instead_of_sending=instead
    )


def _summary_html(outcome) -> str:
    """Render the summary itself: the part a patient reads, stored as is with a submission."""
    return render_template("patient/_summary.html", outcome=outcome, ruleset=patient_ruleset())


def _summary_key(digest: str) -> str:
    """Name what a summary page was made for: the answers (their digest), the language and the rule set."""
    return f"{current_language()}:{get_ruleset().hash}:{digest}"


def _keep_summary(draft: dict, digest: str, html: str) -> None:
    """Keep the summary page the patient was just shown with their draft (unless it is kept already), so
    that the send stores the very page they read. If it cannot be kept now, the send makes it again."""
    key = _summary_key(digest)
    if draft["summary"] != (key, html):
        with faults.tolerated(f"{request.method} {request.path} (keeping the summary shown)"):
            store.keep_summary(get_db(), draft["token"], key, html)


def _summary_shown(draft: dict, outcome, digest: str) -> str:
    """Return the summary page the patient was last shown for these answers in this language and rule
    set, or (when none was kept) make it now."""
    key, html = draft["summary"]
    return html if key == _summary_key(digest) else _summary_html(outcome)


@bp.route("/send", methods=["GET", "POST"])
def send():
    db = get_db()
    form = SendForm()
    draft = drafts.current(with_summary=request.method == "POST")
    if draft is None:
        # A second click, or a retried POST, after the first one stored it and deleted the draft.
        done = (
            store.submission_by_key(db, form.key.data) if request.method == "POST" and form.key.data else None
        )
        if done is None:
            return drafts.expired()
        _remember_sent(done["reference"])
        return drafts.forget(redirect(url_for("patient.done")))
    outcome, detour = outcome_or_redirect(draft)
    if detour is not None:
        return detour
    instead = patient_ruleset().instead_of_sending(outcome)
    if instead:
        # A child's answers are never sent: the page says what to do instead, and nothing is stored.
        page = render_template("patient/not_sendable.html", instead_of_sending=instead)
        return page, 403 if request.method == "POST" else 200
    progress = dict(draft["progress"])
    if not progress.get("send_key"):
        # The one-time key makes a double click or a retry store one row. It is kept with the draft; if
        # the draft cannot be written just now, the form carries a new key and the POST keeps it.
        progress["send_key"] = _posted_key() or secrets.token_urlsafe(24)
        with faults.tolerated(f"{request.method} {request.path} (keeping the send key)"):
            store.save_draft(db, draft["token"], draft["answers"], progress)
    digest = answers_digest(outcome.answers)

    def page(status: int = 200, **shown):
        form.answers_digest.data = digest
        urgent = patient_ruleset().urgent_notices(outcome)
        return render_template("patient/send.html", form=form, urgent=urgent, **shown), status

    form.key.data = progress["send_key"]
    if request.method == "GET":
        return page()
    if not form.validate():
        return page(400)
    if form.answers_digest.data != digest:
        # The answers changed after this form was opened (another tab): show what would be sent first.
        html = _summary_html(outcome)
        _keep_summary(draft, digest, html)
        return page(409, changed=True, summary_html=html)
    return _store_submission(draft, outcome, form, digest)


def answers_digest(answers: dict) -> str:
    """Return a short fingerprint of a set of answers, to tell which answers a send form belongs to."""
    text = json.dumps(answers, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


SEND_KEY = re.compile(r"[A-Za-z0-9_-]{32}")


def _posted_key() -> str | None:
    """Return the send key a POST carries, when it has the shape of one the send page makes."""
    key = request.form.get("key", "") if request.method == "POST" else ""
    return key if SEND_KEY.fullmatch(key) else None


def _store_submission(draft: dict, outcome, form: SendForm, digest: str):
    # The reviewers read the outcome's rules in English; the summary is stored as the patient saw it.
    ruleset = get_ruleset()
    stored = outcome if patient_ruleset() is ruleset else ruleset.evaluate(outcome.answers)
    reference, _ = store.insert_submission(
        get_db(),
        {
            "idempotency_key": form.key.data,
            "level": outcome.level,
            "topics": list(outcome.topics),
            "answers": outcome.answers,
            "outcome": stored.to_dict(),
            "summary_html": _summary_shown(draft, outcome, digest),
            "language": current_language(),
            "ruleset_version": ruleset.version,
            "ruleset_hash": ruleset.hash,
            "name": form.name.data,
            "email": form.email.data or "",
            "phone": form.phone.data or "",
            "contact_method": form.contact_method.data,
            "alert": _alert_for(outcome),
        },
        draft_token=draft["token"],
    )
    _remember_sent(reference)
    return drafts.forget(redirect(url_for("patient.done")))


def _alert_for(outcome) -> dict:
    """Urgent submissions alert reviewers at once; the others wait for the daily digest."""
    from .. import alerts, clinictime

    if patient_ruleset().is_urgent(outcome):
        return {"kind": alerts.AT_ONCE, "due": store.now()}
    tz = clinictime.zone(current_app.config["TIMEZONE"])
    return {
        "kind": alerts.DIGEST,
        "due": alerts.next_digest(store.now(), tz, current_app.config["DIGEST_HOUR"]),
    }


def _remember_sent(reference: str) -> None:
    """Keep the reference in this browser's session, with the time until which it may show the summary
    again: as long as the draft would have lived."""
    until = datetime.fromisoformat(store.now()) + timedelta(hours=current_app.config["DRAFT_TTL_HOURS"])
    session["sent_reference"] = reference
    session["sent_until"] = until.isoformat()


def _sent_submission() -> dict | None:
    """Return the submission this browser sent, while it may still show it; else None."""
    reference, until = session.get("sent_reference"), session.get("sent_until")
    if not reference or not until or until <= store.now():
        return None
    return store.submission_for_review(get_db(), reference)


@bp.get("/done")
def done():
    sent = _sent_submission()
    if sent is None:
        return redirect(url_for("patient.start"))
    urgent = patient_ruleset().is_urgent_level(sent["level"])
    return render_template("patient/done.html", reference=sent["reference"], urgent=urgent)


@bp.get("/done/summary")
def sent_summary():
    """The summary as it was sent, to view and print after sending (the stored copy, never re-made)."""
    sent = _sent_submission()
    if sent is None:
        return redirect(url_for("patient.start"))
    html = sent["summary_html"]
    return render_template("patient/sent_summary.html", reference=sent["reference"], summary_html=html)


@bp.post("/finish")
def finish():
    token = web.cookie(DRAFT_COOKIE)
    if token:
        store.delete_draft(get_db(), token)
    return drafts.forget(redirect(url_for("patient.finished")))


@bp.get("/finished")
def finished():
    return render_template("patient/finished.html")


@faults.page_again("patient.send")
def _send_unavailable():
    return render_template("patient/send.html", form=SendForm(), unavailable=True)
