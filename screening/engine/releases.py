"""A version means one content: rules/releases.yaml records each released version of the rule set
with the hash of its rule files (questionnaire.yaml and rules.yaml, the same hash every submission
stores), the day and who approved it clinically. `screening rules check` fails when the files differ
from what was released under their `version`; `screening rules release` records a new release.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml

from . import yamlfile
from .errors import Collector, Problem
from .loading import display_name
from .rules import RuleSet

RELEASES_FILE = "releases.yaml"
HEADER = (
    "# Each released version of the rule set: the SHA-256 of questionnaire.yaml and rules.yaml (as every\n"
    "# submission stores it), the day, and who approved it clinically. `screening rules check` fails when\n"
    "# the files differ from the release of their `version`. Written by `screening rules release`.\n"
)


class ReleaseError(Exception):
    """The current files cannot be released as they are."""


def released(rules_dir: Path) -> list[dict]:
    """Return the recorded releases, oldest first ([] when none were made yet)."""
    path = Path(rules_dir) / RELEASES_FILE
    if not path.exists():
        return []
    data = yamlfile.load(path, Collector(str(path), [])) or {}
    return [dict(entry) for entry in data.get("releases") or []]


def check(rules_dir: Path, ruleset: RuleSet, errors: list[Problem]) -> None:
    """Report a version whose files differ from what was released under it."""
    entry = next((e for e in released(rules_dir) if str(e.get("version")) == ruleset.version), None)
    if entry is None or entry.get("hash") == ruleset.hash:
        return
    rules_file = Collector(display_name(rules_dir, "rules.yaml"), errors)
    data = yamlfile.load(Path(rules_dir) / "rules.yaml", Collector("rules.yaml", [])) or {}
    line = data.line_of("version") if "version" in data else None
    rules_file.add("version_reused", line, "", version=ruleset.version)


def release(rules_dir: Path, ruleset: RuleSet, approved_by: str, today: date) -> dict:
    """Record the current files as the release of their version; return the entry."""
    entries = released(rules_dir)
    same = next((e for e in entries if str(e.get("version")) == ruleset.version), None)
    if same is not None and same.get("hash") == ruleset.hash:
        raise ReleaseError(f"version {ruleset.version} is already released with these files.")
    if same is not None:
        raise ReleaseError(
            f"version {ruleset.version} was released with other content; raise `version` in rules.yaml first."
        )
    entry = {
        "version": ruleset.version,
        "hash": ruleset.hash,
        "date": today.isoformat(),
        "approved_by": approved_by,
    }
    text = yaml.safe_dump({"releases": [*entries, entry]}, sort_keys=False, allow_unicode=True, width=100)
    (Path(rules_dir) / RELEASES_FILE).write_text(HEADER + text, encoding="utf-8")
    return entry
