"""The clinic reviewers' workspace: sign-in, inbox, a submission, status and notes, export, audit, admin."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from functools import wraps

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    Form,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import DateField
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError

from . import auth, clinictime, config, export, faults, get_db, get_ruleset, store, workflow
from .forms import has_control_characters

bp = Blueprint("review", __name__)

PUBLIC_ENDPOINTS = {"review.sign_in"}
PAGE_SIZE = 50
STATUS_LABELS = workflow.LABELS
TRANSITIONS = workflow.MOVES
AUDIT_ACTIONS = {
    "view": "Viewed a submission",
    "status": "Changed a status",
    "note": "Added a note",
    "export": "Exported submissions",
    "signin": "Signed in",
    "signout": "Signed out",
    "signin_failed": "Failed sign-in",
    "signin_throttled": "Throttled sign-in",
    "signin_hammered": "Many failed sign-ins on one account",
    "api_read": "Read through the FHIR API",
    "api_token_add": "Added an API token",
    "api_token_revoke": "Revoked an API token",
    "reviewer_add": "Added a reviewer",
    "reviewer_disable": "Disabled a reviewer",
    "reviewer_enable": "Enabled a reviewer",
    "reviewer_reset": "Reset a password",
    "password_change": "Changed own password",
    "password_change_failed": "Failed password change",
    "purge": "Purged old data",
    "backup": "Backed up the database",
    "seed": "Added demo data",
}
MAX_NOTE_LENGTH = 5000
MIN_SEARCH_LENGTH = 3
DATE_MESSAGE = "Enter a date like 2026-11-22."
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
ROW_ID = re.compile(r"[0-9]{1,18}")  # ASCII digits that fit SQLite's 64-bit integers
STORED_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+\+00:00")
PHONE_LIKE = re.compile(r"^[\d\s()+.-]+$")


# Forms


def choices(pairs) -> list[SelectChoice]:
    """Return select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class DayField(DateField):
    """A date typed as YYYY-MM-DD, from 2000 to 2099, with a message that shows the format."""

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0] and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", valuelist[0]):
            raise ValueError(DATE_MESSAGE)
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(DATE_MESSAGE) from None
        if self.data is not None and not FIRST_DAY <= self.data <= LAST_DAY:
            self.data = None
            raise ValueError(f"Enter a date from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}.")


class SignInForm(FlaskForm):
    email = StringField("Email address", [InputRequired("Enter your email address."), Length(max=254)])
    password = PasswordField("Password", [InputRequired("Enter your password."), Length(max=1024)])


class PasswordChangeForm(FlaskForm):
    current = PasswordField(
        "Current password", [InputRequired("Enter your current password."), Length(max=1024)]
    )
    new = PasswordField("New password", [InputRequired("Enter a new password.")])
    confirm = PasswordField("New password again", [InputRequired("Enter the new password again.")])

    def validate_new(self, field) -> None:
        problems = auth.password_problems(field.data, current_user.email)
        if field.data == self.current.data:
            problems.append("Choose a password that is different from your current one.")
        if problems:
            raise ValidationError(" ".join(problems))

    def validate_confirm(self, field) -> None:
        if field.data != self.new.data:
            raise ValidationError("The two new passwords are not the same.")


class InboxFilterForm(Form):
    view = SelectField(
        "View", choices=choices([("all", "All submissions"), ("attention", "Needs attention")]), default="all"
    )
    status = SelectField("Status", choices=choices([("", "Any status"), *STATUS_LABELS.items()]), default="")
    level = SelectField("Level", choices=[], default="")
    topic = SelectField("Topic", choices=[], default="")
    date_from = DayField("Received from", [Optional()], format="%Y-%m-%d")
    date_to = DayField("Received to", [Optional()], format="%Y-%m-%d")
    q = StringField("Name, email, phone or reference", [Optional(), Length(max=200)])
    older = BooleanField("Only those made under an older rule set")
    order = SelectField(
        "Order", choices=choices([("newest", "Newest first"), ("urgent", "Urgent first")]), default="newest"
    )


