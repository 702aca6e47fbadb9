"""The admin commands: reviewer accounts, seed, export, purge and backup."""

from __future__ import annotations

import csv
import json
import re
import sqlite3

import pytest
from conftest import PASSWORD, REVIEWER_EMAIL, ReviewerActions

from screening import get_db, store
from screening.cli import FIRST_ADMIN_EMAIL, cli


@pytest.fixture
def run(runner):
    def invoke(*args: str, input: str | None = None):
        return runner.invoke(cli, list(args), input=input)

    return invoke


def reviewers(app) -> dict[str, dict]:
    with app.app_context():
        return {row["email"]: row for row in store.list_reviewers(get_db())}


def test_reviewer_add_generates_and_prints_a_password_once(app, run):
    result = run("reviewer", "add", "nina@clinic.example")
    assert result.exit_code == 0, result.output
    assert "Added reviewer nina@clinic.example." in result.output
    password = re.search(r"Password \(shown once, give it to them in person\): (\S+)", result.output).group(1)
    row = reviewers(app)["nina@clinic.example"]
    assert row["is_admin"] == 0
    assert password not in row["password_hash"]
    assert ReviewerActions(app.test_client()).sign_in("nina@clinic.example", password).status_code == 302


def test_reviewer_add_admin_with_a_password_from_stdin(app, run):
    result = run(
        "reviewer", "add", "Boss@Clinic.Example", "--admin", "--password-stdin", input="fern-lamp-quiet-88\n"
    )
    assert result.exit_code == 0, result.output
    assert result.output == "Added admin Boss@clinic.example.\n", "nothing secret is printed"
    assert reviewers(app)["Boss@clinic.example"]["is_admin"] == 1
    assert (
        ReviewerActions(app.test_client()).sign_in("boss@clinic.example", "fern-lamp-quiet-88").status_code
        == 302
    )


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("amy@clinic.example", "short", "Error: The password was refused: Use at least 12 characters."),
        (
            "amy@clinic.example",
            "letmein12345",
            "Error: The password was refused: This password is on a list of common passwords. "
            "Choose one that is harder to guess.",
        ),
        (
            "amy.wong@clinic.example",
            "amy.wong-2026-x",
            "Error: The password was refused: Do not use your email address in your password.",
        ),
        ("not an email", "fern-lamp-quiet-88", "Error: 'not an email' is not a valid email address:"),
    ],
)
def test_reviewer_add_refuses_bad_passwords_and_emails(app, run, email, password, message):
    result = run("reviewer", "add", email, "--password-stdin", input=password + "\n")
    assert result.exit_code == 1
    assert result.output.startswith(message)
    assert reviewers(app) == {}


def test_reviewer_add_refuses_a_duplicate(run, accounts):
    result = run("reviewer", "add", REVIEWER_EMAIL.upper())
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_disable_enable_reset_and_list(app, run, accounts):
    client = ReviewerActions(app.test_client())
    client.sign_in()
    assert (
        run("reviewer", "disable", REVIEWER_EMAIL).output
        == f"Disabled {REVIEWER_EMAIL}; their sessions have ended.\n"
    )
    assert client.client.get("/review/").status_code == 302
    assert client.sign_in().status_code == 200
    assert run("reviewer", "enable", REVIEWER_EMAIL).exit_code == 0
    assert client.sign_in().status_code == 302
    result = run("reviewer", "reset", REVIEWER_EMAIL)
    password = re.search(r"\(shown once\): (\S+)", result.output).group(1)
    assert client.client.get("/review/").status_code == 302
    assert client.sign_in(REVIEWER_EMAIL, PASSWORD).status_code == 200
    assert client.sign_in(REVIEWER_EMAIL, password).status_code == 302
    listing = run("reviewer", "list").output.splitlines()
    assert [line.split("\t")[:3] for line in listing] == [
        ["ada@clinic.example", "admin", "active"],
        [REVIEWER_EMAIL, "reviewer", "active"],
    ]
    assert run("reviewer", "disable", "ghost@clinic.example").output == (
        "Error: There is no reviewer with the email ghost@clinic.example.\n"
    )


