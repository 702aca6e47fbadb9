"""FHIR search parameters with their exact meaning, read from a query string into a store query.

Dates take the prefixes eq, ne, lt, le, gt, ge (none means eq); a year, month, day, minute or second
is the range it names (in UTC when it carries no offset); several values of one parameter must all
hold. An identifier with a system matches only this server's reference system. A parameter that is
not supported is refused (400) unless the client prefers lenient handling; then it is left out of the
Bundle's self link. Flask-free: the caller passes the query's (name, value) pairs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ..store import FhirQuery
from . import resources as fhir

MAX_COUNT = 100
# Parameters every search takes (results, not filters), beside each type's own.
CONTROL = {"_count", "_cursor", "_elements", "_summary", "_format", "_pretty"}
PARAMETERS = {
    "QuestionnaireResponse": {"_id", "identifier", "_lastUpdated", "_include", "_revinclude"},
    "Patient": {"_id", "identifier", "_lastUpdated"},
    "Observation": {"_id", "_lastUpdated"},
    "Questionnaire": {"_id", "url", "version", "status"},
}
INCLUDES = {"QuestionnaireResponse:subject", "Observation:derived-from", "*"}
OBSERVATION_SUFFIX = "-outcome"
DATE = re.compile(
    r"(eq|ne|lt|le|gt|ge)?([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2})"
    r"(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2}))?)?)?"
)
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
REFERENCE = re.compile(r"[A-Z0-9-]{1,40}")
CURSOR = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+\+00:00)~([0-9]{1,18})")


class SearchError(Exception):
    """A search this server refuses: the status and the OperationOutcome's code and text."""

    def __init__(self, status: int, code: str, text: str):
        super().__init__(text)
        self.status, self.code, self.text = status, code, text


@dataclass
class Search:
    """One search, read: the store query (None when nothing can match) and how to present results."""

    query: FhirQuery | None
    reference_system: str = ""
    count: int = 20
    after: tuple[str, int] | None = None
    includes: set[str] = field(default_factory=set)
    summary_count: bool = False
    elements: tuple[str, ...] = ()
    used: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def parse(
    resource_type: str, pairs: Sequence[tuple[str, str]], *, lenient: bool, reference_system: str
) -> Search:
    """Return the search the (name, value) pairs ask of `resource_type`; raise SearchError if refused.

    `reference_system` is the identifier system of this server's references."""
    allowed = PARAMETERS[resource_type] | CONTROL
    search = Search(query=FhirQuery(), reference_system=reference_system)
    for name, value in pairs:
        if name not in allowed:
            if not lenient:
                supported = ", ".join(sorted(PARAMETERS[resource_type] | CONTROL - {"_cursor"}))
                raise SearchError(
                    400,
                    "not-supported",
                    f"Unknown search parameter {name[:40]!r} for {resource_type}; supported: {supported}. "
                    "Send Prefer: handling=lenient to have unknown parameters ignored.",
                )
            search.ignored.append(name)
            continue
        if name not in ("_cursor", "_format", "_pretty"):
            search.used.append((name, value))
    for name, value in pairs:
        if name in allowed and name not in ("_format", "_pretty"):
            _read(resource_type, search, name, value)
    return search


def _read(resource_type: str, search: Search, name: str, value: str) -> None:
    if name == "_count":
        if not re.fullmatch(r"[0-9]{1,3}", value) or not 1 <= int(value) <= MAX_COUNT:
            raise SearchError(400, "value", f"_count must be a whole number from 1 to {MAX_COUNT}.")
        search.count = int(value)
    elif name == "_cursor":
        cursor = CURSOR.fullmatch(value)
        if cursor is None:
            raise SearchError(400, "value", "_cursor is not one this server made; start from the first page.")
        search.after = (cursor.group(1), int(cursor.group(2)))
    elif name == "_summary":
        if value not in ("count", "false"):
            raise SearchError(400, "not-supported", "_summary takes count or false here.")
        search.summary_count = value == "count"
    elif name == "_elements":
        search.elements = elements(value)
    elif name in ("_include", "_revinclude"):
        if value not in INCLUDES:
            raise SearchError(
                400,
                "not-supported",
                "_include takes QuestionnaireResponse:subject; _revinclude Observation:derived-from.",
            )
        search.includes.add(value)
    elif name == "_lastUpdated":
        _narrow_dates(search, date_range(value))
    elif name == "_id":
        _narrow(search, {reference_of(resource_type, one) for one in _values(name, value, FHIR_ID)})
    elif name == "identifier":
        values = value.split(",")
        if f"{search.reference_system}|" in values:
            return  # every submission's identifier is in this system
        _narrow(search, {_identifier(one, search.reference_system) for one in values})


