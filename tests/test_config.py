"""Settings come from SCREENING_* variables; a bad one stops start-up with a message that says why."""

from __future__ import annotations

import pytest

from screening import StartupError, config, create_app, web

GOOD_SECRET = "a-production-secret-0123456789"


@pytest.fixture
def env(monkeypatch, tmp_path):
    """Clear the SCREENING_* variables and point the database at a temporary file."""
    for name in [
        "SCREENING_ENV",
        "SCREENING_SECRET_KEY",
        "SCREENING_DATABASE",
        "SCREENING_RULES_DIR",
        "SCREENING_EMERGENCY_NUMBER",
        "SCREENING_DRAFT_TTL_HOURS",
        "SCREENING_SESSION_IDLE_MINUTES",
        "SCREENING_SESSION_MAX_HOURS",
        "SCREENING_RETENTION_DAYS",
        "SCREENING_REPLY_DAYS",
        "SCREENING_CLINIC_NAME",
        "SCREENING_CLINIC_PHONE",
        "SCREENING_TRUSTED_HOSTS",
        "SCREENING_TIMEZONE",
        "SCREENING_SMTP_URL",
        "SCREENING_MAIL_FROM",
        "SCREENING_BASE_URL",
        "SCREENING_DIGEST_HOUR",
    ]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SCREENING_DATABASE", str(tmp_path / "env.db"))
    return monkeypatch


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {},
            "SCREENING_SECRET_KEY: not set. Production needs a long random secret, for example the output "
            "of: python -c 'import secrets; print(secrets.token_urlsafe(48))'.",
        ),
        (
            {"SCREENING_SECRET_KEY": "short"},
            "SCREENING_SECRET_KEY: too short; use at least 16 random characters.",
        ),
        (
            {"SCREENING_ENV": "staging", "SCREENING_SECRET_KEY": GOOD_SECRET},
            "SCREENING_ENV: expected one of production, development, found 'staging'.",
        ),
        (
            {"SCREENING_SECRET_KEY": GOOD_SECRET, "SCREENING_DRAFT_TTL_HOURS": "soon"},
            "SCREENING_DRAFT_TTL_HOURS: expected a whole number, found 'soon'.",
        ),
        (
            {"SCREENING_SECRET_KEY": GOOD_SECRET, "SCREENING_SESSION_IDLE_MINUTES": "0"},
            "SCREENING_SESSION_IDLE_MINUTES: expected a number from 1 to 1440, found 0.",
        ),
        (
            {"SCREENING_SECRET_KEY": GOOD_SECRET, "SCREENING_EMERGENCY_NUMBER": "call me"},
            "SCREENING_EMERGENCY_NUMBER: expected digits, found 'call me'.",
        ),
        (
            {"SCREENING_SECRET_KEY": GOOD_SECRET, "SCREENING_REPLY_DAYS": "31"},
            "SCREENING_REPLY_DAYS: expected a number from 0 to 30, found 31.",
        ),
        (
            {"SCREENING_SECRET_KEY": GOOD_SECRET, "SCREENING_CLINIC_PHONE": "call us"},
            "SCREENING_CLINIC_PHONE: expected a phone number of digits, spaces and + - ( ) ., found 'call us'.",
        ),
        (
            {"SCREENING_SECRET_KEY": GOOD_SECRET, "SCREENING_CLINIC_NAME": "x" * 101},
            f"SCREENING_CLINIC_NAME: expected a name of up to 100 characters, found {'x' * 101!r}.",
        ),
        (
            {"SCREENING_SECRET_KEY": GOOD_SECRET, "SCREENING_DATABASE_REPLICA": "/srv/replica.db"},
            "SCREENING_DATABASE_REPLICA: expected a postgresql:// URL of a read-only standby (a replica "
            "needs PostgreSQL).",
        ),
        (
            {"SCREENING_SECRET_KEY": GOOD_SECRET, "SCREENING_REPLICA_MAX_LAG_SECONDS": "0"},
            "SCREENING_REPLICA_MAX_LAG_SECONDS: expected a number from 1 to 3600, found 0.",
        ),
    ],
)
def test_bad_settings_stop_start_up_with_a_clear_message(env, variables, message):
    for name, value in variables.items():
        env.setenv(name, value)
    with pytest.raises(StartupError) as caught:
        create_app()
    assert str(caught.value) == message


