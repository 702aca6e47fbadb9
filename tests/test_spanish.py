"""Patients in Spanish: choosing and switching the language, every page type in Spanish, the same
outcomes in both languages, what the clinic stores and sees, and the checks on the translations."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from conftest import DEFAULT_ANSWERS, ROOT, RULES_DIR, Patient, page, text_of
from test_patient_journey import EXAMPLES

from screening import get_db, store
from screening.engine import translations
from screening.engine.cases import case_answers
from screening.engine.checks import check_rules_dir
from screening.engine.sentences import sentences
from screening.engine.translations import reading_ease
from screening.rules import load_ruleset

SPANISH = {"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}
CATALOG = ROOT / "translations" / "es" / "LC_MESSAGES"
CONTACT = {"name": "Rosa Díaz", "phone": "555 010 0199", "contact_method": "phone", "consent": "y"}


@pytest.fixture
def spanish_client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = SPANISH["Accept-Language"]
    return client


@pytest.fixture
def paciente(spanish_client, ruleset):
    return Patient(spanish_client, ruleset)


@pytest.fixture(scope="module")
def spanish_ruleset(ruleset):
    return translations.load_translated(RULES_DIR, "es", ruleset)


def english_texts(ruleset) -> set[str]:
    """The English a patient could read: every rule-file text and every template message, in full."""
    # A publisher is a name, which stays a name inside its Spanish ("American College of Physicians
    # (Colegio Americano de Médicos)"); the words around the names are tested on the About page.
    found = {entry.text for entry in rule_entries() if not entry.key.endswith(".publisher")}
    with (CATALOG / "messages.po").open("rb") as file:
        catalog = read_po(file)
    for message in catalog:
        for text in message.id if isinstance(message.id, tuple) else (message.id,):
            if text:
                found.add(re.sub(r"<[^>]+>|%\([a-z]+\)s", " ", text))
    return {" ".join(text.split()) for text in found if len(text.split()) >= 3}


def rule_entries():
    from screening.engine import schemas
    from screening.engine.loading import read_checked

    problems: list = []
    qdata = read_checked(RULES_DIR, "questionnaire.yaml", schemas.QUESTIONNAIRE, problems)
    rdata = read_checked(RULES_DIR, "rules.yaml", schemas.RULES, problems)
    return list(translations.entries(qdata, rdata, "", ""))


def english_left(response, english: set[str]) -> list[str]:
    text = text_of(response)
    return sorted(phrase for phrase in english if phrase in text)


# --- choosing the language -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "lang", "link", "link_lang"),
    [
        ("es-MX,es;q=0.9,en;q=0.5", "es", "English", "en"),
        ("es", "es", "English", "en"),
        ("en-US,en;q=0.9,es;q=0.8", "en", "Español", "es"),
        ("fr-FR,fr;q=0.9", "en", "Español", "es"),
        ("", "en", "Español", "es"),
    ],
)
def test_a_first_visit_follows_the_browser(client, accept, lang, link, link_lang):
    html = page(client.get("/", headers={"Accept-Language": accept}))
    assert html.html["lang"] == lang
    switch = html.select_one("a.language-link")
    assert switch.get_text(strip=True) == link
    assert (switch["lang"], switch["hreflang"]) == (link_lang, link_lang)


def test_switching_part_way_keeps_every_answer_and_returns_to_the_same_page(patient, client, app):
    patient.start()
    patient.answer("safety", DEFAULT_ANSWERS)
    patient.answer("about", DEFAULT_ANSWERS)
    response = press_language(client, "/step/told", "Español")
    assert response.status_code == 303 and response.headers["Location"] == "/step/told"
    html = page(client.get("/step/told"))
    assert html.html["lang"] == "es"
    assert html.h1.get_text(strip=True) == "Lo que le han dicho"
    about = page(client.get("/step/about"))
    assert about.find("input", id="age_band-50_to_64").has_attr("checked"), "the answers are kept"
    assert about.find("label", attrs={"for": "age_band-50_to_64"}).get_text(strip=True) == "De 50 a 64"
    with app.app_context():
        draft = store.get_draft(get_db(), client.get_cookie("draft").value)
    assert draft["progress"]["language"] == "es", "the choice is kept with the draft"
    assert draft["answers"]["age_band"] == "50_to_64"
    # And back to English, again on the same page.
    assert press_language(client, "/step/about", "English").headers["Location"] == "/step/about"
    assert page(client.get("/step/about")).h1.get_text(strip=True) == "You and your pain"


def press_language(client, path: str, name: str):
    """Press a step page's language button (it posts the step's form, with what is ticked)."""
    html = page(client.get(path))
    button = html.select_one("button.language-link")
    assert (button.get_text(strip=True), button["form"]) == (name, "step-form")
    form = html.select_one("form#step-form")
    data = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
    for box in form.select("input[checked]"):
        data.setdefault(box["name"], []).append(box["value"])
    return client.post(button["formaction"], data=data)


def test_the_draft_keeps_the_language_when_the_browser_prefers_another(paciente, spanish_client):
    paciente.start()
    press_language(spanish_client, "/step/safety", "English")
    spanish_client.delete_cookie("language")  # the language cookie lost: the draft still knows
    assert page(spanish_client.get("/step/safety")).html["lang"] == "en"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "step/safety", "/%0d%0aX: y"]
)
def test_the_switch_only_returns_to_a_page_of_this_site(client, target):
    response = client.get("/language/es", query_string={"next": target})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "evil" not in location and "\r" not in location and "\n" not in location


def test_an_unknown_language_changes_nothing(client):
    response = client.get("/language/xx", query_string={"next": "/about"})
    assert response.headers["Location"] == "/about"
    assert "language" not in {c.key for c in client._cookies.values()}


def test_reviewer_pages_stay_in_english(reviewer):
    reviewer.client.set_cookie("language", "es")
    html = page(reviewer.client.get("/review/", headers=SPANISH))
    assert html.html["lang"] == "en"
    assert html.h1.get_text(strip=True) == "Inbox"


# --- every page in Spanish -------------------------------------------------------------------------


def spanish_pages(paciente, client) -> dict:
    pages = {"start": client.get("/"), "topics": client.get("/topics"), "about": client.get("/about")}
    pages["not found"] = client.get("/no-such-page")
    paciente.start()
    answers = {
        **DEFAULT_ANSWERS,
        "warning_signs": ["fever"],
        "diagnosis": ["stenosis"],
        "prior_surgery": "never_helped",
    }
    for step in paciente.ruleset.questionnaire.steps:
        pages[f"step {step.id}"] = client.get(f"/step/{step.id}")
        paciente.answer(step.id, answers)
    pages["step with errors"] = paciente.answer(
        "treatments", {k: v for k, v in answers.items() if k != "treatment_helped"}
    )
    pages["check"] = client.get("/check")
    pages["summary"] = client.get("/summary")
    pages["send"] = client.get("/send")
    pages["send errors"] = paciente.send(name="", phone="12")
    assert paciente.send(**CONTACT).status_code == 302
    pages["done"] = client.get("/done")
    pages["sent summary"] = client.get("/done/summary")
    paciente.start()
    paciente.answer("safety", {**DEFAULT_ANSWERS, "major_trauma": "yes"})
    pages["emergency"] = client.get("/emergency")
    paciente.summary({})
    client.post("/finish", data={"csrf_token": paciente.token("/summary")})
    pages["finished"] = client.get("/finished")
    pages["expired"] = client.get("/check")
    return pages


def test_a_spanish_browser_meets_no_english_on_any_patient_page(paciente, spanish_client, ruleset):
    english = english_texts(ruleset)
    found = {}
    for name, response in spanish_pages(paciente, spanish_client).items():
        assert response.status_code in (200, 400, 404), name
        assert page(response).html["lang"] == "es", name
        left = english_left(response, english)
        if left:
            found[name] = left
    assert found == {}


def test_the_emergency_number_and_the_clinic_come_from_settings(app, spanish_client):
    app.config.update(EMERGENCY_NUMBER="112", CLINIC_NAME="Clínica Norte", CLINIC_PHONE="555 010 0100")
    text = text_of(spanish_client.get("/"))
    assert "llame ya al 112" in text
    assert "Llame a Clínica Norte al 555 010 0100" in text


def test_dates_are_written_the_spanish_way(spanish_client, spanish_ruleset):
    text = text_of(spanish_client.get("/about"))
    assert "23 de noviembre de 2026" in text
    assert "2026-11-23" not in text


def test_sources_say_they_are_in_english(spanish_client):
    html = page(spanish_client.get("/about"))
    items = [" ".join(li.get_text(" ").split()) for li in html.select(".sources li")]
    assert items and all("(en inglés)" in item for item in items)


# --- the same outcomes in both languages -----------------------------------------------------------


def test_every_case_gives_the_same_outcome_in_both_languages(ruleset, spanish_ruleset):
    cases = yaml.safe_load((RULES_DIR / "cases.yaml").read_text())
    assert spanish_ruleset.hash == ruleset.hash and spanish_ruleset.version == ruleset.version
    for case in cases["cases"]:
        answers = case_answers(cases["defaults"], case)
        english, spanish = ruleset.evaluate(answers), spanish_ruleset.evaluate(answers)
        assert (spanish.level, spanish.topics) == (english.level, english.topics), case["name"]
        assert [f.rule.id for f in spanish.fired] == [f.rule.id for f in english.fired], case["name"]
        assert [len(f.reasons) for f in spanish.fired] == [len(f.reasons) for f in english.fired]


# CLINICAL.md's worked examples (the answers that differ, and the cards), with the Spanish heading.
SPANISH_HEADINGS = [
    "Temas de los que podría hablar con un especialista de la columna",
    "Bueno saber",
    "Vea a un médico pronto",
    "Temas de los que podría hablar con un especialista de la columna",
]
WORKED = [
    (diff, heading, cards) for (diff, _, cards), heading in zip(EXAMPLES, SPANISH_HEADINGS, strict=True)
]


@pytest.mark.parametrize(("diff", "heading", "cards"), WORKED)
def test_the_worked_examples_in_spanish(paciente, diff, heading, cards):
    response = paciente.summary(diff)
    assert response.status_code == 200
    html = page(response)
    assert [s["aria-labelledby"].removeprefix("card-") for s in html.select("section.card")] == cards
    text = text_of(response)
    assert heading in text
    assert "Por qué ve esto. Usted nos dijo:" in text
    assert "Esto es para ayudarle a aprender. No es un diagnóstico." in text


@pytest.mark.both_stores
def test_a_spanish_send_is_stored_with_its_language_and_shown_to_reviewers_in_english(
    paciente, spanish_client, app, reviewer
):
    paciente.summary(WORKED[0][0])
    assert paciente.send(**CONTACT).status_code == 302
    with app.app_context():
        row = get_db().one("SELECT * FROM submissions")
    assert row["language"] == "es"
    assert "Temas de los que podría hablar" in row["summary_html"], "the summary as the patient saw it"
    assert '"title":"A bulging disc with leg pain that has lasted"' in row["outcome"], "rules in English"
    inbox = page(reviewer.client.get("/review/?view=all"))
    assert [td.get_text(strip=True) for td in inbox.select("table.inbox tbody td")][-1] == "Spanish"
    only = text_of(reviewer.client.get("/review/?view=all&language=es"))
    assert row["reference"] in only
    assert row["reference"] not in text_of(reviewer.client.get("/review/?view=all&language=en"))
    detail = text_of(reviewer.client.get(f"/review/submissions/{row['reference']}"))
    assert "Language Spanish (the patient used the Spanish pages" in detail
    assert "A bulging or slipped disc (herniated disc)" in detail, "the answers in English for the reviewer"


# --- the checks on the translations ----------------------------------------------------------------


@pytest.fixture
def rules_copy(tmp_path) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(RULES_DIR, folder)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    return next(
        n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line
    )


def test_a_missing_translation_fails_the_check_with_its_place(rules_copy):
    es = rules_copy / "es.yaml"
    edit(es, '    text: "Elija una respuesta."\n', '    text: ""\n')
    problems = [str(p) for p in check_rules_dir(rules_copy).errors]
    line = line_of(rules_copy / "questionnaire.yaml", 'required: "Choose an answer."')
    assert problems == [
        f"rules/questionnaire.yaml:{line}: 'messages.required' has no Español in rules/es.yaml. Fix: Add it to "
        "rules/es.yaml; `screening rules translate` prints what is missing, with the hash to record."
    ]


def test_spanish_of_an_english_text_that_changed_is_stale(rules_copy):
    edit(
        rules_copy / "questionnaire.yaml",
        'required: "Choose an answer."',
        'required: "Please choose an answer."',
    )
    problems = [str(p) for p in check_rules_dir(rules_copy).errors if p.code.startswith("translation")]
    line = line_of(rules_copy / "es.yaml", "  messages.required:")
    assert problems == [
        f"rules/es.yaml:{line}: 'messages.required': the English changed since this was translated; it now "
        'reads "Please choose an answer.". Fix: Check the translation against the new English, then set its '
        f"source_hash to {translations.source_hash('Please choose an answer.')}."
    ]


def test_a_translation_must_keep_the_fields_the_app_fills_in(rules_copy):
    edit(rules_copy / "es.yaml", 'elija \\"{exclusive}\\".', 'elija \\"{exclusivo}\\".')
    problems = [str(p) for p in check_rules_dir(rules_copy).errors]
    line = line_of(rules_copy / "es.yaml", "  messages.required_multi:")
    assert problems == [
        f"rules/es.yaml:{line}: 'messages.required_multi' fills in {{exclusivo}}, but the English fills in "
        "{exclusive}. Fix: Keep each {name} of the English, spelled as it is there; only the words around it "
        "change."
    ]


def test_a_key_that_matches_nothing_is_reported(rules_copy):
    es = rules_copy / "es.yaml"
    es.write_text(
        es.read_text(encoding="utf-8")
        + '  questions.age_bnd.label:\n    text: "Edad"\n    source_hash: 00000000\n',
        encoding="utf-8",
    )
    problems = [str(p) for p in check_rules_dir(rules_copy).errors]
    line = line_of(es, "questions.age_bnd.label:")
    assert problems == [
        f"rules/es.yaml:{line}: 'questions.age_bnd.label' matches no text in the rule files (did you mean "
        "'questions.age_band.label'?). Fix: Remove it, or fix the key."
    ]


def test_spanish_that_reads_too_hard_is_reported(rules_copy):
    hard = "La intervención neuroquirúrgica descompresiva posterolateral constituye habitualmente una alternativa terapéutica."
    edit(rules_copy / "es.yaml", '"Elija una respuesta."', f'"{hard}"')
    problems = [str(p) for p in check_rules_dir(rules_copy).errors]
    line = line_of(rules_copy / "es.yaml", "  messages.required:")
    ease = reading_ease(hard)
    assert ease < 50
    assert problems == [
        f'rules/es.yaml:{line}: reading ease {ease:.0f} is below 50: "{hard}". Fix: Use shorter words and '
        "sentences (Fernández Huerta)."
    ]


def test_every_template_message_is_translated_and_compiled():
    with (CATALOG / "messages.po").open("rb") as file:
        catalog = read_po(file)
    untranslated = [
        m.id for m in catalog if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)
    ]
    assert untranslated == []
    assert not [m.id for m in catalog if m.id and m.fuzzy]
    with (CATALOG / "messages.mo").open("rb") as file:
        compiled = read_mo(file)

    def strings(messages) -> dict:
        def plain(value):
            return tuple(value) if isinstance(value, list | tuple) else value

        return {plain(m.id): plain(m.string) for m in messages if m.id}

    assert strings(compiled) == strings(catalog), (
        "messages.mo is older than messages.po: run make translations"
    )


def test_every_template_text_is_marked_for_translation():
    from screening.engine.checks import template_texts

    marked = {t for _, _, t in _marked(ROOT / "templates")}
    from_tags = [
        (file, line, text)
        for file, line, text in template_texts(ROOT / "templates")
        if text not in marked and re.search(r"[A-Za-z]{2}", text.replace("this", ""))
    ]
    assert from_tags == [], "text between tags that no catalogue can translate"


def _marked(folder: Path):
    from screening.engine.checks import marked_texts

    for path in [
        folder / "base.html",
        *sorted((folder / "patient").glob("*.html")),
        *sorted((folder / "errors").glob("*.html")),
    ]:
        for line, text in marked_texts(path.read_text(encoding="utf-8")):
            yield str(path), line, text


@pytest.mark.parametrize(
    ("english", "spanish"),
    [
        ("NANS and WIP", "NANS y WIP"),
        ("NICE, 20", "NICE (la agencia de salud del Reino Unido), 20"),
    ],
)
def test_names_stay_names_and_the_words_around_them_are_spanish(client, spanish_client, english, spanish):
    assert english in text_of(client.get("/about"))
    about = text_of(spanish_client.get("/about"))
    assert spanish in about and english not in about


def test_a_person_who_approved_stays_as_named(spanish_ruleset):
    from screening.engine.translations import approver_words

    table = {"approvers": {"the tech team (no clinician yet)": "el equipo técnico"}}
    assert approver_words(table, "Dr Ada Lane") == "Dr Ada Lane"
    assert approver_words(table, "the tech team (no clinician yet)") == "el equipo técnico"
    assert approver_words(table, "") == ""


def test_the_about_page_says_who_approved_in_spanish(ruleset, client, spanish_client):
    """The shipped approver is not a person (no clinician has approved yet): said in Spanish, not English."""
    import yaml

    table = yaml.safe_load((RULES_DIR / "es.yaml").read_text(encoding="utf-8"))["approvers"]
    approver = ruleset.approval["by"]
    assert f"by {approver}." in text_of(client.get("/about"))
    about = text_of(spanish_client.get("/about"))
    assert f"Las aprobó: {table.get(approver, approver)}." in about
    if approver in table:
        assert approver not in about


def test_spanish_pages_read_easily(paciente, spanish_client):
    """Each page's Spanish at Fernández Huerta 70 or above, and no sentence below 50."""
    low_pages, hard = [], []
    with translations.spanish_textstat():
        measured = _measure_pages(spanish_pages(paciente, spanish_client), low_pages, hard)
    assert measured >= 19, "every page type with sentences was read"
    assert low_pages == []
    assert hard == []


