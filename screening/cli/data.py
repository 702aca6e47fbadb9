"""The data commands: seed, export (CSV or FHIR), purge, backup, notify and API tokens."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import click
from flask import current_app

from .. import get_db, store
from ..config import mail_folder
from . import audit, cli


@cli.command("seed")
@click.option("--count", type=click.IntRange(min=1), required=True, help="How many submissions to add.")
@click.option(
    "--seed", "rng_seed", type=int, default=None, help="Make the fake people and answers reproducible."
)
def seed_command(count: int, rng_seed: int | None) -> None:
    """Add realistic fake submissions (valid answers, real outcomes) for demos and benchmarks."""
    from .. import get_ruleset, seed

    ruleset = get_ruleset()
    template = current_app.jinja_env.get_template("review/seeded_summary.html")
    with click.progressbar(length=count, label="Seeding") as bar:
        added = seed.seed(
            get_db(),
            ruleset,
            lambda outcome: template.render(outcome=outcome, ruleset=ruleset),
            count,
            make_reference=store.new_reference,
            rng_seed=rng_seed,
            progress=bar.update,
        )
    audit("seed", f"{added} fake submissions")
    click.echo(f"Added {added:,} fake submissions.")


def _choice_check(name: str, value: str | None, allowed) -> str:
    if value and value not in allowed:
        raise click.BadParameter(
            f"expected one of {', '.join(sorted(allowed))}; found {value!r}.", param_hint=name
        )
    return value or ""


def _export_fhir(db, ruleset, query, target: Path, total: int) -> None:
    """Write NDJSON, one resource a line, a keyset page of submissions at a time (constant memory)."""
    from ..fhir import ndjson
    from ..fhir import resources as fhir
    from ..fhir.form import Forms

    systems = fhir.Systems(current_app.config["BASE_URL"] or "http://127.0.0.1:5000")
    with (
        open(target, "w", encoding="utf-8") as out,
        click.progressbar(length=total, label="Exporting", file=sys.stderr) as bar,
    ):
        out.write(ndjson.line(fhir.questionnaire(ruleset, systems)))
        done = [0]

        def advance(rows: int) -> bool:
            bar.update(rows - done[0])
            done[0] = rows
            return True

        outputs = dict.fromkeys(ndjson.SUBMISSION_TYPES, out)
        ndjson.write_submissions(
            store.iter_inbox(db, query, full=True), outputs, Forms(db, ruleset), ruleset, systems, advance
        )


@cli.group("api-token")
def api_token_group() -> None:
    """Bearer tokens for the clinic's integration engine (the read-only FHIR API at /fhir)."""


@api_token_group.command("add")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    help="Limit the token, e.g. system/QuestionnaireResponse.read (repeat for several; none: all).",
)
def api_token_add(name: str, scopes: tuple[str, ...]) -> None:
    """Create a token named NAME; print it once, as the last line (only its hash is kept)."""
    import secrets

    from ..fhir.http import SCOPE, token_hash

    wrong = [scope for scope in scopes if not SCOPE.fullmatch(scope)]
    if wrong:
        raise click.BadParameter(
            f"expected system/TYPE.read with TYPE one of Patient, QuestionnaireResponse, Observation or *; "
            f"found {wrong[0]!r}.",
            param_hint="--scope",
        )
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}", name):
        raise click.ClickException(
            "NAME: use letters, digits, spaces, dots, dashes and underscores (up to 63)."
        )
    token = secrets.token_urlsafe(32)
    try:
        store.add_api_token(get_db(), name, token_hash(token), " ".join(scopes))
    except store.DuplicateToken:
        raise click.ClickException(
            f"a token named {name!r} exists already; revoke it or choose another name."
        ) from None
    store.record_audit(get_db(), "api_token_add", detail=f"{name} (command line)")
    click.echo(f"Token {name!r} created. It is shown once; store it in the integration engine now:")
    click.echo(token)


@api_token_group.command("list")
def api_token_list() -> None:
    """List the tokens by name, with when each was created or revoked (never the tokens)."""
    for row in store.list_api_tokens(get_db()):
        state = f"revoked {row['revoked'][:16]}" if row["revoked"] else "active"
        scopes = row["scopes"] or "every resource type"
        click.echo(f"{row['name']}\tcreated {row['created'][:16]}\t{state}\t{scopes}")


@api_token_group.command("revoke")
@click.argument("name")
def api_token_revoke(name: str) -> None:
    """Revoke the token named NAME at once."""
    if not store.revoke_api_token(get_db(), name):
        raise click.ClickException(f"no active token named {name!r}.")
    store.record_audit(get_db(), "api_token_revoke", detail=f"{name} (command line)")
    click.echo(f"Token {name!r} revoked.")


@cli.command("notify")
@click.option("--once", is_flag=True, help="Deliver what is due, then exit (for cron).")
@click.option(
    "--every", type=click.IntRange(5, 3600), default=30, show_default=True, help="Seconds between rounds."
)
def notify_command(once: bool, every: int) -> None:
    """Deliver alert emails from the outbox: urgent ones at once, the daily digest at its hour."""
    import signal
    import socket
    import time

    from .. import alerts, clinictime

    config = current_app.config
    if not config["SMTP_URL"] and config["SCREENING_ENV"] != "development":
        raise click.ClickException("SCREENING_SMTP_URL is not set: there is no mail server to deliver to.")
    if not config["BASE_URL"]:
        raise click.ClickException(
            "SCREENING_BASE_URL is not set: alerts need a link to the reviewers' pages."
        )
    settings = alerts.Settings(
        base_url=config["BASE_URL"],
        mail_from=config["MAIL_FROM"],
        smtp_url=config["SMTP_URL"],
        mail_dir=mail_folder(config["DATABASE"]),
        timezone=clinictime.zone(config["TIMEZONE"]),
        digest_hour=config["DIGEST_HOUR"],
    )
    worker = f"{socket.gethostname()}:{os.getpid()}"
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    while True:
        counts = alerts.deliver_due(get_db(), settings, worker=worker)
        if any(counts.values()):
            click.echo(", ".join(f"{name} {count}" for name, count in counts.items()))
        if once or stopping:
            return
        for _ in range(every):
            if stopping:
                return
            time.sleep(1)


