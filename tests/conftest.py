"""Shared fixtures: an app on a fresh database, its test client and CLI runner."""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from pathlib import Path

import pytest

from screening import create_app

ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = ROOT / "rules"


@pytest.fixture(scope="session")
def ruleset():
    """The shipped rule set, loaded once for the whole run."""
    from screening.rules import load_ruleset

    return load_ruleset(RULES_DIR)


# The store, patient, reviewer and CLI tests run twice: on SQLite (the embedded default) and on a
# PostgreSQL 15 server this test session starts itself. Other modules run on SQLite only: the engine
# needs no database, and some tests are about SQLite itself (its files, locks and query plans).
BOTH_STORES = {
    "test_alerts",
    "test_auth",
    "test_auth_password_change",
    "test_auth_throttle",
    "test_cli_admin",
    "test_health",
    "test_patient_after_sending",
    "test_patient_journey",
    "test_patient_pages",
    "test_review_access",
    "test_review_admin",
    "test_review_export",
    "test_review_inbox",
    "test_review_pages",
    "test_review_submission",
    "test_rule_changes",
    "test_store_both",
    "test_tried_not_reached",
}


@pytest.fixture
def store_kind(request) -> str:
    """Which store the test's app runs on (parametrized by pytest_generate_tests)."""
    return getattr(request, "param", "sqlite")


def pytest_generate_tests(metafunc):
    if "store_kind" in metafunc.fixturenames:
        marked = metafunc.definition.get_closest_marker("both_stores")
        both = (
            metafunc.module.__name__ in BOTH_STORES or marked
        ) and not metafunc.definition.get_closest_marker("sqlite_only")
        kinds = ["sqlite", "postgresql"] if both else ["sqlite"]
        if metafunc.definition.get_closest_marker("postgresql_only"):
            kinds = ["postgresql"]
        metafunc.parametrize("store_kind", kinds, indirect=True)


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: the test is about SQLite itself; run it on SQLite alone")
    config.addinivalue_line("markers", "postgresql_only: the test is about PostgreSQL alone")
    config.addinivalue_line(
        "markers", "both_stores: run this test on both stores (in a module that does not)"
    )


def pgserver():
    """Return bench/pgserver.py, skipping the test (failing it on CI) where PostgreSQL 15 is missing."""
    import os
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    import pgserver

    if not pgserver.available():
        message = "PostgreSQL 15 is not installed (Debian: apt-get install postgresql-15)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return pgserver


def migrated_database(server, name: str, template: str = "template1") -> str:
    """Create a database on `server`, bring it to today's schema and return its URL."""
    from screening import store

    url = server.create_database(name, template)
    db = store.connect(url)
    store.migrate(db)
    db.close()
    return url


@pytest.fixture(scope="session")
def postgres():
    """One PostgreSQL 15 server for the session, with a migrated template database to copy per test."""
    server = pgserver().PostgresServer()
    migrated_database(server, "screening_template")
    yield server
    server.remove()


@contextmanager
def replicated(dbname: str):
    """Start a primary with a migrated database `dbname` and a synchronous hot standby streaming from
    it; yield (primary, standby), and stop both after."""
    servers = pgserver()
    primary = servers.PostgresServer()
    standby = None
    try:
        migrated_database(primary, dbname)
        standby = servers.PostgresServer(standby_of=primary)
        primary.require_synchronous_standby()
        yield primary, standby
    finally:
        if standby is not None:
            standby.remove()
        primary.remove()


@pytest.fixture
def database(store_kind, tmp_path, request):
    """A fresh, migrated database of the kind under test: a SQLite path or a postgresql:// URL."""
    if store_kind == "sqlite":
        yield str(tmp_path / "test.db")
        return
    from screening.db import close_db_connections

    server = request.getfixturevalue("postgres")
    name = f"test_{next(DATABASE_NUMBERS)}"
    yield server.create_database(name, template="screening_template")
    close_db_connections()
    server.drop_database(name)


DATABASE_NUMBERS = itertools.count(1)


@pytest.fixture
def app_config(database) -> dict:
    """Settings for a test app: a fresh database, development cookies, testing mode.

    The second step is optional here, as in development: the tests that are not about signing in
    sign in with the password alone. tests/test_two_step*.py make it required, as production does."""
    return {
        "TESTING": True,
        "SCREENING_ENV": "development",
        "TWO_STEP": "optional",
        "SECRET_KEY": "test-secret-key-0123456789abcdef",
        "DATABASE": database,
        "RULES_DIR": str(RULES_DIR),
    }


@pytest.fixture
def app(app_config):
    return create_app(app_config)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- patient-side fixtures ------------------------------------------------------------------------

DEFAULT_ANSWERS = {  # the defaults of CLINICAL.md's worked examples
    "emergency_signs": ["none"],
    "major_trauma": "no",
    "warning_signs": ["none"],
    "age_band": "50_to_64",
    "duration": "3_to_6_months",
    "pain_location": "back",
    "impact": 5,
    "diagnosis": ["not_told"],
    "imaging": "mri",
    "prior_surgery": "no",
    "bone_health": "no",
    "treatments_tried": ["physical_therapy"],
    "treatment_duration": "6_to_12_weeks",
    "treatment_helped": "a_little",
    "health_factors": ["none"],
}


