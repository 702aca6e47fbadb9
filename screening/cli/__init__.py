"""The `screening` command: a Flask CLI group, a thin edge over the library's functions.

The commands live in `data`, `reviewers` and `rules`; what they share (the group, `audit`) is here.
May import anything of `screening`; nothing in `screening` imports the commands.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import FlaskGroup, NoAppException

from .. import StartupError, config, create_app, get_db, store
from ..store.db import without_password


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
    for name, shown, help_text in in_force(current_app.config):
        click.echo(f"{name}={shown}\n    {help_text}")


def in_force(app_config: dict) -> list[tuple[str, str, str]]:
    """Return (name, value, help) for every setting as the app runs with it, secrets hidden."""
    rows = []
    for setting in config.SETTINGS:
        value = app_config.get(setting.key, setting.default)
        if setting.secret and value:
            shown = "(set, hidden)"
        elif isinstance(value, list):
            shown = ",".join(value)
        elif setting.key in ("DATABASE", "DATABASE_REPLICA"):
            shown = without_password(str(value))
        else:
            shown = "" if value is None else str(value)
        rows.append((setting.name, shown, setting.help))
    return rows


@cli.group("db")
def db_group() -> None:
    """Create, upgrade and inspect the database."""


@db_group.command("migrate")
def db_migrate() -> None:
    """Create the database or apply pending migrations."""
    from ..db import open_database

    db = open_database(current_app.config)
    try:
        applied = store.migrate(db)
    finally:
        db.close()
    where = without_password(current_app.config["DATABASE"])
    click.echo(f"Applied {', '.join(applied)} to {where}." if applied else f"{where} is up to date.")


@db_group.command("copy")
@click.option(
    "--from", "source_setting", required=True, metavar="SOURCE", help="A SQLite path or a postgresql:// URL."
)
@click.option(
    "--to", "target_setting", required=True, metavar="TARGET", help="A SQLite path or a postgresql:// URL."
)
def db_copy(source_setting: str, target_setting: str) -> None:
    """Copy every table from SOURCE to TARGET (for example SQLite to PostgreSQL), then check the counts.

    TARGET is created or migrated first and must hold no submissions. Stop the app (or keep patients
    out) while copying: what arrives at SOURCE during the copy may be missed.
    """
    from pathlib import Path

    from ..store.copy import TargetNotEmpty, copy_all, count

    for setting in (source_setting, target_setting):
        try:
            store.is_postgres(setting)
        except store.DatabaseSettingError as exc:
            raise click.ClickException(str(exc)) from None
    if not store.is_postgres(source_setting) and not Path(source_setting).is_file():
        raise click.ClickException(f"{source_setting} does not exist: --from names the database to copy.")
    source = store.connect(source_setting)
    target = store.connect(target_setting)
    try:
        store.migrate(target)
        total = sum(count(source, table) for table in store.TABLES)
        with click.progressbar(length=total, label="Copying") as bar:
            try:
                counts = copy_all(source, target, progress=bar.update)
            except TargetNotEmpty as exc:
                raise click.ClickException(f"{without_password(target_setting)}: {exc}.") from None
    finally:
        source.close()
        target.close()
    width = max(len(table) for table, _, _ in counts)
    click.echo(f"{'table'.ljust(width)}  {'source':>10}  {'target':>10}")
    for table, there, here in counts:
        click.echo(f"{table.ljust(width)}  {there:>10,}  {here:>10,}{'' if there == here else '  MISMATCH'}")
    if any(there != here for _, there, here in counts):
        raise click.ClickException("the counts differ; the copy is not complete (see MISMATCH above).")
    source_name, target_name = without_password(source_setting), without_password(target_setting)
    click.echo(f"Copied {total:,} rows from {source_name} to {target_name}.")


# --- reviewers, seed, export, purge, backup (reviewer side) ---------------------------------------

FIRST_ADMIN_EMAIL = "admin@clinic.example"


def audit(action: str, detail: str) -> None:
    """Record in the audit log what a command did."""
    store.record_audit(get_db(), action, detail=f"{detail} (command line)")


# The command groups register themselves on `cli` when imported.
from . import data, reviewers, rules  # noqa: E402, F401