def test_first_run_creates_one_admin_then_stays_quiet(app, run):
    first = run("reviewer", "first-run")
    assert first.exit_code == 0
    assert FIRST_ADMIN_EMAIL in first.output
    password = re.search(r"password: (\S+)", first.output).group(1)
    assert "shown ONCE" in first.output
    assert ReviewerActions(app.test_client()).sign_in(FIRST_ADMIN_EMAIL, password).status_code == 302
    again = run("reviewer", "first-run")
    assert again.output == "Reviewer accounts exist; no first admin needed.\n"
    assert list(reviewers(app)) == [FIRST_ADMIN_EMAIL]


def test_reviewer_commands_are_audited(app, run):
    run("reviewer", "add", "x@clinic.example")
    run("reviewer", "disable", "x@clinic.example")
    with app.app_context():
        rows = list(get_db().query("SELECT action, detail FROM audit ORDER BY id"))
    assert rows == [
        {"action": "reviewer_add", "detail": "reviewer x@clinic.example (command line)"},
        {"action": "reviewer_disable", "detail": "reviewer x@clinic.example (command line)"},
    ]


def test_seed_makes_valid_evaluated_submissions(app, run, ruleset):
    result = run("seed", "--count", "300", "--seed", "7")
    assert result.exit_code == 0, result.output
    assert "Added 300 fake submissions." in result.output
    with app.app_context():
        db = get_db()
        rows = list(db.query("SELECT * FROM submissions"))
        topic_rows = db.execute("SELECT count(*) FROM submission_topics").fetchone()[0]
        counts = store.status_counts(db)
    assert len(rows) == 300
    assert len({row["reference"] for row in rows}) == 300
    assert topic_rows == sum(len(json.loads(row["outcome"])["topics"]) for row in rows)
    assert sum(counts.values()) == 300
    assert len({row["status"] for row in rows}) >= 3
    assert len({row["level"] for row in rows}) >= 3
    questionnaire = ruleset.questionnaire
    for row in rows[:100]:
        answers = json.loads(row["answers"])
        outcome = ruleset.evaluate(answers)
        assert row["level"] == outcome.level
        assert json.loads(row["outcome"]) == json.loads(json.dumps(outcome.to_dict()))
        if outcome.level != max(ruleset.levels, key=lambda level: level.rank).id:
            assert questionnaire.validate(answers, complete=True) == [], answers
        assert row["search"]
        assert row["received"] <= store.now()


def test_seed_is_reproducible_and_can_run_twice(app, run):
    run("seed", "--count", "20", "--seed", "3")
    run("seed", "--count", "20", "--seed", "3")
    with app.app_context():
        rows = list(get_db().query("SELECT name, answers FROM submissions ORDER BY id"))
    assert len(rows) == 40
    assert [r["name"] for r in rows[:20]] == [r["name"] for r in rows[20:]]


def exported(path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as file:
        return [row[0] for row in csv.reader(file)][1:]


def test_export_writes_the_same_csv_as_the_web(app, run, reviewer, add_submissions, tmp_path):
    add_submissions(
        {"name": "=cmd|' /C calc'!A0"}, {"status": "closed"}, {"answers": {"health_factors": ["smoking"]}}
    )
    target = tmp_path / "out.csv"
    result = run("export", "--csv", str(target))
    assert result.exit_code == 0, result.output
    assert "Wrote 3 submissions" in result.output
    web = reviewer.client.get("/review/export.csv").get_data(as_text=True)
    assert target.read_bytes().decode("utf-8") == web
    run("export", "--csv", str(target), "--status", "closed")
    assert exported(target) == ["BP-T002"]
    run("export", "--csv", str(target), "--topic", "smoking", "--from", "2026-11-01", "--to", "2026-11-01")
    assert exported(target) == ["BP-T003"]
    assert run("export", "--csv", str(target), "--for-spreadsheet").exit_code == 0
    sheet = reviewer.client.get("/review/export.csv?layout=sheet").get_data(as_text=True)
    assert target.read_bytes().decode("utf-8") == sheet
    assert sheet.startswith("\ufeffReference,Received,Status,Level,Topics,Rule set,"), (
        "with a byte-order mark"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--level", "severe"], "Invalid value for --level: expected one of"),
        (["--topic", "knees"], "Invalid value for --topic: expected one of"),
        (["--status", "lost"], "Invalid value for '--status'"),
        (["--from", "22/11/2026"], "Invalid value for '--from'"),
    ],
)
def test_export_explains_bad_filters(run, tmp_path, args, message):
    result = run("export", "--csv", str(tmp_path / "x.csv"), *args)
    assert result.exit_code == 2
    assert message in result.output


