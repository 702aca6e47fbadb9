"""What the two stores must agree on beyond the page tests: the database setting, `db copy` from SQLite
to PostgreSQL (and back), the shared sign-in throttle, and migrations started by several hosts at once."""

from __future__ import annotations

import threading

import pytest
from click.testing import CliRunner
from conftest import ADMIN_EMAIL, DEFAULT_ANSWERS, PASSWORD

from screening import create_app, store
from screening.cli import cli
from screening.config import ConfigError, from_environment
from screening.db import close_db_connections


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "mysql://u:p@h/db",
            "SCREENING_DATABASE: mysql:// is not a database this app can use; give a file path for SQLite "
            "or a postgresql://user:password@host:port/dbname URL",
        ),
        (
            "sqlite:///tmp/x.db",
            "SCREENING_DATABASE: sqlite:// is not a database this app can use; give a file path for SQLite "
            "or a postgresql://user:password@host:port/dbname URL",
        ),
        ("postgresql://", "SCREENING_DATABASE: the postgresql:// URL names no server or database"),
    ],
)
def test_a_database_setting_with_another_scheme_is_refused_at_start(value, message, monkeypatch):
    monkeypatch.setenv("SCREENING_ENV", "development")
    monkeypatch.setenv("SCREENING_DATABASE", value)
    with pytest.raises(ConfigError) as caught:
        from_environment()
    assert str(caught.value) == message + "."


def test_settings_hide_the_database_password(postgres, monkeypatch):
    url = postgres.url("screening_template").replace("screening@", "screening:s3cret-pw@")
    monkeypatch.setenv("SCREENING_ENV", "development")
    monkeypatch.setenv("SCREENING_DATABASE", url)
    result = CliRunner().invoke(cli, ["settings"])
    assert result.exit_code == 0, result.output
    assert "s3cret-pw" not in result.output
    assert "screening:***@127.0.0.1" in result.output


def test_db_copy_moves_a_clinic_from_sqlite_to_postgresql_and_the_app_reads_it(tmp_path, postgres, ruleset):
    from conftest import reviewer_client_for, seed_clinic

    path = str(tmp_path / "clinic.db")
    references = seed_clinic(path, ruleset)
    url = postgres.create_database("copy_target")
    try:
        result = CliRunner().invoke(
            cli, ["db", "copy", "--from", path, "--to", url], env={"SCREENING_ENV": "development"}
        )
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert lines[-1] == f"Copied {count_rows(path):,} rows from {path} to {url}."
        table = {
            line.split()[0]: line.split()[1:] for line in lines if line and line.split()[0] in store.TABLES
        }
        assert set(table) == set(store.TABLES)
        assert all(there == here and "MISMATCH" not in rest for there, here, *rest in table.values())
        assert table["submissions"][0] == "3"
        # The app on PostgreSQL serves what was copied: sign-in, inbox, search, counts, the history.
        app = create_app(  # the second step is optional, as in development: this test is about the copy
            {
                "TESTING": True,
                "SCREENING_ENV": "development",
                "SECRET_KEY": "k" * 32,
                "DATABASE": url,
                "TWO_STEP": "optional",
            }
        )
        client = reviewer_client_for(app, ADMIN_EMAIL, PASSWORD)
        inbox = client.get("/review/?view=all").get_data(as_text=True)
        assert all(reference in inbox for reference in references)
        found = client.get("/review/?view=all&q=olga").get_data(as_text=True)
        assert references[0] in found and references[1] not in found
        with app.app_context():
            from screening import get_db

            db = get_db()
            assert store.status_counts(db)["contacted"] == 1
            notes, _ = store.submission_history(db, store.submission_for_review(db, references[0])["id"])
            assert [n["body"] for n in notes] == ["Called, left a message."]
            # New rows follow the copied ids.
            _, stored = store.insert_submission(db, {**SUBMISSION, "idempotency_key": "after-copy"})
            assert stored and store.count_submissions(db) == 4
        # A second copy into the same target is refused, and changes nothing.
        again = CliRunner().invoke(
            cli, ["db", "copy", "--from", path, "--to", url], env={"SCREENING_ENV": "development"}
        )
        assert again.exit_code == 1
        assert again.output.endswith(
            f"Error: {url}: the target already holds 4 submissions; copy into an empty database.\n"
        )
    finally:
        close_db_connections()
        postgres.drop_database("copy_target")


