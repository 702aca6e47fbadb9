"""The inbox's storage: triggers keep counts, topic copies and search right; every filter reads an index."""

from __future__ import annotations

import pytest
from conftest import DEFAULT_ANSWERS

from screening import get_db, store

LEVELS = ("emergency", "urgent", "discuss", "consider", "info")


def insert_like_the_patient_side(
    db, reference: str, *, level="discuss", rank=3, status="new", topics=("smoking",)
):
    """Insert a submission the plain way, without the reviewer side's extra columns."""
    at = "2026-11-02T10:00:00.000000+00:00"
    row = {
        "reference": reference,
        "idempotency_key": reference,
        "received": at,
        "status": status,
        "level": level,
        "level_rank": rank,
        "topics": "[]",
        "answers": "{}",
        "outcome": "{}",
        "summary_html": "",
        "ruleset_version": "v",
        "ruleset_hash": "h",
        "name": "Hana Kim",
        "email": "hana@example.net",
        "phone": "5550100",
        "contact_method": "email",
        "search": f"hana kim hana@example.net 5550100 {reference.lower()}",
        "updated": at,
    }
    if "level_rank" not in {column[1] for column in db.execute("PRAGMA table_info(submissions)")}:
        del row["level_rank"]  # dropped by a later migration
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    cursor = db.execute(f"INSERT INTO submissions ({columns}) VALUES ({marks})", list(row.values()))  # noqa: S608
    for topic in topics:
        db.execute(
            "INSERT INTO submission_topics (submission_id, topic, received) VALUES (?, ?, ?)",
            [cursor.lastrowid, topic, at],
        )
    return cursor.lastrowid


def found(db, **filters) -> list[str]:
    query = store.InboxQuery(levels=LEVELS, **filters)
    return [row["reference"] for row in store.inbox_page(db, query)]


def test_triggers_keep_counts_topic_copies_and_search_in_step(app):
    with app.app_context():
        db = get_db()
        submission_id = insert_like_the_patient_side(db, "BP-P001")
        assert db.execute(
            "SELECT level, status FROM submission_topics WHERE submission_id = ?", [submission_id]
        ).fetchall() == [("discuss", "new")]
        assert store.status_counts(db)["new"] == 1
        assert found(db, search="hana") == ["BP-P001"]
        assert found(db, topic="smoking", status="new", level="discuss") == ["BP-P001"]
        reviewer = {"id": store.add_reviewer(db, "r@clinic.example", "hash"), "email": "r@clinic.example"}
        store.change_status(db, {"id": submission_id, "reference": "BP-P001"}, reviewer, "new", "in_review")
        assert store.status_counts(db) == {
            "new": 0,
            "in_review": 1,
            "attempted": 0,
            "contacted": 0,
            "closed": 0,
        }
        assert found(db, topic="smoking", status="in_review") == ["BP-P001"]
        assert found(db, topic="smoking", status="new") == []
        db.execute("DELETE FROM submissions WHERE id = ?", [submission_id])
        assert found(db, search="hana") == []
        assert store.status_counts(db)["in_review"] == 0


def test_the_migration_fills_its_structures_from_existing_rows(tmp_path):
    db = store.connect(tmp_path / "old.db")
    store.schema_sqlite.migrations.apply(db.sqlite, stop_before="m002_reviewer_inbox")
    insert_like_the_patient_side(db, "BP-OLD1", status="closed", level="urgent", rank=4, topics=("safety",))
    store.migrate(db)
    assert store.status_counts(db)["closed"] == 1
    assert found(db, topic="safety", level="urgent", status="closed") == ["BP-OLD1"]
    assert found(db, search="hana@exa") == ["BP-OLD1"]
    db.close()


