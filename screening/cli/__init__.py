"""The `screening` command: a Flask CLI group, a thin edge over the library's functions."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import FlaskGroup, NoAppException

from .. import StartupError, config, create_app, store


def _make_app():
    try:
        return create_app()
    except StartupError as exc:
        raise NoAppException(str(exc)) from None


@click.group(cls=FlaskGroup, create_app=_make_app, add_default_commands=True, add_version_option=False)
def cli() -> None:
    """Screen back pain against the clinic's rule set; run the app; manage its data."""


@cli.command("settings")
def settings_command() -> None:
    """Print every SCREENING_* setting with the value in force (secrets hidden) and what it does."""
    for name, shown, help_text in config.in_force(current_app.config):
        click.echo(f"{name}={shown}\n    {help_text}")


@cli.group("db")
def db_group() -> None:
    """Create, upgrade and inspect the database."""


@db_group.command("migrate")
def db_migrate() -> None:
    """Create the database or apply pending migrations."""
    from ..config import without_password
    from ..db import open_database

    db = open_database(current_app.config)
    try:
        applied = store.migrate(db)
    finally:
        db.close()
    where = without_password(current_app.config["DATABASE"])
    click.echo(f"Applied {', '.join(applied)} to {where}." if applied else f"{where} is up to date.")


# --- reviewers, seed, export, purge, backup (reviewer side) ---------------------------------------

FIRST_ADMIN_EMAIL = "admin@clinic.example"


def _db():
    from .. import get_db

    return get_db()


def _cli_audit(action: str, detail: str) -> None:
    store.record_audit(_db(), action, detail=f"{detail} (command line)")


# The command groups register themselves on `cli` when imported.
from . import data, reviewers, rules  # noqa: E402, F401
