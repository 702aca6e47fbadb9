"""The `screening` command: a Flask CLI group, a thin edge over the library's functions."""

from __future__ import annotations

import json
import os
import re
import sys
from contextlib import contextmanager
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, NoAppException, ScriptInfo

from . import StartupError, config, create_app, store


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
    db = store.connect(current_app.config["DATABASE"])
    try:
        applied = store.migrate(db)
    finally:
        db.close()
    where = current_app.config["DATABASE"]
    click.echo(f"Applied {', '.join(applied)} to {where}." if applied else f"{where} is up to date.")


# --- rules (engine) -------------------------------------------------------------------------------


def _default_rules_dir() -> str:
    return config.value("SCREENING_RULES_DIR")


RULES_DIR_OPTION = click.option(
    "--rules-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=_default_rules_dir,
    show_default="SCREENING_RULES_DIR or rules/",
    help="The folder holding questionnaire.yaml, rules.yaml and cases.yaml.",
)


@click.group("rules")
def rules_group() -> None:
    """Check the rule set, or evaluate answers against it (needs no database or secret)."""


cli.add_command(rules_group)


@rules_group.command("check")
@RULES_DIR_OPTION
def rules_check(rules_dir: Path) -> None:
    """Load the rule set, run every static check and case, and list every problem."""
    from .checks import check_rules_dir

    templates = config.PROJECT_ROOT / "templates"
    report = check_rules_dir(rules_dir, templates_dir=templates if templates.is_dir() else None)
    for problem in report.warnings:
        click.echo(f"warning: {problem}", err=True)
    for problem in report.errors:
        click.echo(str(problem))
    if not report.ok:
        click.echo(f"{len(report.errors)} problem(s) found.")
        sys.exit(1)
    rs = report.ruleset
    click.echo(
        f"Rule set {rs.version} is sound: {len(rs.questionnaire.questions)} questions, "
        f"{len(rs.rules)} rules, {report.cases} cases passed, mean reading grade {report.mean_grade:.1f}."
    )


@rules_group.command("evaluate")
@click.argument("answers_file", type=click.File("r"))
@RULES_DIR_OPTION
def rules_evaluate(answers_file, rules_dir: Path) -> None:
    """Evaluate the answers in ANSWERS_FILE (a JSON object; - reads standard input) and print the outcome."""
    from .rules import RuleSetError, load_ruleset

    try:
        answers = json.load(answers_file)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"the answers are not valid JSON: {exc}") from None
    if not isinstance(answers, dict):
        raise click.ClickException("the answers must be a JSON object of question id -> answer.")
    try:
        ruleset = load_ruleset(rules_dir)
    except RuleSetError as exc:
        raise click.ClickException(str(exc)) from None
    errors = ruleset.questionnaire.validate(answers)
    if errors:
        for error in errors:
            click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    click.echo(json.dumps(ruleset.evaluate(answers).to_dict(), indent=2))


@rules_group.command("diff")
@click.option(
    "--from",
    "old",
    required=True,
    help="The rule folder before the change, or git:REV for rules/ at a revision.",
)
@click.option(
    "--to",
    "new",
    default=_default_rules_dir,
    show_default="SCREENING_RULES_DIR or rules/",
    help="The rule folder after the change (or git:REV).",
)
@click.option(
    "--sample",
    type=click.IntRange(1, 10_000_000),
    help="Compare N random valid answer sets instead of the stored submissions.",
)
@click.option(
    "--seed", "seed_value", type=int, default=1, show_default=True, help="The random seed for --sample."
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the report as a web page.",
)
def rules_diff(old, new, sample, seed_value, as_json, html_path) -> None:
    """Show whom a rule change affects: evaluate the same answers under both rule sets."""
    from . import diff

    with _rules_folder(old) as old_dir, _rules_folder(new) as new_dir:
        old_rules, new_rules = _load_or_explain(old_dir, old), _load_or_explain(new_dir, new)
        if sample:
            items, total = diff.sampled(new_rules, sample, seed_value), sample
            with click.progressbar(length=total, label="Comparing", file=sys.stderr) as bar:
                report = diff.compare(old_rules, new_rules, items, progress=bar.update)
        else:
            app = click.get_current_context().ensure_object(ScriptInfo).load_app()
            with app.app_context():
                db = _db()
                total = store.count_submissions(db)
                with click.progressbar(length=total, label="Comparing", file=sys.stderr) as bar:
                    report = diff.compare(old_rules, new_rules, store.iter_answers(db), progress=bar.update)
    names = (f"{old} ({old_rules.version})", f"{new} ({new_rules.version})")
    if html_path:
        html_path.write_text(diff.html_report(report, *names, sampled=bool(sample)), encoding="utf-8")
    click.echo(json.dumps(report.to_dict(), indent=2) if as_json else diff.text_report(report, *names))


