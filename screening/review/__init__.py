"""The clinic reviewers' workspace: one blueprint, with access control and what every page shares;
the pages live in the modules of this package, with `auth` (sign-in, sessions, passwords), `workflow`
(the statuses' labels and moves) and `export` (CSV, Flask-free).

May import: Flask and its extensions, the store, `screening.engine`, the app-wide modules of `screening`
and `patient.forms` (one check of typed text). Nothing of `patient`'s pages, `fhir` or `cli`.
"""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from .. import clinictime, web
from ..patient.forms import has_control_characters
from . import auth, workflow

bp = Blueprint("review", __name__)


# The sign-in page, and the second step's pages, which check the half-done sign-in themselves.
PUBLIC_ENDPOINTS = {
    "review.sign_in",
    "review.two_step",
    "review.two_step_passkey",
    "review.two_step_recovery",
    "review.two_step_setup",
    "review.two_step_setup_passkey",
}
# A password someone else chose must be changed first: these pages alone stay open until then.
BEFORE_NEW_PASSWORD = {"review.change_password", "review.sign_out"}
STATUS_LABELS = workflow.LABELS
TRANSITIONS = workflow.MOVES


@bp.before_request
def _require_sign_in():
    if request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
        return auth.login_manager.unauthorized()
    if any(has_control_characters(key + value) for key, value in request.args.items(multi=True)):
        # A NUL or a line break in a link is never a reviewer's typing: refuse it before any query.
        return render_template("errors/error.html", code=400, unreadable=True), 400
    # A password someone else chose is changed before anything else, unless this session did not use it.
    changing = current_user.is_authenticated and current_user.must_change_password
    changing = changing and current_user.method != "single sign-on"
    if changing and request.endpoint not in BEFORE_NEW_PASSWORD:
        flash("Choose your own password before you go on: the one you signed in with was chosen for you.")
        return redirect(url_for("review.change_password"), code=303)
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


@bp.app_template_filter("language_name")
def _language_name(code: str) -> str:
    from .export import language_name

    return language_name(code or "en")


@bp.app_template_filter("tel")
def _tel(phone: str) -> str:
    return web.tel_href(phone)


@bp.context_processor
def _review_globals() -> dict:
    return {"status_labels": STATUS_LABELS, "clinic_zone_name": current_app.config["TIMEZONE"]}


# The pages register their routes on `bp` when imported.
from . import (  # noqa: E402, F401
    account,
    account_sessions,
    admin,
    audit,
    inbox,
    oidc,
    overview,
    reauth,
    submission,
    twostep_pages,
)
from .inbox import levels_by_rank, topic_ids  # noqa: E402, F401
