"""The patient's journey: start, steps, the emergency page, check answers, and the topic and about pages
(the summary and sending it are in `sending.py`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError

from .. import faults, get_db, store, web
from . import drafts, revisions
from .drafts import DRAFT_COOKIE, EMERGENCY_KEY
from .forms import SendForm, form_answers, read_posted, read_ticked, step_form_class
from .language import current_language, patient_ruleset

bp = Blueprint("patient", __name__)


def _steps():
    return patient_ruleset().questionnaire.steps


def _step_index(step_id: str) -> int:
    for index, step in enumerate(_steps()):
        if step.id == step_id:
            return index
    abort(404)


def _next_step(index: int, answers: dict):
    """Return the next step that is asked, given the answers, or None after the last."""
    questionnaire = patient_ruleset().questionnaire
    for step in _steps()[index + 1 :]:
        if questionnaire.step_shown(step.id, answers):
            return step
    return None


def _previous_step(index: int, answers: dict):
    questionnaire = patient_ruleset().questionnaire
    for step in reversed(_steps()[:index]):
        if questionnaire.step_shown(step.id, answers):
            return step
    return None


def _first_incomplete(answers: dict) -> str | None:
    """Return the first step with a shown question left unanswered or invalid, or None."""
    questionnaire = patient_ruleset().questionnaire
    bad = {error.question for error in questionnaire.validate(answers, complete=True)}
    for step in _steps():
        if any(q.id in bad for q in step.questions):
            return step.id
    return None


# --- pages ----------------------------------------------------------------------------------------


def _orders(questionnaire) -> dict:
    """Return the option order of every ordered question, for the page script's at_least/at_most."""
    return {q.id: [o.id for o in q.options] for q in questionnaire.questions.values() if q.ordered}


@bp.get("/")
def start():
    draft = drafts.current()
    return render_template("patient/start.html", resume=bool(draft and draft["answers"]))


@bp.post("/start")
def begin():
    db = get_db()
    old = web.cookie(DRAFT_COOKIE)
    if old:
        store.delete_draft(db, old)
    token = store.create_draft(db, current_app.config["DRAFT_TTL_HOURS"], {"language": current_language()})
    session.pop(EMERGENCY_KEY, None)
    _purge_expired_drafts_now_and_then(db)
    first = _steps()[0].id
    return drafts.set_cookie(redirect(url_for("patient.step", step_id=first)), token)


DRAFT_PURGE_EVERY = timedelta(minutes=10)


def _purge_expired_drafts_now_and_then(db) -> None:
    """Delete abandoned drafts once they expire, without waiting for `screening purge`.

    A draft holds health answers; it is never served after it expires, and this removes it at the next
    start after that (at most once every 10 minutes in each worker process; an indexed delete).
    """
    due = current_app.extensions.get("drafts_purged_at")
    now = datetime.fromisoformat(store.now())
    if due is None or now - due >= DRAFT_PURGE_EVERY:
        current_app.extensions["drafts_purged_at"] = now
        with faults.tolerated("POST /start (deleting expired drafts)"):
            store.purge_expired_drafts(db)


@bp.route("/step/<step_id>", methods=["GET", "POST"])
def step(step_id: str):
    index = _step_index(step_id)
    draft = drafts.current()
    if draft is None:
        if request.method == "POST" and index == emergency_step_index():
            # The draft is gone, but an emergency answer must still reach the emergency page.
            outcome = emergency_in_post(questionnaire_step(index), {})
            if outcome is not None:
                return show_emergency(outcome)
        return drafts.expired()
    questionnaire = patient_ruleset().questionnaire
    step = questionnaire.steps[index]
    answers = dict(draft["answers"])
    if not questionnaire.step_shown(step.id, answers):
        following = _next_step(index, answers)
        target = url_for("patient.step", step_id=following.id) if following else url_for("patient.check")
        return redirect(target)
    if request.method == "POST":
        return _post_step(draft, step, index, answers)
    kept = revisions.unsaved(draft, step.id)  # ticked before a language switch, not saved yet
    if kept is not None:
        answers = {**_other_steps(step, answers), **kept["answers"]}
    shown = tuple(q.id for q in questionnaire.shown_questions(step.id, answers))
    form_class = step_form_class(questionnaire, step.id, shown)
    form = form_class(data=_form_data(step, answers), formdata=None)
    form.shown.data = " ".join(shown)
    revision = revisions.page_revision(draft, step.id)
    urgent = _new_urgent_notices(draft)
    return _render_step(step, index, form, shown, answers, urgent=urgent, revision=revision)


def _other_steps(step, answers: dict) -> dict:
    """Return the answers to every question not on this step."""
    questions = patient_ruleset().questionnaire.questions
    return {k: v for k, v in answers.items() if questions[k].step != step.id}


