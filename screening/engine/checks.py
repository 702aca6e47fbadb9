"""Check the rule set as a whole: rules that cannot fire, unused parts, reading grade, and the cases."""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import textstat

from . import releases, safety, schemas, translations, yamlfile
from .cases import case_answers
from .errors import Collector, Problem, suggest
from .loading import display_name, load_with_problems, read_checked
from .rules import RuleSet
from .sentences import PLACEHOLDER, sentences

GRADE_LIMIT = 8
MEAN_GRADE_LIMIT = 7
SEARCH_LIMIT = 200_000
SENTENCE_WORDS = 5  # shorter texts are labels, checked word by word instead of by grade
LABEL_SYLLABLES = 3


@dataclass
class Report:
    """What `screening rules check` found."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    ruleset: RuleSet | None = None
    cases: int = 0
    mean_grade: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors


def check_rules_dir(rules_dir, templates_dir=None) -> Report:
    """Load the rule set and run every static check and case; collect every problem.

    With `templates_dir`, the fixed words of the patient templates are graded too.
    """
    rules_dir = Path(rules_dir)
    ruleset, problems = load_with_problems(rules_dir)
    report = Report(errors=problems, ruleset=ruleset)
    if ruleset is None or problems:
        # The static checks and cases need a sound rule set; loading errors come first.
        return report
    rules_file = Collector(display_name(rules_dir, "rules.yaml"), report.errors)
    questions_file = Collector(display_name(rules_dir, "questionnaire.yaml"), report.errors)
    _check_firing(ruleset, rules_file, Collector(rules_file.file, report.warnings))
    _check_unused(ruleset, rules_file, questions_file)
    report.mean_grade = _check_readability(rules_dir, ruleset, report.errors, templates_dir)
    if not report.errors:
        report.cases = _check_cases(rules_dir, ruleset, report.errors)
        safety.check(rules_dir, ruleset, report.errors, report.warnings)
        releases.check(rules_dir, ruleset, report.errors)
    _check_translations(rules_dir, report.errors)
    return report


# --- can every rule fire, and not always? --------------------------------------------------------


def _check_firing(ruleset: RuleSet, errors: Collector, warnings: Collector) -> None:
    for rule in ruleset.rules:
        if rule.when is None:
            continue
        subject = f"rule '{rule.id}'"
        outcomes = set()
        for answers in _answer_space(ruleset, rule.when, warnings, rule.id):
            outcomes.add(rule.when.test(ruleset.questionnaire.clean(answers)))
            if len(outcomes) == 2:
                break
        if outcomes == {False}:
            errors.add("never_fires", rule.line, subject, rule=rule.id)
        elif outcomes == {True}:
            errors.add("always_fires", rule.line, subject, rule=rule.id)


def _answer_space(ruleset: RuleSet, condition, warnings: Collector, rule_id: str) -> Iterator[dict]:
    """Yield every complete answer set over the questions a condition depends on."""
    questionnaire = ruleset.questionnaire
    needed: set[str] = set()
    todo = list(condition.questions())
    while todo:
        qid = todo.pop()
        if qid in needed:
            continue
        needed.add(qid)
        show_when = questionnaire.questions[qid].show_when
        if show_when is not None:
            todo.extend(show_when.questions())
    constants: dict[str, set] = {}
    leaves = list(condition.leaves())
    for qid in needed:
        show_when = questionnaire.questions[qid].show_when
        if show_when is not None:
            leaves.extend(show_when.leaves())
    for leaf in leaves:
        values = leaf.value if isinstance(leaf.value, tuple) else (leaf.value,)
        constants.setdefault(leaf.question, set()).update(values)
    ordered = [q for q in questionnaire.questions if q in needed]
    domains = [_domain(questionnaire.questions[qid], constants.get(qid, set())) for qid in ordered]
    size = 1
    for domain in domains:
        size *= len(domain)
    if size > SEARCH_LIMIT:
        warnings.add("search_too_large", None, f"rule '{rule_id}'", rule=rule_id, count=size)
        return
    for combo in itertools.product(*domains):
        yield dict(zip(ordered, combo, strict=True))


def _domain(question, constants: set) -> list:
    if question.type == "number":
        values = {question.min, question.max}
        for c in constants:
            values.update({c - 1, c, c + 1})
        return sorted(v for v in values if question.min <= v <= question.max)
    if question.type == "single":
        return [option.id for option in question.options]
    plain = [o.id for o in question.options if not o.exclusive and o.id in constants]
    spare = [o.id for o in question.options if not o.exclusive and o.id not in constants][:1]
    pool = plain + spare
    subsets = [list(c) for n in range(1, len(pool) + 1) for c in itertools.combinations(pool, n)]
    return subsets + [[o.id] for o in question.options if o.exclusive]


# --- unused sources, topics and questions ---------------------------------------------------------


def _check_unused(ruleset: RuleSet, rules_file: Collector, questions_file: Collector) -> None:
    cited = {s for rule in ruleset.rules for s in rule.sources}
    cited |= {s for topic in ruleset.topics.values() for s in topic.sources}
    for source in ruleset.sources:
        if source not in cited:
            rules_file.add("unused_source", None, f"source '{source}'", source=source)
    shown = {rule.topic for rule in ruleset.rules}
    for topic in ruleset.topics:
        if topic not in shown:
            rules_file.add("unused_topic", None, f"topic '{topic}'", topic=topic)
    read: set[str] = set()
    for rule in ruleset.rules:
        if rule.when is not None:
            read |= rule.when.questions()
    for question in ruleset.questionnaire.questions.values():
        if question.show_when is not None:
            read |= question.show_when.questions()
    for question in ruleset.questionnaire.questions.values():
        if question.id not in read and not question.collected_for_reviewers:
            questions_file.add("unused_question", None, f"question '{question.id}'", question=question.id)


# --- reading grade -------------------------------------------------------------------------------

QUESTIONNAIRE_TEXT = ("title", "intro", "label", "short", "hint", "min_label", "max_label")
RULES_TEXT = (
    "label",
    "summary",
    "title",
    "what",
    "may_offer",
    "limits",
    "ask",
    "message",
    "instead_of_sending",
)


def patient_texts(rules_dir: Path) -> Iterator[tuple[str, int | None, str]]:
    """Yield (file, line, text) for every string a patient reads."""
    for name, keys in (("questionnaire.yaml", QUESTIONNAIRE_TEXT), ("rules.yaml", RULES_TEXT)):
        data = yamlfile.load(rules_dir / name, Collector(name, []))
        file = display_name(rules_dir, name)
        yield from ((file, line, text) for line, text in _walk(data, keys, skip=("sources", "note")))


def _walk(node, keys, skip, line=None) -> Iterator[tuple[int | None, str]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in skip:
                continue
            key_line = node.line_of(key)
            if key in keys and isinstance(value, str):
                yield key_line, value
            elif key == "messages" and isinstance(value, Mapping):
                yield from ((value.line_of(k), v) for k, v in value.items() if isinstance(v, str))
            elif key in keys and isinstance(value, list):
                yield from ((value.line_of(i), v) for i, v in enumerate(value) if isinstance(v, str))
            else:
                yield from _walk(value, keys, skip, key_line)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, keys, skip, node.line_of(index))


def _check_label(file, line, text, exempt_words, errors: list[Problem]) -> None:
    """Check a short label word by word: Flesch-Kincaid means nothing for two or three words."""
    exempt = {w.lower() for w in exempt_words}
    for word in re.findall(r"[A-Za-z']+", BRACKETED_NAME.sub("", text)):
        if word.lower() not in exempt and textstat.syllable_count(word) > LABEL_SYLLABLES:
            errors.append(
                Problem(
                    "label_word_too_long",
                    file,
                    line,
                    "",
                    {"word": word, "text": text, "limit": LABEL_SYLLABLES},
                )
            )


EXAMPLE_ADDRESS = re.compile(r"\S+@\S+\.[a-z]+")  # an example email address reads as one word
BRACKETED_NAME = re.compile(r"\((?:[^()\s]+\s?){1,3}\)")


def reading_grade(text: str, exempt_words=()) -> float:
    """Return the Flesch-Kincaid grade of a text, with exempt medical words counted as short words.

    A name of up to three words in brackets, after the plain words that explain it ("high blood sugar
    (diabetes)"), counts as one short word too: the patient has already read what it means.
    """
    text = BRACKETED_NAME.sub("(this)", PLACEHOLDER.sub("this", EXAMPLE_ADDRESS.sub("this", text)))
    for word in exempt_words:
        text = re.sub(rf"\b{re.escape(word)}\b", "thing", text, flags=re.IGNORECASE)
    return float(textstat.flesch_kincaid_grade(text))


def grade_sentences(texts, exempt_words, errors: list[Problem]) -> list[float]:
    """Grade every sentence of (file, line, text) items; report each one above the limit, in full.

    Sentences under five words are labels, where the formula means little: their words are checked
    for length instead.
    """
    grades = []
    for file, line, text in texts:
        for sentence in sentences(text):
            if len(sentence.split()) < SENTENCE_WORDS:
                _check_label(file, line, sentence, exempt_words, errors)
                continue
            grade = reading_grade(sentence, exempt_words)
            grades.append(grade)
            if grade > GRADE_LIMIT:
                params = {"grade": grade, "limit": GRADE_LIMIT, "text": sentence}
                errors.append(Problem("grade_too_high", file, line, "", params))
    return grades


def template_texts(templates_dir: Path) -> Iterator[tuple[str, int, str]]:
    """Yield (file, line, text) for the fixed words of the patient templates: the text marked for
    translation (`_("...")` and `{% trans %}` blocks, with each placeholder read as one short word), and
    any text left between tags, with each Jinja expression read as one short word."""
    names = [templates_dir / "base.html", *sorted((templates_dir / "patient").glob("*.html"))]
    names += sorted((templates_dir / "errors").glob("*.html"))
    for path in names:
        if not path.exists():
            continue
        file = f"templates/{path.relative_to(templates_dir)}"
        source = path.read_text(encoding="utf-8")
        yield from ((file, line, text) for line, text in marked_texts(source))
        blank = lambda m: "\n" * m.group(0).count("\n")  # noqa: E731 (keeps line numbers)
        source = TRANS_BLOCK.sub(blank, JINJA_COMMENT.sub(blank, source))
        for match in TEXT_BETWEEN_TAGS.finditer(source):
            raw = match.group(1)
            text = JINJA_EXPRESSION.sub("this", JINJA_STATEMENT.sub(" ", raw))
            text = " ".join(html.unescape(text).split())
            if re.search(r"[A-Za-z]{2}", text) and not text.startswith(("{", "%")):
                line = source.count("\n", 0, match.start(1)) + 1
                yield file, line, text


def marked_texts(source: str) -> Iterator[tuple[int, str]]:
    """Yield (line, text) for each message a template marks for translation, tags and placeholders
    read as plain words (the plural's singular form stands for both)."""
    import io

    from jinja2.ext import babel_extract

    found = babel_extract(io.BytesIO(source.encode()), ("_", "gettext", "ngettext"), [], {})
    for line, _function, message, _comments in found:
        text = message[0] if isinstance(message, tuple) else message
        if not text:
            continue
        text = PLACEHOLDER_FORMAT.sub("this", TAG.sub("", text))
        text = " ".join(html.unescape(text).split())
        if re.search(r"[A-Za-z]{2}", text):
            yield line, text


TRANS_BLOCK = re.compile(r"\{%-?\s*trans\b.*?endtrans\s*-?%\}", re.S)  # graded whole, as marked text
PLACEHOLDER_FORMAT = re.compile(r"%\([a-z_]+\)s")
TAG = re.compile(r"<[^>]+>")
JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)
JINJA_STATEMENT = re.compile(r"\{%.*?%\}", re.S)
JINJA_EXPRESSION = re.compile(r"\{\{.*?\}\}", re.S)
TEXT_BETWEEN_TAGS = re.compile(r">([^<>]+)<")


def _check_readability(rules_dir: Path, ruleset: RuleSet, errors: list[Problem], templates_dir=None) -> float:
    grades = grade_sentences(patient_texts(rules_dir), ruleset.exempt_words, errors)
    if templates_dir is not None:
        grades += grade_sentences(template_texts(Path(templates_dir)), ruleset.exempt_words, errors)
    mean = sum(grades) / len(grades) if grades else 0.0
    if mean > MEAN_GRADE_LIMIT:
        errors.append(
            Problem(
                "grade_mean_too_high",
                display_name(rules_dir, "rules.yaml"),
                None,
                "",
                {"count": len(grades), "grade": mean, "limit": MEAN_GRADE_LIMIT},
            )
        )
    return mean


def _check_translations(rules_dir: Path, errors: list[Problem]) -> None:
    """Every language file must translate every patient text, from the English as it is now."""
    names = translations.language_names(rules_dir)
    if len(names) == 1:
        return
    problems: list[Problem] = []  # the English files were checked already; read them once more, plainly
    qdata = read_checked(rules_dir, "questionnaire.yaml", schemas.QUESTIONNAIRE, problems)
    rdata = read_checked(rules_dir, "rules.yaml", schemas.RULES, problems)
    qfile, rfile = display_name(rules_dir, "questionnaire.yaml"), display_name(rules_dir, "rules.yaml")
    for language, name in names.items():
        if language != translations.SOURCE:
            translations.check(rules_dir, language, name, qdata, rdata, qfile, rfile, errors)


# --- cases ---------------------------------------------------------------------------------------


def _check_cases(rules_dir: Path, ruleset: RuleSet, problems: list[Problem]) -> int:
    data = read_checked(rules_dir, "cases.yaml", schemas.CASES, problems)
    if data is None:
        return 0
    collector = Collector(display_name(rules_dir, "cases.yaml"), problems)
    rule_ids = [rule.id for rule in ruleset.rules]
    for case in data["cases"]:
        _check_case(ruleset, data.get("defaults", {}), case, rule_ids, collector)
    return len(data["cases"])


def _check_case(ruleset: RuleSet, defaults, case, rule_ids, collector: Collector) -> None:
    name, line = case["name"], case.line
    answers = case_answers(defaults, case)
    invalid = ruleset.questionnaire.validate(answers)
    for error in invalid:
        collector.add("case_invalid_answers", line, "", case=name, detail=str(error))
    for rid in [*case.get("fires", []), *case.get("not_fires", [])]:
        if rid not in rule_ids:
            collector.add("case_unknown_rule", line, "", case=name, rule=rid, suggest=suggest(rid, rule_ids))
    if invalid:
        return
    outcome = ruleset.evaluate(answers)
    fired = {f.rule.id for f in outcome.fired}
    if outcome.level != case["level"]:
        collector.add(
            "case_level", case.line_of("level"), "", case=name, expected=case["level"], got=outcome.level
        )
    if list(outcome.topics) != sorted(case["topics"]):
        collector.add(
            "case_topics",
            case.line_of("topics"),
            "",
            case=name,
            expected=sorted(case["topics"]),
            got=list(outcome.topics),
        )
    for rid in case.get("fires", []):
        if rid in rule_ids and rid not in fired:
            collector.add("case_fires", case.line_of("fires"), "", case=name, rule=rid)
    for rid in case.get("not_fires", []):
        if rid in fired:
            collector.add("case_not_fires", case.line_of("not_fires"), "", case=name, rule=rid)
    if "sending" in case and case["sending"] == bool(ruleset.instead_of_sending(outcome)):
        collector.add("case_sending", case.line_of("sending"), "", case=name, expected=case["sending"])