@contextmanager
def _rules_folder(spec: str):
    """Yield a rule folder: a path as given, or rules/ at a git revision ("git:REV") in a temporary folder."""
    from .diff import rules_at_revision

    if not str(spec).startswith("git:"):
        yield Path(spec)
        return
    try:
        holder = rules_at_revision(spec.removeprefix("git:"), repo=config.PROJECT_ROOT)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    with holder:
        yield Path(holder.name) / "rules"


def _load_or_explain(folder: Path, name: str):
    from .rules import RuleSetError, load_ruleset

    try:
        return load_ruleset(folder)
    except RuleSetError as exc:
        raise click.ClickException(
            f"the rule set {name} does not load with this version of the app:\n{exc}"
        ) from None


@rules_group.command("release")
@click.option("--approved-by", required=True, help="The clinical lead who approved this version.")
@RULES_DIR_OPTION
def rules_release(approved_by: str, rules_dir: Path) -> None:
    """Record the current rule files as the release of their version, in rules/releases.yaml."""
    from datetime import date

    from .checks import check_rules_dir
    from .releases import RELEASES_FILE, ReleaseError, release

    if not approved_by.strip():
        raise click.ClickException("--approved-by needs the name of the clinical lead who approved it.")
    report = check_rules_dir(rules_dir)
    if not report.ok:
        raise click.ClickException(
            "the rule set has problems; run `screening rules check` and fix them first."
        )
    try:
        entry = release(rules_dir, report.ruleset, approved_by.strip(), date.today())
    except ReleaseError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Released version {entry['version']} (hash {entry['hash'][:16]}), approved by "
        f"{entry['approved_by']}, in {Path(rules_dir).name}/{RELEASES_FILE}."
    )


@rules_group.command("protect")
@click.option("--approved-by", required=True, help="The clinical lead who approved the safety content.")
@RULES_DIR_OPTION
def rules_protect(approved_by: str, rules_dir: Path) -> None:
    """Record the emergency rules and protected cases as approved, in rules/safety-lock.yaml."""
    from datetime import date

    from .rules import RuleSetError, load_ruleset
    from .safety import LOCK_FILE, write_lock

    if not approved_by.strip():
        raise click.ClickException("--approved-by needs the name of the clinical lead who approved it.")
    try:
        ruleset = load_ruleset(rules_dir)
    except RuleSetError as exc:
        raise click.ClickException(str(exc)) from None
    data = write_lock(rules_dir, ruleset, approved_by.strip(), date.today())
    click.echo(
        f"Recorded {len(data['emergency_rules'])} emergency rule(s) and {len(data['protected_cases'])} "
        f"protected case(s) in {Path(rules_dir).name}/{LOCK_FILE}, approved by {approved_by.strip()}."
    )


# --- reviewers, seed, export, purge, backup (reviewer side) ---------------------------------------

FIRST_ADMIN_EMAIL = "admin@clinic.example"


def _db():
    from . import get_db

    return get_db()


@cli.group("reviewer")
def reviewer_group() -> None:
    """Add, disable, enable, reset and list the reviewers who work through submissions."""


def _account(email: str) -> dict:
    from . import auth

    try:
        return auth.find_account(email)
    except auth.AccountError as exc:
        raise click.ClickException(str(exc)) from None


def _cli_audit(action: str, detail: str) -> None:
    store.record_audit(_db(), action, detail=f"{detail} (command line)")


@reviewer_group.command("add")
@click.argument("email")
@click.option("--admin", is_flag=True, help="Let this reviewer manage reviewers and read the audit log.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input; do not generate one."
)
def reviewer_add(email: str, admin: bool, password_stdin: bool) -> None:
    """Add a reviewer. Without --password-stdin a strong password is generated and printed once."""
    import sys

    from . import auth

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    try:
        account = auth.create_account(email, password=password, is_admin=admin)
    except auth.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    _cli_audit("reviewer_add", f"reviewer {account.email}")
    click.echo(f"Added {'admin' if admin else 'reviewer'} {account.email}.")
    if account.password:
        click.echo(f"Password (shown once, give it to them in person): {account.password}")