class AuditFilterForm(Form):
    reviewer = SelectField("Reviewer", choices=[], default="")
    action = SelectField("Action", choices=choices([("", "Any action"), *AUDIT_ACTIONS.items()]), default="")
    reference = StringField("Submission reference", [Optional(), Length(max=64)])
    date_from = DayField("From", [Optional()], format="%Y-%m-%d")
    date_to = DayField("To", [Optional()], format="%Y-%m-%d")


def _strip(value):
    """Trim a note and count a line break as one character, as the browser's maxlength does."""
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else value


class NoteForm(FlaskForm):
    """A note, a status move, or both at once ("Called, left a message" and Contacted)."""

    body = TextAreaField(
        "Add a note",
        [
            Optional(),
            Length(max=MAX_NOTE_LENGTH, message=f"A note can be at most {MAX_NOTE_LENGTH:,} characters."),
        ],
        filters=[_strip],
    )
    from_status = HiddenField()
    to_status = SelectField("And change the status", choices=[], default="")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and self.body.data and has_control_characters(self.body.data, lines=True):
            self.body.errors = [*self.body.errors, "A note cannot hold control characters (such as NUL)."]
            return False
        if valid and not self.body.data and not self.to_status.data:
            self.body.errors = [*self.body.errors, "Write the note first, or choose a new status."]
            return False
        return valid


def note_form_for(row: dict, *, posted: bool = True) -> NoteForm:
    """Return the note form for a submission (read from the request when posted), offering the moves
    its status allows."""
    form = NoteForm() if posted else NoteForm(formdata=None)
    current = workflow.label(row["status"])
    form.to_status.choices = choices(
        [
            ("", f"Keep it as {current}"),
            *((s, workflow.label(s)) for s in workflow.MOVES.get(row["status"], ())),
        ]
    )
    if not form.from_status.data:
        form.from_status.data = row["status"]
    return form


class StatusForm(FlaskForm):
    from_status = HiddenField()
    to_status = HiddenField()


class AddReviewerForm(FlaskForm):
    email = StringField(
        "Email address",
        [
            InputRequired("Enter the reviewer's email address."),
            Email("Enter a valid email address."),
            Length(max=254),
        ],
    )
    is_admin = BooleanField("Administrator (can manage reviewers and read the audit log)")


class ActionForm(FlaskForm):
    """A button that changes something: nothing but the CSRF token."""


# Access control: every page but the sign-in page needs a signed-in reviewer; admin pages need an admin.


@bp.before_request
def _require_sign_in():
    if request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
        return auth.login_manager.unauthorized()
    if any(has_control_characters(key + value) for key, value in request.args.items(multi=True)):
        # A NUL or a line break in a link is never a reviewer's typing: refuse it before any query.
        return render_template("errors/error.html", code=400, unreadable=True), 400
    return None


def admin_only(view):
    """Refuse a view to reviewers who are not admins (403)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    wrapped.admin_only = True
    return wrapped


@bp.errorhandler(CSRFError)
def _form_expired(exc):
    return render_template("review/form_expired.html"), 400


def clinic_zone():
    """Return the clinic's time zone (SCREENING_TIMEZONE), in which reviewers read and filter times."""
    return clinictime.zone(current_app.config["TIMEZONE"])


@bp.app_template_filter("utc")
def _clinic_time(timestamp: str, seconds: bool = False) -> str:
    """Show a stored UTC timestamp in the clinic's time zone: '2026-11-22 07:45 CST' (or with seconds)."""
    return clinictime.show(timestamp, clinic_zone(), seconds=seconds)


@bp.app_template_filter("tel")
def _tel(phone: str) -> str:
    return config.tel_href(phone)


@bp.context_processor
def _review_globals() -> dict:
    return {"status_labels": STATUS_LABELS, "clinic_zone_name": current_app.config["TIMEZONE"]}


