"""What a nurse meets on a Monday morning: Tried, not reached, why a row is urgent, the spreadsheet's
name and byte-order mark, and the stored Spanish summary marked as Spanish."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup

from screening import create_app, get_db, store

URGENT = {"warning_signs": ["cancer_history"]}


@pytest.fixture
def app(app_config):
    """The app of a clinic in Chicago."""
    return create_app({**app_config, "TIMEZONE": "America/Chicago"})


@pytest.fixture
def morning(clock):
    """Monday 2026-11-23, 09:30 in Chicago (15:30 UTC)."""
    clock.now = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)
    return clock


def move(actions, to_status: str, from_status: str, reference: str = "BP-T001"):
    return actions.post(
        f"/review/submissions/{reference}/status",
        {"from_status": from_status, "to_status": to_status},
        page=f"/review/submissions/{reference}",
    )


def stored(app, reference: str = "BP-T001") -> dict:
    with app.app_context():
        return store.submission_for_review(get_db(), reference)


def inbox_rows(actions, query: str = "") -> dict[str, dict[str, str]]:
    """Return each inbox row's cells by column heading, keyed by reference."""
    html = BeautifulSoup(actions.client.get(f"/review/{query}").get_data(as_text=True), "html.parser")
    table = html.select_one("table.inbox")
    if table is None:
        return {}
    heads = [th.get_text(" ", strip=True).split(" (")[0] for th in table.select("thead th")]
    rows = {}
    for tr in table.select("tbody tr"):
        cells = [cell.get_text(" | ", strip=True) for cell in tr.find_all(["th", "td"])]
        rows[cells[0]] = dict(zip(heads, cells, strict=True))
    return rows


@pytest.mark.parametrize(
    ("current", "to_status", "flash", "then"),
    [
        ("new", "attempted", "Status changed to Tried, not reached.", "attempted"),
        ("in_review", "attempted", "Status changed to Tried, not reached.", "attempted"),
        ("attempted", "attempted", "Status changed to Tried again, not reached.", "attempted"),
        ("attempted", "contacted", "Status changed to Contacted.", "contacted"),
        ("attempted", "closed", "Status changed to Closed.", "closed"),
        ("attempted", "new", "A submission cannot move from Tried, not reached to New.", "attempted"),
        (
            "contacted",
            "attempted",
            "A submission cannot move from Contacted to Tried, not reached.",
            "contacted",
        ),
        ("closed", "attempted", "A submission cannot move from Closed to Tried, not reached.", "closed"),
    ],
)
def test_the_moves_of_tried_not_reached(app, reviewer, add_submissions, current, to_status, flash, then):
    add_submissions({"status": current, "answers": URGENT})
    response = move(reviewer, to_status, current)
    assert response.status_code == 303
    assert flash in reviewer.client.get(response.location).get_data(as_text=True)
    assert stored(app)["status"] == then


def test_each_try_is_counted_and_shown_in_the_clinic_time_zone(app, reviewer, add_submissions, morning):
    add_submissions({"answers": URGENT})
    assert move(reviewer, "attempted", "new").status_code == 303
    row = inbox_rows(reviewer)["BP-T001"]
    assert row["Status"] == "Tried, not reached | 1 try, last 09:30"
    morning.advance(minutes=10)
    assert move(reviewer, "attempted", "attempted").status_code == 303
    assert (stored(app)["attempts"], stored(app)["last_attempt"]) == (2, "2026-11-23T15:40:00.000000+00:00")
    row = inbox_rows(reviewer)["BP-T001"]
    assert row["Status"] == "Tried, not reached | 2 tries, last 09:40", "kept in Needs attention"
    page = reviewer.client.get("/review/submissions/BP-T001").get_data(as_text=True)
    assert "Now: <strong>Tried, not reached</strong> (2 tries, last 09:40)" in page
    assert '<button type="submit">Tried again, not reached</button>' in page
    with app.app_context():
        _, changes = store.submission_history(get_db(), stored(app)["id"])
    assert [(c["from_status"], c["to_status"]) for c in changes] == [
        ("new", "attempted"),
        ("attempted", "attempted"),
    ]
    morning.advance(days=1)
    assert inbox_rows(reviewer)["BP-T001"]["Status"] == "Tried, not reached | 2 tries, last 2026-11-23 09:40"
    assert move(reviewer, "contacted", "attempted").status_code == 303
    assert "BP-T001" not in inbox_rows(reviewer), "reached: no longer needs attention"
    assert (
        inbox_rows(reviewer, "?view=all")["BP-T001"]["Status"] == "Contacted | 2 tries, last 2026-11-23 09:40"
    )


