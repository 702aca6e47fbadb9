"""Write submissions as FHIR NDJSON, a keyset page at a time (constant memory at any size).

One writer for `screening export --fhir` (every resource in one file) and Bulk Data `$export` (a file
per resource type). Flask-free.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import IO

from . import resources as fhir
from .form import Forms

SUBMISSION_TYPES = ("Patient", "QuestionnaireResponse", "Observation")


def line(resource: dict) -> str:
    return json.dumps(resource, separators=(",", ":"), ensure_ascii=False) + "\n"


def write_submissions(
    chunks: Iterable[list[dict]],
    outputs: Mapping[str, IO[str]],
    forms: Forms,
    ruleset,
    systems: fhir.Systems,
    on_chunk: Callable[[int], bool] | None = None,
) -> dict[str, int]:
    """Write each submission's resources of the types in `outputs` to their file; return counts by type.

    `on_chunk(rows so far)` runs after each page; when it returns False the writing stops there.
    """
    counts = dict.fromkeys(outputs, 0)
    done = 0
    for rows in chunks:
        for row in rows:
            for resource in fhir.resources_for(row, forms.for_row(row), ruleset, systems):
                kind = resource["resourceType"]
                if kind in outputs:
                    outputs[kind].write(line(resource))
                    counts[kind] += 1
        done += len(rows)
        if on_chunk is not None and on_chunk(done) is False:
            break
    return counts
