# Two commands for a newcomer: `make run` serves the app, `make test` passes the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEV := SCREENING_ENV=development

.PHONY: run test lint format bench check clean translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.app: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test: pyproject.toml $(VENV)/.app
	$(BIN)/pip install -q -e '.[test]'
	touch $@

run: $(VENV)/.app
	$(DEV) $(BIN)/screening db migrate
	$(DEV) $(BIN)/screening reviewer first-run
	@echo "Serving on http://127.0.0.1:5000 (Ctrl+C stops it); alert mail is printed and kept in a mail/ folder beside the database (instance/mail/ by default)"
	$(DEV) $(BIN)/screening notify --every 10 & notifier=$$!; \
	trap 'kill $$notifier 2>/dev/null' EXIT INT TERM; \
	$(DEV) $(BIN)/screening run --host 127.0.0.1 --port 5000

# The sign-in tests start panva's oidc-provider from tests/oidc, installed from its pinned lock file.
tests/oidc/node_modules/.package-lock.json: tests/oidc/package-lock.json
	cd tests/oidc && npm ci --no-audit --no-fund

# The outside FHIR client the tests run (fhir-kit-client, pinned by its package-lock.json).
tests/fhirclient/node_modules/.package-lock.json: tests/fhirclient/package-lock.json
	npm ci --prefix tests/fhirclient --no-audit --no-fund

test: $(VENV)/.test tests/oidc/node_modules/.package-lock.json tests/fhirclient/node_modules/.package-lock.json
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/screening rules check
	$(BIN)/pytest

lint: $(VENV)/.test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: $(VENV)/.app
	$(BIN)/screening rules check

bench: $(VENV)/.test
	$(BIN)/python bench/run.py

# After editing the text of a patient template: extract it, merge it into every language's catalogue
# (new text arrives untranslated; `make test` fails until it is translated) and compile the catalogues.
# The compiled .mo files are committed, so a fresh clone serves every language with no build step.
translations: $(VENV)/.app
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 --no-location --sort-output \
		--project "Back pain questionnaire" --msgid-bugs-address "the clinic team" -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete --width 110
	$(BIN)/pybabel compile -d translations --statistics

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build *.egg-info
