"""Compressed pages: the patient pages, the stylesheet and the script go out brotli- or gzip-compressed when
the browser asks; nothing that could leak a secret through its size (BREACH) is compressed."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import brotli
import pytest
from conftest import DEFAULT_ANSWERS, ReviewerActions

MARKER = "zqxj7probe"
CHROME_OVER_HTTPS = "gzip, deflate, br"
GZIP_ONLY = "gzip, deflate"  # what a browser asks over plain HTTP
STATIC = ["/static/site.css", "/static/app.js"]


def patient_pages(patient) -> list[str]:
    """Walk a patient through every step and the send; return every page they meet on the way."""
    steps = [f"/step/{step.id}" for step in patient.ruleset.questionnaire.steps]
    patient.complete(DEFAULT_ANSWERS)
    return ["/", "/about", "/topics", *steps, "/check", "/summary", "/send"]


def decoded(response) -> bytes:
    body = response.get_data()
    encoding = response.headers.get("Content-Encoding")
    if encoding == "br":
        return brotli.decompress(body)
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    return body


@pytest.mark.parametrize(
    ("accept", "page_encoding", "static_encoding"),
    [(CHROME_OVER_HTTPS, "br", "br"), (GZIP_ONLY, "gzip", "gzip"), ("identity", None, None)],
)
def test_patient_pages_and_static_files_are_compressed_as_the_browser_asks(
    patient, accept, page_encoding, static_encoding
):
    for path in patient_pages(patient):
        response = patient.client.get(path, headers={"Accept-Encoding": accept})
        assert response.status_code == 200, path
        assert response.headers.get("Content-Encoding") == page_encoding, path
        assert "Accept-Encoding" in response.headers["Vary"], path
        assert decoded(response).startswith(b"<!doctype html>"), path
    for path in STATIC:
        response = patient.client.get(path, headers={"Accept-Encoding": accept})
        assert response.headers.get("Content-Encoding") == static_encoding, path
        source = Path(patient.client.application.static_folder) / path.removeprefix("/static/")
        assert decoded(response) == source.read_bytes(), path
        asked_again = {"Accept-Encoding": accept, "If-None-Match": response.headers["ETag"]}
        with patient.client.get(path, headers=asked_again) as again:  # closed: a 304 leaves its file open
            assert again.status_code == 304, "a browser holding this copy keeps it"


def test_no_patient_page_shows_its_query_string(patient):
    """A compressed page must not echo text an attacker chose, next to its CSRF token."""
    for path in patient_pages(patient):
        query = f"?q={MARKER}&next={MARKER}&return={MARKER}&lang={MARKER}"
        response = patient.client.get(path + query, headers={"Accept-Encoding": CHROME_OVER_HTTPS})
        assert MARKER not in decoded(response).decode(), path


def test_responses_that_carry_a_token_beside_posted_or_searched_text_are_not_compressed(
    patient, client, accounts
):
    patient.start()
    asked = {"Accept-Encoding": CHROME_OVER_HTTPS}
    posted = patient.step_data("safety", {"emergency_signs": ["none"]}, {"name": MARKER})
    form_again = patient.client.post("/step/safety", data=posted, headers=asked)
    assert form_again.status_code == 400 and "csrf_token" in form_again.get_data(as_text=True)
    no_token = patient.client.post("/step/safety", data={"major_trauma": "no"}, headers=asked)
    reviewer = ReviewerActions(client)
    reviewer.sign_in()
    search = client.get(f"/review/?q={MARKER}", headers=asked)
    assert MARKER in search.get_data(as_text=True)
    for response in (form_again, no_token, search, client.get("/review/overview", headers=asked)):
        assert "Content-Encoding" not in response.headers
    missing = patient.client.get(f"/step/{MARKER}", headers=asked)
    assert missing.status_code == 404 and "Content-Encoding" not in missing.headers
