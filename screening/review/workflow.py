"""The statuses a submission moves through, the words reviewers see for them, and the allowed moves.

The views, the database's counters, the seed data and the exports all read this one table.
"""

from __future__ import annotations

from ..store.db import TRIED

LABELS = {
    "new": "New",
    "in_review": "In review",
    "attempted": "Tried, not reached",
    "contacted": "Contacted",
    "closed": "Closed",
}
MOVES = {
    "new": ("in_review", "attempted", "contacted"),  # a nurse who phoned at once records it in one step
    "in_review": ("attempted", "contacted"),
    # Another unanswered call is another try (the count goes up); after several, the clinic may close it.
    "attempted": ("attempted", "contacted", "closed"),
    "contacted": ("closed", "in_review"),
    "closed": ("in_review",),
}
# With an emergency or urgent level: the "Needs attention" view. Nobody has reached an `attempted` patient.
NEEDS_A_PERSON = ("new", "in_review", "attempted")


def can_move(from_status: str, to_status: str) -> bool:
    """Return whether a reviewer may move a submission from one status to the other."""
    return to_status in MOVES.get(from_status, ())


def label(status: str) -> str:
    return LABELS.get(status, status)


def move_label(from_status: str, to_status: str) -> str:
    """Return the words of a move as a reviewer chooses it ("Tried again, not reached" for a new try)."""
    if from_status == to_status == TRIED:
        return "Tried again, not reached"
    return label(to_status)


def tries_words(attempts: int, last: str) -> str:
    """Say how often the clinic tried to reach the patient ("2 tries, last 09:40"); "" for none.

    `last` is the last try's time as the reader should see it (clinic-local).
    """
    if not attempts:
        return ""
    return f"{attempts} {'try' if attempts == 1 else 'tries'}, last {last}"