def _new_urgent_notices(draft: dict) -> list:
    """Return urgent safety rules fired by the answers so far that the patient has not been shown yet."""
    ruleset = patient_ruleset()
    outcome = ruleset.evaluate(draft["answers"])
    seen = set(draft["progress"].get("urgent_seen", []))
    fresh = [f for f in ruleset.urgent_notices(outcome) if f.rule.id not in seen]
    if fresh:
        progress = dict(draft["progress"], urgent_seen=sorted(seen | {f.rule.id for f in fresh}))
        with faults.tolerated(f"{request.method} {request.path} (marking notices seen)"):
            # Only over the revision read: never over answers another tab saved meanwhile.
            store.save_draft(get_db(), draft["token"], draft["answers"], progress, revision=draft["revision"])
    return fresh


def _form_data(step, answers: dict) -> dict:
    data = {}
    for question in step.questions:
        if question.id in answers:
            value = answers[question.id]
            data[question.id] = str(value) if question.type == "number" else value
    return data


def _posted_answers(step, answers: dict) -> dict:
    """Return the draft's answers with this step's replaced by what was posted (unchecked)."""
    return {**_other_steps(step, answers), **read_posted(step, request.form)}


def questionnaire_step(index: int):
    return patient_ruleset().questionnaire.steps[index]


def emergency_step_index() -> int:
    return _step_index(patient_ruleset().questionnaire.emergency_step.id)


def emergency_in_post(step, answers: dict):
    """Return the emergency outcome if what was posted on this step already reaches it, else None.

    Only the posted values that are real options count; nothing else on the step needs to be valid or
    answered, so nobody with an emergency sign is held up by an error message.
    """
    ruleset = patient_ruleset()
    posted = {k: v for k, v in answers.items() if ruleset.questionnaire.questions[k].step != step.id}
    return ruleset.emergency_from_partial({**posted, **read_posted(step, request.form, options_only=True)})


def _post_step(draft: dict, step, index: int, answers: dict, attempt: int = 1):
    questionnaire = patient_ruleset().questionnaire
    if index == emergency_step_index():
        outcome = emergency_in_post(step, answers)
        if outcome is not None:  # at once, whatever the page's revision
            store.delete_draft(get_db(), draft["token"])
            return show_emergency(outcome)
    if revisions.conflicts(draft, step, read_ticked(step, request.form)):
        return revisions.conflict_page(draft, step, read_ticked(step, request.form), questionnaire)
    revision = revisions.page_revision(draft, step.id)
    posted = _posted_answers(step, answers)
    shown = tuple(q.id for q in questionnaire.shown_questions(step.id, posted))
    rendered = tuple(request.form.get("shown", "").split())
    form = step_form_class(questionnaire, step.id, shown)()
    on_page = {q.id for q in step.questions if q.on_page_from_start}  # already there without the script
    new_questions = [qid for qid in shown if qid not in rendered and qid not in on_page]
    if new_questions:
        # Without JavaScript, an answer just revealed a question: show it before going on.
        form.shown.data = " ".join(shown)
        return _render_step(step, index, form, shown, posted, revealed=new_questions, revision=revision)
    if not form.validate():
        form.shown.data = " ".join(shown)
        return _render_step(step, index, form, shown, posted, revision=revision), 400
    kept = questionnaire.clean({**_other_steps(step, answers), **form_answers(questionnaire, form, shown)})
    progress = revisions.after_saving(
        draft["progress"], questionnaire.steps, step.id, answers, kept, draft["revision"] + 1
    )
    if not store.save_draft(get_db(), draft["token"], kept, progress, revision=draft["revision"]):
        fresh = drafts.current()  # gone, or another tab saved it a moment ago: look again
        if fresh is None or attempt >= 3:
            return (
                drafts.expired()
                if fresh is None
                else revisions.conflict_page(fresh, step, read_ticked(step, request.form), questionnaire)
            )
        return _post_step(fresh, step, index, dict(fresh["answers"]), attempt + 1)
    return _after_step(draft, step, index, kept)


def _after_step(draft: dict, step, index: int, answers: dict):
    following = _next_step(index, answers)
    if request.args.get("return") == "check" or following is None:
        missing = _first_incomplete(answers)
        if missing is not None:
            return redirect(url_for("patient.step", step_id=missing))
        return redirect(url_for("patient.check"))
    return redirect(url_for("patient.step", step_id=following.id))


# --- the emergency page: it needs no draft, so a reload or Back shows it again -----------------------


def show_emergency(outcome):
    """Remember which emergency rules fired (their ids only) and show the emergency page."""
    session[EMERGENCY_KEY] = [f.rule.id for f in patient_ruleset().emergency_notices(outcome)]
    return drafts.forget(redirect(url_for("patient.emergency")))


@bp.get("/emergency")
def emergency():
    ruleset = patient_ruleset()
    fired = set(session.get(EMERGENCY_KEY) or ())
    rules = [rule for rule in ruleset.rules if rule.id in fired]
    return render_template("patient/emergency.html", level=ruleset.emergency_level, rules=rules)


