"""The pages of the second step: at sign-in (a code, a passkey or a recovery code), setting one up
(an authenticator app or a passkey, then ten recovery codes shown once), and *Your sign-in*."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import get_db, store
from . import bp, passkeys, reauth, twostep
from .forms import ActionForm, CodeForm, PasskeyForm, RecoveryCodeForm

SIGN_IN_STEPS = {
    "review.two_step",
    "review.two_step_passkey",
    "review.two_step_recovery",
    "review.two_step_setup",
    "review.two_step_setup_passkey",
}


def _address() -> str:
    return request.remote_addr or "unknown"


def _pending_or_restart():
    """Return the account half-way through signing in, or a redirect back to the sign-in page."""
    row = twostep.pending_reviewer()
    if row is None:
        flash("Sign in again: the time for the second step ran out, or the sign-in was not started.")
        return None, redirect(url_for("review.sign_in"), code=303)
    return row, None


def _throttled():
    return render_template("review/throttled.html"), 429


@bp.route("/two-step", methods=["GET", "POST"])
def two_step():
    row, back = _pending_or_restart()
    if back:
        return back
    if not twostep.has_second_step(row):  # reset by an admin since the password was typed
        return redirect(url_for("review.two_step_setup"), code=303)
    form = CodeForm()
    failed = False
    if row["totp_secret"] and form.validate_on_submit():
        attempt = twostep.reserve(row, _address())
        if not attempt.allowed:
            return _throttled()
        if twostep.check_code(row, form.code.data):
            attempt.succeeded()
            return redirect(twostep.finish_sign_in(row, "code"), code=303)
        twostep.record_failure(row, "wrong or reused code")
        form.code.errors = [
            "That code is not right, or it was used already. Wait for the next code and try again."
        ]
        failed = True
    has_passkeys = bool(store.list_passkeys(get_db(), row["id"]))
    return render_template(
        "review/two_step.html",
        form=form,
        has_app=bool(row["totp_secret"]),
        passkey_form=PasskeyForm(),
        passkey_options=passkeys.authentication_options(row) if has_passkeys else "",
    ), 400 if failed or form.errors else 200


@bp.post("/two-step/passkey")
def two_step_passkey():
    row, back = _pending_or_restart()
    if back:
        return back
    form = PasskeyForm()
    if not form.validate_on_submit():
        return redirect(url_for("review.two_step"), code=303)
    attempt = twostep.reserve(row, _address())
    if not attempt.allowed:
        return _throttled()
    try:
        passkeys.check_assertion(row, form.credential.data)
    except passkeys.PasskeyError as exc:
        twostep.record_failure(row, f"passkey refused: {exc}")
        flash("The passkey did not work. Try again, or use a code.", "error")
        return redirect(url_for("review.two_step"), code=303)
    attempt.succeeded()
    return redirect(twostep.finish_sign_in(row, "passkey"), code=303)


@bp.route("/two-step/recovery", methods=["GET", "POST"])
def two_step_recovery():
    row, back = _pending_or_restart()
    if back:
        return back
    form = RecoveryCodeForm()
    if form.validate_on_submit():
        attempt = twostep.reserve(row, _address())
        if not attempt.allowed:
            return _throttled()
        if twostep.use_recovery_code(row, form.code.data):
            attempt.succeeded()
            target = twostep.finish_sign_in(row, "recovery code")
            left = store.recovery_codes_left(get_db(), row["id"])
            flash(f"You signed in with a recovery code. {left} of your recovery codes are left.")
            return redirect(target, code=303)
        twostep.record_failure(row, "wrong or used recovery code")
        form.code.errors = ["That recovery code is not right, or it was used already."]
    return render_template("review/two_step_recovery.html", form=form), 400 if form.errors else 200


def _setup_account():
    """Return (the account setting up a second step, whether it is signing in), or (None, a redirect)."""
    if current_user.is_authenticated:
        if not reauth.is_fresh():
            return None, reauth.ask_to_confirm(url_for("review.two_step_account"))
        return store.get_reviewer(get_db(), current_user.id), False
    row, back = _pending_or_restart()
    if row and twostep.has_second_step(row):
        # A password alone never replaces a second step that exists: that one is asked for.
        return None, redirect(url_for("review.two_step"), code=303)
    return (row, True) if row else (None, back)


def _after_setup(row: dict, signing_in: bool, method: str):
    """Finish setting up: give recovery codes the first time, and finish the sign-in it was part of."""
    fresh_codes = not store.recovery_codes_left(get_db(), row["id"])
    codes = twostep.new_recovery_codes(row) if fresh_codes else []
    target = twostep.finish_sign_in(row, method) if signing_in else url_for("review.two_step_account")
    if not codes:
        flash("Your second step is set up.")
        return redirect(target, code=303)
    response = render_template("review/recovery_codes.html", codes=codes, target=target)
    return response, 200, {"Cache-Control": "no-store"}


@bp.route("/two-step/setup", methods=["GET", "POST"])
def two_step_setup():
    row, signing_in = _setup_account()
    if row is None:
        return signing_in
    form = CodeForm()
    secret = twostep.begin_app_setup(row)
    if form.validate_on_submit():
        if signing_in:
            attempt = twostep.reserve(row, _address())
            if not attempt.allowed:
                return _throttled()
        if twostep.confirm_app_setup({**row, "totp_pending": secret}, form.code.data):
            if signing_in:
                attempt.succeeded()
            return _after_setup(row, signing_in, "code")
        form.code.errors = [
            "That code is not right. Check the key in your app, then type the code it shows now."
        ]
    return render_template(
        "review/two_step_setup.html",
        form=form,
        signing_in=signing_in,
        qr=twostep.provisioning_qr(row, secret),
        secret=twostep.grouped(secret),
        passkey_form=PasskeyForm(),
        passkey_options=passkeys.registration_options(row),
    ), 400 if form.errors else 200


@bp.post("/two-step/setup/passkey")
def two_step_setup_passkey():
    row, signing_in = _setup_account()
    if row is None:
        return signing_in
    form = PasskeyForm()
    if form.validate_on_submit():
        try:
            passkeys.add_from(row, form.credential.data, request.user_agent.string[:60] or "passkey")
        except passkeys.PasskeyError as exc:
            twostep.record_failure(row, f"passkey not added: {exc}")
            flash("The passkey was not added. Try again, or set up an authenticator app.", "error")
        else:
            return _after_setup(row, signing_in, "passkey")
    return redirect(url_for("review.two_step_setup"), code=303)


@bp.get("/account/two-step")
def two_step_account():
    db = get_db()
    row = store.get_reviewer(db, current_user.id)
    return render_template(
        "review/two_step_account.html",
        has_app=bool(row["totp_secret"]),
        passkeys=store.list_passkeys(db, row["id"]),
        codes_left=store.recovery_codes_left(db, row["id"]),
        action_form=ActionForm(),
    )


@bp.post("/account/two-step/recovery-codes")
@reauth.fresh_sign_in_required("review.two_step_account")
def new_recovery_codes():
    if not ActionForm().validate_on_submit():
        return redirect(url_for("review.two_step_account"), code=303)
    row = store.get_reviewer(get_db(), current_user.id)
    codes = twostep.new_recovery_codes(row)
    store.record_audit(get_db(), "recovery_codes", reviewer_id=row["id"], reviewer_email=row["email"])
    target = url_for("review.two_step_account")
    return (
        render_template("review/recovery_codes.html", codes=codes, target=target),
        200,
        {"Cache-Control": "no-store"},
    )
