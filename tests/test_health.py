"""/healthz, for load balancers and uptime checks: 200 while the database answers, 503 when it does not."""

from __future__ import annotations

import logging

import pytest

from screening import close_db_connections


def test_a_healthy_app_names_its_rule_set_and_nothing_more(client, ruleset):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "ruleset": {"version": ruleset.version, "hash": ruleset.hash},
    }
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


@pytest.mark.sqlite_only
def test_a_database_that_does_not_answer_gives_503(app, client, tmp_path, caplog):
    broken = tmp_path / "not-a-database.db"
    broken.write_bytes(b"this is not an SQLite file " * 200)
    app.config["DATABASE"] = str(broken)
    close_db_connections()
    try:
        with caplog.at_level(logging.ERROR):
            response = client.get("/healthz")
    finally:
        close_db_connections()
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "primary"}
    assert "health check: the database did not answer" in caplog.text
