"""The overview: submissions per week by level and by topic, and notices for the admins."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    render_template,
)
from flask_login import current_user

from .. import clinictime, get_read_db, get_ruleset, store
from . import bp, clinic_zone
from .charts import small_chart, stacked_chart
from .inbox import levels_by_rank, topic_choices


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
    topics = topic_choices()
    by_level, by_topic = store.weekly_counts(
        get_read_db(), bounds, [i for i, _ in levels], [i for i, _ in topics]
    )
    return render_template(
        "review/overview.html",
        hammered=_recent_hammering() if current_user.is_admin else [],
        bulk_exports=_recent_bulk_exports() if current_user.is_admin else [],
        failed_alerts=store.failed_alerts(get_read_db(), store.shift(store.now(), days=-7)),
        weeks=weeks,
        level_chart=stacked_chart(weeks, [(i, label, by_level[i]) for i, label in levels]),
        topic_charts=[small_chart(weeks, label, by_topic[i]) for i, label in topics],
        topics=[(label, by_topic[i]) for i, label in topics],
        today=today.isoformat(),
        status_counts=store.status_counts(get_read_db()),
    )


def _recent_hammering() -> list[dict]:
    """Return the "many failed sign-ins on one account" entries of the last day, for the admins."""
    query = store.AuditQuery(action="signin_hammered", since=store.shift(store.now(), days=-1))
    return store.audit_page(get_read_db(), query, limit=20)


def _recent_bulk_exports() -> list[dict]:
    """Return the exports of over 1,000 rows in the last 7 days, for the admins."""
    query = store.AuditQuery(action="export_bulk", since=store.shift(store.now(), days=-7))
    return store.audit_page(get_read_db(), query, limit=20)
