"""The clinic's own time zone (SCREENING_TIMEZONE): stored times are UTC, reviewers read and filter in
the clinic's local time. A clinic day is a local day, whatever its length (23 or 25 hours across a
daylight-saving change). Knows nothing of Flask."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone(name: str) -> ZoneInfo:
    """Return the zone for an IANA name; raise ValueError with a plain message for a bad one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"expected an IANA time zone name such as America/Chicago, found {name!r}") from None


def local(timestamp: str, tz: ZoneInfo) -> datetime:
    """Return a stored ISO-8601 UTC timestamp as the clinic's local time."""
    return datetime.fromisoformat(timestamp).astimezone(tz)


def show(timestamp: str, tz: ZoneInfo, *, seconds: bool = False) -> str:
    """Return '2026-11-22 07:45 CST' (the zone's own abbreviation, right for that day)."""
    if not timestamp:
        return ""
    moment = local(timestamp, tz)
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")


def day_start(day: date, tz: ZoneInfo) -> str:
    """Return the UTC instant (ISO-8601, as stored) at which a clinic-local day begins."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC).isoformat(timespec="microseconds")


def day_bounds(day_from: date | None, day_to: date | None, tz: ZoneInfo) -> tuple[str, str]:
    """Return (since, before) UTC instants for local days from `day_from` to `day_to`, both inclusive
    ("" where a side is open)."""
    since = day_start(day_from, tz) if day_from else ""
    before = day_start(day_to + timedelta(days=1), tz) if day_to else ""
    return since, before


def today(now_utc: str, tz: ZoneInfo) -> date:
    """Return the clinic's local date at a stored UTC instant."""
    return local(now_utc, tz).date()


def short(timestamp: str, tz: ZoneInfo, now_utc: str) -> str:
    """Return '09:40' for a time on the clinic's current day, else '2026-12-04 09:40' (clinic-local)."""
    if not timestamp:
        return ""
    moment = local(timestamp, tz)
    return moment.strftime("%H:%M" if moment.date() == today(now_utc, tz) else "%Y-%m-%d %H:%M")