def test_db_copy_back_from_postgresql_to_a_new_sqlite_file(tmp_path, postgres, ruleset):
    from conftest import seed_clinic

    first = str(tmp_path / "first.db")
    seed_clinic(first, ruleset)
    url = postgres.create_database("copy_round_trip")
    back = str(tmp_path / "back.db")
    try:
        env = {"SCREENING_ENV": "development"}
        assert CliRunner().invoke(cli, ["db", "copy", "--from", first, "--to", url], env=env).exit_code == 0
        result = CliRunner().invoke(cli, ["db", "copy", "--from", url, "--to", back], env=env)
        assert result.exit_code == 0, result.output
    finally:
        close_db_connections()
        postgres.drop_database("copy_round_trip")
    a, b = store.connect(first), store.connect(back)
    for table in store.TABLES:
        sql = f"SELECT * FROM {table} ORDER BY 1"  # noqa: S608 (the app's own table names)
        assert a.rows(sql) == b.rows(sql), table
    assert b.scalar("PRAGMA integrity_check") == "ok"
    a.close()
    b.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--from", "missing.db", "--to", "x.db"],
            "Error: missing.db does not exist: --from names the database to copy.\n",
        ),
        (
            ["--from", "redis://h/0", "--to", "x.db"],
            "Error: redis:// is not a database this app can use; give a file path for SQLite or a "
            "postgresql://user:password@host:port/dbname URL\n",
        ),
    ],
)
def test_db_copy_refuses_what_it_cannot_copy(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["db", "copy", *args], env={"SCREENING_ENV": "development"})
    assert result.exit_code == 1
    assert result.output == message
    assert not (tmp_path / "x.db").exists()


def count_rows(path: str) -> int:
    db = store.connect(path)
    try:
        return sum(db.scalar(f"SELECT count(*) FROM {table}") for table in store.TABLES)  # noqa: S608
    finally:
        db.close()


SUBMISSION = {
    "level": "info",
    "topics": ["benefits-and-limits"],
    "answers": DEFAULT_ANSWERS,
    "outcome": {},
    "summary_html": "<div></div>",
    "ruleset_version": "v",
    "ruleset_hash": "h",
    "name": "After Copy",
    "email": "after@example.com",
    "phone": "",
    "contact_method": "email",
}


def test_a_send_writes_its_row_topics_alerts_and_draft_deletion_together(database, store_kind):
    """The send's write (five statements in one transaction on SQLite, one statement on PostgreSQL): the
    row, a topic row per topic, an alert per active reviewer who asked for that kind, the draft gone;
    the same key again stores nothing and names the first row."""
    db = store.connect(database)
    try:
        store.migrate(db)
        wants = {"urgent-only@x.example": (True, False), "digest@x.example": (False, True)}
        for email, (urgent, digest) in wants.items():
            store.set_alert_choices(db, store.add_reviewer(db, email, "hash"), urgent=urgent, digest=digest)
        off = store.add_reviewer(db, "off@x.example", "hash")
        store.set_alert_choices(db, off, urgent=True, digest=True)
        store.set_reviewer_active(db, off, False)
        token = store.create_draft(db, 24)
        due = "2026-11-24T09:00:00.000000+00:00"
        sent = {
            **SUBMISSION,
            "idempotency_key": "one-send",
            "topics": ["smoking", "benefits-and-limits"],
            "alert": {"kind": "digest", "due": due},
        }
        reference, stored = store.insert_submission(db, sent, draft_token=token)
        assert stored
        [row] = db.rows("SELECT id, reference, topics, status FROM submissions")
        assert (row["reference"], row["topics"], row["status"]) == (
            reference,
            '["benefits-and-limits","smoking"]',
            "new",
        )
        topics = db.rows("SELECT submission_id, topic, level, status FROM submission_topics ORDER BY topic")
        assert [(t["submission_id"], t["topic"], t["level"], t["status"]) for t in topics] == [
            (row["id"], "benefits-and-limits", "info", "new"),
            (row["id"], "smoking", "info", "new"),
        ]
        alerts = db.rows(
            "SELECT r.email, o.reference, o.kind, o.due FROM outbox o JOIN reviewers r ON r.id = o.reviewer_id"
        )
        assert [(a["email"], a["reference"], a["kind"], a["due"]) for a in alerts] == [
            ("digest@x.example", reference, "digest", due)
        ]
        assert store.get_draft(db, token) is None
        assert store.insert_submission(db, {**sent, "summary_html": "<p>again</p>"}) == (reference, False)
        assert db.scalar("SELECT count(*) FROM submissions") == 1
        assert db.scalar("SELECT count(*) FROM submission_topics") == 2
        assert db.scalar("SELECT count(*) FROM outbox") == 1
        assert store.status_counts(db)["new"] == 1
    finally:
        db.close()


def test_the_sign_in_throttle_is_exact_across_threads(app, store_kind):
    """Twenty attempts at once against a limit of 5: exactly 5 are counted, on either store."""
    from screening import get_db

    since = "2000-01-01T00:00:00.000000+00:00"
    results = []

    def attempt():
        with app.app_context():
            results.append(store.reserve_signin_attempt(get_db(), {"pair:x": 5}, since))
            close_db_connections() if store_kind == "sqlite" else None

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(1 for r in results if r is not None) == 5
    with app.app_context():
        assert store.count_signin_attempts(get_db(), "pair:x", since) == 5


def test_hosts_starting_together_migrate_once(postgres):
    url = postgres.create_database("migrate_race")
    applied: list[list[str]] = []

    def start_host():
        db = store.connect(url)
        try:
            applied.append(store.migrate(db))
        finally:
            db.close()

    try:
        threads = [threading.Thread(target=start_host) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        every = [name for name, _ in store.schema_postgres.MIGRATIONS]
        assert sorted(applied) == [[], [], [], every]
    finally:
        postgres.drop_database("migrate_race")
