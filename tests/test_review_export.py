"""CSV export: fixed columns, RFC 4180 quoting, formula cells neutralised, streamed, audited."""

from __future__ import annotations

import csv
import io

import pytest
from conftest import REVIEWER_EMAIL

from screening import get_db
from screening.review.export import neutralise

FIXED = ["reference", "received", "status", "level", "topics", "ruleset_version"]
CONTACT = ["name", "email", "phone", "contact_method"]


def export(actions, query: str = ""):
    response = actions.client.get(f"/review/export.csv{query}")
    assert response.status_code == 200
    return response


def rows_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True), newline="")))


def test_columns_and_one_row_per_submission(reviewer, add_submissions, ruleset):
    stored = add_submissions(
        {"answers": {"warning_signs": ["fever", "night_pain"]}},
        {"answers": {"emergency_signs": ["bladder_change"]}, "replace": True, "phone": ""},
    )
    response = export(reviewer)
    header, *body = rows_of(response)
    questions = list(ruleset.questionnaire.questions)
    assert header == [*FIXED, *questions, *CONTACT, "language"]
    assert [row[0] for row in body] == ["BP-T002", "BP-T001"], "newest first, like the inbox"
    first = dict(zip(header, body[1], strict=True))
    answers = stored[0]["answers"]
    assert first["received"] == stored[0]["received"]
    assert first["status"] == "new"
    assert first["level"] == stored[0]["level"]
    assert first["topics"] == ";".join(stored[0]["topics"])
    assert first["ruleset_version"] == ruleset.version
    assert first["warning_signs"] == "fever;night_pain"
    assert first["impact"] == str(answers["impact"])
    assert first["walking_pattern"] == "", "a hidden question is empty"
    assert (first["name"], first["email"], first["contact_method"]) == (
        "Pat Example1",
        "pat1@example.com",
        "phone",
    )
    assert first["language"] == "en"
    second = dict(zip(header, body[0], strict=True))
    assert second["emergency_signs"] == "bladder_change"
    assert second["age_band"] == ""
    assert second["phone"] == ""


def test_headers_name_the_file_and_forbid_caching(reviewer, add_submissions, clock):
    add_submissions({})
    response = export(reviewer)
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="submissions-2026-11-22.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    assert response.is_streamed


def test_rfc4180_quoting_and_crlf_line_ends(reviewer, add_submissions):
    add_submissions({"name": 'Ann "Nan" O\'Neil, Jr.\nsecond line'})
    raw = export(reviewer).get_data(as_text=True)
    assert raw.count("\r\n") == 2
    assert '"Ann ""Nan"" O\'Neil, Jr.\nsecond line"' in raw
    assert rows_of(export(reviewer))[1][-5] == 'Ann "Nan" O\'Neil, Jr.\nsecond line'


@pytest.mark.parametrize(
    ("name", "cell"),
    [
        ('=HYPERLINK("http://evil.example","click")', '\'=HYPERLINK("http://evil.example","click")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@x", "'@x"),
        ("\tX", "'\tX"),
        ("\rX", "'\rX"),
        ("Plain Name", "Plain Name"),
        ("Mid=dle+name", "Mid=dle+name"),
    ],
)
def test_formula_cells_are_neutralised(reviewer, add_submissions, name, cell):
    add_submissions({"name": name, "email": name})
    header, row = rows_of(export(reviewer))
    record = dict(zip(header, row, strict=True))
    assert record["name"] == cell
    assert record["email"] == cell


def test_the_export_follows_the_filters(reviewer, add_submissions):
    add_submissions(
        {"status": "closed", "received": "2026-10-01T10:00:00.000000+00:00"},
        {"answers": {"health_factors": ["smoking"]}, "received": "2026-10-02T10:00:00.000000+00:00"},
        {"answers": {"health_factors": ["smoking"]}, "received": "2026-10-03T10:00:00.000000+00:00"},
        {"name": "Quentin Zed", "received": "2026-10-04T10:00:00.000000+00:00"},
    )
    assert [r[0] for r in rows_of(export(reviewer, "?status=closed"))[1:]] == ["BP-T001"]
    assert [r[0] for r in rows_of(export(reviewer, "?topic=smoking"))[1:]] == ["BP-T003", "BP-T002"]
    assert [r[0] for r in rows_of(export(reviewer, "?date_to=2026-10-02"))[1:]] == ["BP-T002", "BP-T001"]
    assert [r[0] for r in rows_of(export(reviewer, "?q=quentin"))[1:]] == ["BP-T004"]


def test_a_large_export_streams_in_chunks(app, reviewer, add_submissions):
    add_submissions(*({} for _ in range(2500)))
    response = reviewer.client.get("/review/export.csv")
    chunks = list(response.response)
    assert len(chunks) >= 4, "the header, then one chunk per keyset page of 1,000"
    text = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks).decode()
    assert len(list(csv.reader(io.StringIO(text, newline="")))) == 2501