def _measure_pages(pages: dict, low_pages: list, hard: list) -> int:
    from test_plain_language import texts

    measured, exempt = 0, translations.exempt_words(RULES_DIR / "es.yaml")
    for name, response in pages.items():
        found = [re.sub(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b", "código", t) for t in texts(response)]
        if not found:
            continue
        joined = " ".join(t if t.endswith((".", "?", "!", ":")) else t + "." for t in found)
        ease = reading_ease(joined, exempt)
        if ease < 70:
            low_pages.append(f"{name}: {ease:.0f}")
        for text in found:
            for sentence in sentences(text):
                if len(sentence.split()) >= 5:
                    score = reading_ease(sentence, exempt)
                    if score < 50:
                        hard.append(f"{name}: {score:.0f}: {sentence}")
        measured += 1
    return measured


def test_the_translated_rules_load_from_the_shipped_files(ruleset):
    spanish = load_ruleset(RULES_DIR)
    assert spanish.language == "en"
    assert translations.language_names(RULES_DIR) == {"en": "English", "es": "Español"}


def test_a_third_language_takes_files_not_code(tmp_path, ruleset):
    """The README's steps for adding French, with made-up French: files only, and the app offers it."""
    import subprocess
    import sys

    from click.testing import CliRunner

    from screening import create_app
    from screening.cli import cli

    rules, catalogs = tmp_path / "rules", tmp_path / "translations"
    shutil.copytree(RULES_DIR, rules)
    shutil.copytree(ROOT / "translations", catalogs, ignore=shutil.ignore_patterns("*.pot"))
    # 1. The entries to translate, each with the hash of its English.
    result = CliRunner().invoke(cli, ["rules", "translate", "fr", "--rules-dir", str(rules)])
    assert result.exit_code == 1
    entries = result.stdout
    assert entries.count("source_hash:") == len(rule_entries())
    # 2. rules/fr.yaml: the language, its name, and the entries with their text written.
    lines = entries.splitlines()
    for n, line in enumerate(lines):
        if line.strip() == 'text: ""':  # the English is in the comment on the next line
            fields = " ".join(translations.FIELD.findall(lines[n + 1].split("#", 1)[1]))
            lines[n] = line.replace('""', f'"Texte en français {fields}."'.replace(" .", "."))
    written = "\n".join(lines) + "\n"
    (rules / "fr.yaml").write_text("language: fr\nname: Français\ntexts:\n" + written, encoding="utf-8")
    # 3. The template catalogue: extract, start the French one, translate it, compile it.
    pybabel = [sys.executable, "-m", "babel.messages.frontend"]
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            *pybabel,
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_",
            "-k",
            "gettext",
            "-k",
            "ngettext:1,2",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*pybabel, "init", "-i", str(pot), "-d", str(catalogs), "-l", "fr"], check=True, capture_output=True
    )
    po = catalogs / "fr" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as file:
        catalog = read_po(file, locale="fr")
    for message in catalog:
        if message.id:
            message.string = ("Bonjour.", "Bonjour.") if isinstance(message.id, tuple) else "Bonjour (fr)."
    from babel.messages.pofile import write_po

    with po.open("wb") as file:
        write_po(file, catalog)
    subprocess.run([*pybabel, "compile", "-d", str(catalogs)], check=True, capture_output=True)
    # 4. The check passes, and the app offers French beside English and Spanish.
    assert [str(p) for p in check_rules_dir(rules).errors] == []
    app = create_app(
        {
            "TESTING": True,
            "SCREENING_ENV": "development",
            "SECRET_KEY": "k" * 32,
            "DATABASE": str(tmp_path / "fr.db"),
            "RULES_DIR": str(rules),
            "TRANSLATIONS_DIR": str(catalogs),
        }
    )
    html = page(app.test_client().get("/", headers={"Accept-Language": "fr-CA,fr;q=0.9"}))
    assert html.html["lang"] == "fr"
    assert html.h1.get_text(strip=True) == "Bonjour (fr)."
    assert [(a.get_text(strip=True), a["hreflang"]) for a in html.select("a.language-link")] == [
        ("English", "en"),
        ("Español", "es"),
    ]
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    Patient(client, ruleset).start()
    step = page(client.get("/step/safety"))
    assert step.h1.get_text(strip=True) == "Texte en français.", "the rule files' text in French"
