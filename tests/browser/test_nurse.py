"""The nurse's Monday in a real browser: find the urgent submissions, open the newest, call, note,
mark contacted, and export last week for a spreadsheet, without a wrong turn."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from playwright.sync_api import expect

from .pages import DEFAULTS, answer_all, follow, press, send_form, shoot, sign_in


def send_as_patient(page, server, name: str, answers: dict) -> str:
    answer_all(page, server, {**DEFAULTS, **answers})
    press(page, "See my summary")
    press(page, "Send my answers to the clinic")
    return send_form(page, name, phone="555 010 0142")


def test_the_nurses_monday(browser, server, passkey):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = context.new_page()
    try:
        routine = send_as_patient(page, server, "Rory Routine", {})
        urgent = send_as_patient(page, server, "Una Urgent", {"warning_signs": ["fever"]})

        page.goto(server + "/review/")
        sign_in(page, passkey)
        attention = page.get_by_role("link", name="Needs attention")
        expect(attention).to_have_attribute("aria-current", "page")
        listed = page.locator("table.inbox th[scope=row] a").all_inner_texts()
        assert urgent in listed and routine not in listed
        assert listed[0] == urgent, "the newest of the most urgent comes first"
        shoot(page, "nurse-attention")

        follow(page, page.get_by_role("link", name=urgent))
        why = page.locator(".why-first")
        expect(why).to_contain_text("See a doctor soon")
        assert page.get_by_role("link", name="555 010 0142").get_attribute("href") == "tel:5550100142"
        page.get_by_label("Add a note").fill("Called, left a message.")
        page.get_by_label("And change the status").select_option(label="Contacted")
        press(page, "Save")
        expect(page.locator(".flash")).to_contain_text("Note added and status changed to Contacted.")
        shoot(page, "nurse-contacted")

        follow(page, page.get_by_role("link", name="Back to the inbox"))
        assert urgent not in page.locator("table.inbox th[scope=row] a").all_inner_texts(), "contacted: done"

        follow(page, page.get_by_role("link", name="All submissions"))
        today = datetime.now(UTC).date().isoformat()
        page.get_by_label("Received from").fill(today)
        page.get_by_label("Received to").fill(today)
        press(page, "Apply filters")
        with page.expect_download() as download:
            page.get_by_role("link", name="Download these for a spreadsheet").click()
        assert download.value.suggested_filename == f"submissions-{today}-to-{today}-for-spreadsheet.csv"
        with open(download.value.path(), encoding="utf-8") as f:
            assert f.read(1) == "\ufeff", "a byte-order mark, so Excel reads the names right"
            rows = {row["Reference"]: row for row in csv.DictReader(io.StringIO(f.read()))}
        assert rows[urgent]["Status"] == "Contacted"
        assert rows[urgent]["Notes"].endswith("Called, left a message.")
        assert rows[routine]["Status"] == "New"
    finally:
        context.close()
