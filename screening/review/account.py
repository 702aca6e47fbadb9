"""Signing in and out, and a reviewer's own password and alert choices."""

from __future__ import annotations

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from .. import get_db, store
from . import auth, bp, devices, oidc, reauth, sessions, twostep
from .forms import AlertsForm, PasswordChangeForm, SignInForm


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("review.inbox"))
    form = SignInForm()
    failed = False
    if form.validate_on_submit():
        email, address = form.email.data, request.remote_addr or "unknown"
        outcome, row = auth.check_password(email, form.password.data, address, devices.trusted_nonce(email))
        if outcome == "throttled":
            return render_template("review/throttled.html"), 429
        if outcome == "ok":
            return redirect(twostep.after_password(row, request.args.get("next")))
        failed = True
    if not oidc.enabled():
        return render_template("review/sign_in.html", form=form, failed=failed, sso=None)
    sso = {"name": oidc.provider_name(), "next": request.args.get("next")}
    page = render_template("review/sign_in.html", form=form, failed=failed, sso=sso)
    return page, 200, {"Content-Security-Policy": oidc.sign_in_page_csp()}


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        outcome = auth.change_own_password(form.current.data, form.new.data, request.remote_addr or "unknown")
        if outcome == "throttled":
            return render_template("review/throttled.html"), 429
        if outcome == "ok":
            sessions.start_session(store.get_reviewer(get_db(), current_user.id), "password")
            reauth.mark_fresh()
            flash("Your password is changed. Anywhere else you were signed in, you are now signed out.")
            return redirect(url_for("review.inbox"), code=303)
        form.current.errors = ["The current password is not right."]
    status = 400 if form.errors else 200
    return render_template("review/password.html", form=form, min_length=auth.MIN_PASSWORD_LENGTH), status


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
    single_sign_on = current_user.is_authenticated and current_user.method == "single sign-on"
    auth.sign_out()
    flash("You have signed out.")
    if single_sign_on and oidc.enabled():
        return redirect(url_for("review.oidc_signed_out"), code=303)
    return redirect(url_for("review.sign_in"))
