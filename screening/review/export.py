"""Write submissions as CSV, streamed one keyset page at a time (constant memory). Knows nothing of Flask.

Two layouts share the filters, the streaming and the guard against spreadsheet formulas:

- `machine`: ids and UTC times, one column per question id, for other programs (the contract);
- `sheet`: the words the screens show (level label, topic titles, answer labels, "Not asked"),
  readable times, and the notes, for a nurse opening it in a spreadsheet.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Callable, Iterator

from .. import store
from . import workflow

FIXED = ("reference", "received", "status", "level", "topics", "ruleset_version")
CONTACT = ("name", "email", "phone", "contact_method")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NOT_ASKED = "Not asked"
CONTACT_WORDS = {"phone": "Phone", "email": "Email"}
LAYOUTS = ("machine", "sheet")
BOM = "\ufeff"


def neutralise(cell: str) -> str:
    """Return a cell a spreadsheet will not run as a formula: a leading = + - @ tab or CR gets a quote."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def topic_ids(stored: str) -> list[str]:
    """Return the topic ids of a submission's `topics` column (a JSON list)."""
    return [str(topic) for topic in json.loads(stored or "[]")]


# --- for programs: ids and UTC times ---------------------------------------------------------------


def machine_header(ruleset) -> list[str]:
    """Return the columns: fixed ones, every question id in order, then contact details."""
    return [*FIXED, *ruleset.questionnaire.questions, *CONTACT, "language"]


def machine_row(row: dict, ruleset) -> list[str]:
    answers = json.loads(row["answers"])
    cells = [
        row["reference"],
        row["received"],
        row["status"],
        row["level"],
        ";".join(topic_ids(row["topics"])),
    ]
    cells.append(row["ruleset_version"])
    for qid in ruleset.questionnaire.questions:
        value = answers.get(qid)
        cells.append(
            "" if value is None else ";".join(map(str, value)) if isinstance(value, list) else str(value)
        )
    cells.extend(row[column] or "" for column in CONTACT)
    cells.append(row.get("language") or "en")
    return cells


# --- for a spreadsheet: the words the screens show --------------------------------------------------


def sheet_header(ruleset) -> list[str]:
    questions = [question.short for question in ruleset.questionnaire.questions.values()]
    return [
        "Reference",
        "Received",
        "Status",
        "Level",
        "Topics",
        "Rule set",
        *questions,
        "Name",
        "Email",
        "Phone",
        "Contact by",
        "Language",
        "Notes",
    ]


def sheet_row(row: dict, ruleset, notes: list[dict], when: Callable[[str], str]) -> list[str]:
    answers = json.loads(row["answers"])
    level = next((lv.label for lv in ruleset.levels if lv.id == row["level"]), row["level"])
    topics = [ruleset.topics[t].title if t in ruleset.topics else t for t in topic_ids(row["topics"])]
    status = workflow.label(row["status"])
    if tries := workflow.tries_words(row.get("attempts") or 0, when(row.get("last_attempt") or "")):
        status = f"{status} ({tries})"
    cells = [row["reference"], when(row["received"]), status, level, "; ".join(topics)]
    cells.append(row["ruleset_version"])
    for question in ruleset.questionnaire.questions.values():
        value = answers.get(question.id)
        cells.append(NOT_ASKED if value is None else "; ".join(question.answer_labels(value)))
    cells.extend([row["name"] or "", row["email"] or "", row["phone"] or ""])
    cells.append(CONTACT_WORDS.get(row["contact_method"], row["contact_method"] or ""))
    cells.append(language_name(row.get("language") or "en"))
    cells.append("\n".join(f"{when(n['created'])}, {n['author']}: {n['body']}" for n in notes))
    return cells


@functools.lru_cache(maxsize=64)
def language_name(code: str) -> str:
    """Return a language's name in English, for the reviewers ("es" -> "Spanish"); worked out once per
    code (an export asks for it on every row)."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(code).get_display_name("en") or code
    except (ValueError, UnknownLocaleError):
        return code


def utc_words(timestamp: str) -> str:
    """Show a stored UTC time as '2026-11-22 13:45 UTC'."""
    return f"{timestamp[:10]} {timestamp[11:16]} UTC" if timestamp else ""


# --- streaming ---------------------------------------------------------------------------------------


def chunks(
    db,
    ruleset,
    query: store.InboxQuery,
    *,
    layout: str = "machine",
    progress: Callable[[int], object] | None = None,
    when: Callable[[str], str] = utc_words,
) -> Iterator[str]:
    """Yield the CSV text chunk by chunk (one keyset page at a time), RFC 4180 with CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    header = machine_header(ruleset) if layout == "machine" else sheet_header(ruleset)
    if layout == "sheet":
        # Excel on Windows reads a CSV without a byte-order mark in the local code page ("MÃ©ndez").
        buffer.write(BOM)
    writer.writerow([neutralise(cell) for cell in header])
    yield flush()
    for rows in store.iter_inbox(db, query):
        if layout == "machine":
            lines = (machine_row(row, ruleset) for row in rows)
        else:
            notes = store.notes_for(db, [row["id"] for row in rows])
            lines = (sheet_row(row, ruleset, notes.get(row["id"], []), when) for row in rows)
        writer.writerows([neutralise(cell) for cell in line] for line in lines)
        if progress:
            progress(len(rows))
        yield flush()


def file_name(query: store.InboxQuery, today: str, layout: str = "machine") -> str:
    """Return the download's name, giving the days asked for: submissions-2026-11-30-to-2026-12-06.csv
    (an open start reads "up-to", an open end runs to `today`; no dates at all: the day it was made)."""
    if query.date_from:
        days = f"{query.date_from}-to-{query.date_to or today}"
    elif query.date_to:
        days = f"up-to-{query.date_to}"
    else:
        days = today
    return f"submissions-{days}{'-for-spreadsheet' if layout == 'sheet' else ''}.csv"


def describe_filters(query: store.InboxQuery) -> str:
    """Describe an export's filters for the audit log (never the search term: it may be a name)."""
    parts = [
        f"{name}={value}"
        for name, value in (
            ("status", query.status or ",".join(query.statuses)),
            ("level", query.level or (",".join(query.levels) if query.statuses else "")),
            ("topic", query.topic),
            ("from", query.date_from),
            ("to", query.date_to),
            ("older rule set", "yes" if query.not_ruleset_hash else ""),
        )
        if value
    ]
    if query.search:
        parts.append("search=(not recorded)")
    return ", ".join(parts) or "all submissions"