def elements(value: str) -> tuple[str, ...]:
    """Return the element names of an `_elements` value; raise SearchError for anything else."""
    names = tuple(part.strip() for part in value.split(","))
    if not all(re.fullmatch(r"[a-zA-Z]{1,64}", part) for part in names):
        raise SearchError(400, "value", "_elements takes element names separated by commas, like id,status.")
    return names


def _values(name: str, value: str, shape: re.Pattern) -> list[str]:
    values = value.split(",")
    if not all(shape.fullmatch(one) for one in values):
        raise SearchError(
            400, "value", f"{name} takes ids of letters, digits, '-' and '.', separated by commas."
        )
    return values


def reference_of(resource_type: str, resource_id: str) -> str | None:
    """Return the submission reference a resource id names, or None when it names none."""
    if resource_type == "Observation":
        if not resource_id.endswith(OBSERVATION_SUFFIX):
            return None
        resource_id = resource_id[: -len(OBSERVATION_SUFFIX)]
    return resource_id if REFERENCE.fullmatch(resource_id) else None


def _identifier(token: str, reference_system: str) -> str | None:
    """Return the reference a token search names; None for another system's identifier (or none)."""
    system, bar, code = token.rpartition("|")
    if bar and not code and system:
        return None  # another system's identifiers: none of ours
    if not REFERENCE.fullmatch(code):
        raise SearchError(400, "value", "identifier must be a submission reference such as K7QM-2XPA.")
    if bar and system != reference_system:
        return None
    return code


def _narrow(search: Search, references: set[str | None]) -> None:
    """AND one parameter's values (any of) with what the search asked so far."""
    wanted = {r for r in references if r is not None}
    if search.query is None:
        return
    current = set(search.query.references)
    if current:
        wanted &= current
    search.query = (
        FhirQuery(references=tuple(sorted(wanted)), dates=search.query.dates, since=search.query.since)
        if wanted
        else None
    )


def _narrow_dates(search: Search, clause: tuple[str, str, str]) -> None:
    if search.query is not None:
        search.query = FhirQuery(
            references=search.query.references, dates=(*search.query.dates, clause), since=search.query.since
        )


def date_range(value: str) -> tuple[str, str, str]:
    """Return (prefix, start, end) for a date search value: the UTC range [start, end) it names."""
    found = DATE.fullmatch(value)
    if found is None:
        raise SearchError(
            400,
            "value",
            "_lastUpdated takes a prefix (eq, ne, lt, le, gt, ge) and a date: 2026, 2026-11, 2026-11-01 "
            "or 2026-11-01T09:30:00Z.",
        )
    prefix, year, month, day, hour, minute, second, fraction, zone = found.groups()
    try:
        if hour is not None:
            start = datetime.fromisoformat(
                f"{year}-{month}-{day}T{hour}:{minute}:{second or '00'}{fraction or ''}"
                + ("+00:00" if zone == "Z" else zone)
            ).astimezone(UTC)
            step = {"fraction": timedelta(microseconds=1), "second": timedelta(seconds=1)}
            width = step["fraction"] if fraction else step["second"] if second else timedelta(minutes=1)
            end = start + width
        elif day is not None:
            start = datetime(int(year), int(month), int(day), tzinfo=UTC)
            end = start + timedelta(days=1)
        elif month is not None:
            start = datetime(int(year), int(month), 1, tzinfo=UTC)
            end = datetime(int(year) + int(month) // 12, int(month) % 12 + 1, 1, tzinfo=UTC)
        else:
            start = datetime(int(year), 1, 1, tzinfo=UTC)
            end = datetime(int(year) + 1, 1, 1, tzinfo=UTC)
    except ValueError:
        raise SearchError(400, "value", f"_lastUpdated: {value[:40]!r} is not a real date.") from None
    return prefix or "eq", _stored(start), _stored(end)


def _stored(moment: datetime) -> str:
    """Return an instant as the stored UTC text it compares with."""
    return moment.isoformat(timespec="microseconds")


def questionnaire_matches(pairs: Sequence[tuple[str, str]], version: str, systems: fhir.Systems) -> bool:
    """Return whether the one Questionnaire matches every url, version, _id and status given."""
    tests = {
        "url": lambda v: v in (systems.questionnaire, f"{systems.questionnaire}|{version}"),
        "version": lambda v: v == version,
        "_id": lambda v: v == fhir.QUESTIONNAIRE_ID,
        "status": lambda v: v == "active",
    }
    return all(any(tests[name](one) for one in value.split(",")) for name, value in pairs if name in tests)
