"""What changes when the rules change: the diff's counts against evaluating each answer set directly,
a version that means one content, and reviewers who see drift."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import RULES_DIR, page, text_of

from screening.cli import cli
from screening.engine import diff, releases
from screening.engine.checks import check_rules_dir
from screening.rules import load_ruleset

STENOSIS_LATER = (
    '        - {question: duration, at_least: 6_to_12_weeks}\n    title: "A narrow space for the nerves"',
    '        - {question: duration, at_least: 3_to_6_months}\n    title: "A narrow space for the nerves"',
)


VERSION = load_ruleset(RULES_DIR).version  # the released version the files carry now
RAISED = VERSION + ".1"


def edited_rules(tmp_path: Path, *, raise_version: bool = True) -> Path:
    folder = tmp_path / "edited" / "rules"
    shutil.copytree(RULES_DIR, folder)
    text = (folder / "rules.yaml").read_text().replace(*STENOSIS_LATER)
    if raise_version:
        text = text.replace(f'version: "{VERSION}"', f'version: "{RAISED}"')
    (folder / "rules.yaml").write_text(text)
    return folder


def test_the_diff_counts_what_evaluating_each_answer_set_shows(tmp_path):
    old, new = load_ruleset(RULES_DIR), load_ruleset(edited_rules(tmp_path))
    items = list(diff.sampled(old, 1500, seed=3))
    report = diff.compare(old, new, items)
    changed = level_moves = removed = 0
    for _, answers in items:
        a, b = old.evaluate(answers), new.evaluate(answers)
        changed += (a.level, a.topics, [f.rule.id for f in a.fired]) != (
            b.level,
            b.topics,
            [f.rule.id for f in b.fired],
        )
        level_moves += a.level != b.level
        removed += "spinal-stenosis" in a.topics and "spinal-stenosis" not in b.topics
    assert report.compared == 1500
    assert report.changed == changed > 0
    assert sum(report.level_changes.values()) == level_moves
    assert report.topics_removed["spinal-stenosis"] == removed
    assert report.rules_removed["stenosis-told"] == removed
    assert all(len(refs) <= 20 for refs in report.examples.values())
    assert set(report.to_dict()) == {
        "compared", "changed", "level_changes", "topics_added", "topics_removed", "rules_added", "rules_removed", "examples",
    }  # fmt: skip


def test_diff_over_stored_submissions_through_the_cli(app, runner, add_submissions, tmp_path):
    stored = add_submissions(
        {"answers": {"diagnosis": ["stenosis"], "duration": "6_to_12_weeks"}},
        {"answers": {"diagnosis": ["stenosis"], "duration": "over_6_months"}},
        {},
    )
    new = edited_rules(tmp_path)
    result = runner.invoke(cli, ["rules", "diff", "--from", str(RULES_DIR), "--to", str(new), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    assert report["compared"] == 3 and report["changed"] == 1
    assert report["topics_removed"] == {"spinal-stenosis": 1}
    assert report["examples"]["topic removed spinal-stenosis"] == [stored[0]["reference"]]
    html = tmp_path / "change.html"
    text = runner.invoke(
        cli, ["rules", "diff", "--from", str(RULES_DIR), "--to", str(new), "--html", str(html)]
    )
    assert "Compared 3 answer sets" in text.output and "1 would change (33.3%)." in text.output
    assert "<h1>What this rule change would change</h1>" in html.read_text()


def test_diff_reads_rules_at_a_git_revision(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(RULES_DIR, repo / "rules")
    git = ["git", "-C", str(repo), "-c", "user.email=t@example.org", "-c", "user.name=T"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "rules"], check=True)
    subprocess.run([*git, "commit", "-qm", "rules"], check=True)
    with diff.rules_at_revision("HEAD", repo=repo) as folder:
        assert load_ruleset(Path(folder) / "rules").hash == load_ruleset(RULES_DIR).hash
    with pytest.raises(ValueError, match="git has no rules/ at 'nope'"):
        diff.rules_at_revision("nope", repo=repo)


def test_an_edited_release_without_a_new_version_fails_the_check(tmp_path):
    folder = edited_rules(tmp_path, raise_version=False)
    assert [str(p) for p in check_rules_dir(folder).errors] == [
        f"rules/rules.yaml:5: version {VERSION} was released with other content; raise `version`, then run "
        "`screening rules release`. Fix: Or put back the files of that release: every submission made under "
        "it keeps its version and hash."
    ]
    raised = edited_rules(tmp_path / "b")
    assert check_rules_dir(raised).ok


def test_release_records_the_files_once(tmp_path):
    from click.testing import CliRunner

    folder = edited_rules(tmp_path)
    run = CliRunner().invoke
    result = run(cli, ["rules", "release", "--approved-by", "Dr Ada Lane", "--rules-dir", str(folder)])
    assert result.exit_code == 0, result.output
    entry = releases.released(folder)[-1]
    assert entry["version"] == RAISED and entry["approved_by"] == "Dr Ada Lane"
    assert entry["hash"] == load_ruleset(folder).hash
    again = run(cli, ["rules", "release", "--approved-by", "Dr Ada Lane", "--rules-dir", str(folder)])
    assert again.exit_code == 1 and "already released with these files" in again.output


def test_a_submission_under_an_older_rule_set_shows_today_beside_what_was_stored(
    app, reviewer, add_submissions
):
    from screening import get_db

    add_submissions({"answers": {"diagnosis": ["stenosis"]}, "reference": "BP-OLD1"})
    add_submissions({"reference": "BP-NEW1"})
    with app.app_context():
        db = get_db()
        db.execute(
            "UPDATE submissions SET ruleset_hash = 'older', ruleset_version = '2026.10.1', topics = '[\"benefits-and-limits\"]', level = 'info' WHERE reference = 'BP-OLD1'"
        )
    html = page(reviewer.client.get("/review/submissions/BP-OLD1"))
    drift = html.select_one(".drift")
    text = " ".join(drift.get_text().split())
    assert "Made under an older rule set" in text
    assert "(changed)" in text and "(new)" in text
    listed = text_of(reviewer.client.get("/review/?view=all&older=y"))
    assert "BP-OLD1" in listed and "BP-NEW1" not in listed
    assert page(reviewer.client.get("/review/submissions/BP-NEW1")).select_one(".drift") is None
    with app.app_context():
        stored = (
            get_db()
            .execute("SELECT level, ruleset_hash FROM submissions WHERE reference = 'BP-OLD1'")
            .fetchone()
        )
    assert tuple(stored) == ("info", "older"), "viewing changes nothing stored"
