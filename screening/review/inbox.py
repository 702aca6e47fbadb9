"""The inbox: filters, the Needs attention view, keyset pages, and the CSV download."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from .. import clinictime, get_db, get_read_db, get_ruleset, store
from . import bp, clinic_zone, export, pager, reauth, workflow
from .export import language_name
from .forms import MIN_SEARCH_LENGTH, PHONE_LIKE, InboxFilterForm, choices


def levels_by_rank(ruleset) -> list:
    """Return the rule set's levels, highest first (the urgent-first order)."""
    return sorted(ruleset.levels, key=lambda level: level.rank, reverse=True)


def _level_choices() -> list[tuple[str, str]]:
    return [(level.id, level.label) for level in levels_by_rank(get_ruleset())]


def topic_choices() -> list[tuple[str, str]]:
    """Return the rule set's topics as (id, title) choices, by title."""
    return sorted(((topic.id, topic.title) for topic in get_ruleset().topics.values()), key=lambda c: c[1])


def inbox_filter_form(args) -> InboxFilterForm:
    """Return the inbox's filter form read from query arguments, with choices from the rule set."""
    form = InboxFilterForm(args)
    form.level.choices = choices([("", "Any level"), *_level_choices()])
    form.topic.choices = choices([("", "Any topic"), *topic_choices()])
    form.language.choices = choices(
        [("", "Any language"), *((code, language_name(code)) for code in current_app.extensions["rulesets"])]
    )
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
        language=value("language"),
    )


def attention_query() -> store.InboxQuery:
    """Emergency and urgent submissions that are new or in review, most urgent first, newest first."""
    levels = tuple(level.id for level in levels_by_rank(get_ruleset()) if level.role)
    return store.InboxQuery(urgent=True, levels=levels, statuses=workflow.NEEDS_A_PERSON)


@bp.get("/")
def inbox():
    args = request.args
    if not any(value for key, value in args.items() if key not in ("after", "before")):
        # The inbox opens on what needs a person first.
        args = MultiDict([*args.items(multi=True), ("view", "attention")])
    form = inbox_filter_form(args)
    query = inbox_query(form)
    # The replica when one is set and fresh enough; the primary after this reviewer's change.
    db = get_read_db()

    def fetch(**page_args):
        return store.inbox_page(db, query, columns=ROW_COLUMNS, **page_args)

    first = query.levels if query.urgent else None
    rows, newer, older = pager.page(fetch, request.args, first=first)

    def keys(row):
        return (row["level"], row["received"], row["id"]) if query.urgent else (row["received"], row["id"])

    filters = {k: v for k, v in args.items() if k not in ("after", "before") and v}
    paged = bool(request.args.get("after") or request.args.get("before"))
    pages = pager.links("review.inbox", filters, rows, newer, older, keys, paged)
    return render_template(
        "review/inbox.html",
        form=form,
        rows=[_inbox_row(row) for row in rows],
        counts=store.status_counts(db),
        attention=form.view.data == "attention",
        attention_count=store.inbox_count(db, attention_query()),
        filters=filters,
        pages=pages,
        export_url=url_for("review.export_csv", **{k: v for k, v in filters.items() if k != "layout"}),
        sheet_url=url_for("review.export_csv", **{**filters, "layout": "sheet"}),
    )


ROW_COLUMNS = (*store.INBOX_COLUMNS, "attempts", "last_attempt", "outcome")


def _inbox_row(row: dict) -> dict:
    """Return what a row shows: the level and why it needs a person, what differs among the topics,
    and how often the clinic tried to reach the patient."""
    ruleset = get_ruleset()
    everyone = {rule.topic for rule in ruleset.rules if rule.always}  # the card every adult gets
    topics = [
        ruleset.topics[t].title if t in ruleset.topics else t
        for t in topic_ids(row["topics"])
        if t not in everyone
    ]
    last = clinictime.short(row["last_attempt"], clinic_zone(), store.now())
    return {
        **row,
        "level_label": level_label(row["level"]),
        "topic_titles": topics,
        "why": safety_titles(ruleset, json.loads(row["outcome"] or "{}")),
        "tries": workflow.tries_words(row["attempts"], last),
    }


def safety_titles(ruleset, outcome: dict) -> list[str]:
    """Return the titles of the emergency and urgent rules that fired, in today's English words when
    the rule still exists (a Spanish patient's outcome stores the Spanish title)."""
    safety_levels = {level.id for level in ruleset.levels if level.role}
    titles = {rule.id: rule.title for rule in ruleset.rules}
    return [
        titles.get(rule["id"], rule.get("title", rule["id"]))
        for rule in outcome.get("rules", [])
        if rule.get("level") in safety_levels
    ]


def level_label(level_id: str) -> str:
    """Return what reviewers read for a level id (the id itself if the rule set has no such level)."""
    return next((level.label for level in get_ruleset().levels if level.id == level_id), level_id)


topic_ids = export.topic_ids


BULK_EXPORT_ROWS = 1000  # the admins' overview notes an export larger than this


@bp.get("/export.csv")
@reauth.fresh_sign_in_required("review.inbox")
def export_csv():
    if current_app.config["EXPORTS_NEED_ROLE"] and not current_user.is_exporter:
        flash("Downloading contact details needs the exporter role. Ask a clinic admin for it.", "error")
        return redirect(url_for("review.inbox", **request.args.to_dict()), code=303)
    form = inbox_filter_form(request.args)
    query = inbox_query(form)
    if form.errors or form.q.errors:
        # Never export more than the reader asked for: send them back to fix the filters first.
        flash("Fix the filters below before downloading.", "error")
        return redirect(url_for("review.inbox", **request.args.to_dict()), code=303)
    db = get_db()
    layout = "sheet" if request.args.get("layout") == "sheet" else "machine"
    rows = store.inbox_count(db, query)
    store.record_audit(
        db,
        "export_bulk" if rows > BULK_EXPORT_ROWS else "export",
        reviewer_id=current_user.id,
        reviewer_email=current_user.email,
        detail=f"{rows:,} row{'' if rows == 1 else 's'}: {export.describe_filters(query)}"
        + (", for a spreadsheet" if layout == "sheet" else ""),
    )
    tz = clinic_zone()
    filename = export.file_name(query, clinictime.today(store.now(), tz).isoformat(), layout)
    ruleset = get_ruleset()

    def chunks() -> Iterator[str]:
        # Flask closes the view's connection before streaming starts; this one lives while the body streams.
        when = lambda timestamp: clinictime.show(timestamp, tz)  # noqa: E731
        yield from export.chunks(get_read_db(), ruleset, query, layout=layout, when=when)

    return Response(
        stream_with_context(chunks()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
