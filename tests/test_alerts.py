"""Alerts reach the reviewers by email with no health data: against a real SMTP server (aiosmtpd) on
127.0.0.1, urgent ones at once and the rest in a daily digest at the clinic's hour, nothing lost while
the server is down and nothing sent twice, even with two notify processes racing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from conftest import ADMIN_EMAIL, DEFAULT_ANSWERS, PASSWORD, REVIEWER_EMAIL, Patient, ReviewerActions, text_of

from screening import alerts, create_app, get_db, store
from screening.review import auth

URGENT = {"warning_signs": ["fever"]}
CONTACT = {"name": "Una Privacy", "phone": "555 010 0142", "email": "una.privacy@example.com"}


class Inbox:
    """The SMTP server's handler: keeps every message it accepts."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.controller = controller
    inbox.running = True
    yield inbox
    if inbox.running:
        inbox.controller.stop()


@pytest.fixture
def app_config(app_config, smtp, store_kind):
    return {
        **app_config,
        "SMTP_URL": f"smtp://127.0.0.1:{smtp.controller.port}",
        "MAIL_FROM": "alerts@clinic.example",
        "BASE_URL": "https://clinic.example.org",
        "TIMEZONE": "America/Chicago",
        "DIGEST_HOUR": 8,
    }


def send_as_patient(app, diff: dict) -> str:
    patient = Patient(app.test_client(), app.extensions["ruleset"])
    patient.summary(diff)
    patient.send(
        name=CONTACT["name"],
        phone=CONTACT["phone"],
        email=CONTACT["email"],
        contact_method="phone",
        consent="y",
    )
    with app.app_context():
        return get_db().execute("SELECT reference FROM submissions ORDER BY id DESC").fetchone()[0]


