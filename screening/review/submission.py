"""One submission: its answers, rules, summary and drift, and the work on it (status, notes)."""

from __future__ import annotations

import json

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from .. import clinictime, faults, get_db, get_ruleset, store
from . import bp, clinic_zone, workflow
from .forms import ActionForm, NoteForm, StatusForm, note_form_for
from .inbox import level_label, topic_ids


def _submission_or_404(reference: str) -> dict:
    row = store.submission_for_review(get_db(), reference)
    if row is None:
        abort(404)
    return row


def answer_rows(questionnaire, answers: dict) -> list[dict]:
    """Return each step's questions with the answers given, in questionnaire order (None: not asked)."""
    steps = []
    for step in questionnaire.steps:
        items = []
        for question in step.questions:
            value = answers.get(question.id)
            items.append(
                {"id": question.id, "label": question.label, "answer": _answer_text(question, value)}
            )
        steps.append({"title": step.title, "items": items})
    unknown = [qid for qid in answers if qid not in questionnaire.questions]
    if unknown:
        items = [{"id": qid, "label": qid, "answer": [json.dumps(answers[qid])]} for qid in unknown]
        steps.append({"title": None, "items": items})
    return steps


def _answer_text(question, value) -> list[str] | None:
    """Return the labels of an answer, None when the question was not asked."""
    if value is None:
        return None
    if question.type == "number":
        return [str(value)]
    values = value if isinstance(value, list) else [value]
    return [option.label if (option := question.option(v)) else str(v) for v in values]


def _page_for(row: dict, note_form: NoteForm | None = None, status: int = 200):
    ruleset = get_ruleset()
    outcome = json.loads(row["outcome"])
    notes, changes = store.submission_history(get_db(), row["id"])
    topics = ruleset.topics
    fired = [
        {
            **rule,
            "level_label": level_label(rule.get("level", "")),
            "topic_title": topics[rule["topic"]].title
            if rule.get("topic") in topics
            else rule.get("topic", ""),
        }
        for rule in outcome.get("rules", [])
    ]
    safety_levels = {level.id for level in ruleset.levels if level.role}
    page = render_template(
        "review/submission.html",
        row=row,
        level_label=level_label(row["level"]),
        topic_titles=[topics[t].title if t in topics else t for t in topic_ids(row["topics"])],
        steps=answer_rows(ruleset.questionnaire, json.loads(row["answers"])),
        fired=fired,
        why_first=[rule for rule in fired if rule.get("level") in safety_levels],
        notes=notes,
        changes=changes,
        next_statuses=workflow.MOVES.get(row["status"], ()),
        move_label=workflow.move_label,
        tries=workflow.tries_words(row["attempts"], _last_try(row)),
        note_form=note_form or note_form_for(row, posted=False),
        action_form=ActionForm(),
        same_ruleset=row["ruleset_hash"] == ruleset.hash,
        current_version=ruleset.version,
        today=_today_would_show(row) if row["ruleset_hash"] != ruleset.hash else None,
    )
    return page, status


def _last_try(row: dict) -> str:
    return clinictime.short(row["last_attempt"], clinic_zone(), store.now())


def _today_would_show(row: dict) -> dict:
    """What today's rules would show for a submission made under older ones (nothing stored changes)."""
    ruleset = get_ruleset()
    outcome = ruleset.evaluate(json.loads(row["answers"]))
    stored = set(topic_ids(row["topics"]))
    return {
        "level_label": level_label(outcome.level),
        "level_changed": outcome.level != row["level"],
        "topics": [(ruleset.topics[t].title, t not in stored) for t in outcome.topics],
        "gone": [
            ruleset.topics[t].title if t in ruleset.topics else t
            for t in sorted(stored - set(outcome.topics))
        ],
    }


@bp.get("/submissions/<reference>")
def submission(reference: str):
    row = _submission_or_404(reference)
    store.record_audit(
        get_db(), "view", reviewer_id=current_user.id, reviewer_email=current_user.email, reference=reference
    )
    return _page_for(row)


@bp.post("/submissions/<reference>/status")
def change_status(reference: str):
    row = _submission_or_404(reference)
    form = StatusForm()
    form.validate_on_submit()
    wanted, seen = form.to_status.data or "", form.from_status.data or ""
    target = url_for("review.submission", reference=reference)
    if seen != row["status"]:
        current = workflow.LABELS[row["status"]]
        flash(
            f"Someone changed the status to {current} while you were reading. Check it and try again.",
            "error",
        )
    elif wanted not in workflow.MOVES[row["status"]]:
        label = workflow.LABELS.get(wanted, wanted or "nothing")
        flash(f"A submission cannot move from {workflow.LABELS[row['status']]} to {label}.", "error")
    elif store.change_status(get_db(), row, current_user.record, seen, wanted):
        flash(f"Status changed to {workflow.move_label(seen, wanted)}.")
    else:
        flash("Someone changed the status while you were reading. Check and try again.", "error")
    return redirect(target, code=303)


@bp.post("/submissions/<reference>/notes")
def add_note(reference: str):
    row = _submission_or_404(reference)
    form = note_form_for(row)
    if not form.validate_on_submit():
        return _page_for(row, note_form=form, status=400)
    body, wanted, seen = form.body.data, form.to_status.data, form.from_status.data
    target = url_for("review.submission", reference=reference, _anchor="notes")
    if not wanted:
        store.add_note(get_db(), row, current_user.record, body)
        flash("Note added.")
        return redirect(target, code=303)
    if seen == row["status"] and (
        store.note_and_status(get_db(), row, current_user.record, body, seen, wanted)
        if body
        else store.change_status(get_db(), row, current_user.record, seen, wanted)
    ):
        flash(f"{'Note added and status' if body else 'Status'} changed to {workflow.label(wanted)}.")
        return redirect(target, code=303)
    fresh = _submission_or_404(reference)
    again = note_form_for(fresh, posted=False)
    again.body.data = body
    again.to_status.errors = [
        "Someone changed the status while you were reading, so nothing was saved. Check it and try again."
    ]
    return _page_for(fresh, note_form=again, status=409)


@faults.page_again("review.add_note")
@faults.page_again("review.change_status")
def _work_unavailable():
    """A note or status change that could not be saved: the page again, the note text kept."""
    row = _submission_or_404(request.view_args["reference"])
    form = note_form_for(row)
    form.validate()
    form.body.errors = ["We could not save this just now. Nothing is lost: press Save again in a moment."]
    page, _ = _page_for(row, note_form=form)
    return page
