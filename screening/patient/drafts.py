"""The patient's draft: answers kept on the server under a random token in a cookie. Reading it, the
cookie, and the page that says the answers are gone, in one place for every patient page."""

from __future__ import annotations

from flask import current_app, g, make_response, redirect, render_template, session, url_for

from .. import get_db, store, web

DRAFT_COOKIE = "draft"
EMERGENCY_KEY = "emergency_rules"  # the emergency rules that fired, kept in the session: see steps.py


def current(*, with_summary: bool = False) -> dict | None:
    """Return the draft this browser's cookie names, or None when there is none (or it expired)."""
    draft = store.get_draft(get_db(), web.cookie(DRAFT_COOKIE), with_summary=with_summary)
    if draft is not None:
        g.draft_language = draft["progress"].get("language")  # the language chosen with these answers
    return draft


def set_cookie(response, token: str):
    """Give the browser the draft's token, for as long as the draft lives."""
    response.set_cookie(
        web.cookie_name(DRAFT_COOKIE),
        token,
        max_age=current_app.config["DRAFT_TTL_HOURS"] * 3600,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["DRAFT_COOKIE_SECURE"],
    )
    return response


def forget(response):
    """Tell the browser to drop the draft's cookie."""
    secure = current_app.config["DRAFT_COOKIE_SECURE"]
    response.delete_cookie(web.cookie_name(DRAFT_COOKIE), samesite="Lax", secure=secure)
    return response


def expired():
    """Say plainly that the answers are gone, with a way to start again.

    After an emergency answer the draft is deleted on purpose: any page then shows the emergency page again.
    """
    if session.get(EMERGENCY_KEY) is not None:
        return redirect(url_for("patient.emergency"))
    hours = current_app.config["DRAFT_TTL_HOURS"]
    return forget(make_response(render_template("patient/expired.html", hours=hours)))