# Signing in and out


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("review.inbox"))
    form = SignInForm()
    failed = False
    if form.validate_on_submit():
        outcome = auth.attempt_sign_in(form.email.data, form.password.data, request.remote_addr or "unknown")
        if outcome == "throttled":
            return render_template("review/throttled.html"), 429
        if outcome == "ok":
            return redirect(auth.safe_next(request.args.get("next")))
        failed = True
    return render_template("review/sign_in.html", form=form, failed=failed)


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        outcome = auth.change_own_password(form.current.data, form.new.data, request.remote_addr or "unknown")
        if outcome == "throttled":
            return render_template("review/throttled.html"), 429
        if outcome == "ok":
            flash("Your password is changed. Anywhere else you were signed in, you are now signed out.")
            return redirect(url_for("review.inbox"), code=303)
        form.current.errors = ["The current password is not right."]
    status = 400 if form.errors else 200
    return render_template("review/password.html", form=form, min_length=auth.MIN_PASSWORD_LENGTH), status


class AlertsForm(FlaskForm):
    urgent = BooleanField("Email me at once about each urgent submission")
    digest = BooleanField("Email me a daily digest of the other new submissions")


@bp.route("/account/alerts", methods=["GET", "POST"])
def alerts():
    """Each reviewer chooses their alerts; the mails never hold health data."""
    db = get_db()
    row = store.get_reviewer(db, current_user.id)
    form = AlertsForm()
    if form.validate_on_submit():
        store.set_alert_choices(db, current_user.id, urgent=form.urgent.data, digest=form.digest.data)
        flash("Your alert choices are saved.")
        return redirect(url_for("review.alerts"), code=303)
    if request.method == "GET":
        form.urgent.data, form.digest.data = bool(row["alert_urgent"]), bool(row["alert_digest"])
    hour = f"{current_app.config['DIGEST_HOUR']:02d}:00"
    return render_template("review/alerts.html", form=form, hour=hour), 400 if form.errors else 200


@bp.post("/sign-out")
def sign_out():
    auth.sign_out()
    flash("You have signed out.")
    return redirect(url_for("review.sign_in"))


# The inbox


def levels_by_rank(ruleset) -> list:
    """Return the rule set's levels, highest first (the urgent-first order)."""
    return sorted(ruleset.levels, key=lambda level: level.rank, reverse=True)


def _level_choices() -> list[tuple[str, str]]:
    return [(level.id, level.label) for level in levels_by_rank(get_ruleset())]


def _topic_choices() -> list[tuple[str, str]]:
    return sorted(((topic.id, topic.title) for topic in get_ruleset().topics.values()), key=lambda c: c[1])


def inbox_filter_form(args) -> InboxFilterForm:
    """Return the inbox's filter form read from query arguments, with choices from the rule set."""
    form = InboxFilterForm(args)
    form.level.choices = choices([("", "Any level"), *_level_choices()])
    form.topic.choices = choices([("", "Any topic"), *_topic_choices()])
    return form


def normalise_search(term: str) -> str:
    """Return a search term as the `search` column holds it: lowercase, and a phone number as digits."""
    term = " ".join(term.split()).lower()
    if PHONE_LIKE.match(term) and sum(ch.isdigit() for ch in term) >= MIN_SEARCH_LENGTH:
        return re.sub(r"\D", "", term)
    return term


