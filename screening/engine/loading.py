"""Load the rule files: check their structure (JSON Schema) and meaning, and build the RuleSet, reporting
every problem at once with its file and line. Knows nothing of Flask."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

import jsonschema

from . import questionnaire as qmod
from . import roles, schemas, yamlfile
from .conditions import Compiler
from .errors import Collector, Problem, suggest
from .rules import RULE_FILES, Level, Rule, RuleSet, RuleSetError, Source, Topic


def load_ruleset(rules_dir) -> RuleSet:
    """Load and check questionnaire.yaml and rules.yaml; raise RuleSetError listing every problem."""
    ruleset, problems = load_with_problems(rules_dir)
    if problems:
        raise RuleSetError(problems)
    return ruleset


def display_name(rules_dir: Path, name: str) -> str:
    """Return the file's name as an author sees it: the rules folder's name and the file name."""
    return f"{Path(rules_dir).name}/{name}"


def read_checked(rules_dir: Path, name: str, schema: dict, problems: list[Problem]):
    """Return a file's data after its structure passed the JSON Schema, or None."""
    collector = Collector(display_name(rules_dir, name), problems)
    data = yamlfile.load(Path(rules_dir) / name, collector)
    if data is None:
        return None
    before = len(problems)
    for error in sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.path)
    ):
        _schema_problem(error, data, collector)
    return data if len(problems) == before else None


def _schema_problem(error: jsonschema.ValidationError, root, collector: Collector) -> None:
    path = list(error.absolute_path)
    line = yamlfile.line_at(root, path)
    key = ".".join(str(p) for p in path) or "(top level)"
    subject = _subject_for(root, path)
    if error.validator == "required":
        missing = error.message.split("'")[1]
        collector.add("schema_required", line, subject, key=missing)
    elif error.validator == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        for name in extra:
            collector.add(
                "schema_unknown_key",
                error.instance.line_of(name),
                subject,
                key=name,
                suggest=suggest(name, allowed),
            )
    elif error.validator == "type":
        expected = schemas.TYPE_WORDS.get(str(error.validator_value), str(error.validator_value))
        collector.add(
            "schema_type",
            line,
            subject,
            key=key,
            expected=expected,
            found=schemas.TYPE_WORDS.get(type(error.instance).__name__, repr(error.instance)),
        )
    else:
        collector.add("schema_other", line, subject, key=key, detail=error.message)


def _subject_for(root, path) -> str:
    """Return "rule 'x'" or "question 'y'" for the item a path points into, when it has an id."""
    node, subject = root, ""
    for step in path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, Mapping) and isinstance(node.get("id"), str):
            kind = (
                "rule"
                if "level" in node
                else "question"
                if "type" in node
                else "step"
                if "questions" in node
                else "item"
            )
            subject = f"{kind} '{node['id']}'"
    return subject


def load_with_problems(rules_dir) -> tuple[RuleSet | None, list[Problem]]:
    """Return the rule set (None if it cannot be built) and every problem found while loading."""
    rules_dir = Path(rules_dir)
    problems: list[Problem] = []
    qdata = read_checked(rules_dir, "questionnaire.yaml", schemas.QUESTIONNAIRE, problems)
    rdata = read_checked(rules_dir, "rules.yaml", schemas.RULES, problems)
    if qdata is None or rdata is None:
        return None, problems
    return build_from_data(rules_dir, qdata, rdata, problems), problems


def build_from_data(rules_dir: Path, qdata: Mapping, rdata: Mapping, problems: list[Problem]) -> RuleSet:
    """Build the RuleSet from the two files' checked data (the English, or a translation put in place)."""
    questionnaire = qmod.build(qdata, Collector(display_name(rules_dir, "questionnaire.yaml"), problems))
    return _build_rules(Path(rules_dir), rdata, questionnaire, problems)


