"""Patient text cut into sentences, and the {placeholders} in it that the app fills in: what the English
reading grade (`checks`) and the Spanish reading ease (`translations`) both measure."""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"\{[a-z_]+\}")

SENTENCE_END = re.compile(r"(?<=[.!?])[\"”)]?\s+(?=[A-Z0-9\"“(])")


def sentences(text: str) -> list[str]:
    """Split a text into its sentences (a label or a question is one sentence)."""
    return [part.strip() for part in SENTENCE_END.split(" ".join(text.split())) if part.strip()]
