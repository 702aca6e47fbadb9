"""Which answers a step page was made from, and what was ticked on it but not saved.

Every save of a draft counts a revision (`store.save_draft`). A step page carries the revision it was made
at; the draft's progress records, per step, the revision that last changed that step's answers. A send
from a page older than that change (another tab or window saved this step since) saves nothing: the
patient sees both sets of answers and chooses (HTTP 409). A language switch on a step keeps what is
ticked as a draft of that page, with the revision the page was made at, so the page in the other language
shows exactly those ticks and still knows how old it is.
"""

from __future__ import annotations

from flask import render_template, request

UNSAVED = "unsaved"  # progress: step id -> {"answers": what was ticked, "revision": the page's revision}
CHANGED = "changed"  # progress: step id -> the revision whose save last changed the step's answers


def step_answers(step, answers: dict) -> dict:
    """Return the answers to this step's questions alone."""
    return {q.id: answers[q.id] for q in step.questions if q.id in answers}


def unsaved(draft: dict, step_id: str) -> dict | None:
    """Return what was ticked on this step's page and kept without saving (a language switch), or None."""
    return draft["progress"].get(UNSAVED, {}).get(step_id)


def with_unsaved(progress: dict, step_id: str, ticked: dict, revision: int) -> dict:
    """Return the progress with what is ticked on this step's page kept as a draft of that page."""
    pages = {**progress.get(UNSAVED, {}), step_id: {"answers": ticked, "revision": revision}}
    return {**progress, UNSAVED: pages}


def without_unsaved(progress: dict, step_id: str) -> dict:
    """Return the progress without a draft of this step's page."""
    pages = {k: v for k, v in progress.get(UNSAVED, {}).items() if k != step_id}
    return {**progress, UNSAVED: pages} if pages else {k: v for k, v in progress.items() if k != UNSAVED}


def after_saving(progress: dict, steps, step_id: str, before: dict, after: dict, revision: int) -> dict:
    """Return the progress once a step is saved as the draft's `revision`: its page draft gone, and that
    revision recorded for every step whose answers the save changed (cleaning can change later steps)."""
    changed = dict(progress.get(CHANGED, {}))
    for step in steps:
        if not same(step_answers(step, before), step_answers(step, after)):
            changed[step.id] = revision
    return {**without_unsaved(progress, step_id), CHANGED: changed}


def same(first: dict, second: dict) -> bool:
    """Return whether two sets of answers say the same (the order of ticked boxes aside)."""

    def plain(answers: dict) -> dict:
        return {k: sorted(v) if isinstance(v, list) else v for k, v in answers.items()}

    return plain(first) == plain(second)


def posted_revision(draft: dict) -> int | None:
    """Return the revision the posted page was made at, or None when it does not say (or says nonsense)."""
    text = request.form.get("revision", "")
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        return None
    number = int(text)
    return number if number <= draft["revision"] else None


def page_revision(draft: dict, step_id: str) -> int:
    """Return the revision a step page shows: the posted page's own (a page shown again stays as old as
    it was), else that of the kept draft of this page, else the draft's."""
    if request.method == "POST":
        posted = posted_revision(draft)
        if posted is not None:
            return posted
    kept = unsaved(draft, step_id)
    return kept["revision"] if kept else draft["revision"]


def conflicts(draft: dict, step, ticked: dict) -> bool:
    """Return whether the posted step would overwrite answers saved for it after its page was made."""
    posted = posted_revision(draft)
    if posted is None or draft["progress"].get(CHANGED, {}).get(step.id, 0) <= posted:
        return False
    return not same(step_answers(step, draft["answers"]), ticked)


def conflict_page(draft: dict, step, ticked: dict, questionnaire):
    """Show the answers saved from another tab beside the ones just sent, and save nothing (HTTP 409)."""
    saved = draft["answers"]
    sent = {**{k: v for k, v in saved.items() if questionnaire.questions[k].step != step.id}, **ticked}
    hidden = [
        (qid, str(value))
        for qid, answer in ticked.items()
        for value in (answer if isinstance(answer, list) else [answer])
    ]
    page = render_template(
        "patient/conflict.html",
        step=step,
        saved=[(q, saved.get(q.id)) for q in questionnaire.shown_questions(step.id, saved)],
        sent=[(q, sent.get(q.id)) for q in questionnaire.shown_questions(step.id, sent)],
        hidden=hidden,
        shown=" ".join(q.id for q in questionnaire.shown_questions(step.id, sent)),
        revision=draft["revision"],
        returning=request.args.get("return"),
    )
    return page, 409
