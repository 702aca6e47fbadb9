"""The reviewers' forms and the words their filters and messages use."""

from __future__ import annotations

import re
from datetime import date

from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Form,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import DateField
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError

from ..patient.forms import has_control_characters, has_hidden_characters
from . import auth, workflow

AUDIT_ACTIONS = {
    "view": "Viewed a submission",
    "status": "Changed a status",
    "note": "Added a note",
    "export": "Exported submissions",
    "signin": "Signed in",
    "signout": "Signed out",
    "signin_failed": "Failed sign-in",
    "signin_throttled": "Throttled sign-in",
    "signin_hammered": "Many failed sign-ins on one account",
    "two_step_failed": "Failed second step",
    "two_step_setup": "Set up a second step",
    "two_step_reset": "Reset a second step",
    "recovery_codes": "Made new recovery codes",
    "role_change": "Changed a role",
    "reauth": "Confirmed it is them",
    "reauth_failed": "Failed to confirm it is them",
    "export_bulk": "Exported over 1,000 submissions",
    "api_read": "Read through the FHIR API",
    "api_token_add": "Added an API token",
    "api_token_revoke": "Revoked an API token",
    "reviewer_add": "Added a reviewer",
    "reviewer_disable": "Disabled a reviewer",
    "reviewer_enable": "Enabled a reviewer",
    "reviewer_reset": "Reset a password",
    "password_change": "Changed own password",
    "password_change_failed": "Failed password change",
    "purge": "Purged old data",
    "backup": "Backed up the database",
    "seed": "Added demo data",
    "sessions_end": "Ended sessions",
    "password_signin": "Changed who may sign in with a password",
}


MAX_NOTE_LENGTH = 5000


MIN_SEARCH_LENGTH = 3


DATE_MESSAGE = "Enter a date like 2026-11-22."


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


PHONE_LIKE = re.compile(r"^[\d\s()+.-]+$")


def choices(pairs) -> list[SelectChoice]:
    """Return select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class DayField(DateField):
    """A date typed as YYYY-MM-DD, from 2000 to 2099, with a message that shows the format."""

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0] and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", valuelist[0]):
            raise ValueError(DATE_MESSAGE)
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(DATE_MESSAGE) from None
        if self.data is not None and not FIRST_DAY <= self.data <= LAST_DAY:
            self.data = None
            raise ValueError(f"Enter a date from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}.")


class SignInForm(FlaskForm):
    email = StringField("Email address", [InputRequired("Enter your email address."), Length(max=254)])
    password = PasswordField("Password", [InputRequired("Enter your password."), Length(max=1024)])


class CodeForm(FlaskForm):
    code = StringField(
        "Code from your authenticator app", [InputRequired("Enter the 6-digit code."), Length(max=20)]
    )


class RecoveryCodeForm(FlaskForm):
    code = StringField("Recovery code", [InputRequired("Enter one of your recovery codes."), Length(max=40)])


class PasskeyForm(FlaskForm):
    """What the browser's WebAuthn API answered, as JSON (filled in by static/passkeys.js)."""

    credential = HiddenField()


class ConfirmForm(FlaskForm):
    """Re-authentication: the password, or a code from the app."""

    password = PasswordField("Password", [Optional(), Length(max=1024)])
    code = StringField("Or a code from your authenticator app", [Optional(), Length(max=20)])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and not (self.password.data or self.code.data):
            self.password.errors = [*self.password.errors, "Enter your password or a code from your app."]
            return False
        return valid


class PasswordChangeForm(FlaskForm):
    current = PasswordField(
        "Current password", [InputRequired("Enter your current password."), Length(max=1024)]
    )
    new = PasswordField("New password", [InputRequired("Enter a new password.")])
    confirm = PasswordField("New password again", [InputRequired("Enter the new password again.")])

    def validate_new(self, field) -> None:
        problems = auth.password_problems(field.data, current_user.email)
        if field.data == self.current.data:
            problems.append("Choose a password that is different from your current one.")
        if problems:
            raise ValidationError(" ".join(problems))

    def validate_confirm(self, field) -> None:
        if field.data != self.new.data:
            raise ValidationError("The two new passwords are not the same.")


