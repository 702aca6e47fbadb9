"""The inbox: newest first or urgent first, filters, search, counts and keyset pages without gaps."""

from __future__ import annotations

import html
import re

import pytest

from screening import store

URGENT = {"warning_signs": ["cancer_history"]}
EMERGENCY = {"answers": {"emergency_signs": ["bladder_change"]}, "replace": True}
DISCUSS = {"diagnosis": ["herniated_disc"], "pain_location": "leg", "walking_pattern": "no"}
CONSIDER = {"health_factors": ["smoking"]}


def references(response) -> list[str]:
    """Return the submission references listed on an inbox page, in order."""
    assert response.status_code == 200
    return re.findall(
        r'<th scope="row"><a href="/review/submissions/([^"]+)">', response.get_data(as_text=True)
    )


def link(response, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', response.get_data(as_text=True))
    return html.unescape(found.group(1)) if found else None


def day(n: int, hour: int = 9) -> str:
    return f"2026-10-{n:02d}T{hour:02d}:00:00.000000+00:00"


@pytest.fixture
def mixed(add_submissions):
    """Ten submissions across levels, statuses, topics, days and people."""
    return add_submissions(
        {
            "received": day(1),
            "name": "Zelda Quartermain",
            "email": "zq@example.org",
            "phone": "(555) 010-7788",
        },
        {"received": day(2), "answers": URGENT, "status": "in_review"},
        {"received": day(3), **EMERGENCY},
        {"received": day(4), "answers": DISCUSS, "status": "contacted"},
        {"received": day(5), "answers": CONSIDER, "status": "closed"},
        {"received": day(6), "answers": URGENT},
        {"received": day(7), "answers": CONSIDER, "name": "Quentin Zed"},
        {"received": day(8), "answers": DISCUSS, "status": "in_review"},
        {"received": day(9), **EMERGENCY, "status": "closed"},
        {"received": day(10)},
    )


def refs(rows, *numbers) -> list[str]:
    return [rows[n - 1]["reference"] for n in numbers]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("view=all", [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]),
        ("", [3, 6, 2]),
        ("view=attention", [3, 6, 2]),
        ("status=new", [10, 7, 6, 3, 1]),
        ("status=in_review", [8, 2]),
        ("level=urgent", [6, 2]),
        ("level=emergency&status=closed", [9]),
        ("topic=smoking", [7, 5]),
        ("topic=smoking&status=closed", [5]),
        ("topic=safety&level=emergency", [9, 3]),
        ("topic=herniated-disc&level=discuss&status=contacted", [4]),
        ("date_from=2026-10-04&date_to=2026-10-06", [6, 5, 4]),
        ("date_from=2026-10-09", [10, 9]),
        ("date_to=2026-10-01", [1]),
        ("topic=safety&date_from=2026-10-03&date_to=2026-10-06", [6, 3]),
        ("q=quarter", [1]),
        ("q=Quartermain", [1]),
        ("q=ZQ%40EXAMPLE", [1]),
        ("q=555+010+7788", [1]),
        ("q=%28555%29+010-7788", [1]),
        ("q=quentin", [7]),
        ("q=zed", [7]),
        ("q=BP-T004", [4]),
        ("q=bp-t004", [4]),
        ("q=nobody-like-this", []),
        ("q=quentin&status=closed", []),
        ("order=urgent", [9, 3, 6, 2, 8, 4, 7, 5, 10, 1]),
        ("order=urgent&status=new", [3, 6, 7, 10, 1]),
        ("order=urgent&topic=safety", [9, 3, 6, 2]),
        ("order=urgent&level=discuss", [8, 4]),
    ],
)
def test_filters(reviewer, mixed, query, expected):
    assert references(reviewer.client.get(f"/review/?{query}")) == refs(mixed, *expected)


def test_a_common_search_term_walks_the_date_index_and_finds_the_same_rows(reviewer, mixed, monkeypatch):
    rare = references(reviewer.client.get("/review/?q=example"))
    monkeypatch.setattr(store.db, "SEARCH_PROBE_LIMIT", 2)
    assert references(reviewer.client.get("/review/?q=example")) == rare
    assert len(rare) == 10


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date_from=2026-13-40", "Enter a date like 2026-11-22."),
        ("date_to=yesterday", "Enter a date like 2026-11-22."),
        ("q=ab", "Enter at least 3 characters to search."),
        ("level=catastrophic", "Not a valid choice."),
        ("status=lost", "Not a valid choice."),
    ],
)
def test_bad_filters_are_explained_and_ignored(reviewer, mixed, query, message):
    response = reviewer.client.get(f"/review/?{query}")
    page = response.get_data(as_text=True)
    assert message in page
    assert 'class="error-summary"' in page
    assert len(references(response)) == 10


def test_counts_per_status(reviewer, mixed):
    page = reviewer.client.get("/review/?view=all").get_data(as_text=True)
    counts = dict(re.findall(r'>([A-Za-z ]+) <span class="count">([\d,]+)</span>', page))
    assert counts == {
        "Needs attention": "3",
        "All submissions": "10",
        "New": "5",
        "In review": "2",
        "Contacted": "1",
        "Closed": "2",
        "All": "10",
    }


