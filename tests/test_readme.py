"""The README stays true: its worked example passes the checks, and every command is documented."""

from __future__ import annotations

import re
import shutil
import textwrap

from conftest import ROOT

from screening.cli import cli
from screening.engine.checks import check_rules_dir

README = (ROOT / "README.md").read_text()


def worked_example_snippets() -> list[str]:
    section = README[README.index("### Worked example") :]
    section = section[: section.index("\n## ")]
    return [textwrap.dedent(block) for block in re.findall(r"```yaml\n(.*?)```", section, flags=re.S)]


def test_the_worked_example_adds_a_question_and_a_rule_that_pass_the_checks(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    question, rule, case, spanish = worked_example_snippets()
    questionnaire = (rules / "questionnaire.yaml").read_text()
    anchor = "      - id: impact\n"
    assert anchor in questionnaire
    (rules / "questionnaire.yaml").write_text(
        questionnaire.replace(anchor, textwrap.indent(question, "      ") + anchor, 1)
    )
    (rules / "rules.yaml").write_text((rules / "rules.yaml").read_text() + "\n" + textwrap.indent(rule, "  "))
    (rules / "cases.yaml").write_text((rules / "cases.yaml").read_text() + "\n" + textwrap.indent(case, "  "))
    report = check_rules_dir(rules)
    assert sorted({p.code for p in report.errors}) == ["translation_missing", "version_reused"], "step 4"
    assert len([p for p in report.errors if p.code == "translation_missing"]) == 6, "the six new texts"
    (rules / "es.yaml").write_text((rules / "es.yaml").read_text() + textwrap.indent(spanish, "  "))
    report = check_rules_dir(rules)
    assert [p.code for p in report.errors] == ["version_reused"], "step 5: the version must be raised"
    text = (rules / "rules.yaml").read_text()
    version = re.search(r'^version: "([^"]+)"', text, flags=re.M).group(1)
    (rules / "rules.yaml").write_text(text.replace(f'version: "{version}"', f'version: "{version}.1"', 1))
    report = check_rules_dir(rules)
    assert [str(p) for p in report.errors] == []
    assert report.cases == check_rules_dir(ROOT / "rules").cases + 1


def test_every_command_is_in_the_readme():
    names = []
    for name, command in cli.commands.items():
        subcommands = getattr(command, "commands", None)
        names += [f"screening {name} {sub}" for sub in subcommands] if subcommands else [f"screening {name}"]
    for name in ["screening reviewer", "screening rules", "screening db"]:
        assert name in README
    missing = [name for name in names if name not in README]
    assert missing == []


def test_every_setting_is_in_the_readme():
    from screening import config

    variables = {setting.name for setting in config.SETTINGS}
    assert variables, config.PROJECT_ROOT
    assert sorted(v for v in variables if f"`{v}`" not in README) == []
