"""The rule files in another language: one file per language beside the English (`rules/es.yaml`),
keyed by where each English text lives, with a hash of the English it was translated from.

English stays the source: ids, conditions and levels come from the English files alone, so a
translated RuleSet evaluates exactly as the English one and keeps its version and hash. Knows nothing
of Flask.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import textstat

from . import yamlfile
from .errors import Collector, Problem, suggest
from .sentences import PLACEHOLDER, sentences

SOURCE = "en"
SOURCE_NAME = "English"
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")
FIELD = re.compile(r"\{[a-z_]+\}")  # a value the app fills in, such as {option}
EASE_PAGE_LIMIT = 70  # Fernández Huerta: 70 to 80 is fairly easy (about US grade 7)
EASE_SENTENCE_LIMIT = 50
SENTENCE_WORDS = 5  # shorter texts are labels: the formula means little for three words

QUESTION_FIELDS = ("label", "short", "hint", "min_label", "max_label")
TOPIC_FIELDS = ("title", "what", "may_offer", "limits")
RULE_FIELDS = ("title", "message", "instead_of_sending")


@dataclass
class Entry:
    """One English text a patient reads: its key, where it is, and the page it shows on."""

    key: str
    text: str
    file: str
    line: int | None
    page: str
    holder: object  # the mapping or list that holds it, to put a translation in its place
    slot: object

    def replace(self, text: str) -> None:
        self.holder[self.slot] = text


def source_hash(text: str) -> str:
    """Return the short hash of an English text that a translation records it was made from."""
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def entries(qdata: Mapping, rdata: Mapping, qfile: str, rfile: str) -> Iterator[Entry]:
    """Yield every patient-facing text of the two rule files, with its key."""
    for name, text in qdata.get("messages", {}).items():
        yield Entry(
            f"messages.{name}",
            text,
            qfile,
            qdata["messages"].line_of(name),
            "messages",
            qdata["messages"],
            name,
        )
    for step in qdata["steps"]:
        page = f"step '{step['id']}'"
        for field in ("title", "intro"):
            if isinstance(step.get(field), str):
                yield Entry(
                    f"steps.{step['id']}.{field}", step[field], qfile, step.line_of(field), page, step, field
                )
        for question in step["questions"]:
            yield from _fields(question, f"questions.{question['id']}", QUESTION_FIELDS, qfile, page)
            for option in question.get("options", []):
                key = f"questions.{question['id']}.options.{option['id']}"
                yield from _fields(option, key, ("label", "hint"), qfile, page)
    for level in rdata["levels"]:
        yield from _fields(level, f"levels.{level['id']}", ("label", "summary", "heading"), rfile, "levels")
    for tid, topic in rdata["topics"].items():
        page = f"topic '{tid}'"
        yield from _fields(topic, f"topics.{tid}", TOPIC_FIELDS, rfile, page)
        for index, question in enumerate(topic.get("ask", [])):
            ask = topic["ask"]
            yield Entry(f"topics.{tid}.ask.{index}", question, rfile, ask.line_of(index), page, ask, index)
    for rule in rdata["rules"]:
        yield from _fields(rule, f"rules.{rule['id']}", RULE_FIELDS, rfile, f"topic '{rule['topic']}'")
    for sid, source in rdata["sources"].items():
        # A source's title, in the patient's language; the page marks it as a text in English. Its
        # publisher too: names stay names, the words around them ("and", what a name is) are translated.
        yield from _fields(source, f"sources.{sid}", ("title", "publisher"), rfile, "sources")
    about = rdata.get("about") or {}
    if isinstance(about.get("written_by"), str):
        yield Entry(
            "about.written_by",
            about["written_by"],
            rfile,
            about.line_of("written_by"),
            "about",
            about,
            "written_by",
        )


def _fields(node: Mapping, prefix: str, fields, file: str, page: str) -> Iterator[Entry]:
    for field in fields:
        if isinstance(node.get(field), str):
            yield Entry(f"{prefix}.{field}", node[field], file, node.line_of(field), page, node, field)


def _load(path: Path, problems: list[Problem]) -> Mapping:
    if not path.exists():
        return {}
    return yamlfile.load(path, Collector(f"{path.parent.name}/{path.name}", problems)) or {}


def exempt_words(path: Path) -> list[str]:
    """Return the medical names a language file says its cards explain (read as short words)."""
    return _exempt_words(_load(path, []))


def _exempt_words(data: Mapping) -> list[str]:
    return [str(word) for word in data.get("readability_exempt_words") or []]


@dataclass
class Translation:
    text: str
    source_hash: str
    line: int | None


def read(path: Path, problems: list[Problem]) -> dict[str, Translation]:
    """Read a language file: {key: Translation}. A missing file is read as no translations at all."""
    return _translations(_load(path, problems))


def _translations(data: Mapping) -> dict[str, Translation]:
    texts = data.get("texts") or {}
    found = {}
    for key, value in texts.items():
        if isinstance(value, Mapping) and isinstance(value.get("text"), str):
            found[str(key)] = Translation(
                value["text"], str(value.get("source_hash", "")), texts.line_of(key)
            )
    return found


def state(entry: Entry, found: Translation | None) -> str:
    """Return what a translation of an English text needs: "missing", "stale" (the English changed since),
    "fields" (it fills in other values than the English), or "" when it is ready."""
    if found is None or not found.text.strip():
        return "missing"
    if found.source_hash != source_hash(entry.text):
        return "stale"
    if sorted(FIELD.findall(found.text)) != sorted(FIELD.findall(entry.text)):
        return "fields"
    return ""


def apply(qdata: Mapping, rdata: Mapping, translations: Mapping[str, Translation]) -> None:
    """Put the translations in place of the English texts they translate (in the loaded data)."""
    for entry in list(entries(qdata, rdata, "", "")):
        found = translations.get(entry.key)
        if found is not None and found.text.strip():
            entry.replace(found.text)


def check(
    rules_dir: Path, language: str, name: str, qdata, rdata, qfile: str, rfile: str, problems: list[Problem]
) -> None:
    """Report English texts with no translation, translations of English that changed since, keys that
    match nothing, and Spanish that reads too hard (Fernández Huerta, per sentence and per page)."""
    path = rules_dir / f"{language}.yaml"
    file = f"{rules_dir.name}/{path.name}"
    data = _load(path, problems)
    translations = _translations(data)
    known = {}
    for entry in entries(qdata, rdata, qfile, rfile):
        known[entry.key] = entry
        found = translations.get(entry.key)
        needs = state(entry, found)
        if needs == "missing":
            Collector(entry.file, problems).add(
                "translation_missing", entry.line, "", key=entry.key, language=name, file=file
            )
        elif needs == "stale":
            Collector(file, problems).add(
                "translation_stale",
                found.line,
                "",
                key=entry.key,
                english=entry.text,
                hash=source_hash(entry.text),
            )
        elif needs == "fields":
            Collector(file, problems).add(
                "translation_fields",
                found.line,
                "",
                key=entry.key,
                english=", ".join(sorted(set(FIELD.findall(entry.text)))) or "none",
                found=", ".join(sorted(set(FIELD.findall(found.text)))) or "none",
            )
    for key, found in translations.items():
        if key not in known:
            Collector(file, problems).add(
                "translation_unknown", found.line, "", key=key, suggest=suggest(key, known)
            )
    if language == "es":
        with spanish_textstat():  # one switch of textstat's language for every text measured
            _check_ease(file, known, translations, _exempt_words(data), problems)


_SPANISH_DEPTH = [0]


@contextmanager
def spanish_textstat() -> Iterator[None]:
    """textstat's language is global: measure Spanish inside this block, English again after it.

    Switching empties textstat's caches, so a caller measuring many texts wraps them all in one block.
    """
    if _SPANISH_DEPTH[0] == 0:
        textstat.set_lang("es")
    _SPANISH_DEPTH[0] += 1
    try:
        yield
    finally:
        _SPANISH_DEPTH[0] -= 1
        if _SPANISH_DEPTH[0] == 0:
            textstat.set_lang("en_US")


BRACKETED_NAME = re.compile(r"\((?:[^()\s]+\s?){1,4}\)")


def reading_ease(text: str, exempt=()) -> float:
    """Return the Fernández Huerta reading ease of a Spanish text (higher is easier).

    As in English, a medical name the card explains counts as a short word, and so does a name of up
    to four words in brackets after the plain words that explain it ("discos gastados (enfermedad
    degenerativa del disco)").
    """
    text = BRACKETED_NAME.sub("(eso)", text)
    for word in exempt:
        text = re.sub(rf"\b{re.escape(word)}\b", "cosa", text, flags=re.IGNORECASE)
    with spanish_textstat():
        return float(textstat.fernandez_huerta(text))


def _check_ease(file: str, known: Mapping[str, Entry], translations, exempt, problems: list[Problem]) -> None:
    collector = Collector(file, problems)
    pages: dict[str, list[str]] = {}
    for key, entry in known.items():
        found = translations.get(key)
        if entry.page == "sources" or found is None or not found.text.strip():
            continue  # sources: titles of publications, named, not explained, and not read as sentences
        text = PLACEHOLDER.sub("esto", found.text)
        pages.setdefault(entry.page, []).append(text)
        for sentence in sentences(text):
            if len(sentence.split()) >= SENTENCE_WORDS:
                ease = reading_ease(sentence, exempt)
                if ease < EASE_SENTENCE_LIMIT:
                    collector.add(
                        "ease_too_low", found.line, "", ease=ease, limit=EASE_SENTENCE_LIMIT, text=sentence
                    )
    for page, texts in pages.items():
        joined = " ".join(t if t.rstrip().endswith((".", "?", "!", ":")) else t + "." for t in texts)
        ease = reading_ease(joined, exempt)
        if ease < EASE_PAGE_LIMIT:
            collector.add("ease_page_too_low", None, "", page=page, ease=ease, limit=EASE_PAGE_LIMIT)


def language_names(rules_dir: Path) -> dict[str, str]:
    """Return {code: name} for English and every language with a file in the rules folder: a
    `<code>.yaml` that says `language: <code>` and the language's own name (`name: Español`)."""
    names = {SOURCE: SOURCE_NAME}
    for path in sorted(Path(rules_dir).glob("*.yaml")):
        if not LANGUAGE_CODE.fullmatch(path.stem) or path.stem == SOURCE:
            continue
        head = path.read_text(encoding="utf-8")[:4000]  # the two lines sit above the texts
        code = re.search(r"^language:\s*['\"]?([a-z]+)", head, flags=re.M)
        if code and code.group(1) == path.stem:
            name = re.search(r"^name:\s*['\"]?([^'\"\n]+)", head, flags=re.M)
            names[path.stem] = name.group(1).strip() if name else path.stem
    return names


