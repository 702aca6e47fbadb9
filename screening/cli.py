"""The `screening` command: a Flask CLI group, a thin edge over the library's functions."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import FlaskGroup

from . import StartupError, create_app, store


def _make_app():
    try:
        return create_app()
    except StartupError as exc:
        raise click.ClickException(str(exc)) from None


@click.group(cls=FlaskGroup, create_app=_make_app, add_default_commands=True, add_version_option=False)
def cli() -> None:
    """Screen back pain against the clinic's rule set; run the app; manage its data."""


@cli.group("db")
def db_group() -> None:
    """Create, upgrade and inspect the database."""


@db_group.command("migrate")
def db_migrate() -> None:
    """Create the database or apply pending migrations."""
    db = store.connect(current_app.config["DATABASE"])
    try:
        applied = store.migrate(db)
    finally:
        db.close()
    where = current_app.config["DATABASE"]
    click.echo(f"Applied {', '.join(applied)} to {where}." if applied else f"{where} is up to date.")


# --- rules (engine) -------------------------------------------------------------------------------


# --- reviewers, seed, export, purge, backup (reviewer side) ---------------------------------------