@reviewer_group.command("disable")
@click.argument("email")
def reviewer_disable(email: str) -> None:
    """Stop a reviewer signing in, and end their sessions now."""
    row = _account(email)
    store.set_reviewer_active(_db(), row["id"], False)
    _cli_audit("reviewer_disable", f"reviewer {row['email']}")
    click.echo(f"Disabled {row['email']}; their sessions have ended.")


@reviewer_group.command("enable")
@click.argument("email")
def reviewer_enable(email: str) -> None:
    """Let a disabled reviewer sign in again."""
    row = _account(email)
    store.set_reviewer_active(_db(), row["id"], True)
    _cli_audit("reviewer_enable", f"reviewer {row['email']}")
    click.echo(f"Enabled {row['email']}.")


@reviewer_group.command("reset")
@click.argument("email")
def reviewer_reset(email: str) -> None:
    """Give a reviewer a new generated password (printed once) and end their sessions."""
    from . import auth

    account = auth.reset_password(_account(email))
    _cli_audit("reviewer_reset", f"reviewer {account.email}")
    click.echo(f"New password for {account.email} (shown once): {account.password}")
    click.echo("Their sessions have ended.")


@reviewer_group.command("list")
def reviewer_list() -> None:
    """List every reviewer with their role and state."""
    rows = store.list_reviewers(_db())
    if not rows:
        click.echo("No reviewers yet. Add one with: screening reviewer add EMAIL --admin")
    for row in rows:
        role = "admin" if row["is_admin"] else "reviewer"
        state = "active" if row["active"] else "disabled"
        click.echo(f"{row['email']}\t{role}\t{state}\tadded {row['created'][:10]}")


@reviewer_group.command("first-run")
def reviewer_first_run() -> None:
    """Create a first admin when there is no reviewer at all, and print its password once."""
    from . import auth

    if store.count_reviewers(_db()):
        click.echo("Reviewer accounts exist; no first admin needed.")
        return
    try:
        account = auth.create_account(FIRST_ADMIN_EMAIL, is_admin=True)
    except auth.AccountError:
        click.echo("Reviewer accounts exist; no first admin needed.")
        return
    _cli_audit("reviewer_add", f"first admin {account.email}")
    click.echo(
        "\n".join(
            [
                "",
                "=" * 72,
                "First run: created an admin account for the reviewers' pages (/review/).",
                f"  email:    {account.email}",
                f"  password: {account.password}",
                "This password is shown ONCE and is not stored anywhere. Sign in, add real",
                "reviewers under Reviewers, then disable this account (or change its password",
                "under Your password if you keep it).",
                "=" * 72,
                "",
            ]
        )
    )


@cli.command("seed")
@click.option("--count", type=click.IntRange(min=1), required=True, help="How many submissions to add.")
@click.option(
    "--seed", "rng_seed", type=int, default=None, help="Make the fake people and answers reproducible."
)
def seed_command(count: int, rng_seed: int | None) -> None:
    """Add realistic fake submissions (valid answers, real outcomes) for demos and benchmarks."""
    from . import get_ruleset, seed

    ruleset = get_ruleset()
    template = current_app.jinja_env.get_template("review/seeded_summary.html")
    with click.progressbar(length=count, label="Seeding") as bar:
        added = seed.seed(
            _db(),
            ruleset,
            lambda outcome: template.render(outcome=outcome, ruleset=ruleset),
            count,
            make_reference=store.new_reference,
            search_text=store.search_text,
            topics_text=store.topics_text,
            rng_seed=rng_seed,
            progress=bar.update,
        )
    _cli_audit("seed", f"{added} fake submissions")
    click.echo(f"Added {added:,} fake submissions.")


def _choice_check(name: str, value: str | None, allowed) -> str:
    if value and value not in allowed:
        raise click.BadParameter(
            f"expected one of {', '.join(sorted(allowed))}; found {value!r}.", param_hint=name
        )
    return value or ""


def _export_fhir(db, ruleset, query, target: Path, total: int) -> None:
    """Write NDJSON, one resource a line, a keyset page of submissions at a time (constant memory)."""
    from . import fhir

    systems = fhir.Systems(current_app.config["BASE_URL"] or "http://127.0.0.1:5000")
    with (
        open(target, "w", encoding="utf-8") as out,
        click.progressbar(length=total, label="Exporting", file=sys.stderr) as bar,
    ):
        out.write(json.dumps(fhir.questionnaire(ruleset, systems), separators=(",", ":")) + "\n")
        for rows in store.iter_inbox(db, query, full=True):
            for row in rows:
                for resource in fhir.resources_for(row, ruleset, systems):
                    out.write(json.dumps(resource, separators=(",", ":")) + "\n")
            bar.update(len(rows))


