"""Development without a mail server keeps alert mail where the README and `make run` say it is."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT, Patient

from screening import config

pytestmark = pytest.mark.both_stores


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """The project's instance folder, moved to a temporary one for the test."""
    folder = tmp_path / "instance"
    monkeypatch.setattr(config, "INSTANCE", folder)
    return folder


def test_alert_mail_is_kept_beside_the_database_with_links_from_the_base_url(
    app, runner, accounts, instance, store_kind, database, tmp_path
):
    from screening.cli import cli

    assert app.config["SMTP_URL"] == "" and app.config["BASE_URL"] == "http://127.0.0.1:5000"
    patient = Patient(app.test_client(), app.extensions["ruleset"])
    patient.summary({"warning_signs": ["fever"]})
    patient.send(name="Dev Mail", phone="555 010 0199", contact_method="phone", consent="y")
    result = runner.invoke(cli, ["notify", "--once"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "mail" if store_kind == "sqlite" else instance / "mail"
    assert database.startswith("postgresql://") or database == str(tmp_path / "test.db")
    kept = sorted(folder.glob("*.eml"))
    assert len(kept) == 2, "one urgent alert for each reviewer"
    body = kept[0].read_text()
    assert re.search(
        r"Open it \(you will need to sign in\): http://127\.0\.0\.1:5000/review/submissions/\S+", body
    )
    assert f"--- mail (kept in {kept[0]}) ---" in result.output or f"kept in {kept[1]}" in result.output


def test_the_readme_and_make_run_say_where_the_mail_is():
    readme = " ".join((ROOT / "README.md").read_text().split())
    makefile = (ROOT / "Makefile").read_text()
    assert "kept as `.eml` files in a `mail/` folder beside the database: `instance/mail/`" in readme
    assert "kept in a mail/ folder beside the database (instance/mail/ by default)" in makefile
    assert "The link in each alert starts with `SCREENING_BASE_URL`" in readme