def languages(rules_dir: Path) -> list[str]:
    """Return the languages the rule files are translated into (not English)."""
    return [code for code in language_names(rules_dir) if code != SOURCE]


def load_translated(rules_dir: Path, language: str, english):
    """Return the RuleSet in `language`: the English one's logic, version and hash, with translated texts
    (an English text stays where a translation is missing; `screening rules check` reports it).

    Built once per process for the same files (each app start in the tests would build it again)."""
    rules_dir = Path(rules_dir)
    stamp = tuple(
        (name, (rules_dir / name).stat().st_mtime_ns, (rules_dir / name).stat().st_size)
        for name in ("questionnaire.yaml", "rules.yaml", f"{language}.yaml")
        if (rules_dir / name).exists()
    )
    key = (str(rules_dir.resolve()), language, english.hash, stamp)
    if key not in _TRANSLATED:
        if len(_TRANSLATED) >= 8:
            _TRANSLATED.clear()  # old builds of files that changed since
        _TRANSLATED[key] = _build_translated(rules_dir, language, english)
    return _TRANSLATED[key]


_TRANSLATED: dict = {}


def _build_translated(rules_dir: Path, language: str, english):
    from . import schemas
    from .loading import build_from_data, read_checked

    rules_dir = Path(rules_dir)
    problems: list[Problem] = []
    qdata = read_checked(rules_dir, "questionnaire.yaml", schemas.QUESTIONNAIRE, problems)
    rdata = read_checked(rules_dir, "rules.yaml", schemas.RULES, problems)
    data = _load(rules_dir / f"{language}.yaml", problems)
    apply(qdata, rdata, _translations(data))
    translated = build_from_data(rules_dir, qdata, rdata, problems)
    translated.hash = english.hash
    translated.language = language
    if by := translated.approval.get("by"):
        translated.approval = {**translated.approval, "by": approver_words(data, by)}
    return translated


def approver_words(data: Mapping, approved_by: str) -> str:
    """Return who approved the safety content, in the file's language: a person's name stays as written;
    an approver that is not a person ("the tech team (no clinician yet)") is said as the file's
    `approvers` table says it."""
    table = data.get("approvers") or {}
    said = table.get(approved_by)
    return said if isinstance(said, str) and said.strip() else approved_by
