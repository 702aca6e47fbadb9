"""The audit log, for admins."""

from __future__ import annotations

from flask import (
    render_template,
    request,
)

from .. import clinictime, get_db, store
from . import admin_only, bp, clinic_zone, pager
from .forms import AUDIT_ACTIONS, AuditFilterForm, choices


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
    rows, newer, older = pager.page(
        lambda **page_args: store.audit_page(db, query, **page_args), request.args
    )
    filters = {k: v for k, v in request.args.items() if k not in ("after", "before") and v}
    pages = pager.links(
        "review.audit", filters, rows, newer, older, lambda row: (row["at"], row["id"]), False
    )
    return render_template("review/audit.html", form=form, rows=rows, pages=pages, actions=AUDIT_ACTIONS)