def test_tried_not_reached_is_counted_and_filtered(reviewer, add_submissions):
    add_submissions({"status": "attempted", "answers": URGENT}, {"status": "attempted"}, {"status": "new"})
    page = reviewer.client.get("/review/?view=all").get_data(as_text=True)
    assert 'Tried, not reached <span class="count">2</span>' in page
    assert set(inbox_rows(reviewer, "?status=attempted")) == {"BP-T001", "BP-T002"}
    assert set(inbox_rows(reviewer)) == {"BP-T001"}, "only the urgent one needs attention"
    overview = BeautifulSoup(reviewer.client.get("/review/overview").get_data(as_text=True), "html.parser")
    now = [li.get_text(" ", strip=True) for li in overview.select(".status-now li")]
    assert now == ["New : 1", "In review : 0", "Tried, not reached : 2", "Contacted : 0", "Closed : 0"]


def test_a_row_says_why_it_is_urgent_and_leaves_out_the_card_for_everyone(reviewer, add_submissions, ruleset):
    add_submissions(
        {"answers": {"warning_signs": ["cancer_history", "fever"], "health_factors": ["smoking"]}},
        {"answers": {"health_factors": ["smoking"]}},
    )
    rows = inbox_rows(reviewer, "?view=all")
    titles = {rule.id: rule.title for rule in ruleset.rules}
    assert rows["BP-T001"]["Level"] == (
        f"{ruleset.urgent_level.label} | {titles['cancer-history']}; {titles['infection-signs']}"
    )
    assert rows["BP-T002"]["Level"] == ruleset.level("consider").label, "no reason line below urgent"
    everyone = ruleset.topics["benefits-and-limits"].title
    assert everyone not in rows["BP-T001"]["Topics"] and everyone not in rows["BP-T002"]["Topics"]
    assert rows["BP-T002"]["Topics"] == ruleset.topics["smoking"].title


def test_a_spanish_row_gives_the_reason_in_english(reviewer, add_submissions, ruleset):
    add_submissions({"answers": URGENT, "language": "es"})
    assert {r.id: r.title for r in ruleset.rules}["cancer-history"] in inbox_rows(reviewer)["BP-T001"][
        "Level"
    ]


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("?view=all&date_from=2026-11-30&date_to=2026-12-06", "submissions-2026-11-30-to-2026-12-06.csv"),
        ("?view=all&date_from=2026-11-30", "submissions-2026-11-30-to-2026-11-23.csv"),
        ("?view=all&date_to=2026-11-20", "submissions-up-to-2026-11-20.csv"),
        ("?view=all", "submissions-2026-11-23.csv"),
        (
            "?view=all&date_from=2026-11-01&date_to=2026-11-07&layout=sheet",
            "submissions-2026-11-01-to-2026-11-07-for-spreadsheet.csv",
        ),
    ],
)
def test_the_download_is_named_for_the_days_asked(reviewer, add_submissions, morning, query, name):
    add_submissions({})
    response = reviewer.client.get(f"/review/export.csv{query}")
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'


