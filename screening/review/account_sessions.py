"""Your account and your sessions; for admins, ending a reviewer's sessions and choosing their ways in."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from .. import get_db, store
from . import admin_only, bp, oidc, sessions
from .forms import ActionForm


@bp.get("/account")
def account():
    """List what a reviewer can change about their own account."""
    row = store.get_reviewer(get_db(), current_user.id)
    return render_template(
        "review/account.html", password_signin=bool(row["password_signin"]), sso=oidc.enabled()
    )


@bp.route("/account/sessions", methods=["GET", "POST"])
def your_sessions():
    """Show this account's live sessions; a POST signs out every one but this browser's."""
    form = ActionForm()
    if form.validate_on_submit():
        ended = sessions.end_other_sessions(current_user.id, keep_current=True)
        _audit("sessions_end", f"own other sessions ({ended} ended)")
        flash(f"Signed out of {ended} other session{'s' if ended != 1 else ''}. This one stays signed in.")
        return redirect(url_for("review.your_sessions"), code=303)
    rows = sessions.live_sessions(current_user.id)
    return render_template("review/sessions.html", rows=rows, form=form)


def _audit(action: str, detail: str) -> None:
    store.record_audit(
        get_db(), action, reviewer_id=current_user.id, reviewer_email=current_user.email, detail=detail
    )


def _target(reviewer_id: int) -> dict:
    row = store.get_reviewer(get_db(), reviewer_id)
    if row is None:
        abort(404)
    return row


@bp.post("/admin/reviewers/<int(max=9223372036854775807):reviewer_id>/end-sessions")
@admin_only
def end_reviewer_sessions(reviewer_id: int):
    """End every session of a reviewer (the admin's own other sessions, for their own row)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    row = _target(reviewer_id)
    ended = sessions.end_other_sessions(row["id"], keep_current=True)
    _audit("sessions_end", f"reviewer {row['email']} ({ended} ended)")
    flash(f"{row['email']}: {ended} session{'s' if ended != 1 else ''} ended.")
    return redirect(url_for("review.reviewers"), code=303)


@bp.post("/admin/reviewers/<int(max=9223372036854775807):reviewer_id>/password-sign-in/allow")
@admin_only
def allow_password_signin(reviewer_id: int):
    """Let an account sign in with its password again."""
    return _password_signin(reviewer_id, allowed=True)


@bp.post("/admin/reviewers/<int(max=9223372036854775807):reviewer_id>/password-sign-in/refuse")
@admin_only
def refuse_password_signin(reviewer_id: int):
    """Let an account sign in by single sign-on only; its sessions end, so a password one cannot linger."""
    return _password_signin(reviewer_id, allowed=False)


def _password_signin(reviewer_id: int, *, allowed: bool):
    if not ActionForm().validate_on_submit():
        abort(400)
    row = _target(reviewer_id)
    if not allowed and row["id"] == current_user.id:
        flash("You cannot turn off password sign-in for your own account. Ask another admin.", "error")
        return redirect(url_for("review.reviewers"), code=303)
    store.set_password_signin(get_db(), row["id"], allowed)
    if not allowed:
        sessions.end_all_sessions(row["id"])
    verb = "allowed" if allowed else "refused"
    _audit("password_signin", f"reviewer {row['email']}: password sign-in {verb}")
    what = "can sign in with a password again" if allowed else "can now sign in only by single sign-on"
    flash(f"{row['email']} {what}.")
    return redirect(url_for("review.reviewers"), code=303)
