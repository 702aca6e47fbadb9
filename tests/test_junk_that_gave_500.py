"""The junk a security team's fuzzer sent that gave a 500 before, each pinned by an exact test, and the
invisible characters that names and notes refuse (bidirectional overrides, format, private-use and
unassigned code points), as they refuse control characters."""

from __future__ import annotations

import sqlite3

import pytest
from conftest import text_of

NAME_MESSAGE = "Your name has a character we cannot use. Type it again."
NOTE_MESSAGE = (
    "A note cannot hold invisible formatting characters (such as a right-to-left override), private-use "
    "or unassigned characters. Type the note again without them."
)
HIDDEN = [
    pytest.param("\u202a", id="U+202A left-to-right embedding"),
    pytest.param("\u202b", id="U+202B right-to-left embedding"),
    pytest.param("\u202c", id="U+202C pop directional formatting"),
    pytest.param("\u202d", id="U+202D left-to-right override"),
    pytest.param("\u202e", id="U+202E right-to-left override"),
    pytest.param("\u2066", id="U+2066 left-to-right isolate"),
    pytest.param("\u2067", id="U+2067 right-to-left isolate"),
    pytest.param("\u2068", id="U+2068 first strong isolate"),
    pytest.param("\u2069", id="U+2069 pop directional isolate"),
    pytest.param("\u200e", id="U+200E left-to-right mark"),
    pytest.param("\u200f", id="U+200F right-to-left mark"),
    pytest.param("\u200b", id="U+200B zero width space"),
    pytest.param("\ufeff", id="U+FEFF byte order mark"),
    pytest.param("\ue000", id="U+E000 private use"),
    pytest.param("\U000f0000", id="U+F0000 supplementary private use"),
    pytest.param("\u0378", id="U+0378 unassigned"),
    pytest.param("\U000e0001", id="U+E0001 language tag"),
]


def count(app, table: str) -> int:
    with sqlite3.connect(app.config["DATABASE"]) as db:
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 (a fixed name)


def test_a_json_body_that_does_not_parse_on_the_send_form_gets_the_form_again(client):
    response = client.post("/send", data="{", content_type="application/json")
    assert response.status_code == 400
    assert "<h1>Send your answers to the clinic</h1>" in response.get_data(as_text=True)


def test_a_post_to_an_unknown_step_without_a_form_token_gets_the_old_form_page(patient, client):
    assert patient.start().status_code == 302
    assert client.get_cookie("draft") is not None
    response = client.post("/step/nope")
    assert response.status_code == 400
    assert "<h1>Please try that again</h1>" in response.get_data(as_text=True)


def test_a_bad_date_on_the_spreadsheet_download_comes_back_to_the_inbox_with_its_message(reviewer):
    response = reviewer.client.get("/review/?layout=sheet&date_from=2026-13-01")
    assert response.status_code == 200
    assert "Enter a date like 2026-11-22." in text_of(response)
    download = reviewer.client.get("/review/export.csv?layout=sheet&date_from=2026-13-01")
    assert download.status_code in (302, 303)
    assert reviewer.client.get(download.headers["Location"]).status_code == 200


@pytest.mark.parametrize("character", HIDDEN)
def test_names_refuse_invisible_characters_and_store_nothing(patient, app, character):
    patient.summary({})
    name = f"Ann{character}Lee"
    response = patient.send(name=name, phone="555 010 0199", contact_method="phone", consent="y")
    assert response.status_code == 400
    assert NAME_MESSAGE in text_of(response)
    assert count(app, "submissions") == 0


@pytest.mark.parametrize(
    "name", ["Zo\u00eb \u00d3 Br\u00edain", "\u0645\u0647\u200c\u0633\u0627", "\u674e\u5c0f\u9f99"]
)
def test_names_in_other_scripts_with_joiners_are_kept(patient, app, name):
    patient.summary({})
    response = patient.send(name=name, phone="555 010 0199", contact_method="phone", consent="y")
    assert response.status_code in (302, 303)
    assert count(app, "submissions") == 1


@pytest.mark.parametrize("character", HIDDEN)
def test_notes_refuse_invisible_characters_and_store_nothing(reviewer, add_submissions, app, character):
    (row,) = add_submissions({})
    url = f"/review/submissions/{row['reference']}"
    response = reviewer.post(f"{url}/notes", {"body": f"call back{character} tomorrow"}, page=url)
    assert response.status_code == 400
    assert NOTE_MESSAGE in text_of(response)
    assert count(app, "notes") == 0