def inbox_query(form: InboxFilterForm) -> store.InboxQuery:
    """Turn a validated filter form into a store query; fields with errors do not filter."""
    form.validate()
    errors = form.errors

    def value(name):
        return "" if name in errors else (getattr(form, name).data or "")

    term = value("q").strip()
    search = normalise_search(term)
    if term and len(search) < MIN_SEARCH_LENGTH:
        form.q.errors = [*form.q.errors, f"Enter at least {MIN_SEARCH_LENGTH} characters to search."]
        term = search = ""
    date_from, date_to = value("date_from"), value("date_to")
    if value("view") == "attention":
        return attention_query()
    return store.InboxQuery(
        status=value("status"),
        level=value("level"),
        topic=value("topic"),
        date_from=date_from.isoformat() if date_from else "",
        date_to=date_to.isoformat() if date_to else "",
        since=clinictime.day_bounds(date_from or None, date_to or None, clinic_zone())[0],
        before=clinictime.day_bounds(date_from or None, date_to or None, clinic_zone())[1],
        search=search,
        reference=term.upper(),
        urgent=value("order") == "urgent",
        levels=tuple(level.id for level in levels_by_rank(get_ruleset())),
        not_ruleset_hash=get_ruleset().hash if value("older") else "",
    )


def attention_query() -> store.InboxQuery:
    """Emergency and urgent submissions that are new or in review, most urgent first, newest first."""
    levels = tuple(level.id for level in levels_by_rank(get_ruleset()) if level.role)
    return store.InboxQuery(urgent=True, levels=levels, statuses=workflow.NEEDS_A_PERSON)


def _encode_cursor(row: dict, urgent: bool) -> str:
    keys = (row["level"], row["received"], str(row["id"])) if urgent else (row["received"], str(row["id"]))
    return "~".join(keys)


def _decode_cursor(text: str | None, urgent: bool, levels: tuple[str, ...]) -> tuple | None:
    """Return the cursor in a page link, or None for a missing or malformed one (the first page)."""
    parts = (text or "").split("~")
    if len(parts) != (3 if urgent else 2) or not ROW_ID.fullmatch(parts[-1]):
        return None
    if urgent and parts[0] not in levels:
        return None
    if not STORED_TIME.fullmatch(parts[-2]):
        return None
    return (*parts[:-1], int(parts[-1]))


@bp.get("/")
def inbox():
    args = request.args
    if not any(value for key, value in args.items() if key not in ("after", "before")):
        # The inbox opens on what needs a person first.
        args = MultiDict([*args.items(multi=True), ("view", "attention")])
    form = inbox_filter_form(args)
    query = inbox_query(form)
    after = _decode_cursor(request.args.get("after"), query.urgent, query.levels)
    before = None if after else _decode_cursor(request.args.get("before"), query.urgent, query.levels)
    db = get_db()
    rows = store.inbox_page(db, query, cursor=after or before, newer=bool(before), limit=PAGE_SIZE + 1)
    if before:
        more_newer, more_older = len(rows) > PAGE_SIZE, True
        rows = rows[-PAGE_SIZE:]
    else:
        more_newer, more_older = bool(after), len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
    filters = {k: v for k, v in args.items() if k not in ("after", "before") and v}
    pages = {
        "newer": url_for("review.inbox", **filters, before=_encode_cursor(rows[0], query.urgent))
        if rows and more_newer
        else None,
        "older": url_for("review.inbox", **filters, after=_encode_cursor(rows[-1], query.urgent))
        if rows and more_older
        else None,
        "first": url_for("review.inbox", **filters) if after or before else None,
    }
    return render_template(
        "review/inbox.html",
        form=form,
        rows=[_inbox_row(row) for row in rows],
        counts=store.status_counts(db),
        attention=form.view.data == "attention",
        attention_count=store.inbox_count(db, attention_query()),
        filters=filters,
        pages=pages,
        export_url=url_for("review.export_csv", **filters),
        sheet_url=url_for("review.export_csv", **filters, layout="sheet"),
    )


def _inbox_row(row: dict) -> dict:
    ruleset = get_ruleset()
    topics = [ruleset.topics[t].title if t in ruleset.topics else t for t in topic_ids(row["topics"])]
    return {**row, "level_label": _level_label(row["level"]), "topic_titles": topics}


def _level_label(level_id: str) -> str:
    return next((level.label for level in get_ruleset().levels if level.id == level_id), level_id)


topic_ids = export.topic_ids


