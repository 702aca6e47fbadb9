"""A patient with two tabs, or two languages: the language switch on a step keeps what is ticked (a
button of the step's form), and a step sent from a page older than another tab's save is shown to the
patient (HTTP 409) instead of overwriting it. Both stores."""

from __future__ import annotations

import pytest
from conftest import DEFAULT_ANSWERS, Patient, page, text_of

from screening import get_db, store

pytestmark = pytest.mark.both_stores

CONFLICT = "You changed these answers in another tab or window"


def the_draft(app, client) -> dict:
    with app.app_context():
        return store.get_draft(get_db(), client.get_cookie("draft").value)


def form_fields(html) -> dict:
    """Return the hidden fields of a step page's form (token, shown questions, revision)."""
    form = html.select_one("form#step-form")
    return {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}


def switch(client, step_id: str, ticked: dict, *, fields: dict | None = None, query: str = ""):
    """Press the language button of a step page with these boxes ticked (as a browser posts them)."""
    html = page(client.get(f"/step/{step_id}{query}"))
    button = html.select_one("button.language-link")
    data = {**form_fields(html), **(fields or {})}
    for qid, value in ticked.items():
        data[qid] = [str(v) for v in value] if isinstance(value, list) else str(value)
    return client.post(button["formaction"], data=data)


def ticked(html) -> dict:
    """Return what a step page shows ticked: {question id: [values]}, in page order."""
    found: dict = {}
    for box in html.select("form#step-form input[checked]"):
        found.setdefault(box["name"], []).append(box["value"])
    return found


@pytest.fixture
def started(patient):
    patient.start()
    patient.answer("safety", DEFAULT_ANSWERS)
    return patient


# --- the language switch on a step ------------------------------------------------------------------


def test_a_step_switches_language_with_a_button_of_its_form_and_other_pages_with_a_link(started, client):
    html = page(client.get("/step/about"))
    assert html.select("a.language-link") == []
    buttons = html.select("button.language-link")
    assert [(b.get_text(strip=True), b["form"], b["formaction"], b["lang"]) for b in buttons] == [
        ("Español", "step-form", "/step/about/language/es", "es")
    ]
    submits = [b for b in html.select("button") if b.get("form") == "step-form" or b.find_parent("form")]
    assert submits[0].has_attr("hidden") and not submits[0].has_attr("formaction"), (
        "the first button of the form is a hidden Continue, so Enter never switches the language"
    )
    for path in ("/", "/about", "/topics"):
        links = page(client.get(path)).select("a.language-link")
        assert [a.get_text(strip=True) for a in links] == ["Español"], path
        assert page(client.get(path)).select("button.language-link") == []


def test_switching_keeps_every_tick_even_a_revealed_question_and_an_invalid_mix(started, client, app):
    before = the_draft(app, client)
    on_page = {"age_band": "65_to_79", "pain_location": "leg", "walking_pattern": "often", "impact": 7}
    response = switch(client, "about", on_page)
    assert (response.status_code, response.headers["Location"]) == (303, "/step/about")
    assert client.get_cookie("language").value == "es"
    html = page(client.get("/step/about"))
    assert html.html["lang"] == "es"
    assert html.h1.get_text(strip=True) == "Usted y su dolor"
    assert ticked(html) == {k: [str(v)] for k, v in on_page.items()}
    assert not html.find(id="walking_pattern").has_attr("hidden"), "the question the answer shows is shown"
    assert html.select_one("button.language-link").get_text(strip=True) == "English"
    draft = the_draft(app, client)
    assert draft["answers"] == before["answers"], "nothing is saved as an answer until Continue"
    assert draft["progress"]["language"] == "es"
    # And back to English: still the same ticks (the question left unanswered stays unanswered).
    switch(client, "about", {"age_band": "65_to_79", "pain_location": "leg", "walking_pattern": "often"})
    html = page(client.get("/step/about"))
    assert (html.html["lang"], html.h1.get_text(strip=True)) == ("en", "You and your pain")
    assert ticked(html) == {"age_band": ["65_to_79"], "pain_location": ["leg"], "walking_pattern": ["often"]}
    # Invalid together is kept too: "none" beside a sign, as ticked; Continue then names the problem.
    switch(client, "safety", {"emergency_signs": ["none"], "warning_signs": ["none", "fever"]})
    assert ticked(page(client.get("/step/safety")))["warning_signs"] == ["fever", "none"]