def test_purge_deletes_old_submissions_with_their_history(app, run, reviewer, add_submissions, clock):
    add_submissions(
        {"received": "2025-10-01T00:00:00.000000+00:00"},
        {"received": "2025-11-20T00:00:00.000000+00:00"},
        {"received": "2026-11-01T00:00:00.000000+00:00"},
    )
    for reference in ("BP-T001", "BP-T003"):
        page = f"/review/submissions/{reference}"
        reviewer.post(f"{page}/notes", {"body": "Called."}, page=page)
        reviewer.post(f"{page}/status", {"from_status": "new", "to_status": "in_review"}, page=page)
    result = run("purge", "--older-than", "365")
    assert result.exit_code == 0, result.output
    assert "Deleted 2 submissions received more than 365 days ago" in result.output
    with app.app_context():
        db = get_db()
        left = [row["reference"] for row in db.query("SELECT reference FROM submissions")]
        notes = db.execute("SELECT count(*) FROM notes").fetchone()[0]
        changes = db.execute("SELECT count(*) FROM status_changes").fetchone()[0]
        topics = db.execute("SELECT count(DISTINCT submission_id) FROM submission_topics").fetchone()[0]
        audit = [row["action"] for row in db.query("SELECT action FROM audit ORDER BY id")]
        counts = store.status_counts(db)
    assert left == ["BP-T003"]
    assert (notes, changes, topics) == (1, 1, 1)
    assert audit.count("note") == 2, "the audit log keeps its entries"
    assert audit[-1] == "purge"
    assert counts == {"new": 0, "in_review": 1, "attempted": 0, "contacted": 0, "closed": 0}


def test_purge_defaults_to_the_retention_setting(app, run, add_submissions, clock):
    app.config["RETENTION_DAYS"] = 30
    add_submissions(
        {"received": "2026-10-01T00:00:00.000000+00:00"}, {"received": "2026-11-10T00:00:00.000000+00:00"}
    )
    assert "Deleted 1 submissions received more than 30 days ago" in run("purge").output


@pytest.mark.sqlite_only
def test_backup_copies_the_live_database_and_refuses_to_overwrite(app, run, add_submissions, tmp_path):
    add_submissions({}, {})
    target = tmp_path / "backup.db"
    result = run("backup", str(target))
    assert result.exit_code == 0, result.output
    assert re.search(r"to .*backup\.db \(\d+\.\d MiB\)\.", result.output)
    copy = sqlite3.connect(target)
    assert copy.execute("SELECT count(*) FROM submissions").fetchone()[0] == 2
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    copy.close()
    again = run("backup", str(target))
    assert again.exit_code == 1
    assert "already exists" in again.output
    add_submissions({})
    assert run("backup", str(target), "--force").exit_code == 0
    copy = sqlite3.connect(target)
    assert copy.execute("SELECT count(*) FROM submissions").fetchone()[0] == 3
    copy.close()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("backup")) == ["backup.db"]


@pytest.mark.postgresql_only
def test_backup_on_postgresql_points_to_pg_dump(run, tmp_path):
    result = run("backup", str(tmp_path / "copy.db"))
    assert result.exit_code == 1
    assert result.output == (
        "Error: screening backup copies a SQLite file. On PostgreSQL use the server's own tools, for example "
        "pg_dump --format=custom --file=screening.dump with the same connection settings.\n"
    )
    assert not (tmp_path / "copy.db").exists()
