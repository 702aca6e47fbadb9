"""`screening rules ...`: check, evaluate, diff, release and protect the rule set (needs no database)."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path

import click
from flask.cli import ScriptInfo

from .. import config, get_db, store
from . import cli

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
    from ..engine.checks import check_rules_dir

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


@rules_group.command("translate")
@click.argument("language")
@RULES_DIR_OPTION
def rules_translate(language: str, rules_dir: Path) -> None:
    """Print the entries LANGUAGE.yaml lacks or must check again (English changed), ready to paste.

    Each entry names where the English lives, shows it, and carries the hash of that English; write the
    translation in `text`. Exits 1 when there is anything to do, 0 when the file is complete.
    """
    from ..engine import schemas, translations
    from ..engine.loading import read_checked

    if language == translations.SOURCE or not translations.LANGUAGE_CODE.fullmatch(language):
        raise click.ClickException(
            f"'{language}' is not a language code to translate into: give two or three lower-case "
            "letters, such as es or fr."
        )
    problems: list = []
    qdata = read_checked(rules_dir, "questionnaire.yaml", schemas.QUESTIONNAIRE, problems)
    rdata = read_checked(rules_dir, "rules.yaml", schemas.RULES, problems)
    if qdata is None or rdata is None:
        raise click.ClickException("the rule files have problems; run `screening rules check` first.")
    done = translations.read(Path(rules_dir) / f"{language}.yaml", problems)
    todo = []
    for entry in translations.entries(qdata, rdata, "", ""):
        found = done.get(entry.key)
        needs = translations.state(entry, found)
        if needs in ("missing", "stale"):
            text = found.text if needs == "stale" else ""
            todo.append((entry.key, text, translations.source_hash(entry.text), " ".join(entry.text.split())))
    for key, text, digest, english in todo:
        click.echo(f"  {key}:")
        click.echo(f"    text: {json.dumps(text, ensure_ascii=False)}")
        click.echo(f"    source_hash: {digest}  # {english}")
    click.echo(f"{len(todo)} to translate or check in {Path(rules_dir).name}/{language}.yaml.", err=True)
    if todo:
        sys.exit(1)


@rules_group.command("evaluate")
@click.argument("answers_file", type=click.File("r"))
@RULES_DIR_OPTION
def rules_evaluate(answers_file, rules_dir: Path) -> None:
    """Evaluate the answers in ANSWERS_FILE (a JSON object; - reads standard input) and print the outcome."""
    from ..rules import RuleSetError, load_ruleset

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
    from ..engine import diff

    with _rules_folder(old) as old_dir, _rules_folder(new) as new_dir:
        old_rules, new_rules = _load_or_explain(old_dir, old), _load_or_explain(new_dir, new)
        if sample:
            items, total = diff.sampled(new_rules, sample, seed_value), sample
            with click.progressbar(length=total, label="Comparing", file=sys.stderr) as bar:
                report = diff.compare(old_rules, new_rules, items, progress=bar.update)
        else:
            app = click.get_current_context().ensure_object(ScriptInfo).load_app()
            with app.app_context():
                db = get_db()
                total = store.count_submissions(db)
                with click.progressbar(length=total, label="Comparing", file=sys.stderr) as bar:
                    report = diff.compare(old_rules, new_rules, store.iter_answers(db), progress=bar.update)
    names = (f"{old} ({old_rules.version})", f"{new} ({new_rules.version})")
    if html_path:
        html_path.write_text(
            diff.html_report(
                report, *names, sampled=bool(sample), templates_dir=config.PROJECT_ROOT / "templates"
            ),
            encoding="utf-8",
        )
    click.echo(json.dumps(report.to_dict(), indent=2) if as_json else diff.text_report(report, *names))


@contextmanager
def _rules_folder(spec: str):
    """Yield a rule folder: a path as given, or rules/ at a git revision ("git:REV") in a temporary folder."""
    from ..engine.diff import rules_at_revision

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
    from ..rules import RuleSetError, load_ruleset

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

    from ..engine.checks import check_rules_dir
    from ..engine.releases import RELEASES_FILE, ReleaseError, release

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
    """Record the emergency answers, their qualifiers, the emergency rules and protected cases as approved,
    in rules/safety-lock.yaml."""
    from datetime import date

    from ..engine.safety import LOCK_FILE, write_lock
    from ..rules import RuleSetError, load_ruleset

    if not approved_by.strip():
        raise click.ClickException("--approved-by needs the name of the clinical lead who approved it.")
    try:
        ruleset = load_ruleset(rules_dir)
    except RuleSetError as exc:
        raise click.ClickException(str(exc)) from None
    data = write_lock(rules_dir, ruleset, approved_by.strip(), date.today())
    click.echo(
        f"Recorded {len(data['emergency_rules'])} emergency rule(s), "
        f"{len(data['emergency_qualifiers'])} qualified emergency answer(s) and "
        f"{len(data['protected_cases'])} protected case(s) in {Path(rules_dir).name}/{LOCK_FILE}, "
        f"approved by {approved_by.strip()}."
    )