class InboxFilterForm(Form):
    view = SelectField(
        "View", choices=choices([("all", "All submissions"), ("attention", "Needs attention")]), default="all"
    )
    status = SelectField(
        "Status", choices=choices([("", "Any status"), *workflow.LABELS.items()]), default=""
    )
    level = SelectField("Level", choices=[], default="")
    topic = SelectField("Topic", choices=[], default="")
    date_from = DayField("Received from", [Optional()], format="%Y-%m-%d")
    date_to = DayField("Received to", [Optional()], format="%Y-%m-%d")
    q = StringField("Name, email, phone or reference", [Optional(), Length(max=200)])
    older = BooleanField("Only those made under an older rule set")
    language = SelectField("Language", choices=[], default="")
    order = SelectField(
        "Order", choices=choices([("newest", "Newest first"), ("urgent", "Urgent first")]), default="newest"
    )


class AuditFilterForm(Form):
    reviewer = SelectField("Reviewer", choices=[], default="")
    action = SelectField("Action", choices=choices([("", "Any action"), *AUDIT_ACTIONS.items()]), default="")
    reference = StringField("Submission reference", [Optional(), Length(max=64)])
    date_from = DayField("From", [Optional()], format="%Y-%m-%d")
    date_to = DayField("To", [Optional()], format="%Y-%m-%d")


def _strip(value):
    """Trim a note and count a line break as one character, as the browser's maxlength does."""
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else value


class NoteForm(FlaskForm):
    """A note, a status move, or both at once ("Called, left a message" and Contacted)."""

    body = TextAreaField(
        "Add a note",
        [
            Optional(),
            Length(max=MAX_NOTE_LENGTH, message=f"A note can be at most {MAX_NOTE_LENGTH:,} characters."),
        ],
        filters=[_strip],
    )
    from_status = HiddenField()
    to_status = SelectField("And change the status", choices=[], default="")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and self.body.data and has_control_characters(self.body.data, lines=True):
            self.body.errors = [*self.body.errors, "A note cannot hold control characters (such as NUL)."]
            return False
        if valid and self.body.data and has_hidden_characters(self.body.data):
            self.body.errors = [
                *self.body.errors,
                "A note cannot hold invisible formatting characters (such as a right-to-left override), "
                "private-use or unassigned characters. Type the note again without them.",
            ]
            return False
        if valid and not self.body.data and not self.to_status.data:
            self.body.errors = [*self.body.errors, "Write the note first, or choose a new status."]
            return False
        return valid


def note_form_for(row: dict, *, posted: bool = True) -> NoteForm:
    """Return the note form for a submission (read from the request when posted), offering the moves
    its status allows."""
    form = NoteForm() if posted else NoteForm(formdata=None)
    current = workflow.label(row["status"])
    form.to_status.choices = choices(
        [
            ("", f"Keep it as {current}"),
            *((s, workflow.move_label(row["status"], s)) for s in workflow.MOVES.get(row["status"], ())),
        ]
    )
    if not form.from_status.data:
        form.from_status.data = row["status"]
    return form


class StatusForm(FlaskForm):
    from_status = HiddenField()
    to_status = HiddenField()


class AddReviewerForm(FlaskForm):
    email = StringField(
        "Email address",
        [
            InputRequired("Enter the reviewer's email address."),
            Email("Enter a valid email address."),
            Length(max=254),
        ],
    )
    is_admin = BooleanField("Administrator (can manage reviewers and read the audit log)")


class ActionForm(FlaskForm):
    """A button that changes something: nothing but the CSRF token."""


class AlertsForm(FlaskForm):
    urgent = BooleanField("Email me at once about each urgent submission")
    digest = BooleanField("Email me a daily digest of the other new submissions")
