"""Reviewers read and filter times in the clinic's own time zone (SCREENING_TIMEZONE), across a
daylight-saving change; stored times stay UTC."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import text_of

from screening import StartupError, clinictime, create_app

CHICAGO = "America/Chicago"
# 2026-11-01 is the day Chicago falls back from CDT (UTC-5) to CST (UTC-6), at 07:00 UTC.
BEFORE_CHANGE = "2026-11-01T06:30:00.000000+00:00"  # 01:30 CDT
AFTER_CHANGE = "2026-11-01T07:30:00.000000+00:00"  # 01:30 CST
LATE_THAT_DAY = "2026-11-02T05:30:00.000000+00:00"  # 23:30 CST on the 1st
NEXT_DAY = "2026-11-02T06:30:00.000000+00:00"  # 00:30 CST on the 2nd
EVE = "2026-11-01T04:30:00.000000+00:00"  # 23:30 CDT on 31 October


@pytest.mark.parametrize(
    ("timestamp", "shown"),
    [
        (BEFORE_CHANGE, "2026-11-01 01:30 CDT"),
        (AFTER_CHANGE, "2026-11-01 01:30 CST"),
        (LATE_THAT_DAY, "2026-11-01 23:30 CST"),
        (EVE, "2026-10-31 23:30 CDT"),
    ],
)
def test_times_are_shown_in_the_clinic_zone(timestamp, shown):
    assert clinictime.show(timestamp, clinictime.zone(CHICAGO)) == shown


def test_a_clinic_day_is_25_hours_on_the_day_the_clocks_go_back():
    since, before = clinictime.day_bounds(date(2026, 11, 1), date(2026, 11, 1), clinictime.zone(CHICAGO))
    assert since == "2026-11-01T05:00:00.000000+00:00"
    assert before == "2026-11-02T06:00:00.000000+00:00"


@pytest.fixture
def app_config(app_config, store_kind):
    return {**app_config, "TIMEZONE": CHICAGO}


def test_the_inbox_filters_and_shows_clinic_days(app, reviewer, add_submissions):
    rows = add_submissions(
        *({"received": at} for at in (EVE, BEFORE_CHANGE, AFTER_CHANGE, LATE_THAT_DAY, NEXT_DAY))
    )
    refs = {
        at: row["reference"]
        for at, row in zip((EVE, BEFORE_CHANGE, AFTER_CHANGE, LATE_THAT_DAY, NEXT_DAY), rows, strict=True)
    }
    page = text_of(reviewer.client.get("/review/?view=all&date_from=2026-11-01&date_to=2026-11-01"))
    listed = [ref for ref in refs.values() if ref in page]
    assert listed == [refs[BEFORE_CHANGE], refs[AFTER_CHANGE], refs[LATE_THAT_DAY]]
    assert "2026-11-01 01:30 CDT" in page and "2026-11-01 01:30 CST" in page
    assert f"Received ({CHICAGO})" in page
    assert f"Times are shown in the clinic's time zone, {CHICAGO}." in page


def test_the_submission_page_and_the_spreadsheet_use_clinic_time(app, reviewer, add_submissions):
    (row,) = add_submissions({"received": LATE_THAT_DAY})
    assert "2026-11-01 23:30 CST" in text_of(reviewer.client.get(f"/review/submissions/{row['reference']}"))
    sheet = reviewer.client.get("/review/export.csv?view=all&layout=sheet").get_data(as_text=True)
    assert "2026-11-01 23:30 CST" in sheet
    machine = reviewer.client.get("/review/export.csv?view=all").get_data(as_text=True)
    assert LATE_THAT_DAY in machine, "the CSV for programs keeps ISO 8601 with its offset"


def test_the_audit_log_filters_by_clinic_day(app, admin, accounts):
    page = text_of(admin.client.get("/review/audit?date_from=2000-01-01"))
    assert f"When ({CHICAGO})" in page


def test_a_bad_time_zone_stops_start_up(monkeypatch, tmp_path):
    monkeypatch.setenv("SCREENING_ENV", "development")
    monkeypatch.setenv("SCREENING_DATABASE", str(tmp_path / "tz.db"))
    monkeypatch.setenv("SCREENING_TIMEZONE", "Mars/Olympus")
    with pytest.raises(StartupError) as caught:
        create_app()
    assert str(caught.value) == (
        "SCREENING_TIMEZONE: expected an IANA time zone name such as America/Chicago, found 'Mars/Olympus'."
    )