@cli.command("export")
@click.option("--csv", "path", type=click.Path(dir_okay=False, path_type=Path), help="CSV file to write.")
@click.option(
    "--fhir",
    "fhir_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="NDJSON file of FHIR R4 resources to write: the Questionnaire, then each submission's Patient, "
    "QuestionnaireResponse and Observation.",
)
@click.option("--status", type=click.Choice(store.STATUSES), help="Only this status.")
@click.option("--level", help="Only this level (a level id from rules.yaml).")
@click.option("--topic", help="Only this topic (a topic id from rules.yaml).")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="Received on or after this day.")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Received on or before this day.")
@click.option(
    "--for-spreadsheet",
    is_flag=True,
    help="The words the screens show (labels, titles, 'Not asked'), readable times and the notes.",
)
def export_command(path, fhir_path, status, level, topic, date_from, date_to, for_spreadsheet: bool) -> None:
    """Write submissions to a CSV file (the same columns and filters as the inbox's download), or as
    FHIR R4 NDJSON for the clinic's record system."""
    from .. import clinictime, get_ruleset, review
    from ..review import export

    if bool(path) == bool(fhir_path):
        raise click.UsageError("Give one of --csv PATH or --fhir PATH.")
    ruleset = get_ruleset()
    tz = clinictime.zone(current_app.config["TIMEZONE"])
    since, before = clinictime.day_bounds(
        date_from.date() if date_from else None, date_to.date() if date_to else None, tz
    )
    query = store.InboxQuery(
        since=since,
        before=before,
        status=status or "",
        level=_choice_check("--level", level, {lv.id for lv in ruleset.levels}),
        topic=_choice_check("--topic", topic, set(ruleset.topics)),
        date_from=date_from.date().isoformat() if date_from else "",
        date_to=date_to.date().isoformat() if date_to else "",
        levels=tuple(lv.id for lv in review.levels_by_rank(ruleset)),
    )
    db = get_db()
    total = store.inbox_count(db, query)
    if fhir_path:
        _export_fhir(db, ruleset, query, fhir_path, total)
        audit(
            _export_action(total),
            f"{total:,} rows: {export.describe_filters(query)} as FHIR NDJSON to a file",
        )
        click.echo(f"Wrote {total:,} submissions (and the Questionnaire) to {fhir_path}.")
        return
    with (
        open(path, "w", newline="", encoding="utf-8") as out,
        click.progressbar(length=total, label="Exporting") as bar,
    ):
        layout = "sheet" if for_spreadsheet else "machine"
        when = lambda timestamp: clinictime.show(timestamp, tz)  # noqa: E731
        for chunk in export.chunks(db, ruleset, query, layout=layout, progress=bar.update, when=when):
            out.write(chunk)
    spreadsheet = ", for a spreadsheet" if for_spreadsheet else ""
    audit(_export_action(total), f"{total:,} rows: {export.describe_filters(query)}{spreadsheet} to a file")
    click.echo(f"Wrote {total:,} submissions to {path}.")


def _export_action(rows: int) -> str:
    """Name an export in the audit log: the admins' overview notes those over 1,000 rows."""
    from ..review.inbox import BULK_EXPORT_ROWS

    return "export_bulk" if rows > BULK_EXPORT_ROWS else "export"


@cli.command("purge")
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=1),
    default=None,
    help="Age in days (default: RETENTION_DAYS).",
)
def purge_command(days: int | None) -> None:
    """Delete submissions received more than DAYS ago (with their notes and history) and expired drafts."""
    days = days or current_app.config["RETENTION_DAYS"]
    db = get_db()
    now = store.now()
    submissions = store.purge_submissions(db, store.shift(now, days=-days))
    click.echo(f"Deleted {submissions:,} submissions received more than {days} days ago, with their notes.")
    click.echo(f"Deleted {store.purge_expired_drafts(db):,} expired drafts.")
    config = current_app.config
    attempts, sessions = store.purge_reviewer_records(
        db, store.shift(now, hours=-max(config["SESSION_MAX_HOURS"], config["SIGNIN_WINDOW_MINUTES"] / 60))
    )
    click.echo(f"Deleted {attempts:,} old sign-in attempts and {sessions:,} finished reviewer sessions.")
    audit("purge", f"{submissions} submissions older than {days} days")


@cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
def backup_command(path: Path, force: bool) -> None:
    """Copy the live database to PATH (SQLite's online backup: the app keeps running)."""
    import os

    if path.exists() and not force:
        raise click.ClickException(
            f"{path} already exists. Choose another name, or pass --force to replace it."
        )
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        store.backup_database(get_db(), partial)
    except store.NotOnThisStore as exc:
        raise click.ClickException(str(exc)) from None
    os.replace(partial, path)
    audit("backup", "database copied")
    size = path.stat().st_size
    click.echo(f"Backed up {current_app.config['DATABASE']} to {path} ({size / 1_048_576:,.1f} MiB).")