def rows(app, table="submissions") -> list[dict]:
    """Return every row of a table of the app's database (a test's look at what was stored)."""
    from screening import store

    db = store.connect(app.config["DATABASE"])
    try:
        return db.rows(f"SELECT * FROM {table}")  # noqa: S608 (test helper)
    finally:
        db.close()


def make_token(runner, name: str = "ehr-engine", *scopes: str) -> str:
    """Make an API token through the command line (optionally limited to scopes); return the token."""
    from screening.cli import cli

    args = ["api-token", "add", name, *[part for scope in scopes for part in ("--scope", scope)]]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def page(response):
    """Return the response's HTML parsed with BeautifulSoup."""
    from bs4 import BeautifulSoup

    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def text_of(response) -> str:
    return " ".join(page(response).get_text(" ").split())


class Patient:
    """Drive the questionnaire through the test client as a browser without JavaScript would."""

    def __init__(self, client, ruleset):
        self.client = client
        self.ruleset = ruleset

    def token(self, url: str) -> str:
        found = page(self.client.get(url)).find("input", attrs={"name": "csrf_token"})
        return found["value"] if found else ""

    def start(self):
        return self.client.post("/start", data={"csrf_token": self.token("/")})

    def step_data(self, step_id: str, answers: dict, extra: dict | None = None) -> dict:
        """Return the form data a browser posts for a step: its shown questions' answers."""
        questionnaire = self.ruleset.questionnaire
        step = questionnaire.step(step_id)
        shown = [q.id for q in questionnaire.shown_questions(step_id, answers)]
        data = {"csrf_token": self.token(f"/step/{step_id}"), "shown": " ".join(shown)}
        for question in step.questions:
            if question.id in shown and question.id in answers:
                value = answers[question.id]
                data[question.id] = [str(v) for v in value] if isinstance(value, list) else str(value)
        data.update(extra or {})
        return data

    def answer(self, step_id: str, answers: dict, extra: dict | None = None, query: str = ""):
        return self.client.post(f"/step/{step_id}{query}", data=self.step_data(step_id, answers, extra))

    def complete(self, answers: dict):
        """Answer every step; return the last response (the check page redirect or the emergency page)."""
        self.start()
        response = None
        for step in self.ruleset.questionnaire.steps:
            response = self.answer(step.id, answers)
            if response.status_code != 302 or response.headers["Location"] == "/emergency":
                return response
        return response

    def summary(self, diff: dict):
        self.complete({**DEFAULT_ANSWERS, **diff})
        return self.client.get("/summary")

    def send_fields(self) -> dict:
        """Return the send form's hidden fields (token, one-time key, which answers it is for)."""
        form = page(self.client.get("/send"))
        return {i["name"]: i.get("value", "") for i in form.select("form input[type=hidden]")}

    def send(self, **fields):
        return self.client.post("/send", data={**self.send_fields(), **fields})


@pytest.fixture
def patient(client, ruleset):
    return Patient(client, ruleset)


# --- reviewer-side fixtures -----------------------------------------------------------------------

REVIEWER_EMAIL = "river@clinic.example"
ADMIN_EMAIL = "ada@clinic.example"
PASSWORD = "plum-orbit-cactus-71"


def csrf_from(html: str) -> str:
    """Return the CSRF token of the first form on a page."""
    import re

    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


class ReviewerActions:
    """Drive the reviewers' pages like a browser: sign in and out, post forms with their CSRF token."""

    def __init__(self, client):
        self.client = client

    def token(self, path: str = "/review/sign-in") -> str:
        return csrf_from(self.client.get(path).get_data(as_text=True))

    def sign_in(self, email: str = REVIEWER_EMAIL, password: str = PASSWORD, next_path: str | None = None):
        url = "/review/sign-in" + (f"?next={next_path}" if next_path else "")
        return self.client.post(url, data={"email": email, "password": password, "csrf_token": self.token()})

    def post(self, path: str, data: dict | None = None, page: str = "/review/overview"):
        return self.client.post(path, data={**(data or {}), "csrf_token": self.token(page)})

    def sign_out(self):
        return self.post("/review/sign-out")

    def choose_password(self, current: str, new: str = "my-own-quiet-lantern-58"):
        """Replace a password someone else chose, as the first sign-in asks."""
        data = {"current": current, "new": new, "confirm": new}
        return self.post("/review/account/password", data, page="/review/account/password")


@pytest.fixture
def accounts(app) -> dict:
    """A reviewer and an admin, both with PASSWORD, which they chose themselves (so no forced change);
    returns {"reviewer": id, "admin": id}."""
    from screening.review import auth

    with app.app_context():
        reviewer = auth.create_account(REVIEWER_EMAIL, password=PASSWORD, must_change=False)
        admin = auth.create_account(ADMIN_EMAIL, password=PASSWORD, is_admin=True, must_change=False)
    return {"reviewer": reviewer.id, "admin": admin.id}