def plans(db, query: store.InboxQuery, cursor=None) -> list[str]:
    """Run an inbox page and return the query plans of the SELECTs it ran on submissions."""
    statements = []
    with db.tracer(lambda sql, params: statements.append((sql, params))):
        store.inbox_page(db, query, cursor=cursor, limit=51)
    found = []
    for sql, params in statements:
        if sql.startswith("SELECT s."):
            found.append(" / ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql, params or [])))
    return found


CURSOR = ("discuss", "2026-06-01T00:00:00.000000+00:00", 500)


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({}, "USING INDEX submissions_received"),
        ({"status": "new"}, "USING INDEX submissions_status_received"),
        ({"level": "urgent"}, "USING INDEX submissions_level_received"),
        (
            {"status": "new", "level": "urgent"},
            "USING INDEX submissions_status_level_received",
        ),
        ({"topic": "smoking"}, "SEARCH t USING PRIMARY KEY"),
        (
            {"topic": "smoking", "level": "consider"},
            "USING COVERING INDEX submission_topics_level",
        ),
        (
            {"topic": "smoking", "status": "new"},
            "USING COVERING INDEX submission_topics_status",
        ),
        (
            {"date_from": "2026-01-01", "date_to": "2026-02-01"},
            "USING INDEX submissions_received",
        ),
        (
            {"status": "closed", "date_from": "2026-01-01"},
            "USING INDEX submissions_status_received",
        ),
        ({"urgent": True}, "USING INDEX submissions_level_received"),
        (
            {"urgent": True, "status": "new"},
            "USING INDEX submissions_status_level_received",
        ),
        (
            {"urgent": True, "topic": "safety"},
            "USING COVERING INDEX submission_topics_level",
        ),
    ],
)
def test_every_filter_reads_an_index_in_order(app, filters, index):
    with app.app_context():
        db = get_db()
        query = store.InboxQuery(levels=LEVELS, **filters)
        for cursor in (None, CURSOR if filters.get("urgent") else CURSOR[1:]):
            found = plans(db, query, cursor)
            for plan in found:
                assert index in plan, plan
                assert "TEMP B-TREE" not in plan, plan
            if cursor:
                assert "<?" in found[0] or "<(?,?)" in found[0], "a deep page starts inside the index"


def test_a_search_uses_the_trigram_index(app):
    with app.app_context():
        db = get_db()
        insert_like_the_patient_side(db, "BP-S001")
        for plan in plans(db, store.InboxQuery(levels=LEVELS, search="hana")):
            assert "VIRTUAL TABLE INDEX" in plan, plan
        exact = plans(db, store.InboxQuery(levels=LEVELS, search="bp-s001", reference="BP-S001"))
        assert all("INTEGER PRIMARY KEY (rowid=?)" in plan for plan in exact), exact


def test_a_submission_stored_by_the_patient_side_is_found_every_way(app, ruleset):
    answers = {"health_factors": ["smoking"], "warning_signs": ["cancer_history"]}
    outcome = ruleset.evaluate({**DEFAULT_ANSWERS, **answers})
    with app.app_context():
        db = get_db()
        reference, stored = store.insert_submission(
            db,
            {
                "idempotency_key": "k-1",
                "level": outcome.level,
                "topics": list(outcome.topics),
                "answers": outcome.answers,
                "outcome": outcome.to_dict(),
                "summary_html": "<p>Summary</p>",
                "ruleset_version": ruleset.version,
                "ruleset_hash": ruleset.hash,
                "name": "Tomas Rivera",
                "email": "tomas@example.org",
                "phone": "+1 (555) 010-4477",
                "contact_method": "phone",
            },
        )
        assert stored
        assert outcome.level == "urgent"
        for filters in (
            {},
            {"status": "new", "level": "urgent"},
            {"topic": "smoking", "level": "urgent"},
            {"topic": "safety", "status": "new"},
            {"urgent": True, "topic": "smoking"},
            {"search": "rivera"},
            {"search": "5550104477"},
            {"search": reference.replace("-", "").lower()},
            {"search": reference.lower(), "reference": reference},
        ):
            assert found(db, **filters) == [reference], filters
        assert store.status_counts(db)["new"] == 1