def test_exports_are_audited_without_search_terms(app, reviewer, add_submissions):
    add_submissions({})
    export(reviewer, "?status=new&q=pat+example")
    with app.app_context():
        (row,) = get_db().query("SELECT * FROM audit WHERE action = 'export'")
    assert row["reviewer_email"] == REVIEWER_EMAIL
    assert row["detail"] == "1 row: status=new, search=(not recorded)"
    assert "pat example" not in repr(row).lower()


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("=1+1", "'=1+1"), ("", ""), ("a=b", "a=b"), ("-", "'-"), ("@", "'@"), ("\r", "'\r"), ("'=x", "'=x")],
)
def test_neutralise(cell, expected):
    assert neutralise(cell) == expected


@pytest.mark.parametrize("query", ["?date_from=2026-13-01", "?q=ab", "?level=severe"])
def test_bad_filters_are_not_exported_as_everything(app, reviewer, add_submissions, query):
    add_submissions({})
    response = reviewer.client.get(f"/review/export.csv{query}")
    assert response.status_code == 303
    assert response.location.startswith("/review/?")
    page = reviewer.client.get(response.location).get_data(as_text=True)
    assert "Fix the filters below before downloading." in page
    with app.app_context():
        assert not list(get_db().query("SELECT * FROM audit WHERE action = 'export'"))


def test_the_spreadsheet_layout_shows_the_words_of_the_screens_and_the_notes(
    app, reviewer, add_submissions, ruleset
):
    (row,) = add_submissions(
        {
            "answers": {"warning_signs": ["fever"], "diagnosis": ["stenosis"], "pain_location": "back"},
            "name": "=Quinn Sheet",
            "received": "2026-10-02T08:05:00.000000+00:00",
        }
    )
    reviewer.post(
        f"/review/submissions/{row['reference']}/notes",
        {"body": "Called, left a message.", "to_status": "contacted", "from_status": "new"},
        page=f"/review/submissions/{row['reference']}",
    )
    response = reviewer.client.get("/review/export.csv?view=all&layout=sheet")
    assert response.status_code == 200
    assert "-for-spreadsheet.csv" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith("\ufeffReference,".encode()), "a byte-order mark, so Excel reads UTF-8"
    (line,) = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert line["Reference"] == row["reference"]
    assert line["Received"] == "2026-10-02 08:05 UTC"
    assert line["Status"] == "Contacted"
    assert line["Level"] == ruleset.urgent_level.label
    assert ruleset.safety_topic.title in line["Topics"].split("; ")
    questions = ruleset.questionnaire.questions
    assert line[questions["warning_signs"].short] == questions["warning_signs"].option_label("fever")
    assert line[questions["walking_pattern"].short] == "Not asked"
    assert line["Name"] == "'=Quinn Sheet", "the formula guard holds in this layout too"
    assert line["Contact by"] == "Phone"
    assert line["Language"] == "English"
    assert line["Notes"].endswith(f"{REVIEWER_EMAIL}: Called, left a message.")
    with app.app_context():
        actions = [r["detail"] for r in get_db().query("SELECT detail FROM audit WHERE action = 'export'")]
    assert actions == ["1 row: all submissions, for a spreadsheet"]
