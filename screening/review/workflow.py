"""The statuses a submission moves through, the words reviewers see for them, and the allowed moves.

The views, the database's counters, the seed data and the exports all read this one table.
"""

from __future__ import annotations

LABELS = {"new": "New", "in_review": "In review", "contacted": "Contacted", "closed": "Closed"}
MOVES = {
    "new": ("in_review", "contacted"),  # a nurse who phoned at once records Contacted in one step
    "in_review": ("contacted",),
    "contacted": ("closed", "in_review"),
    "closed": ("in_review",),
}
NEEDS_A_PERSON = ("new", "in_review")  # with an emergency or urgent level: the "Needs attention" view


def can_move(from_status: str, to_status: str) -> bool:
    """Return whether a reviewer may move a submission from one status to the other."""
    return to_status in MOVES.get(from_status, ())


def label(status: str) -> str:
    return LABELS.get(status, status)