def test_the_csv_link_carries_the_filters(reviewer, mixed):
    page = reviewer.client.get("/review/?status=new&topic=smoking&q=quentin").get_data(as_text=True)
    found = re.search(r'<a href="([^"]+)" download>as CSV for other programs</a>', page)
    assert html.unescape(found.group(1)) == "/review/export.csv?status=new&topic=smoking&q=quentin"
    sheet = re.search(r'<a href="([^"]+)" download>Download these for a spreadsheet</a>', page)
    assert (
        html.unescape(sheet.group(1)) == "/review/export.csv?status=new&topic=smoking&q=quentin&layout=sheet"
    )


def test_pages_have_no_gaps_or_duplicates_while_new_rows_arrive(reviewer, add_submissions):
    older = add_submissions(
        *({"received": f"2026-09-01T{n // 60:02d}:{n % 60:02d}:00.000000+00:00"} for n in range(120))
    )
    expected = [row["reference"] for row in reversed(older)]
    first = reviewer.client.get("/review/?view=all")
    assert references(first) == expected[:50]
    assert link(first, "prev") is None
    add_submissions(*({"received": f"2026-11-20T10:00:0{n}.000000+00:00"} for n in range(5)))
    second = reviewer.client.get(link(first, "next"))
    assert references(second) == expected[50:100]
    third = reviewer.client.get(link(second, "next"))
    assert references(third) == expected[100:]
    assert link(third, "next") is None
    back = reviewer.client.get(link(third, "prev"))
    assert references(back) == expected[50:100]
    top = reviewer.client.get(link(back, "prev"))
    assert references(top) == expected[:50]
    assert link(top, "prev"), "the rows that arrived meanwhile are one Newer away"


def test_urgent_first_pages_cross_levels_without_gaps(reviewer, add_submissions):
    specs = []
    for n in range(100):
        spec = {"received": f"2026-09-01T{n // 60:02d}:{n % 60:02d}:00.000000+00:00"}
        if n % 4 == 0:
            spec.update(EMERGENCY)
        elif n % 4 == 1:
            spec["answers"] = URGENT
        specs.append(spec)
    newest_first = sorted(add_submissions(*specs), key=lambda r: r["received"], reverse=True)
    levels = ("emergency", "urgent", "discuss", "consider", "info")
    expected = [row["reference"] for level in levels for row in newest_first if row["level"] == level]
    seen = []
    response = reviewer.client.get("/review/?order=urgent")
    while True:
        seen += references(response)
        following = link(response, "next")
        if not following:
            break
        response = reviewer.client.get(following)
    assert seen == expected
    back = reviewer.client.get(link(response, "prev"))
    assert references(back) == expected[:50]


def test_a_malformed_cursor_shows_the_first_page(reviewer, mixed):
    for cursor in ("nonsense", "2026-10-05~abc", "x~2026-10-05T00:00:00.000000+00:00~3"):
        assert references(reviewer.client.get(f"/review/?view=all&after={cursor}")) == refs(
            mixed, *range(10, 0, -1)
        )


def test_an_empty_inbox_says_so(reviewer):
    page = reviewer.client.get("/review/").get_data(as_text=True)
    assert "No submissions match these filters." in page


def test_the_overview_draws_charts_with_text_tables(reviewer, add_submissions, clock):
    add_submissions(
        {"received": "2026-11-20T10:00:00.000000+00:00", "answers": URGENT},
        {"received": "2026-11-21T10:00:00.000000+00:00"},
        {"received": "2026-11-10T10:00:00.000000+00:00", "answers": CONSIDER},
        {"received": "2026-01-10T10:00:00.000000+00:00"},  # too old to show
    )
    page = reviewer.client.get("/review/overview").get_data(as_text=True)
    assert page.count("<h1>") == 1
    assert '<svg class="chart" role="img"' in page
    assert '<title id="level-chart-title">Submissions per week by level</title>' in page
    assert "<desc id=" in page
    rows = dict(re.findall(r'<tr><th scope="row">(2026-\d\d-\d\d)</th>(.*?)</tr>', page))
    assert len(rows) == 12
    assert [*rows][::11] == ["2026-08-31", "2026-11-16"]

    def cells(week):
        return re.findall(r"<td>(\d+)</td>", rows[week])

    assert cells("2026-11-16")[-1] == "2"
    assert cells("2026-11-09")[-1] == "1"
    assert sum(int(cells(week)[-1]) for week in rows) == 3
    assert "style=" not in page


def test_the_inbox_opens_on_what_needs_attention_with_counts(reviewer, mixed):
    html = reviewer.client.get("/review/").get_data(as_text=True)
    assert 'aria-current="page">Needs attention <span class="count">3</span>' in html
    assert 'All submissions <span class="count">10</span>' in html
    assert "Emergency and urgent submissions that are New, In review or Tried, not reached" in html


def test_needs_attention_pages_across_two_statuses_without_gaps(reviewer, add_submissions, monkeypatch):
    from screening.review import pager

    monkeypatch.setattr(pager, "PAGE_SIZE", 2)
    statuses = ["new", "in_review", "closed", "new", "in_review", "new", "contacted"]
    added = add_submissions(
        *(
            {
                "answers": {"warning_signs": ["fever"]},
                "status": status,
                "received": f"2026-10-{day:02d}T09:00:00+00:00",
            }
            for day, status in enumerate(statuses, start=1)
        )
    )
    seen, url = [], "/review/?view=attention"
    for _ in range(5):
        response = reviewer.client.get(url)
        seen += references(response)
        url = link(response, "next")
        if not url:
            break
    newest_first = sorted(added, key=lambda r: r["received"], reverse=True)
    assert seen == [r["reference"] for r in newest_first if r["status"] in ("new", "in_review")]