def test_production_is_the_default_and_its_cookies_are_secure(env):
    env.setenv("SCREENING_SECRET_KEY", GOOD_SECRET)
    app = create_app()
    assert app.config["SCREENING_ENV"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_development_needs_no_secret_and_cookies_are_not_secure(env):
    env.setenv("SCREENING_ENV", "development")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert len(app.config["SECRET_KEY"]) >= 32
    assert create_app().config["SECRET_KEY"] == app.config["SECRET_KEY"], "restarts keep the dev secret"


def test_environment_values_reach_the_app(env, tmp_path):
    env.setenv("SCREENING_SECRET_KEY", GOOD_SECRET)
    env.setenv("SCREENING_EMERGENCY_NUMBER", "112")
    env.setenv("SCREENING_DRAFT_TTL_HOURS", "6")
    env.setenv("SCREENING_REPLY_DAYS", "0")
    env.setenv("SCREENING_CLINIC_NAME", "  Lakeside   Spine Clinic ")
    env.setenv("SCREENING_CLINIC_PHONE", "+1 (555) 010-0199")
    app = create_app()
    assert app.config["CLINIC_NAME"] == "Lakeside Spine Clinic"
    assert app.config["CLINIC_PHONE"] == "+1 (555) 010-0199"
    assert web.tel_href(app.config["CLINIC_PHONE"]) == "tel:+15550100199"
    assert app.config["REPLY_DAYS"] == 0
    assert app.config["EMERGENCY_NUMBER"] == "112"
    assert app.config["DRAFT_TTL_HOURS"] == 6
    assert app.config["DATABASE"] == str(tmp_path / "env.db")
    assert (tmp_path / "env.db").exists(), "start-up creates and migrates the database"


def test_a_broken_rule_set_stops_start_up_and_names_the_problem(env, tmp_path):
    broken = tmp_path / "rules"
    broken.mkdir()
    for name in ("questionnaire.yaml", "rules.yaml", "cases.yaml"):
        (broken / name).write_text((config.PROJECT_ROOT / "rules" / name).read_text())
    text = (broken / "rules.yaml").read_text()
    (broken / "rules.yaml").write_text(text.replace("question: diagnosis", "question: diagnosys", 1))
    env.setenv("SCREENING_SECRET_KEY", GOOD_SECRET)
    env.setenv("SCREENING_RULES_DIR", str(broken))
    with pytest.raises(StartupError) as caught:
        create_app()
    assert "has problems" in str(caught.value)
    assert "diagnosys" in str(caught.value)


def test_settings_prints_the_table_with_secrets_hidden(env):
    from click.testing import CliRunner

    from screening.cli import cli

    env.setenv("SCREENING_SECRET_KEY", GOOD_SECRET)
    env.setenv("SCREENING_SMTP_URL", "smtp://user:hunter2@mail.example.org:587")
    env.setenv("SCREENING_TIMEZONE", "Europe/Paris")
    env.setenv("SCREENING_DATABASE_REPLICA", "postgresql://reader:hunter2@db2.clinic.internal/screening")
    result = CliRunner().invoke(cli, ["settings"])
    assert result.exit_code == 0, result.output
    assert GOOD_SECRET not in result.output and "hunter2" not in result.output
    assert "SCREENING_SECRET_KEY=(set, hidden)" in result.output
    assert "SCREENING_TIMEZONE=Europe/Paris" in result.output
    assert "SCREENING_DATABASE_REPLICA=postgresql://reader:***@db2.clinic.internal/screening" in result.output
    assert [line.split("=")[0] for line in result.output.splitlines() if not line.startswith(" ")] == [
        s.name for s in config.SETTINGS
    ]
