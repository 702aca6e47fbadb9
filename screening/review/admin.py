"""Reviewer accounts, for admins: add, disable, enable, reset a password or a second step, give roles."""

from __future__ import annotations

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from .. import get_db, store
from . import admin_only, auth, bp, reauth, twostep
from .forms import ActionForm, AddReviewerForm


def _admin_audit(action: str, target: dict | auth.NewAccount, extra: str = "") -> None:
    email = target.email if isinstance(target, auth.NewAccount) else target["email"]
    store.record_audit(
        get_db(),
        action,
        reviewer_id=current_user.id,
        reviewer_email=current_user.email,
        detail=f"reviewer {email}{extra}",
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
        if form.is_admin.data and not reauth.is_fresh():
            return reauth.ask_to_confirm(url_for("review.reviewers"))
        try:
            account = auth.create_account(form.email.data, is_admin=form.is_admin.data)
        except auth.AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            _admin_audit("reviewer_add", account, ", with admin rights" if form.is_admin.data else "")
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
        auth.set_active(row, False, by={"id": current_user.id, "email": current_user.email})
        flash(f"{row['email']} is disabled and signed out.")
    return redirect(url_for("review.reviewers"), code=303)


@bp.post("/admin/reviewers/<int(max=9223372036854775807):reviewer_id>/enable")
@admin_only
def enable_reviewer(reviewer_id: int):
    row = _target_reviewer(reviewer_id)
    auth.set_active(row, True, by={"id": current_user.id, "email": current_user.email})
    flash(f"{row['email']} can sign in again.")
    return redirect(url_for("review.reviewers"), code=303)


def _not_yourself(row: dict):
    """Refuse an admin's reset of their own account: *Your password* asks for the current one."""
    if row["id"] != current_user.id:
        return None
    flash("You cannot reset your own account here. Change your password under Your password.", "error")
    return redirect(url_for("review.reviewers"), code=303)


@bp.post("/admin/reviewers/<int(max=9223372036854775807):reviewer_id>/reset")
@admin_only
@reauth.fresh_sign_in_required("review.reviewers")
def reset_reviewer(reviewer_id: int):
    row = _target_reviewer(reviewer_id)
    if refused := _not_yourself(row):
        return refused
    account = auth.reset_password(row)
    _admin_audit("reviewer_reset", row)
    return render_template("review/new_password.html", account=account, added=False)


@bp.post("/admin/reviewers/<int(max=9223372036854775807):reviewer_id>/reset-two-step")
@admin_only
@reauth.fresh_sign_in_required("review.reviewers")
def reset_two_step(reviewer_id: int):
    row = _target_reviewer(reviewer_id)
    if refused := _not_yourself(row):
        return refused
    store.clear_two_step(get_db(), row["id"])
    twostep.end_sessions_after_reset(row["id"])
    _admin_audit("two_step_reset", row)
    flash(f"{row['email']} is signed out, and sets up a new second step at their next sign-in.")
    return redirect(url_for("review.reviewers"), code=303)


ROLES = {"admin": "an admin", "exporter": "an exporter (may download contact details)"}


@bp.post("/admin/reviewers/<int(max=9223372036854775807):reviewer_id>/<any(admin, exporter):role>/<change>")
@admin_only
def change_role(reviewer_id: int, role: str, change: str):
    row = _target_reviewer(reviewer_id)
    if change not in ("give", "take"):
        abort(404)
    if change == "give" and not reauth.is_fresh():
        return reauth.ask_to_confirm(url_for("review.reviewers"))
    if row["id"] == current_user.id and role == "admin":
        flash("You cannot take your own admin role. Ask another admin.", "error")
        return redirect(url_for("review.reviewers"), code=303)
    store.set_reviewer_role(get_db(), row["id"], role, change == "give")
    _admin_audit("role_change", row, f": {'now' if change == 'give' else 'no longer'} {role}")
    flash(f"{row['email']} is {'now' if change == 'give' else 'no longer'} {ROLES[role]}.")
    return redirect(url_for("review.reviewers"), code=303)