def test_without_javascript_the_revealed_question_appears_after_the_switch(started, client):
    switch(client, "about", {"pain_location": "both"})  # walking_pattern was not on the page
    html = page(client.get("/step/about"))
    assert ticked(html) == {"pain_location": ["both"]}
    assert not html.find(id="walking_pattern").has_attr("hidden")
    assert "walking_pattern" in form_fields(html)["shown"].split()


def test_continue_after_a_switch_saves_the_ticks_and_drops_the_page_draft(started, client, app):
    switch(client, "about", {**DEFAULT_ANSWERS, "age_band": "80_plus"})
    response = client.post("/step/about", data=_step_form(client, "about"))
    assert (response.status_code, response.headers["Location"]) == (302, "/step/told")
    draft = the_draft(app, client)
    assert draft["answers"]["age_band"] == "80_plus"
    assert "unsaved" not in draft["progress"]
    assert page(client.get("/step/about")).html["lang"] == "es"


def _step_form(client, step_id: str) -> dict:
    """Return what pressing Continue on a step page posts, as the page stands."""
    html = page(client.get(f"/step/{step_id}"))
    data = form_fields(html)
    for qid, values in ticked(html).items():
        data[qid] = values
    return data


def test_a_reload_after_the_switch_shows_the_same_ticks(started, client):
    switch(client, "about", {"age_band": "18_to_49", "impact": 3})
    first = ticked(page(client.get("/step/about")))
    assert first == ticked(page(client.get("/step/about"))) == {"age_band": ["18_to_49"], "impact": ["3"]}


def test_the_switch_keeps_the_way_back_to_check_your_answers(patient, client):
    patient.complete(DEFAULT_ANSWERS)
    response = switch(client, "about", {**DEFAULT_ANSWERS, "impact": 9}, query="?return=check")
    assert response.headers["Location"] == "/step/about?return=check"


@pytest.mark.parametrize(
    ("ticked_now", "level"),
    [
        ({"emergency_signs": ["leg_weakness"]}, "Busque ayuda ahora"),
        ({"emergency_signs": ["none"], "major_trauma": "yes"}, "Busque ayuda ahora"),
    ],
)
def test_an_emergency_answer_wins_at_once_when_the_language_button_is_pressed(
    patient, client, app, ticked_now, level
):
    patient.start()
    response = switch(client, "safety", ticked_now)
    assert (response.status_code, response.headers["Location"]) == (302, "/emergency")
    assert client.get_cookie("language").value == "es"
    assert page(client.get("/emergency")).h1.get_text(strip=True) == level
    with app.app_context():
        assert get_db().scalar("SELECT count(*) FROM drafts") == 0, "the draft goes, as after Continue"


def test_a_switch_with_no_emergency_answer_never_shows_the_emergency_page(patient, client):
    patient.start()
    response = switch(
        client, "safety", {"emergency_signs": ["both_legs_pain"], "both_legs_onset": "long_standing"}
    )
    assert response.headers["Location"] == "/step/safety"
    response = switch(client, "safety", {"emergency_signs": ["none"], "warning_signs": ["fever"]})  # urgent
    assert response.headers["Location"] == "/step/safety"
    response = switch(client, "safety", {"emergency_signs": ["none", "nonsense"], "major_trauma": "no"})
    assert response.headers["Location"] == "/step/safety"


def test_a_stale_token_with_an_emergency_answer_still_shows_the_emergency_page(patient, client):
    patient.start()
    for action in ("/step/safety", "/step/safety/language/es"):
        data = {"csrf_token": "stale", "emergency_signs": "bladder_change"}
        response = client.post(action, data=data)
        assert (response.status_code, response.headers["Location"]) == (302, "/emergency"), action


