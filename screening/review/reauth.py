"""Re-authentication before sensitive actions: adding or promoting an admin, giving the exporter role,
resetting someone's password or second step, new recovery codes, and downloading contact details
ask for the password or a code again when the last sign-in or confirmation is over 10 minutes old."""

from __future__ import annotations

from functools import wraps

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from .. import get_db, store
from . import auth, bp, twostep
from .forms import ConfirmForm

FRESH_SECONDS = 10 * 60


def is_fresh() -> bool:
    """Tell whether this session proved who it is (sign-in or confirmation) in the last 10 minutes."""
    at = session.get("auth_at")
    return isinstance(at, int | float) and twostep.now_seconds() - at <= FRESH_SECONDS


def mark_fresh() -> None:
    session["auth_at"] = twostep.now_seconds()


def ask_to_confirm(target: str):
    """Send the reviewer to confirm it is them, then back to `target` (a reviewer page)."""
    flash("Confirm it is you before you do this: your last sign-in was over 10 minutes ago.")
    return redirect(url_for("review.confirm", next=target), code=303)


def fresh_sign_in_required(back: str):
    """Ask for the password or a code again before the view when the last proof is over 10 minutes old.

    A GET comes back to itself afterwards; a form's POST comes back to the page `back` (an endpoint)
    that holds the form, where the reviewer presses the button again: a form is never replayed."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if is_fresh():
                return view(*args, **kwargs)
            if request.method == "GET":
                return ask_to_confirm(request.full_path.rstrip("?"))
            return ask_to_confirm(url_for(back))

        return wrapped

    return decorate


@bp.route("/confirm", methods=["GET", "POST"])
def confirm():
    form = ConfirmForm()
    target = auth.safe_next(request.args.get("next"))
    if form.validate_on_submit():
        db = get_db()
        row = store.get_reviewer(db, current_user.id)
        attempt = twostep.reserve(row, request.remote_addr or "unknown")
        if not attempt.allowed:
            return render_template("review/throttled.html"), 429
        by_password = bool(form.password.data)
        if (
            auth.verify_password(row["password_hash"], form.password.data)
            if by_password
            else twostep.check_code(row, form.code.data)
        ):
            attempt.succeeded()
            mark_fresh()
            store.record_audit(
                db,
                "reauth",
                reviewer_id=row["id"],
                reviewer_email=row["email"],
                detail="by password" if by_password else "by code",
            )
            return redirect(target, code=303)
        store.record_audit(db, "reauth_failed", reviewer_id=row["id"], reviewer_email=row["email"])
        field = form.password if by_password else form.code
        field.errors = ["That is not right. Try again."]
    has_app = bool(store.get_reviewer(get_db(), current_user.id)["totp_secret"])
    return render_template("review/confirm.html", form=form, has_app=has_app), 400 if form.errors else 200
