"""Real faults never cost a patient their answers, nor give a 500: a lock held by another process, a
full disk and a read-only database each give a 503 with the form kept, one log line, and a retry
that stores one row once the fault clears. /healthz says 503 while the host cannot save."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import DEFAULT_ANSWERS, RULES_DIR, Patient, page

from screening import close_db_connections, create_app, get_db, store

CONTACT = {"name": "Fay Fault", "phone": "555 010 0177", "contact_method": "phone", "consent": "y"}
HOLDER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute("BEGIN IMMEDIATE")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("ROLLBACK")
"""


def make_app(database: Path, **extra):
    return create_app(
        {
            "TESTING": True,
            "SCREENING_ENV": "development",
            "SECRET_KEY": "fault-test-secret-0123456789",
            "DATABASE": str(database),
            "RULES_DIR": str(RULES_DIR),
            "DATABASE_BUSY_TIMEOUT_MS": 300,
            **extra,
        }
    )


@contextmanager
def lock_held(database: Path, seconds: float = 30):
    """Another process holds SQLite's write lock (BEGIN IMMEDIATE) until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(database), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.kill()
        holder.wait(timeout=10)
        holder.stdout.close()


def ready_to_send(app) -> Patient:
    patient = Patient(app.test_client(), app.extensions["ruleset"])
    patient.complete(DEFAULT_ANSWERS)
    assert patient.client.get("/summary").status_code == 200
    return patient


def send_data(patient) -> dict:
    return {**patient.send_fields(), **CONTACT}


def submissions(database: Path) -> list[str]:
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return [row[0] for row in db.execute("SELECT reference FROM submissions")]


def fresh_health(app) -> None:
    app.extensions.pop("health", None)


def assert_kept_send_form(response) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"
    html = page(response)
    assert "We could not send your answers just now." in html.get_text()
    assert html.find("input", attrs={"name": "name"})["value"] == CONTACT["name"]
    assert html.find("input", attrs={"name": "phone"})["value"] == CONTACT["phone"]
    assert html.find("input", attrs={"id": "contact_method-phone"}).has_attr("checked")
    assert html.find("input", attrs={"name": "consent"}).has_attr("checked")
    assert html.find("button", string="Try again") is not None


def test_a_lock_held_by_another_process_is_a_503_with_everything_kept(tmp_path, caplog):
    database = tmp_path / "held.db"
    app = make_app(database)
    patient = ready_to_send(app)
    data = send_data(patient)
    with lock_held(database), caplog.at_level(logging.INFO):
        for url in ("/send", "/check", "/summary", "/"):
            assert patient.client.get(url).status_code == 200, f"reading {url} needs no write lock"
        assert_kept_send_form(patient.client.post("/send", data=data))
        fresh_health(app)
        assert patient.client.get("/healthz").status_code == 503
    faults = [r for r in caplog.records if r.name == "screening.faults"]
    assert [r.getMessage() for r in faults] == [
        "database fault: database busy on POST /send",
        "database fault: database busy on GET /healthz",
    ]
    assert not any(r.exc_info for r in caplog.records), "known faults log no traceback"
    retry = patient.client.post("/send", data=data)
    assert retry.status_code == 302 and retry.headers["Location"] == "/done"
    assert patient.client.post("/send", data=data).headers["Location"] == "/done", (
        "a second retry stores nothing"
    )
    assert len(submissions(database)) == 1
    fresh_health(app)
    assert patient.client.get("/healthz").status_code == 200


def test_a_summary_first_shown_during_a_lock_is_shown_and_the_send_makes_it_again(tmp_path, caplog):
    database = tmp_path / "summary.db"
    app = make_app(database)
    patient = Patient(app.test_client(), app.extensions["ruleset"])
    patient.complete(DEFAULT_ANSWERS)
    with lock_held(database), caplog.at_level(logging.INFO):
        shown = patient.client.get("/summary")
    assert shown.status_code == 200, "the page does not wait on keeping itself"
    assert [r.getMessage() for r in caplog.records if r.name == "screening.faults"] == [
        "database fault: database busy on GET /summary (keeping the summary shown)"
    ]
    assert patient.send(**CONTACT).headers["Location"] == "/done"
    with sqlite3.connect(database) as db:
        [stored] = db.execute("SELECT summary_html FROM submissions").fetchone()
    from bs4 import BeautifulSoup

    made_again = BeautifulSoup(stored, "html.parser").select_one(".summary")
    assert str(page(shown).select_one(".summary")) == str(made_again)


def test_a_step_sent_during_a_lock_comes_back_ticked_and_typed(tmp_path):
    database = tmp_path / "step.db"
    app = make_app(database)
    patient = Patient(app.test_client(), app.extensions["ruleset"])
    patient.start()
    patient.answer("safety", DEFAULT_ANSWERS)
    answers = {**DEFAULT_ANSWERS, "age_band": "65_to_79", "impact": 7, "pain_location": "both"}
    with lock_held(database):
        response = patient.answer("about", answers, extra={"walking_pattern": "often"})
    assert response.status_code == 503
    html = page(response)
    assert "We could not save your answers just now." in html.get_text()
    for qid, value in (("age_band", "65_to_79"), ("impact", "7"), ("pain_location", "both")):
        assert html.find("input", attrs={"id": f"{qid}-{value}"}).has_attr("checked"), qid
    again = patient.answer("about", answers, extra={"walking_pattern": "often"})
    assert again.status_code == 302


@pytest.fixture
def app_config(app_config, store_kind):
    return {**app_config, "DATABASE_BUSY_TIMEOUT_MS": 300}


def test_a_reviewer_note_during_a_lock_keeps_its_text(app, reviewer, add_submissions):
    (row,) = add_submissions({})
    page_url = f"/review/submissions/{row['reference']}"
    token = reviewer.token(page_url)
    form = {"body": "Called twice, no answer.", "to_status": "contacted", "from_status": "new"}
    with lock_held(Path(app.config["DATABASE"])):
        response = reviewer.client.post(f"{page_url}/notes", data={**form, "csrf_token": token})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"
    text = response.get_data(as_text=True)
    assert "Called twice, no answer." in text
    assert "We could not save this just now." in text
    with app.app_context():
        found = store.submission_for_review(get_db(), row["reference"])
        notes, changes = store.submission_history(get_db(), found["id"])
    assert notes == [] and changes == [] and found["status"] == "new"


# --- a full disk and a read-only database, for real when the tests run as root ------------------------


def can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


@contextmanager
def small_disk(folder: Path, size: str = "4m"):
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        close_db_connections()
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Fill the file system to the brim; return the filler file (delete it to make room again)."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
        try:
            while True:
                out.write(b"\0")
                out.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_is_a_503_and_the_retry_stores_one_row(tmp_path):
    if can_mount():
        with small_disk(tmp_path / "disk") as folder:
            database = folder / "full.db"
            app = make_app(database)
            patient = ready_to_send(app)
            data = send_data(patient)
            filler = fill(folder)
            assert_kept_send_form(patient.client.post("/send", data=data))
            fresh_health(app)
            assert patient.client.get("/healthz").status_code == 503
            filler.unlink()
            assert patient.client.post("/send", data=data).headers["Location"] == "/done"
            fresh_health(app)
            assert patient.client.get("/healthz").status_code == 200
            assert len(submissions(database)) == 1
        return
    database = tmp_path / "full.db"
    app = make_app(database)
    patient = ready_to_send(app)
    data = send_data(patient)
    with app.app_context():
        db = get_db()
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")
    assert_kept_send_form(patient.client.post("/send", data=data))
    with app.app_context():
        get_db().execute("PRAGMA max_page_count = 1073741823")
    assert patient.client.post("/send", data=data).headers["Location"] == "/done"
    assert len(submissions(database)) == 1


def test_a_read_only_database_is_a_503_and_reads_still_work(tmp_path):
    database = tmp_path / "data" / "ro.db"
    database.parent.mkdir()
    app = make_app(database)
    patient = ready_to_send(app)
    data = send_data(patient)
    if can_mount():
        view = tmp_path / "view"
        view.mkdir()
        subprocess.run(["mount", "--bind", str(database.parent), str(view)], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], check=True)
        try:
            close_db_connections()
            app.config["DATABASE"] = str(view / "ro.db")
            assert_kept_send_form(patient.client.post("/send", data=data))
            fresh_health(app)
            assert patient.client.get("/healthz").status_code == 503
        finally:
            close_db_connections()
            subprocess.run(["umount", "-l", str(view)], check=False)
        app.config["DATABASE"] = str(database)
    else:
        with app.app_context():
            get_db().execute("PRAGMA query_only = ON")
        assert_kept_send_form(patient.client.post("/send", data=data))
        with app.app_context():
            get_db().execute("PRAGMA query_only = OFF")
    assert patient.client.post("/send", data=data).headers["Location"] == "/done"
    assert len(submissions(database)) == 1


def test_an_unknown_error_keeps_its_traceback_and_500(app, client, monkeypatch, caplog):
    from screening.patient import steps as patient_views

    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("no such table: drafts")

    monkeypatch.setattr(patient_views.store, "create_draft", broken)
    token = page(client.get("/")).find("input", attrs={"name": "csrf_token"})["value"]
    with caplog.at_level(logging.ERROR):
        response = client.post("/start", data={"csrf_token": token})
    assert response.status_code == 500
    assert any(r.exc_info for r in caplog.records)


def test_a_held_lock_under_real_gunicorn(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from journey import gunicorn, ready_to_send

    database = tmp_path / "gunicorn.db"
    env = {
        "SCREENING_DATABASE": str(database),
        "SCREENING_SECRET_KEY": "x" * 32,
        "SCREENING_ENV": "development",
    }
    with gunicorn("wsgi:app", env, workers=2) as (base, _):
        session, data = ready_to_send(base, timeout=10)
        data.update(CONTACT)
        with lock_held(database, seconds=60):
            started = time.monotonic()
            response = session.post(f"{base}/send", data=data, allow_redirects=False, timeout=30)
            assert response.status_code == 503, response.text[:500]
            assert response.headers["Retry-After"] == "10"
            assert 'value="Fay Fault"' in response.text
            assert time.monotonic() - started < 15
        retry = session.post(f"{base}/send", data=data, allow_redirects=False, timeout=30)
        assert retry.status_code == 302 and retry.headers["Location"].endswith("/done")
    assert len(submissions(database)) == 1