def test_an_unknown_language_or_step_changes_nothing(started, client, app):
    before = the_draft(app, client)
    data = form_fields(page(client.get("/step/about")))
    assert client.post("/step/about/language/xx", data=data).headers["Location"] == "/step/about"
    assert client.post("/step/nowhere/language/es", data=data).headers["Location"] == "/"
    assert the_draft(app, client)["progress"] == before["progress"]


# --- two tabs -----------------------------------------------------------------------------------------


@pytest.fixture
def second_tab(app, client, started):
    """A second tab: the same browser's cookies, its own pages."""
    other = app.test_client()
    for cookie in ("draft", "session"):
        found = client.get_cookie(cookie)
        if found is not None:
            other.set_cookie(cookie, found.value)
    return Patient(other, started.ruleset)


def test_a_send_from_an_older_tab_is_shown_beside_the_saved_answers_and_saves_nothing(
    started, client, second_tab, app
):
    old_page = _step_form(client, "about")  # tab 1 opens step 2 ...
    second_tab.answer("about", {**DEFAULT_ANSWERS, "age_band": "65_to_79", "impact": 8})  # ... tab 2 saves it
    saved = the_draft(app, client)
    sent = {**old_page, **_fields({**DEFAULT_ANSWERS, "age_band": "18_to_49", "impact": 2})}
    response = client.post("/step/about", data=sent)
    assert response.status_code == 409
    html = page(response)
    assert html.h1.get_text(strip=True) == CONFLICT
    assert "Nothing has been saved yet. Choose which answers to keep." in text_of(response)
    assert _rows(html.select_one("[data-saved]")) == [
        ("Age", "65 to 79"),
        ("How long you have had pain", "3 months to less than 6 months"),
        ("Where the pain is", "Mostly in my back"),
        ("How much the pain gets in the way", "8"),
    ]
    assert _rows(html.select_one("[data-sent]"))[0] == ("Age", "18 to 49")
    assert the_draft(app, client)["answers"] == saved["answers"], "nothing saved until the patient chooses"
    # "Use the answers I just sent": the second form posts them again, at the current revision.
    use = html.select("form")[-1]
    data = {}
    for field in use.select("input[type=hidden]"):
        data.setdefault(field["name"], []).append(field["value"])
    response = client.post(use["action"], data=data)
    assert (response.status_code, response.headers["Location"]) == (302, "/step/told")
    assert the_draft(app, client)["answers"]["age_band"] == "18_to_49"


def test_keep_the_saved_answers_shows_the_page_with_them(started, client, second_tab, app):
    old_page = _step_form(client, "about")  # tab 1 opens step 2 ...
    second_tab.answer("about", {**DEFAULT_ANSWERS, "age_band": "80_plus"})  # ... tab 2 saves the step ...
    switch(
        client, "about", {"age_band": "18_to_49"}, fields={"revision": old_page["revision"]}
    )  # ... 1 switches
    shown = page(client.get("/step/about"))
    assert ticked(shown) == {"age_band": ["18_to_49"]}
    assert form_fields(shown)["revision"] == old_page["revision"], "as old as the page it came from"
    response = client.post("/step/about", data={**form_fields(shown), **_fields(DEFAULT_ANSWERS)})
    assert response.status_code == 409
    keep = page(response).select("form")[0]
    response = client.post(keep["action"], data={"csrf_token": keep.select_one("input")["value"]})
    assert (response.status_code, response.headers["Location"]) == (303, "/step/about")
    assert ticked(page(client.get("/step/about")))["age_band"] == ["80_plus"]
    assert "unsaved" not in the_draft(app, client)["progress"]


@pytest.mark.parametrize(
    ("tab_two", "tab_one", "status"),
    [
        ({"age_band": "80_plus"}, {}, 302),  # tab 1 sends what tab 2 saved: nothing to choose
        ({}, {"age_band": "80_plus"}, 409),  # tab 2 answered the step first, differently
        ({"age_band": "80_plus"}, {"age_band": "18_to_49"}, 409),
        ({"impact": 9}, {"age_band": "18_to_49"}, 409),  # any difference on the step counts
    ],
)
def test_only_a_step_changed_since_the_page_was_made_and_sent_differently_conflicts(
    started, client, second_tab, tab_two, tab_one, status
):
    old_page = _step_form(client, "about")
    second_tab.answer("about", {**DEFAULT_ANSWERS, **tab_two})
    wanted = {**DEFAULT_ANSWERS, **tab_two} if not tab_one else {**DEFAULT_ANSWERS, **tab_one}
    response = client.post("/step/about", data={**old_page, **_fields(wanted)})
    assert response.status_code == status


