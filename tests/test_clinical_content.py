"""The clinical content as a spine physician and a health-literacy editor read it: every sentence at
grade 8 or below (rule files and templates), sources that link to what they cite, the safety net on
every summary and on the send and done pages, and an About page that says who is behind the tool."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DEFAULT_ANSWERS, page, text_of
from engine_fixtures import edit, write_rules

from screening.engine.checks import check_rules_dir, reading_grade, template_texts
from screening.engine.sentences import sentences

ROOT = Path(__file__).resolve().parent.parent


def test_each_sentence_is_graded_and_the_failing_one_is_quoted_in_full(tmp_path):
    hard = "Musculoskeletal discomfort characteristically demonstrates considerable spontaneous amelioration."
    easy = "Most back pain gets better. " * 12
    assert reading_grade(easy + hard) <= 8, "graded as one passage, the hard sentence would hide"
    change = edit("rules", "message: Most back pain gets better in time.", f"message: {easy}{hard}")
    messages = [str(p) for p in check_rules_dir(write_rules(tmp_path, **change)).errors]
    assert messages == [
        f'rules/rules.yaml:45: reading grade 37.7 is above 8: "{hard}". Fix: Use shorter sentences and shorter words.'
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two three four five six. Seven?", ["One.", "Two three four five six.", "Seven?"]),
        (
            "Call 911 now. If your legs are weak, do not drive.",
            ["Call 911 now.", "If your legs are weak, do not drive."],
        ),
        (
            "It is called decompression (a way to make room).",
            ["It is called decompression (a way to make room)."],
        ),
    ],
)
def test_sentences(text, expected):
    assert sentences(text) == expected


def test_a_name_in_brackets_after_its_plain_words_reads_as_one_word():
    assert reading_grade("I have high blood sugar (diabetes)") < reading_grade(
        "I have diabetes and osteoporosis"
    )


def test_the_patient_templates_fixed_words_are_graded(tmp_path):
    folder = tmp_path / "templates"
    (folder / "patient").mkdir(parents=True)
    (folder / "patient" / "x.html").write_text(
        "{% block content %}<p>Hello {{ name }}.</p>\n<p>Notwithstanding considerable administrative "
        "complications, practitioners occasionally recommend physiotherapeutic interventions.</p>{% endblock %}"
    )
    texts = list(template_texts(folder))
    assert texts[0] == ("templates/patient/x.html", 1, "Hello this.")
    report = check_rules_dir(write_rules(tmp_path), templates_dir=folder)
    assert [p.code for p in report.errors] == ["grade_too_high"]
    assert str(report.errors[0]).startswith("templates/patient/x.html:2: reading grade")


def test_the_shipped_templates_pass_and_are_read(ruleset):
    texts = list(template_texts(ROOT / "templates"))
    files = {file for file, _, _ in texts}
    assert {
        "templates/base.html",
        "templates/patient/about.html",
        "templates/patient/_safety_net.html",
    } <= files
    report = check_rules_dir(ROOT / "rules", templates_dir=ROOT / "templates")
    assert report.ok, [str(p) for p in report.errors]


def test_every_guideline_has_a_publisher_a_year_and_a_link(ruleset):
    for source in ruleset.sources.values():
        if source.kind == "guideline":
            assert source.publisher and source.year and source.url.startswith("https://"), source.id


def test_no_card_cites_an_article_that_says_nothing_of_it(ruleset):
    """Smoking, diabetes, blood thinners, weight and heart or lung disease: published guidance, not the
    fracture and failed-surgery articles."""
    for topic in ("smoking", "diabetes", "blood-thinners", "weight", "heart-lung"):
        cited = set(ruleset.topics[topic].sources) | {
            s for r in ruleset.rules if r.topic == topic for s in r.sources
        }
        assert cited and all(ruleset.sources[s].kind == "guideline" for s in cited), topic
    safety = {s for r in ruleset.rules if r.topic == ruleset.safety_topic.id for s in r.sources}
    assert "nice-ng59" not in {s for r in ruleset.rules if r.id == "cancer-history" for s in r.sources}
    assert {"nice-ng234", "nice-cks-lbp", "nice-ng156", "nice-cg146"} <= safety


def test_the_summary_shows_sources_as_links_and_the_safety_net(patient, ruleset):
    html = page(patient.summary({"health_factors": ["blood_thinners"]}))
    link = html.select_one("#card-blood-thinners").find_next("ul", class_="sources").find("a")
    assert link["href"] == ruleset.sources["asra-anticoagulants"].url
    net = html.select_one(".summary .safety-net")
    assert net is not None
    text = " ".join(net.get_text().split())
    assert "Go to the emergency department now, or call 911, if you get:" in text
    assert "no feeling when you pee, poop or wipe" in text
    assert "Call 911 first for sudden, very bad chest or belly pain" in text
    assert "Sending your answers to the clinic does not take the place of seeing a doctor." in text
    assert net.select_one("a[href='tel:911']") is not None


def test_the_send_and_done_pages_carry_the_safety_net(patient):
    patient.summary({})
    assert page(patient.client.get("/send")).select_one(".safety-net") is not None
    patient.send(name="Sam Net", phone="555 010 0100", contact_method="phone", consent="y")
    assert page(patient.client.get("/done")).select_one(".safety-net") is not None


def test_the_emergency_page_has_no_routine_safety_net(patient):
    patient.start()
    patient.answer("safety", {**DEFAULT_ANSWERS, "major_trauma": "yes"})
    assert page(patient.client.get("/emergency")).select_one(".safety-net") is None


def test_the_about_page_says_who_is_behind_the_tool(client, ruleset):
    response = client.get("/about")
    assert response.status_code == 200
    text = text_of(response)
    assert ruleset.about["written_by"] in text
    assert f"This is version {ruleset.version}." in text
    assert ruleset.about["reviewed_on"] in text
    assert f"by {ruleset.approval['by']}." in text
    assert "does small-cut spine surgery. So the clinic may gain if you choose it." in text
    assert "It is not about neck or arm pain." in text
    links = {a["href"] for a in page(response).select("ul.sources a")}
    assert {s.url for s in ruleset.sources.values() if s.url} == links


def test_every_patient_page_links_to_the_about_page(client):
    for url in ("/", "/topics", "/about", "/finished"):
        assert page(client.get(url)).select_one("footer a[href='/about']") is not None, url


def test_us_english_throughout():
    words = ("anaesthe", "carer", "colour", "programme", "haemo", "physiotherap")
    for path in [*(ROOT / "rules").glob("*.yaml"), *(ROOT / "templates" / "patient").glob("*.html")]:
        # Source titles and publishers keep their own spelling (the Royal College of Anaesthetists),
        # and authors' notes are not read by patients.
        lines = path.read_text().splitlines()
        read = [
            line.lower()
            for before, line in zip(["", *lines], lines, strict=False)
            if not line.strip().startswith(("title:", "publisher:", "note:", "url:", "#", "source_hash:"))
            and not before.strip().endswith(".publisher:")  # a publisher's name inside its translation
        ]
        found = [word for word in words if any(word in line for line in read)]
        assert found == [], f"{path.name}: {found}"


def test_surgery_when_can_be_skipped_and_an_answer_under_3_months_is_urgent(patient, ruleset):
    patient.complete({**DEFAULT_ANSWERS, "prior_surgery": "never_helped"})
    assert patient.client.get("/summary").status_code == 200, "someone who cannot say still gets a summary"
    html = page(patient.summary({"prior_surgery": "never_helped", "surgery_when": "under_3_months"}))
    panel = html.select_one(".summary .urgent-panel").get_text(" ", strip=True)
    assert "Call them today if you have a fever, or if your wound is red, hot or leaking." in panel
    assert html.select_one("#card-failed-back-surgery") is None, "too early for the persistent-pain card"
    later = page(patient.summary({"prior_surgery": "never_helped", "surgery_when": "3_to_12_months"}))
    assert later.select_one(".summary .urgent-panel") is None
    assert later.select_one("#card-failed-back-surgery") is not None, "3 months or more: the card as before"