def test_the_spreadsheet_starts_with_a_byte_order_mark_and_says_the_tries(reviewer, add_submissions, morning):
    add_submissions({"name": "Inés Méndez", "answers": URGENT})
    move(reviewer, "attempted", "new")
    sheet = reviewer.client.get("/review/export.csv?view=all&layout=sheet").get_data()
    assert sheet[:3] == b"\xef\xbb\xbf"
    (line,) = csv.DictReader(io.StringIO(sheet.decode("utf-8-sig")))
    assert line["Name"] == "Inés Méndez"
    assert line["Status"] == "Tried, not reached (1 try, last 2026-11-23 09:30 CST)"
    machine = reviewer.client.get("/review/export.csv?view=all").get_data()
    assert machine.startswith(b"reference,"), "no mark for other programs"
    (line,) = csv.DictReader(io.StringIO(machine.decode()))
    assert line["status"] == "attempted"


@pytest.mark.parametrize(("language", "lang"), [("es", "es"), ("en", "en")])
def test_the_stored_summary_is_marked_with_its_language(reviewer, add_submissions, language, lang):
    add_submissions({"language": language, "summary_html": "<p>Lo que no puede hacer</p>"})
    html = BeautifulSoup(
        reviewer.client.get("/review/submissions/BP-T001").get_data(as_text=True), "html.parser"
    )
    copy = html.select_one(".summary-copy")
    assert copy["lang"] == lang
    assert re.sub(r"\s+", " ", copy.get_text(" ", strip=True)) == "Lo que no puede hacer"


OLD_ROW = (
    "INSERT INTO submissions (reference, idempotency_key, received, status, level, topics, answers, outcome, "
    "summary_html, ruleset_version, ruleset_hash, name, contact_method, updated) VALUES "
    "('BP-OLD1', 'k-old', '2026-11-01T09:00:00.000000+00:00', 'in_review', 'urgent', '[]', '{}', '{}', '', "
    "'1', 'h', 'Old Row', 'phone', '2026-11-01T09:00:00.000000+00:00')"
)


def upgraded_store(store_kind, tmp_path, request, monkeypatch):
    """Return a store migrated to just before Tried, not reached, holding one submission in review."""
    from screening.store import schema_postgres, schema_sqlite

    if store_kind == "sqlite":
        db = store.connect(str(tmp_path / "old.db"))
        schema_sqlite.migrations.apply(db.sqlite, stop_before="m030_tried_not_reached")
    else:
        db = store.connect(request.getfixturevalue("postgres").create_database("before_p030"))
        every = schema_postgres.MIGRATIONS
        monkeypatch.setattr(schema_postgres, "MIGRATIONS", [m for m in every if m[0] < "p030"])
        schema_postgres.migrate(db)
        monkeypatch.setattr(schema_postgres, "MIGRATIONS", every)
    with db.transaction():
        db.execute(OLD_ROW)
    return db


def test_an_older_database_learns_tried_not_reached(store_kind, tmp_path, request, monkeypatch):
    db = upgraded_store(store_kind, tmp_path, request, monkeypatch)
    applied = store.migrate(db)
    # Tried, not reached comes first; any later migration follows it.
    assert applied[0] == ("m030_tried_not_reached" if store_kind == "sqlite" else "p030_tried_not_reached")
    row = store.submission_for_review(db, "BP-OLD1")
    assert (row["status"], row["attempts"], row["last_attempt"]) == ("in_review", 0, "")
    reviewer = {"id": None, "email": "nurse@example.org"}
    with db.transaction():
        db.execute(
            "INSERT INTO reviewers (id, email, password_hash, created, updated) VALUES (7, ?, 'x', 't', 't')",
            [reviewer["email"]],
        )
    reviewer["id"] = 7
    assert store.change_status(db, row, reviewer, "in_review", "attempted")
    assert store.status_counts(db) == {"new": 0, "in_review": 0, "attempted": 1, "contacted": 0, "closed": 0}
    assert store.submission_for_review(db, "BP-OLD1")["attempts"] == 1
    with pytest.raises(Exception, match=r"(?i)check"), db.transaction():
        db.execute("UPDATE submissions SET status = 'lost'")
    db.close()