def test_another_step_saved_in_another_tab_is_no_conflict(started, client, second_tab, app):
    old_page = _step_form(client, "about")
    second_tab.answer("safety", {**DEFAULT_ANSWERS, "warning_signs": ["night_pain"]})
    response = client.post("/step/about", data={**old_page, **_fields(DEFAULT_ANSWERS)})
    assert response.status_code == 302
    assert the_draft(app, client)["answers"]["warning_signs"] == ["night_pain"]


def test_an_emergency_answer_from_an_older_tab_still_wins_at_once(started, client, second_tab):
    old_page = _step_form(client, "safety")
    second_tab.answer("safety", {**DEFAULT_ANSWERS, "warning_signs": ["fever"]})
    sent = {**old_page, **_fields({**DEFAULT_ANSWERS, "emergency_signs": ["saddle_numbness"]})}
    response = client.post("/step/safety", data=sent)
    assert (response.status_code, response.headers["Location"]) == (302, "/emergency")


def test_a_reload_of_a_page_with_errors_is_no_conflict(started, client):
    sent = {**_step_form(client, "about"), "age_band": "65_to_79"}  # the rest unanswered
    assert client.post("/step/about", data=sent).status_code == 400
    assert client.post("/step/about", data=sent).status_code == 400, "the same send again: still no 409"


def test_a_page_with_errors_keeps_the_revision_it_was_made_at(started, client, second_tab):
    old_page = _step_form(client, "about")
    second_tab.answer("about", {**DEFAULT_ANSWERS, "impact": 9})
    response = client.post("/step/about", data={**old_page, "age_band": "18_to_49", "impact": "9"})
    assert response.status_code == 409


def _fields(answers: dict) -> dict:
    return {k: [str(x) for x in v] if isinstance(v, list) else str(v) for k, v in answers.items()}


def _rows(block) -> list[tuple[str, str]]:
    return [
        (row.dt.get_text(" ", strip=True), row.dd.get_text(" ", strip=True))
        for row in block.select(".summary-list__row")
    ]


# --- the store ----------------------------------------------------------------------------------------


def test_every_save_counts_a_revision_and_a_save_over_an_older_one_is_refused(database):
    db = store.connect(database)
    store.migrate(db)
    try:
        token = store.create_draft(db, 1)
        assert store.get_draft(db, token)["revision"] == 0
        assert store.save_draft(db, token, {"impact": 4}, {})
        assert store.save_draft(db, token, {"impact": 5}, {}, revision=1)
        assert not store.save_draft(db, token, {"impact": 6}, {}, revision=1), "another save came first"
        draft = store.get_draft(db, token)
        assert (draft["revision"], draft["answers"]) == (2, {"impact": 5})
        assert not store.save_draft(db, "missing", {}, {}, revision=0)
    finally:
        db.close()


def test_the_choice_after_another_tab_is_in_the_patients_language(started, client, second_tab):
    old_page = _step_form(client, "about")
    second_tab.answer("about", {**DEFAULT_ANSWERS, "impact": 9})
    client.set_cookie("language", "es")
    second_tab.client.set_cookie("language", "es")
    switch(client, "safety", {**DEFAULT_ANSWERS})  # the draft now says Spanish
    response = client.post("/step/about", data={**old_page, **_fields({**DEFAULT_ANSWERS, "impact": 2})})
    html = page(response)
    assert (response.status_code, html.html["lang"]) == (409, "es")
    assert html.h1.get_text(strip=True) == "Usted cambió estas respuestas en otra pestaña o ventana"
    assert [b.get_text(strip=True) for b in html.select("main button")] == [
        "Quedarme con las respuestas guardadas",
        "Usar las respuestas que acabo de enviar",
    ]
    assert "Todavía no se guardó nada. Elija con qué respuestas se queda." in text_of(response)