# Overview: submissions per week by level and by topic


@bp.get("/overview")
def overview():
    tz = clinic_zone()
    today = clinictime.today(store.now(), tz)
    monday = today - timedelta(days=today.weekday())
    mondays = [monday - timedelta(weeks=11 - n) for n in range(13)]
    weeks = [day.isoformat() for day in mondays[:12]]
    bounds = [clinictime.day_start(day, tz) for day in mondays]
    ruleset = get_ruleset()
    levels = [(level.id, level.label) for level in levels_by_rank(ruleset)]
    topics = _topic_choices()
    by_level, by_topic = store.weekly_counts(get_db(), bounds, [i for i, _ in levels], [i for i, _ in topics])
    return render_template(
        "review/overview.html",
        hammered=_recent_hammering() if current_user.is_admin else [],
        failed_alerts=store.failed_alerts(get_db(), store.shift(store.now(), days=-7)),
        weeks=weeks,
        level_chart=stacked_chart(weeks, [(i, label, by_level[i]) for i, label in levels]),
        topic_charts=[small_chart(weeks, label, by_topic[i]) for i, label in topics],
        topics=[(label, by_topic[i]) for i, label in topics],
        today=today.isoformat(),
    )


def _recent_hammering() -> list[dict]:
    """Return the "many failed sign-ins on one account" entries of the last day, for the admins."""
    query = store.AuditQuery(action="signin_hammered", since=store.shift(store.now(), days=-1))
    return store.audit_page(get_db(), query, limit=20)


CHART = {"width": 640, "height": 240, "left": 44, "bottom": 36, "top": 12}


def _ticks(top: int) -> list[int]:
    """Return up to five round values from 0 to at least `top`, for a chart's axis."""
    if top <= 0:
        return [0]
    raw = top / 4
    step = next(s * 10**e for e in range(0, 9) for s in (1, 2, 5) if s * 10**e >= raw)
    return [step * n for n in range(0, 5) if step * n <= top + step - 1][:5]


def stacked_chart(weeks: list[str], series: list[tuple[str, str, list[int]]]) -> dict:
    """Return the geometry of a stacked bar chart (one bar per week, one segment per series)."""
    totals = [sum(counts[n] for _, _, counts in series) for n in range(len(weeks))]
    ticks = _ticks(max(totals, default=0))
    scale_top = max(ticks[-1], 1)
    plot_height = CHART["height"] - CHART["bottom"] - CHART["top"]
    slot = (CHART["width"] - CHART["left"]) / len(weeks)
    bars = []
    for n, week in enumerate(weeks):
        y = CHART["height"] - CHART["bottom"]
        segments = []
        for index, (series_id, label, counts) in enumerate(series):
            height = counts[n] / scale_top * plot_height
            y -= height
            segments.append(
                {"series": series_id, "index": index, "label": label, "count": counts[n], "y": y, "h": height}
            )
        bars.append(
            {"week": week, "x": CHART["left"] + n * slot + slot * 0.15, "w": slot * 0.7, "segments": segments}
        )
    axis = [{"value": t, "y": CHART["height"] - CHART["bottom"] - t / scale_top * plot_height} for t in ticks]
    return {
        **CHART,
        "bars": bars,
        "axis": axis,
        "series": [(i, label) for i, label, _ in series],
        "totals": totals,
    }


def small_chart(weeks: list[str], label: str, counts: list[int]) -> dict:
    """Return the geometry of a small bar chart of one topic's weekly counts."""
    width, height, base = 240, 64, 60
    top = max(max(counts, default=0), 1)
    slot = width / len(weeks)
    bars = [
        {"week": week, "count": count, "x": n * slot + 2, "w": slot - 4, "h": count / top * (base - 4)}
        for n, (week, count) in enumerate(zip(weeks, counts, strict=True))
    ]
    for bar in bars:
        bar["y"] = base - bar["h"]
    return {
        "label": label,
        "width": width,
        "height": height,
        "base": base,
        "bars": bars,
        "top": max(counts, default=0),
    }


