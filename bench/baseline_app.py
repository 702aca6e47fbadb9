"""The baselines `make bench` compares against: a minimal Flask + WTForms page and a minimal
validate-and-insert endpoint, with as many fields as the questionnaire's step and send form. The insert
goes to SQLite, or with a postgresql:// BASELINE_DATABASE through plain psycopg to the same server.

On PostgreSQL, `POST /send` is the same-work baseline: in one transaction with plain psycopg it makes
the reads and writes the app's send makes, on the app's own tables (the same indexes and the status
count trigger): read the draft named by the `draft` cookie, insert the submission, its topic rows and
(for an urgent level) its alerts, and delete the draft. It validates the form, but evaluates no rules
and renders nothing."""

from __future__ import annotations

import os
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path

import psycopg
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

    postgres = database.startswith("postgresql://")
    connections = threading.local()  # PostgreSQL: one plain psycopg connection per worker thread
    insert = f"INSERT INTO rows ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"  # noqa: S608

    @app.post("/submit")
    def submit():
        form = ContactForm(request.form)
        if not form.validate():
            return "invalid", 400
        values = [value for _, value in row(form)]
        if postgres:
            conn = getattr(connections, "conn", None)
            if conn is None:
                conn = connections.conn = psycopg.connect(database, autocommit=True)
            with conn.transaction():
                conn.execute(insert.replace("?", "%s"), values)
            return redirect("/done")
        conn = db().conn
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(insert, values)
        conn.execute("COMMIT")
        return redirect("/done")

    @app.post("/send")
    def send_same_work():
        form = ContactForm(request.form)
        if not form.validate():
            return "invalid", 400
        conn = getattr(connections, "conn", None)
        if conn is None:
            conn = connections.conn = psycopg.connect(database, autocommit=True)
        token = request.cookies.get("draft", "")
        with conn.transaction():
            draft = conn.execute(READ_DRAFT, [token]).fetchone()
            if draft is None:
                return "no draft", 404
            values = dict(row(form))
            values.update(
                answers=draft[0], summary_html=draft[1] or SUMMARY, phone=values["phone"] or "", language="en"
            )
            submission = conn.execute(INSERT_SUBMISSION, [values[c] for c in SAME_WORK_COLUMNS]).fetchone()
            with conn.cursor() as cursor:
                cursor.executemany(
                    INSERT_TOPIC, [(submission[0], topic, *submission[1:]) for topic in TOPICS]
                )
            if values["level"] in ALERT_LEVELS:
                conn.execute(INSERT_ALERTS, [submission[0], values["reference"], values["level"]])
            conn.execute(DELETE_DRAFT, [token])
        return redirect("/done")

    return app


# The same row the app stores for a submission: its columns, and answers, outcome and summary of the
# sizes the app writes for the benchmark's answers.
COLUMNS = (
    "reference", "idempotency_key", "received", "status", "level", "topics", "answers", "outcome",
    "summary_html", "ruleset_version", "ruleset_hash", "name", "email", "phone", "contact_method", "search",
    "updated",
)  # fmt: skip
ANSWERS = '{"age_band":"50_to_64","diagnosis":["herniated_disc"],"duration":"3_to_6_months"}' * 4
OUTCOME = '{"level":"discuss","rules":[{"id":"disc","reasons":[]}],"topics":["herniated-disc"]}' * 8
SUMMARY = "<section><h2>Worth discussing</h2><p>" + "Plain words about the topic. " * 200 + "</p></section>"


# The same-work baseline's statements, on the app's tables.
SAME_WORK_COLUMNS = (*COLUMNS, "language")
TOPICS = ("herniated-disc", "smoking")
ALERT_LEVELS = ("emergency", "urgent")
READ_DRAFT = "SELECT answers, summary_html, progress, expires FROM drafts WHERE token = %s"
INSERT_SUBMISSION = (
    f"INSERT INTO submissions ({', '.join(SAME_WORK_COLUMNS)}) "  # noqa: S608 (fixed column names)
    f"VALUES ({', '.join('%s' for _ in SAME_WORK_COLUMNS)}) RETURNING id, received, level, status"
)
INSERT_TOPIC = (
    "INSERT INTO submission_topics (submission_id, topic, received, level, status) "
    "VALUES (%s, %s, %s, %s, %s)"
)
INSERT_ALERTS = (
    "INSERT INTO outbox (reviewer_id, submission_id, reference, level, kind, created, due) "
    "SELECT id, %s, %s, %s, 'urgent', now()::text, now()::text FROM reviewers "
    "WHERE active = 1 AND alert_urgent = 1"
)
DELETE_DRAFT = "DELETE FROM drafts WHERE token = %s"


def row(form) -> list[tuple[str, str]]:
    now = datetime.now(UTC).isoformat(timespec="microseconds")
    reference = secrets.token_hex(5).upper()
    values = {
        "reference": reference,
        "idempotency_key": form.key.data,
        "received": now,
        "status": "new",
        "level": "discuss",
        "topics": '["herniated-disc","smoking"]',
        "answers": ANSWERS,
        "outcome": OUTCOME,
        "summary_html": SUMMARY,
        "ruleset_version": "bench",
        "ruleset_hash": "0" * 64,
        "name": form.name.data,
        "email": form.email.data,
        "phone": form.phone.data,
        "contact_method": form.contact_method.data,
        "search": " ".join([form.name.data, form.email.data, reference]).lower(),
        "updated": now,
    }
    return [(column, values[column]) for column in COLUMNS]


def prepare(database: str) -> None:
    columns = ", ".join(
        f"{c} TEXT NOT NULL UNIQUE" if c in ("reference", "idempotency_key") else f"{c} TEXT" for c in COLUMNS
    )
    if database.startswith("postgresql://"):
        with psycopg.connect(database, autocommit=True) as conn:
            identity = "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
            conn.execute(f"CREATE TABLE IF NOT EXISTS rows ({identity}, {columns})")
        return
    db = sqlite_utils.Database(database)
    db.enable_wal()
    db.execute(f"CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, {columns})")
    db.close()


app = create_app() if "BASELINE_DATABASE" in os.environ else None
