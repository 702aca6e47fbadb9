"""What changes when the rules change: evaluate the same answers under two rule sets and count the
differences (level moves, topics and rules that appear or disappear), with example references.

Plain Python (no Flask): the CLI feeds it stored submissions, streamed in keyset pages, or random
valid answer sets from the questionnaire.
"""

from __future__ import annotations

import random
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .answers import random_answers
from .rules import RuleSet

EXAMPLES_PER_CHANGE = 20


@dataclass
class Report:
    """The differences between two rule sets over the same answers."""

    compared: int = 0
    changed: int = 0
    level_changes: Counter = field(default_factory=Counter)
    topics_added: Counter = field(default_factory=Counter)
    topics_removed: Counter = field(default_factory=Counter)
    rules_added: Counter = field(default_factory=Counter)
    rules_removed: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "compared": self.compared,
            "changed": self.changed,
            "level_changes": dict(self.level_changes.most_common()),
            "topics_added": dict(self.topics_added.most_common()),
            "topics_removed": dict(self.topics_removed.most_common()),
            "rules_added": dict(self.rules_added.most_common()),
            "rules_removed": dict(self.rules_removed.most_common()),
            "examples": self.examples,
        }

    def _example(self, change: str, reference: str) -> None:
        found = self.examples.setdefault(change, [])
        if len(found) < EXAMPLES_PER_CHANGE:
            found.append(reference)


def compare(old: RuleSet, new: RuleSet, items: Iterable[tuple[str, dict]], progress=None) -> Report:
    """Evaluate each (reference, answers) under both rule sets and count what differs."""
    report = Report()
    for reference, answers in items:
        before, after = old.evaluate(answers), new.evaluate(answers)
        report.compared += 1
        rules_before = {f.rule.id for f in before.fired}
        rules_after = {f.rule.id for f in after.fired}
        changes = []
        if before.level != after.level:
            move = f"{before.level}->{after.level}"
            report.level_changes[move] += 1
            changes.append(f"level {move}")
        for counter, ids, kind in (
            (report.topics_added, set(after.topics) - set(before.topics), "topic added"),
            (report.topics_removed, set(before.topics) - set(after.topics), "topic removed"),
            (report.rules_added, rules_after - rules_before, "rule added"),
            (report.rules_removed, rules_before - rules_after, "rule removed"),
        ):
            for item in sorted(ids):
                counter[item] += 1
                changes.append(f"{kind} {item}")
        if changes:
            report.changed += 1
            for change in changes:
                report._example(change, reference)
        if progress:
            progress(1)
    return report


def sampled(ruleset: RuleSet, count: int, seed: int = 1) -> Iterator[tuple[str, dict]]:
    """Yield `count` random valid answer sets from the questionnaire, named sample-1, sample-2, ..."""
    rng = random.Random(seed)  # noqa: S311 (sampling answers, not secrets)
    for n in range(1, count + 1):
        yield f"sample-{n}", random_answers(ruleset, rng)


def rules_at_revision(revision: str, *, repo: Path, folder: str = "rules") -> tempfile.TemporaryDirectory:
    """Copy `folder` at a git revision into a temporary folder (removed when the returned object is
    cleaned up) and return it; its `rules` subfolder holds the files."""
    run: Callable = lambda *args: subprocess.run(  # noqa: E731
        ["git", "-C", str(repo), *args], capture_output=True, check=True
    )
    try:
        names = run("ls-tree", "--name-only", f"{revision}:{folder}").stdout.decode().split()
    except subprocess.CalledProcessError as exc:
        raise ValueError(f"git has no {folder}/ at '{revision}': {exc.stderr.decode().strip()}") from None
    holder = tempfile.TemporaryDirectory(prefix="rules-")
    target = Path(holder.name) / "rules"
    target.mkdir()
    for name in names:
        if name.endswith(".yaml"):
            (target / name).write_bytes(run("show", f"{revision}:{folder}/{name}").stdout)
    return holder


def text_report(report: Report, old_name: str, new_name: str) -> str:
    """Return the report as text a clinical lead can read in a terminal."""
    lines = [
        f"Compared {report.compared:,} answer sets under {old_name} and {new_name}.",
        f"{report.changed:,} would change ({_percent(report.changed, report.compared)}).",
    ]
    for title, counter in (
        ("Level changes", report.level_changes),
        ("Topics added", report.topics_added),
        ("Topics removed", report.topics_removed),
        ("Rules added", report.rules_added),
        ("Rules removed", report.rules_removed),
    ):
        if counter:
            lines.append(f"{title}:")
            lines += [f"  {key}: {count:,}" for key, count in counter.most_common()]
    if report.examples:
        lines.append(f"Examples (up to {EXAMPLES_PER_CHANGE} each):")
        lines += [f"  {change}: {', '.join(refs)}" for change, refs in sorted(report.examples.items())]
    return "\n".join(lines)


def html_report(report: Report, old_name: str, new_name: str, *, sampled: bool, templates_dir: Path) -> str:
    """Return the report as a self-contained web page (from rules_diff.html in `templates_dir`, escaped)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(templates_dir), autoescape=select_autoescape())
    share = _percent(report.changed, report.compared)
    return env.get_template("rules_diff.html").render(
        report=report, old=old_name, new=new_name, sampled=sampled, share=share
    )


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0%"