@pytest.fixture
def reviewer(client, accounts) -> ReviewerActions:
    """A test client signed in as a (non-admin) reviewer."""
    actions = ReviewerActions(client)
    assert actions.sign_in().status_code == 302
    return actions


@pytest.fixture
def admin(app, accounts) -> ReviewerActions:
    """A second test client signed in as an admin."""
    actions = ReviewerActions(app.test_client())
    assert actions.sign_in(ADMIN_EMAIL).status_code == 302
    return actions


class Clock:
    """A controllable store.now(): frozen until advanced."""

    def __init__(self):
        from datetime import UTC, datetime

        self.now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

    def __call__(self) -> str:
        return self.now.isoformat(timespec="microseconds")

    def advance(self, **delta) -> None:
        from datetime import timedelta

        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """Freeze the app's clock (store.now) at 2026-11-22 12:00 UTC; tests move it with clock.advance()."""
    from screening import store

    frozen = Clock()
    monkeypatch.setattr(store, "now", frozen)
    return frozen


@pytest.fixture
def add_submissions(app, ruleset):
    """Return add(*specs) -> rows: store submissions built from real outcomes of `ruleset.evaluate`.

    A spec is a dict that may set answers (merged over DEFAULT_ANSWERS unless replace=True), name,
    email, phone, contact_method, status, received, reference, language and summary_html.
    """
    import itertools
    from datetime import UTC, datetime, timedelta

    from screening import get_db, seed, store

    counter = itertools.count(1)
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

    def add(*specs: dict) -> list[dict]:
        rows = []
        for spec in specs:
            n = next(counter)
            answers = (
                spec["answers"] if spec.get("replace") else {**DEFAULT_ANSWERS, **spec.get("answers", {})}
            )
            summary = spec.get("summary_html", "<p>Summary for the patient.</p>")
            entry = seed.evaluated(ruleset, answers, lambda outcome, summary=summary: summary)
            received = spec.get("received") or (start + timedelta(minutes=n)).isoformat(
                timespec="microseconds"
            )
            reference = spec.get("reference", f"BP-T{n:03d}")
            name, email = spec.get("name", f"Pat Example{n}"), spec.get("email", f"pat{n}@example.com")
            phone = spec.get("phone", f"555-0100-{n:04d}")
            rows.append(
                {
                    **entry,
                    "reference": reference,
                    "idempotency_key": f"test-{reference}",
                    "received": received,
                    "updated": received,
                    "status": spec.get("status", "new"),
                    "ruleset_version": ruleset.version,
                    "ruleset_hash": ruleset.hash,
                    "name": name,
                    "email": email,
                    "phone": phone,
                    "contact_method": spec.get("contact_method", "phone"),
                    "language": spec.get("language", "en"),
                }
            )
        with app.app_context():
            store.insert_seed_submissions(get_db(), rows)
        return rows

    return add


def reviewer_client_for(app, email: str, password: str):
    """A test client of `app`, signed in as `email`."""
    actions = ReviewerActions(app.test_client())
    assert actions.sign_in(email, password).status_code == 302
    return actions.client


def seed_clinic(path: str, ruleset) -> list[str]:
    """Fill a SQLite file as a clinic would: an admin, three sent submissions (Olga's first), a note and
    a status change with their audit entries, a draft. Return the submissions' references."""
    from screening import create_app, get_db, store
    from screening.db import close_db_connections
    from screening.review import auth

    app = create_app(
        {"TESTING": True, "SCREENING_ENV": "development", "SECRET_KEY": "k" * 32, "DATABASE": path}
    )
    references = []
    with app.app_context():
        db = get_db()
        admin = auth.create_account(ADMIN_EMAIL, password=PASSWORD, is_admin=True, must_change=False)
        for n, name in enumerate(("Olga Novak", "Ben Ito", "Rosa Diaz")):
            outcome = ruleset.evaluate(DEFAULT_ANSWERS)
            reference, _ = store.insert_submission(
                db,
                {
                    "idempotency_key": f"clinic-{n}",
                    "level": outcome.level,
                    "topics": list(outcome.topics),
                    "answers": outcome.answers,
                    "outcome": outcome.to_dict(),
                    "summary_html": "<p>Summary</p>",
                    "ruleset_version": ruleset.version,
                    "ruleset_hash": ruleset.hash,
                    "name": name,
                    "email": f"{name.split()[0].lower()}@example.org",
                    "phone": f"555-0100-{n:04d}",
                    "contact_method": "phone",
                },
            )
            references.append(reference)
        first = store.submission_for_review(db, references[0])
        who = {"id": admin.id, "email": ADMIN_EMAIL}
        assert store.note_and_status(db, first, who, "Called, left a message.", "new", "contacted")
        store.create_draft(db, 24)
    close_db_connections()
    return references