# A submission


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
            "level_label": _level_label(rule.get("level", "")),
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
        level_label=_level_label(row["level"]),
        topic_titles=[topics[t].title if t in topics else t for t in topic_ids(row["topics"])],
        steps=answer_rows(ruleset.questionnaire, json.loads(row["answers"])),
        fired=fired,
        why_first=[rule for rule in fired if rule.get("level") in safety_levels],
        notes=notes,
        changes=changes,
        next_statuses=TRANSITIONS.get(row["status"], ()),
        note_form=note_form or note_form_for(row, posted=False),
        action_form=ActionForm(),
        same_ruleset=row["ruleset_hash"] == ruleset.hash,
        current_version=ruleset.version,
        today=_today_would_show(row) if row["ruleset_hash"] != ruleset.hash else None,
    )
    return page, status


def _today_would_show(row: dict) -> dict:
    """What today's rules would show for a submission made under older ones (nothing stored changes)."""
    ruleset = get_ruleset()
    outcome = ruleset.evaluate(json.loads(row["answers"]))
    stored = set(topic_ids(row["topics"]))
    return {
        "level_label": _level_label(outcome.level),
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
        current = STATUS_LABELS[row["status"]]
        flash(
            f"Someone changed the status to {current} while you were reading. Check it and try again.",
            "error",
        )
    elif wanted not in TRANSITIONS[row["status"]]:
        label = STATUS_LABELS.get(wanted, wanted or "nothing")
        flash(f"A submission cannot move from {STATUS_LABELS[row['status']]} to {label}.", "error")
    elif store.change_status(get_db(), row, current_user.record, seen, wanted):
        flash(f"Status changed to {STATUS_LABELS[wanted]}.")
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


# Export: the same rows for the web and the CLI (see screening/export.py)


@bp.get("/export.csv")
def export_csv():
    form = inbox_filter_form(request.args)
    query = inbox_query(form)
    if form.errors or form.q.errors:
        # Never export more than the reader asked for: send them back to fix the filters first.
        flash("Fix the filters below before downloading.", "error")
        return redirect(url_for("review.inbox", **request.args.to_dict()), code=303)
    db = get_db()
    layout = "sheet" if request.args.get("layout") == "sheet" else "machine"
    store.record_audit(
        db,
        "export",
        reviewer_id=current_user.id,
        reviewer_email=current_user.email,
        detail=export.describe_filters(query) + (", for a spreadsheet" if layout == "sheet" else ""),
    )
    suffix = "-for-spreadsheet" if layout == "sheet" else ""
    tz = clinic_zone()
    filename = f"submissions-{store.now()[:10]}{suffix}.csv"
    ruleset = get_ruleset()

    def chunks() -> Iterator[str]:
        # Flask closes the view's connection before streaming starts; this one lives while the body streams.
        when = lambda timestamp: clinictime.show(timestamp, tz)  # noqa: E731
        yield from export.chunks(get_db(), ruleset, query, layout=layout, when=when)

    return Response(
        stream_with_context(chunks()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


# Audit log (admins)


def _audit_cursor(text: str | None) -> tuple[str, int] | None:
    parts = (text or "").split("~")
    if len(parts) == 2 and ROW_ID.fullmatch(parts[1]) and STORED_TIME.fullmatch(parts[0]):
        return parts[0], int(parts[1])
    return None


@bp.get("/audit")
@admin_only
def audit():
    db = get_db()
    form = AuditFilterForm(request.args)
    people = [(str(row["id"]), row["email"]) for row in store.list_reviewers(db)]
    form.reviewer.choices = choices([("", "Anyone"), *people])
    form.validate()

    def value(name):
        return "" if name in form.errors else (getattr(form, name).data or "")

    query = store.AuditQuery(
        reviewer_id=int(value("reviewer")) if value("reviewer") else None,
        action=value("action"),
        reference=value("reference").strip(),
        date_from=value("date_from").isoformat() if value("date_from") else "",
        date_to=value("date_to").isoformat() if value("date_to") else "",
        since=clinictime.day_bounds(value("date_from") or None, value("date_to") or None, clinic_zone())[0],
        before=clinictime.day_bounds(value("date_from") or None, value("date_to") or None, clinic_zone())[1],
    )
    after = _audit_cursor(request.args.get("after"))
    before = None if after else _audit_cursor(request.args.get("before"))
    rows = store.audit_page(db, query, cursor=after or before, newer=bool(before), limit=PAGE_SIZE + 1)
    if before:
        more_newer, more_older, rows = len(rows) > PAGE_SIZE, True, rows[-PAGE_SIZE:]
    else:
        more_newer, more_older, rows = bool(after), len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    filters = {k: v for k, v in request.args.items() if k not in ("after", "before") and v}
    pages = {
        "newer": url_for("review.audit", **filters, before=f"{rows[0]['at']}~{rows[0]['id']}")
        if rows and more_newer
        else None,
        "older": url_for("review.audit", **filters, after=f"{rows[-1]['at']}~{rows[-1]['id']}")
        if rows and more_older
        else None,
    }
    return render_template("review/audit.html", form=form, rows=rows, pages=pages, actions=AUDIT_ACTIONS)


# Reviewer accounts (admins)


def _admin_audit(action: str, target: dict | auth.NewAccount) -> None:
    email = target.email if isinstance(target, auth.NewAccount) else target["email"]
    store.record_audit(
        get_db(),
        action,
        reviewer_id=current_user.id,
        reviewer_email=current_user.email,
        detail=f"reviewer {email}",
    )


def _reviewers_page(form: AddReviewerForm, status: int = 200):
    rows = store.list_reviewers(get_db())
    return render_template(
        "review/reviewers.html", form=form, reviewers=rows, action_form=ActionForm()
    ), status


@bp.route("/admin/reviewers", methods=["GET", "POST"])
@admin_only
def reviewers():
    form = AddReviewerForm()
    if request.method == "GET":
        return _reviewers_page(form)
    if form.validate_on_submit():
        try:
            account = auth.create_account(form.email.data, is_admin=form.is_admin.data)
        except auth.AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            _admin_audit("reviewer_add", account)
            return render_template("review/new_password.html", account=account, added=True)
    return _reviewers_page(form, status=400)


def _target_reviewer(reviewer_id: int) -> dict:
    row = store.get_reviewer(get_db(), reviewer_id)
    if row is None:
        abort(404)
    return row


@bp.post("/admin/reviewers/<int(max=9223372036854775807):reviewer_id>/disable")
@admin_only
def disable_reviewer(reviewer_id: int):
    row = _target_reviewer(reviewer_id)
    if row["id"] == current_user.id:
        flash("You cannot disable your own account. Ask another admin.", "error")
    else:
        store.set_reviewer_active(get_db(), row["id"], False)
        _admin_audit("reviewer_disable", row)
        flash(f"{row['email']} is disabled and signed out.")
    return redirect(url_for("review.reviewers"), code=303)


@bp.post("/admin/reviewers/<int(max=9223372036854775807):reviewer_id>/enable")
@admin_only
def enable_reviewer(reviewer_id: int):
    row = _target_reviewer(reviewer_id)
    store.set_reviewer_active(get_db(), row["id"], True)
    _admin_audit("reviewer_enable", row)
    flash(f"{row['email']} can sign in again.")
    return redirect(url_for("review.reviewers"), code=303)


@bp.post("/admin/reviewers/<int(max=9223372036854775807):reviewer_id>/reset")
@admin_only
def reset_reviewer(reviewer_id: int):
    row = _target_reviewer(reviewer_id)
    account = auth.reset_password(row)
    _admin_audit("reviewer_reset", row)
    return render_template("review/new_password.html", account=account, added=False)