def _render_step(
    step,
    index: int,
    form,
    shown,
    answers: dict,
    revealed=(),
    stale=False,
    urgent=(),
    unavailable=False,
    revision=None,
):
    questionnaire = patient_ruleset().questionnaire
    shown_steps = questionnaire.shown_steps(answers)
    previous = _previous_step(index, answers)
    return render_template(
        "patient/step.html",
        step=step,
        number=[s.id for s in shown_steps].index(step.id) + 1 if step in shown_steps else index + 1,
        total=len(shown_steps),
        form=form,
        questions=list(step.questions),
        shown=set(shown),
        revealed=set(revealed),
        back=url_for("patient.step", step_id=previous.id) if previous else url_for("patient.start"),
        returning=request.args.get("return") == "check",
        questionnaire=questionnaire,
        answers=answers,
        stale=stale,
        unavailable=unavailable,
        urgent=urgent,
        urgent_level=patient_ruleset().urgent_level,
        other_answers={k: v for k, v in answers.items() if questionnaire.questions[k].step != step.id},
        orders=_orders(questionnaire),
        revision=revision,
    )


@bp.route("/check", methods=["GET", "POST"])
def check():
    draft = drafts.current()
    if draft is None:
        return drafts.expired()
    answers = draft["answers"]
    missing = _first_incomplete(answers)
    if missing is not None:
        return redirect(url_for("patient.step", step_id=missing))
    if request.method == "POST":
        return redirect(url_for("patient.summary"))
    questionnaire = patient_ruleset().questionnaire
    cleaned = questionnaire.clean(answers)
    steps = questionnaire.shown_steps(cleaned)
    back = url_for("patient.step", step_id=steps[-1].id)
    return render_template(
        "patient/check.html", steps=steps, answers=cleaned, questionnaire=questionnaire, back=back
    )


def outcome_or_redirect(draft: dict):
    """Return (the outcome of a complete draft, None), or (None, a redirect to the first step to answer)."""
    answers = draft["answers"]
    missing = _first_incomplete(answers)
    if missing is not None:
        return None, redirect(url_for("patient.step", step_id=missing))
    return patient_ruleset().evaluate(answers), None


@bp.get("/about")
def about():
    """Who wrote the content and who approved it, its version and review date, the clinic's interest,
    the sources, and what the tool does not cover."""
    ruleset = patient_ruleset()
    sources = sorted(ruleset.sources.values(), key=lambda s: (s.kind != "article", s.title))
    return render_template("patient/about.html", sources=[s.id for s in sources])


@bp.get("/topics")
def topics():
    ruleset = patient_ruleset()
    rules_by_topic: dict[str, list] = {}
    for rule in ruleset.rules:
        rules_by_topic.setdefault(rule.topic, []).append(rule)
    return render_template("patient/topics.html", rules_by_topic=rules_by_topic)


def _step_again(draft: dict | None, **notice):
    """Render the posted step again with what the patient ticked and typed, and a notice."""
    index = _step_index(request.view_args.get("step_id", ""))
    questionnaire = patient_ruleset().questionnaire
    step = questionnaire.steps[index]
    posted = _posted_answers(step, draft["answers"] if draft else {})
    if draft is not None:
        notice["revision"] = revisions.page_revision(draft, step.id)
    shown = tuple(q.id for q in questionnaire.shown_questions(step.id, posted))
    form = step_form_class(questionnaire, step.id, shown)(formdata=None, data=_form_data(step, posted))
    form.shown.data = " ".join(shown)
    return _render_step(step, index, form, shown, posted, **notice)


@faults.page_again("patient.step")
def _step_unavailable():
    try:
        draft = drafts.current()
    except Exception as exc:  # the database cannot even be read: the posted step alone is still shown
        if faults.classify(exc) is None:
            raise
        draft = None
    return _step_again(draft, unavailable=True)


@bp.app_errorhandler(CSRFError)
def csrf_error(exc: CSRFError):
    """Never show a bare error page for an old form: show it again with the answers kept."""
    known_step = request.view_args.get("step_id") in {s.id for s in _steps()}
    if request.endpoint in ("patient.step", "patient.step_language") and known_step:
        step_id = request.view_args.get("step_id", "")
        if request.method == "POST" and step_id == patient_ruleset().questionnaire.emergency_step.id:
            outcome = emergency_in_post(questionnaire_step(_step_index(step_id)), {})
            if outcome is not None:  # an emergency answer wins at once, even from a page left open
                return show_emergency(outcome)
        draft = drafts.current()
        if draft is None:
            return drafts.expired()
        return _step_again(draft, stale=True), 400
    if request.endpoint == "patient.send":
        form = SendForm(formdata=request.form)  # never the body as JSON: it may not even parse
        form.consent.data = False
        return render_template("patient/send.html", form=form, stale=True), 400
    if request.blueprint == "patient":
        return render_template("patient/stale.html"), 400
    return render_template("errors/error.html", code=400), 400
