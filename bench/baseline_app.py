"""The baselines `make bench` compares against: a minimal Flask + WTForms page and a minimal
validate-and-insert endpoint, with as many fields as the questionnaire's step and send form."""

from __future__ import annotations

import os
from pathlib import Path

import sqlite_utils
from flask import Flask, g, redirect, render_template, request
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SelectMultipleField, StringField
from wtforms.validators import InputRequired
from wtforms.widgets import CheckboxInput, ListWidget


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _choices(n: int) -> list[SelectChoice]:
    return [SelectChoice(f"option_{i}", f"Option {i}") for i in range(n)]


class StepForm(FlaskForm):
    """Three questions, like the questionnaire's treatments step."""

    first = Checkboxes("First", choices=_choices(5), validators=[InputRequired()])
    second = RadioField("Second", choices=_choices(3), validators=[InputRequired()])
    third = RadioField("Third", choices=_choices(3), validators=[InputRequired()])


class ContactForm(FlaskForm):
    """The same fields as the send form."""

    name = StringField("Name", validators=[InputRequired()])
    email = StringField("Email")
    phone = StringField("Phone")
    contact_method = RadioField("Method", choices=[SelectChoice("phone"), SelectChoice("email")])
    consent = StringField("Consent", validators=[InputRequired()])
    key = StringField("Key")


def create_app() -> Flask:
    app = Flask(__name__, template_folder=str(Path(__file__).parent / "templates"))
    app.config.update(SECRET_KEY="baseline-secret-key-0123456789", WTF_CSRF_ENABLED=False)
    database = os.environ["BASELINE_DATABASE"]

    def db() -> sqlite_utils.Database:
        if "db" not in g:
            g.db = sqlite_utils.Database(database)
            g.db.execute("PRAGMA busy_timeout = 5000")
            g.db.execute("PRAGMA synchronous = FULL")
        return g.db

    @app.teardown_appcontext
    def close(exc=None):
        conn = g.pop("db", None)
        if conn is not None:
            conn.close()

    @app.get("/form")
    def form_page():
        return render_template("baseline.html", form=StepForm())

    @app.post("/submit")
    def submit():
        form = ContactForm(request.form)
        if not form.validate():
            return "invalid", 400
        conn = db().conn
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO rows (name, email, key) VALUES (?, ?, ?)",
            [form.name.data, form.email.data, form.key.data],
        )
        conn.execute("COMMIT")
        return redirect("/done")

    return app


def prepare(database: str) -> None:
    db = sqlite_utils.Database(database)
    db.enable_wal()
    db.table("rows").create({"id": int, "name": str, "email": str, "key": str}, pk="id", if_not_exists=True)
    db.close()


app = create_app() if "BASELINE_DATABASE" in os.environ else None