@cli.group("api-token")
def api_token_group() -> None:
    """Bearer tokens for the clinic's integration engine (the read-only FHIR API at /fhir)."""


@api_token_group.command("add")
@click.argument("name")
def api_token_add(name: str) -> None:
    """Create a token named NAME; print it once, as the last line (only its hash is kept)."""
    import secrets

    from .api import token_hash

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}", name):
        raise click.ClickException(
            "NAME: use letters, digits, spaces, dots, dashes and underscores (up to 63)."
        )
    token = secrets.token_urlsafe(32)
    try:
        store.add_api_token(_db(), name, token_hash(token))
    except store.DuplicateToken:
        raise click.ClickException(
            f"a token named {name!r} exists already; revoke it or choose another name."
        ) from None
    store.record_audit(_db(), "api_token_add", detail=f"{name} (command line)")
    click.echo(f"Token {name!r} created. It is shown once; store it in the integration engine now:")
    click.echo(token)


@api_token_group.command("list")
def api_token_list() -> None:
    """List the tokens by name, with when each was created or revoked (never the tokens)."""
    for row in store.list_api_tokens(_db()):
        state = f"revoked {row['revoked'][:16]}" if row["revoked"] else "active"
        click.echo(f"{row['name']}\tcreated {row['created'][:16]}\t{state}")


@api_token_group.command("revoke")
@click.argument("name")
def api_token_revoke(name: str) -> None:
    """Revoke the token named NAME at once."""
    if not store.revoke_api_token(_db(), name):
        raise click.ClickException(f"no active token named {name!r}.")
    store.record_audit(_db(), "api_token_revoke", detail=f"{name} (command line)")
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

    from . import clinictime, notify

    config = current_app.config
    if not config["SMTP_URL"] and config["SCREENING_ENV"] != "development":
        raise click.ClickException("SCREENING_SMTP_URL is not set: there is no mail server to deliver to.")
    if not config["BASE_URL"]:
        raise click.ClickException(
            "SCREENING_BASE_URL is not set: alerts need a link to the reviewers' pages."
        )
    settings = notify.Settings(
        base_url=config["BASE_URL"],
        mail_from=config["MAIL_FROM"],
        smtp_url=config["SMTP_URL"],
        mail_dir=Path(config["DATABASE"]).parent / "mail",
        timezone=clinictime.zone(config["TIMEZONE"]),
        digest_hour=config["DIGEST_HOUR"],
    )
    worker = f"{socket.gethostname()}:{os.getpid()}"
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    while True:
        counts = notify.deliver_due(_db(), settings, worker=worker)
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
    from . import clinictime, export, get_ruleset, review

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
    db = _db()
    total = store.inbox_count(db, query)
    if fhir_path:
        _export_fhir(db, ruleset, query, fhir_path, total)
        _cli_audit("export", f"{export.describe_filters(query)} as FHIR NDJSON to a file")
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
    _cli_audit("export", f"{export.describe_filters(query)}{spreadsheet} to a file")
    click.echo(f"Wrote {total:,} submissions to {path}.")


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
    db = _db()
    now = store.now()
    submissions = store.purge_submissions(db, store.shift(now, days=-days))
    click.echo(f"Deleted {submissions:,} submissions received more than {days} days ago, with their notes.")
    click.echo(f"Deleted {store.purge_expired_drafts(db):,} expired drafts.")
    config = current_app.config
    attempts, sessions = store.purge_reviewer_records(
        db, store.shift(now, hours=-max(config["SESSION_MAX_HOURS"], config["SIGNIN_WINDOW_MINUTES"] / 60))
    )
    click.echo(f"Deleted {attempts:,} old sign-in attempts and {sessions:,} finished reviewer sessions.")
    _cli_audit("purge", f"{submissions} submissions older than {days} days")


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
    store.backup_database(_db(), partial)
    os.replace(partial, path)
    _cli_audit("backup", "database copied")
    size = path.stat().st_size
    click.echo(f"Backed up {current_app.config['DATABASE']} to {path} ({size / 1_048_576:,.1f} MiB).")
