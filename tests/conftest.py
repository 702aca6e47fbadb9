"""Shared fixtures: an app on a fresh database, its test client and CLI runner."""

from __future__ import annotations

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


@pytest.fixture
def app_config(tmp_path) -> dict:
    """Settings for a test app: a fresh database file, development cookies, testing mode."""
    return {
        "TESTING": True,
        "SCREENING_ENV": "development",
        "SECRET_KEY": "test-secret-key-0123456789abcdef",
        "DATABASE": str(tmp_path / "test.db"),
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


# --- reviewer-side fixtures -----------------------------------------------------------------------
