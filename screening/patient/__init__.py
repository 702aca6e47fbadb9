"""The patient's pages: the `patient` blueprint (in `steps`), with the pages of `sending` and `keeping`.

- `drafts`: the draft cookie and reading a draft, in one place for every page
- `steps`: start, the steps, the emergency page, check answers, the topic and about pages
- `sending`: the summary, sending it to the clinic, the confirmation and finishing without sending
- `language`: the patient's language and the rule set in it; `forms`: a step as a form
- `revisions`: the revision a step page was made at, and the page after another tab saved the step
- `keeping`: the language button on a step (what is ticked is kept) and "Keep the saved answers"

May import: Flask and its extensions, `screening.engine`, the store and the app-wide modules of
`screening` (`get_db`, `faults`, `alerts`, `clinictime`). Nothing of `review`, `fhir` or `cli`.
This package's `__init__` imports nothing, so the reviewers' forms can use `patient.forms` alone.
"""
