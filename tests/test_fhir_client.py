"""An outside client this project did not write (fhir-kit-client, from npm) against a real gunicorn:
search with includes, every page, every fullUrl read back, a refused parameter, and a Bulk Data
export kicked off, polled, downloaded and deleted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT, RULES_DIR

from screening import create_app, get_db, store
from screening.cli import cli
from screening.seed import seed

sys.path.insert(0, str(ROOT / "bench"))
from journey import gunicorn

CLIENT = ROOT / "tests" / "fhirclient"
SUBMISSIONS = 17


def test_fhir_kit_client_searches_reads_pages_and_exports(tmp_path, ruleset):
    if shutil.which("node") is None or not (CLIENT / "node_modules" / "fhir-kit-client").exists():
        message = "node and `npm ci --prefix tests/fhirclient` are needed (make test runs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    database = tmp_path / "client.db"
    # Production settings with no SCREENING_BASE_URL: links and fullUrls name the address served.
    env = {
        "SCREENING_ENV": "production",
        "SCREENING_SECRET_KEY": "client-test-secret-0123456789abcdef",
        "SCREENING_DATABASE": str(database),
        "SCREENING_RULES_DIR": str(RULES_DIR),
        "SCREENING_EXPORT_DIR": str(tmp_path / "exports"),
    }
    app = create_app({"TESTING": True, "DATABASE": str(database), "RULES_DIR": str(RULES_DIR)})
    with app.app_context():
        seed(
            get_db(),
            ruleset,
            lambda outcome: "<p>seeded</p>",
            SUBMISSIONS,
            make_reference=store.new_reference,
        )
        rows = get_db().rows("SELECT reference FROM submissions ORDER BY received, id")
    references = [row["reference"] for row in rows]
    added = app.test_cli_runner().invoke(cli, ["api-token", "add", "outside"])
    token = added.output.strip().splitlines()[-1]
    with gunicorn("wsgi:app", env, workers=2, ready="/fhir/metadata") as (base, _):
        run = subprocess.run(
            ["node", "client.mjs", f"{base}/fhir", token],
            cwd=CLIENT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["types"] == ["Questionnaire", "QuestionnaireResponse", "Patient", "Observation"]
    assert report["questionnaires"] == 1
    assert report["matches"] == references
    assert report["pages"] == -(-SUBMISSIONS // 7) and report["reads"] == 3 * SUBMISSIONS
    assert report["differing"] == []
    assert report["refused"] == {"status": 400, "outcome": "OperationOutcome"}
    assert report["exported"] == {"Patient": references, "QuestionnaireResponse": references}
    assert report["withoutToken"] == 401 and report["afterDelete"] == 404
