"""SCREENING_DATABASE_REPLICA: the reviewers' long reads come off a real hot standby, never stale past the
limit, and a reviewer sees their own change at once.

The standby's replay is paused to make it fall behind: what the primary stores then is on the primary
and not yet on the replica, so each page shows which one served it.
"""

from __future__ import annotations

import itertools
import logging
import time

import pytest
from conftest import pgserver, replicated
from test_review_inbox import references

from screening import close_db_connections, store

pytestmark = pytest.mark.postgresql_only
NUMBERS = itertools.count(1)


@pytest.fixture(scope="module")
def servers():
    with replicated("replica_template") as pair:
        yield pair


@pytest.fixture
def database(servers):
    """A fresh database on the primary, already on the standby too."""
    primary, standby = servers
    name = f"replica_{next(NUMBERS)}"
    url = primary.create_database(name, template="replica_template")
    deadline = time.monotonic() + 10
    while not standby.exists(name) and time.monotonic() < deadline:
        time.sleep(0.05)
    yield url
    close_db_connections()
    if standby.value("SELECT pg_is_wal_replay_paused()"):
        standby.resume_replay()
    primary.drop_database(name)


@pytest.fixture
def replica_url(servers, database) -> str:
    return servers[1].url(database.rsplit("/", 1)[1])


@pytest.fixture
def app_config(app_config, replica_url) -> dict:
    return {**app_config, "DATABASE_REPLICA": replica_url, "REPLICA_MAX_LAG_SECONDS": 5}


def wait_replayed(servers, database: str) -> None:
    """Wait until the standby has replayed everything the primary has written."""
    primary, standby = servers
    target = primary.value("SELECT pg_current_wal_lsn()::text")
    while not standby.value("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]):
        time.sleep(0.05)


def replica_messages(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "screening.replica"]


def test_the_inbox_counts_and_export_come_off_the_replica(servers, database, reviewer, add_submissions):
    add_submissions({"reference": "BP-OLD1"})
    wait_replayed(servers, database)
    servers[1].pause_replay()
    add_submissions({"reference": "BP-NEW1"})
    page = reviewer.client.get("/review/?status=new")
    assert references(page) == ["BP-OLD1"], "the replica has not replayed the newer one yet"
    assert "BP-NEW1" not in reviewer.client.get("/review/export.csv?status=new").get_data(as_text=True)
    servers[1].resume_replay()
    wait_replayed(servers, database)
    assert references(reviewer.client.get("/review/?status=new")) == ["BP-NEW1", "BP-OLD1"]


def test_a_reviewer_sees_their_own_status_change_and_note_at_once(
    servers, database, reviewer, add_submissions
):
    add_submissions({"reference": "BP-MINE"})
    wait_replayed(servers, database)
    servers[1].pause_replay()
    page = "/review/submissions/BP-MINE"
    moved = reviewer.post(f"{page}/status", {"from_status": "new", "to_status": "in_review"}, page=page)
    assert moved.status_code == 303
    assert references(reviewer.client.get("/review/?status=in_review")) == ["BP-MINE"]
    assert references(reviewer.client.get("/review/?status=new")) == []
    other = reviewer_on_a_fresh_session(reviewer)
    assert references(other.get("/review/?status=in_review")) == [], "another session reads the replica"


def reviewer_on_a_fresh_session(reviewer):
    """A second browser of the same reviewer: a session that changed nothing."""
    from conftest import ReviewerActions

    actions = ReviewerActions(reviewer.client.application.test_client())
    assert actions.sign_in().status_code == 302
    return actions.client


def test_a_replica_too_far_behind_sends_reads_to_the_primary_and_says_so_once(
    servers, database, reviewer, add_submissions, caplog
):
    add_submissions({"reference": "BP-LAG1"})
    wait_replayed(servers, database)
    servers[1].pause_replay()
    add_submissions({"reference": "BP-LAG2"})
    with caplog.at_level(logging.WARNING, logger="screening.replica"):
        assert references(reviewer.client.get("/review/?status=new")) == ["BP-LAG1"], "still within 5 s"
        time.sleep(5.5)
        for _ in range(3):
            assert references(reviewer.client.get("/review/?status=new")) == ["BP-LAG2", "BP-LAG1"]
        assert reviewer.client.get("/healthz").get_json()["replica"] == "lagging"
        servers[1].resume_replay()
        wait_replayed(servers, database)
        time.sleep(store.ReplicaGate.every)  # the next read checks the replica again
        assert references(reviewer.client.get("/review/?status=new")) == ["BP-LAG2", "BP-LAG1"]
    messages = replica_messages(caplog)
    assert len(messages) == 2, messages
    assert messages[0].startswith(
        f"the replica {servers[1].url(database.rsplit('/', 1)[1]).split('@')[1]} is "
    )
    assert messages[0].endswith(
        "s behind the primary (the limit is 5 s): the reviewers' reads go to the primary"
    )
    assert messages[1].endswith("serves the reviewers' reads again")


def test_a_replica_that_is_down_sends_reads_to_the_primary(
    servers, database, replica_url, reviewer, add_submissions, caplog, app
):
    add_submissions({"reference": "BP-DOWN"})
    nobody = pgserver().free_port()  # a port no server listens on
    app.config["DATABASE_REPLICA"] = replica_url.replace(f":{servers[1].port}/", f":{nobody}/")
    with caplog.at_level(logging.WARNING, logger="screening.replica"):
        for _ in range(3):
            assert references(reviewer.client.get("/review/?status=new")) == ["BP-DOWN"]
        health = reviewer.client.get("/healthz")
    assert health.status_code == 200, "the host still serves: its reads go to the primary"
    assert health.get_json()["replica"] == "unreachable"
    messages = replica_messages(caplog)
    assert len(messages) == 1 and messages[0].endswith(
        " did not answer: the reviewers' reads go to the primary"
    ), messages
    assert "screening@" not in messages[0], "no user name or password in the log"
