"""One keyset pager for the inbox and the audit log: cursors are the sort keys of a page's first or
last row, carried in the Newer/Older links, and checked strictly when they come back."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import url_for

PAGE_SIZE = 50
ROW_ID = re.compile(r"[0-9]{1,18}")  # ASCII digits that fit SQLite's 64-bit integers
STORED_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+\+00:00")


def encode(keys: tuple) -> str:
    return "~".join(str(key) for key in keys)


def decode(text: str | None, *, first: tuple[str, ...] | None = None) -> tuple | None:
    """Return (time, id), or (first, time, id) when `first` gives the allowed leading keys; None for a
    missing or malformed cursor (the first page)."""
    parts = (text or "").split("~")
    if len(parts) != (3 if first is not None else 2) or not ROW_ID.fullmatch(parts[-1]):
        return None
    if first is not None and parts[0] not in first:
        return None
    if not STORED_TIME.fullmatch(parts[-2]):
        return None
    return (*parts[:-1], int(parts[-1]))


def page(
    fetch: Callable[..., list[dict]], args, *, first: tuple[str, ...] | None = None
) -> tuple[list, bool, bool]:
    """Fetch one page after the `after` cursor or before the `before` one; return (rows, newer, older)."""
    after = decode(args.get("after"), first=first)
    before = None if after else decode(args.get("before"), first=first)
    rows = fetch(cursor=after or before, newer=bool(before), limit=PAGE_SIZE + 1)
    if before:
        return rows[-PAGE_SIZE:], len(rows) > PAGE_SIZE, True
    return rows[:PAGE_SIZE], bool(after), len(rows) > PAGE_SIZE


def links(
    endpoint: str, filters: dict, rows: list, newer: bool, older: bool, keys: Callable, paged: bool
) -> dict:
    """Return the Newer, Older and First links for a page (None where there is none)."""
    return {
        "newer": url_for(endpoint, **filters, before=encode(keys(rows[0]))) if rows and newer else None,
        "older": url_for(endpoint, **filters, after=encode(keys(rows[-1]))) if rows and older else None,
        "first": url_for(endpoint, **filters) if paged else None,
    }
