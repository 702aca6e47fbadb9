"""Build a FlaskForm class for a questionnaire step, and the contact form for sending to the clinic.

Every message a patient reads comes from questionnaire.yaml (`messages`) or from a template: the
contact form's validators raise error *codes*, which templates/patient/send.html turns into words.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectChoice, SelectMultipleField, StringField
from wtforms.validators import StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..engine.questionnaire import Question, Questionnaire


class ChoiceField(RadioField):
    """A radio group that refuses values outside its options with the questionnaire's own words."""

    def __init__(self, *args, not_a_choice: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.not_a_choice = not_a_choice

    def pre_validate(self, form) -> None:
        if self.data is not None and not any(self.data == choice.value for choice in self.choices):
            raise StopValidation(self.not_a_choice)


class MultiChoiceField(SelectMultipleField):
    """A group of checkboxes; values outside its options are refused, never dropped."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args, not_a_choice: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.not_a_choice = not_a_choice

    def pre_validate(self, form) -> None:
        values = {choice.value for choice in self.choices}
        if any(item not in values for item in self.data or []):
            raise StopValidation(self.not_a_choice)


class _AnswerRules:
    """Check one answer with the engine's own validation, so the web and the CLI agree."""

    def __init__(self, questionnaire: Questionnaire, question: Question):
        self.questionnaire = questionnaire
        self.question = question

    def __call__(self, form, field) -> None:
        answer = field_answer(self.question, field.data)
        if answer in (None, []) and self.question.optional:
            return
        if answer in (None, []):
            errors = [self.questionnaire.missing(self.question.id)]
        else:
            errors = self.questionnaire.validate({self.question.id: answer})
        if errors:
            raise ValidationError(errors[0].message(self.questionnaire.messages))


def field_answer(question: Question, data):
    """Return a form field's data as an engine answer: an option id, a list of ids, or a number."""
    if question.type == "multi":
        return list(data or [])
    if question.type == "number":
        if isinstance(data, str) and ASCII_NUMBER.fullmatch(data):
            return int(data)
        return data or None
    return data or None


def _field(questionnaire: Questionnaire, question: Question):
    not_a_choice = questionnaire.messages["not_a_choice"]
    validators = [_AnswerRules(questionnaire, question)]
    if question.type == "multi":
        choices = [SelectChoice(o.id, o.label) for o in question.options]
        return MultiChoiceField(
            question.label, choices=choices, validators=validators, not_a_choice=not_a_choice
        )
    if question.type == "number":
        choices = [SelectChoice(str(n), str(n)) for n in range(question.min, question.max + 1)]
        return ChoiceField(question.label, choices=choices, validators=validators, not_a_choice=not_a_choice)
    choices = [SelectChoice(o.id, o.label) for o in question.options]
    return ChoiceField(question.label, choices=choices, validators=validators, not_a_choice=not_a_choice)


@lru_cache(maxsize=256)
def step_form_class(questionnaire: Questionnaire, step_id: str, shown: tuple[str, ...]) -> type[FlaskForm]:
    """Return the form class for a step showing these questions (one class per combination)."""
    fields = {qid: _field(questionnaire, questionnaire.questions[qid]) for qid in shown}
    fields["shown"] = HiddenField()
    return type(f"Step_{step_id}_Form", (FlaskForm,), fields)


def read_posted(step, formdata, *, options_only: bool = False) -> dict:
    """Return what was posted for a step's questions as engine answers: the one reading of a posted step.

    Unchecked, it shows a step again with the patient's own values; with `options_only` it keeps only
    real options (the emergency check, which must not wait for anything else on the step to be
    valid). A validated form's answers come through `field_answer` too (`form_answers`).
    """
    answers = {}
    for question in step.questions:
        if question.type == "multi":
            values = formdata.getlist(question.id)
            if options_only:
                values = list(dict.fromkeys(v for v in values if question.option(v) is not None))
            if values:
                answers[question.id] = values
            continue
        value = formdata.get(question.id)
        if not value or (options_only and (question.type != "single" or question.option(value) is None)):
            continue
        answers[question.id] = field_answer(question, value)
    return answers


def read_ticked(step, formdata) -> dict:
    """Return what is ticked on a posted step, valid together or not: each value that is one of the
    page's own boxes (an option, or a number on the scale), for a page to show again exactly so."""
    answers = {}
    for question in step.questions:
        values = formdata.getlist(question.id)
        if question.type == "number":
            boxes = {str(n) for n in range(question.min, question.max + 1)}
            ticked = [int(v) for v in values if v in boxes][:1]
        else:
            ticked = list(dict.fromkeys(v for v in values if question.option(v) is not None))
        if ticked:
            answers[question.id] = ticked if question.type == "multi" else ticked[0]
    return answers


def form_answers(questionnaire: Questionnaire, form: FlaskForm, shown) -> dict:
    """Return the answers in a validated step form."""
    answers = {}
    for qid in shown:
        answer = field_answer(questionnaire.questions[qid], form[qid].data)
        if answer not in (None, []):
            answers[qid] = answer
    return answers


# --- sending to the clinic -------------------------------------------------------------------------


ASCII_DIGITS = frozenset("0123456789")
ASCII_NUMBER = re.compile(r"[0-9]{1,4}")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_characters(text: str, *, lines: bool = False) -> bool:
    """Return whether text holds characters nobody types: NUL and other controls (tabs and line
    breaks count as controls unless `lines`)."""
    return bool(CONTROL.search(text)) or (not lines and any(ch in text for ch in "\t\n\r"))


# Joiners shape letters in some scripts (Persian, Indic, emoji), so they stay allowed in names and notes.
JOINERS = {"\u200c", "\u200d"}


def has_hidden_characters(text: str) -> bool:
    """Return whether text holds characters that change how it displays without showing themselves:
    bidirectional overrides and other format characters (U+202A-202E, U+2066-2069, U+200E/F ...), and
    private-use, surrogate or unassigned code points."""
    return any(unicodedata.category(ch) in ("Cf", "Co", "Cs", "Cn") and ch not in JOINERS for ch in text)


def _code(code: str) -> ValidationError:
    return ValidationError(code)


def _name(form, field) -> None:
    field.data = " ".join((field.data or "").split())
    if not field.data:
        raise _code("name_required")
    if has_control_characters(field.data) or has_hidden_characters(field.data):
        raise _code("name_invalid")
    if len(field.data) > 100:
        raise _code("name_too_long")


def _email(form, field) -> None:
    from email_validator import EmailNotValidError, validate_email

    field.data = (field.data or "").strip()
    if not field.data:
        return
    if len(field.data) > 254:
        raise _code("email_invalid")
    try:
        field.data = validate_email(field.data, check_deliverability=False).normalized
    except EmailNotValidError:
        raise _code("email_invalid") from None


def _phone(form, field) -> None:
    field.data = " ".join((field.data or "").split())
    if not field.data:
        return
    digits = sum(ch in ASCII_DIGITS for ch in field.data)
    if any(not (ch in ASCII_DIGITS or ch in " +-().") for ch in field.data) or not 7 <= digits <= 20:
        raise _code("phone_invalid")


def _method(form, field) -> None:
    if not form.email.data and not form.phone.data:
        raise _code("contact_required")
    if field.data == "email" and not form.email.data:
        raise _code("method_needs_email")
    if field.data == "phone" and not form.phone.data:
        raise _code("method_needs_phone")


def _consent(form, field) -> None:
    if not field.data:
        raise _code("consent_required")


class SendForm(FlaskForm):
    """Contact details and consent; the field labels live in the template."""

    name = StringField("name", validators=[_name])
    email = StringField("email", validators=[_email])
    phone = StringField("phone", validators=[_phone])
    contact_method = ChoiceField(
        "contact_method",
        choices=[SelectChoice("phone"), SelectChoice("email")],
        validators=[_method],
        not_a_choice="method_required",
    )
    consent = BooleanField("consent", validators=[_consent])
    key = HiddenField()
    answers_digest = HiddenField()  # which answers this form was opened for (another tab may change them)

    def validate_contact_method(self, field) -> None:
        if not field.data:
            raise _code("method_required")