def run_notify(runner) -> str:
    from screening.cli import cli

    result = runner.invoke(cli, ["notify", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def test_an_urgent_submission_alerts_each_reviewer_once_with_no_health_data(
    app, runner, accounts, smtp, ruleset
):
    reference = send_as_patient(app, URGENT)
    run_notify(runner)
    assert sorted(m["To"] for m in smtp.messages) == sorted([REVIEWER_EMAIL, ADMIN_EMAIL])
    for mail in smtp.messages:
        body = mail.get_payload(decode=True).decode()
        assert mail["Subject"] == f"Urgent submission {reference}"
        assert f"Reference: {reference}" in body and "Level: urgent" in body
        assert f"https://clinic.example.org/review/submissions/{reference}" in body
        private = [
            *CONTACT.values(),
            "fever",
            ruleset.questionnaire.questions["warning_signs"].option_label("fever"),
        ]
        private += [t.title for t in ruleset.topics.values()]
        assert [word for word in private if word.lower() in (body + mail["Subject"]).lower()] == []
    run_notify(runner)
    assert len(smtp.messages) == 2, "nothing is sent twice"


def test_the_others_wait_for_the_digest_at_the_clinics_hour(app, runner, accounts, smtp, monkeypatch):
    from conftest import Clock

    clock = Clock()  # 2026-11-22 12:00 UTC = 06:00 in Chicago
    monkeypatch.setattr(store, "now", clock)
    first = send_as_patient(app, {})
    second = send_as_patient(app, {"health_factors": ["smoking"]})
    run_notify(runner)
    assert smtp.messages == [], "not before 08:00 in the clinic"
    clock.advance(hours=2)  # 08:00 in Chicago
    run_notify(runner)
    assert sorted(m["To"] for m in smtp.messages) == sorted([REVIEWER_EMAIL, ADMIN_EMAIL])
    body = smtp.messages[0].get_payload(decode=True).decode()
    assert smtp.messages[0]["Subject"] == "Daily digest: 2 new submission(s)"
    assert f"- {first} (info)" in body and f"- {second} (consider)" in body
    assert CONTACT["name"] not in body


def test_reviewers_choose_their_alerts_and_disabled_ones_get_nothing(app, runner, accounts, smtp):
    reviewer = ReviewerActions(app.test_client())
    reviewer.sign_in()
    response = reviewer.post("/review/account/alerts", {"digest": "y"}, page="/review/account/alerts")
    assert response.status_code == 303
    assert "Your alert choices are saved." in text_of(reviewer.client.get("/review/account/alerts"))
    with app.app_context():
        auth.create_account("gone@clinic.example", password=PASSWORD)
        store.set_reviewer_active(get_db(), store.find_reviewer(get_db(), "gone@clinic.example")["id"], False)
    send_as_patient(app, URGENT)
    run_notify(runner)
    assert [m["To"] for m in smtp.messages] == [ADMIN_EMAIL]


def test_a_mail_server_that_is_down_delays_but_loses_nothing(
    app, runner, accounts, smtp, monkeypatch, caplog
):
    from conftest import Clock

    clock = Clock()
    monkeypatch.setattr(store, "now", clock)
    port = smtp.controller.port
    smtp.controller.stop()
    smtp.running = False
    send_as_patient(app, URGENT)
    assert "retry 2" in run_notify(runner)
    with app.app_context():
        row = get_db().execute("SELECT attempts, due, sent FROM outbox ORDER BY id").fetchone()
    assert row[0] == 1 and row[1] > clock() and row[2] is None
    smtp.controller = Controller(smtp, hostname="127.0.0.1", port=port)
    smtp.controller.start()
    smtp.running = True
    run_notify(runner)
    assert smtp.messages == [], "it waits for its next try"
    clock.advance(minutes=2)
    run_notify(runner)
    assert len(smtp.messages) == 2


def test_after_a_day_an_alert_is_given_up_and_the_overview_says_so(
    app, runner, accounts, smtp, monkeypatch, caplog
):
    from conftest import Clock

    clock = Clock()
    monkeypatch.setattr(store, "now", clock)
    smtp.controller.stop()
    smtp.running = False
    send_as_patient(app, URGENT)
    clock.advance(days=1, minutes=1)
    assert "given_up 2" in run_notify(runner)
    assert "given up after a day" in caplog.text
    admin = ReviewerActions(app.test_client())
    admin.sign_in(ADMIN_EMAIL)
    assert "2 alert email(s) in the last 7 days could not be delivered" in text_of(
        admin.client.get("/review/overview")
    )


NOTIFY = "from screening.cli import cli; cli(['notify', '--once'])"


def test_two_notify_processes_racing_send_each_alert_once(tmp_path, smtp):
    env = {
        **os.environ,
        "SCREENING_ENV": "development",
        "SCREENING_DATABASE": str(tmp_path / "race.db"),
        "SCREENING_SMTP_URL": f"smtp://127.0.0.1:{smtp.controller.port}",
        "SCREENING_BASE_URL": "https://clinic.example.org",
    }
    app = create_app(
        {
            "TESTING": True,
            "SCREENING_ENV": "development",
            "SECRET_KEY": "r" * 32,
            "DATABASE": env["SCREENING_DATABASE"],
            "RULES_DIR": str(__import__("conftest").RULES_DIR),
            "SMTP_URL": env["SCREENING_SMTP_URL"],
        }
    )
    with app.app_context():
        for n in range(5):
            auth.create_account(f"nurse{n}@clinic.example", password=PASSWORD)
    for _ in range(8):
        send_as_patient(app, URGENT)
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", NOTIFY], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    for racer in racers:
        racer.communicate(timeout=60)
        assert racer.returncode == 0
    deadline = time.monotonic() + 5
    while len(smtp.messages) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    pairs = [(m["To"], m["Subject"]) for m in smtp.messages]
    assert len(pairs) == 40 == len(set(pairs)), "5 reviewers x 8 urgent submissions, each once"


def test_next_digest_is_the_clinics_local_hour():
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("America/Chicago")
    assert alerts.next_digest("2026-11-22T12:00:00+00:00", tz, 8) == "2026-11-22T14:00:00.000000+00:00"
    assert alerts.next_digest("2026-11-22T14:30:00+00:00", tz, 8) == "2026-11-23T14:00:00.000000+00:00"
    assert alerts.next_digest("2026-10-31T20:00:00+00:00", tz, 8) == "2026-11-01T14:00:00.000000+00:00", (
        "after the change"
    )


def test_defaults_are_not_urgent(ruleset):
    assert not ruleset.is_urgent(ruleset.evaluate(DEFAULT_ANSWERS))