def _build_rules(rules_dir: Path, data: Mapping, questionnaire, problems: list[Problem]) -> RuleSet:
    collector = Collector(display_name(rules_dir, "rules.yaml"), problems)
    count = len(data["levels"])
    levels = [
        Level(lv["id"], lv["label"], lv["summary"], count - i, lv.get("role", ""), lv.get("heading", ""))
        for i, lv in enumerate(data["levels"])
    ]
    level_ids = {lv.id: lv for lv in levels}
    sources = {
        sid: Source(sid, s["title"], s["kind"], s.get("publisher", ""), s.get("year"), s.get("url", ""))
        for sid, s in data["sources"].items()
    }
    for sid, s in data["sources"].items():
        missing = [key for key in ("publisher", "year", "url") if s["kind"] == "guideline" and not s.get(key)]
        if missing:
            collector.add("guideline_incomplete", s.line, f"source '{sid}'", missing=", ".join(missing))
    topics = {
        tid: Topic(
            tid,
            t["title"],
            t["what"],
            t.get("may_offer", ""),
            t.get("limits", ""),
            tuple(t.get("ask", [])),
            tuple(t.get("sources", [])),
            t.get("role", ""),
            bool(t.get("hide_when_urgent", False)),
        )
        for tid, t in data["topics"].items()
    }
    for tid, t in data["topics"].items():
        _check_sources(
            t.get("sources", []),
            sources,
            collector,
            t.line_of("sources") if "sources" in t else t.line,
            f"topic '{tid}'",
        )
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    shared: dict = {}
    for rdata in data["rules"]:
        rule = _rule(rdata, questionnaire, level_ids, sources, topics, seen, collector, shared)
        if rule is not None:
            rules.append(rule)
    roles.check(data, levels, topics, rules, collector)
    roles.check_questions(questionnaire, Collector(display_name(rules_dir, "questionnaire.yaml"), problems))
    raw = b"".join(name.encode() + b"\0" + (rules_dir / name).read_bytes() for name in sorted(RULE_FILES))
    return RuleSet(
        version=str(data["version"]),
        hash=hashlib.sha256(raw).hexdigest(),
        questionnaire=questionnaire,
        levels=levels,
        sources=sources,
        topics=topics,
        rules=rules,
        exempt_words=data.get("readability_exempt_words", []),
        about=data.get("about"),
        approval=_approval(rules_dir),
    )


def _approval(rules_dir: Path) -> dict:
    """Return who approved the safety content and when (from the lock file), or {} when none is there."""
    path = rules_dir / "safety-lock.yaml"
    if not path.exists():
        return {}
    data = yamlfile.load(path, Collector(str(path), [])) or {}
    return {"by": str(data.get("approved_by", "")), "on": str(data.get("approved_on", ""))}


def _rule(rdata, questionnaire, levels, sources, topics, seen, collector, shared) -> Rule | None:
    rid, line = rdata["id"], rdata.line
    subject = f"rule '{rid}'"
    if rid in seen:
        collector.add("duplicate_id", line, subject, kind="rule", id=rid, first=seen[rid])
        return None
    seen[rid] = line
    if rdata["level"] not in levels:
        collector.add(
            "unknown_level", rdata.line_of("level"), subject, level=rdata["level"], levels=", ".join(levels)
        )
    if rdata["topic"] not in topics:
        collector.add(
            "unknown_topic",
            rdata.line_of("topic"),
            subject,
            topic=rdata["topic"],
            suggest=suggest(rdata["topic"], topics),
        )
    _check_sources(rdata["sources"], sources, collector, rdata.line_of("sources"), subject)
    always = bool(rdata.get("always", False))
    when = None
    if "when" in rdata:
        when = Compiler(questionnaire.questions, collector, subject, shared).compile(
            rdata["when"], rdata.line_of("when")
        )
        if always:
            collector.add("always_with_when", rdata.line_of("always"), subject, rule=rid)
    elif not always:
        collector.add("always_without_when", line, subject, rule=rid)
    level = levels.get(rdata["level"])
    _check_level_bounds(rdata, levels, level, collector, subject)
    return Rule(
        rid,
        rdata["level"],
        rdata["topic"],
        rdata["title"],
        rdata["message"],
        tuple(rdata["sources"]),
        rdata.get("note", ""),
        always and when is None,
        when,
        level.rank if level else 0,
        line,
        bool(rdata.get("alone", False)),
        rdata.get("shown_with_level", ""),
        rdata.get("hidden_with_level", ""),
        rdata.get("instead_of_sending", ""),
    )


def _check_level_bounds(rdata, levels, level, collector, subject) -> None:
    """A rule shown or hidden beside a level names one level, above its own."""
    keys = [key for key in ("shown_with_level", "hidden_with_level") if key in rdata]
    if len(keys) == 2:
        collector.add("level_bound_both", rdata.line_of(keys[1]), subject)
    for key in keys:
        bound = levels.get(rdata[key])
        if bound is None:
            known = ", ".join(levels)
            collector.add("unknown_level", rdata.line_of(key), subject, level=rdata[key], levels=known)
        elif level is not None and bound.rank <= level.rank:
            line = rdata.line_of(key)
            collector.add("level_bound_order", line, subject, key=key, bound=bound.id, level=level.id)


def _check_sources(cited, sources, collector, line, subject) -> None:
    for source in cited:
        if source not in sources:
            collector.add("undeclared_source", line, subject, source=source, suggest=suggest(source, sources))
