"""Keeping what a patient ticked on a step page: the language switch there is a button of the step's
form, so what is ticked (valid or not) is kept as a draft of that page and shown again in the other
language; and after a send from another tab (`revisions`), "Keep the saved answers" drops that draft.

The emergency check comes first, as for Continue: an emergency answer ticked when the language button is
pressed shows the emergency page at once (in the language asked for), whatever else is on the page.
"""

from __future__ import annotations

from flask import redirect, request, url_for

from .. import get_db, store
from . import drafts, revisions
from .forms import read_ticked
from .language import offered, patient_ruleset, remember
from .steps import bp, emergency_in_post, emergency_step_index, show_emergency


def _step(step_id: str):
    questionnaire = patient_ruleset().questionnaire
    if step_id not in {step.id for step in questionnaire.steps}:
        return None
    return questionnaire.step(step_id)


def _back_to(step_id: str):
    back = "check" if request.args.get("return") == "check" else None  # nothing else of the query comes back
    return redirect(url_for("patient.step", step_id=step_id, **{"return": back}), 303)


@bp.post("/step/<step_id>/language/<code>")
def step_language(step_id: str, code: str):
    """Keep what is ticked on this step as a draft of its page, and show the page in language `code`."""
    step = _step(step_id)
    if step is None or code not in offered():
        return _back_to(step_id) if step is not None else redirect(url_for("patient.start"))
    draft = drafts.current()
    if step.id == patient_ruleset().questionnaire.steps[emergency_step_index()].id:
        outcome = emergency_in_post(step, draft["answers"] if draft else {})
        if outcome is not None:
            if draft is not None:
                store.delete_draft(get_db(), draft["token"])
            return remember(show_emergency(outcome), code)
    for _ in range(3):  # again on a fresh read if another tab saves in between
        if draft is None:
            break
        ticked, revision = read_ticked(step, request.form), revisions.page_revision(draft, step.id)
        progress = revisions.with_unsaved(draft["progress"], step.id, ticked, revision)
        progress["language"] = code
        if store.save_draft(get_db(), draft["token"], draft["answers"], progress, revision=draft["revision"]):
            break
        draft = drafts.current()
    return remember(_back_to(step.id), code)


@bp.post("/step/<step_id>/keep")
def keep_saved(step_id: str):
    """After a send from another tab: keep the saved answers, drop what this page had ticked, show it."""
    step = _step(step_id)
    if step is None:
        return redirect(url_for("patient.start"))
    draft = drafts.current()
    if draft is None:
        return drafts.expired()
    if revisions.unsaved(draft, step.id) is not None:
        progress = revisions.without_unsaved(draft["progress"], step.id)
        store.save_draft(get_db(), draft["token"], draft["answers"], progress, revision=draft["revision"])
    return _back_to(step.id)
