"""Writers from several threads and worker processes queue behind one lock file beside the database,
instead of sleeping in SQLite's busy handler; nothing is lost and a nested write does not deadlock."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import textwrap
import threading
import time

from screening import store

SUBMISSION = {
    "level": "info",
    "topics": ["benefits-and-limits"],
    "answers": {},
    "outcome": {},
    "summary_html": "<div></div>",
    "ruleset_version": "v",
    "ruleset_hash": "h",
    "name": "Queue Tester",
    "email": "queue@example.com",
    "phone": "",
    "contact_method": "email",
}

# One "worker process": its own connection, sending `count` submissions as fast as it can.
WORKER = textwrap.dedent(
    """
    import json, sys
    from screening import store
    path, tag, count, submission = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
    db = store.connect(path)
    references = [store.insert_submission(db, {**submission, "idempotency_key": f"{tag}-{n}"})[0]
                  for n in range(count)]
    db.close()
    print(json.dumps(references))
    """
)


def test_a_write_waits_while_another_process_holds_the_writer_lock(tmp_path):
    path = tmp_path / "queue.db"
    db = store.connect(path)
    store.migrate(db)
    token = store.create_draft(db, 24)
    assert (tmp_path / "queue.db.write-lock").exists(), "the lock file sits beside the database"
    holder = os.open(tmp_path / "queue.db.write-lock", os.O_RDWR)
    fcntl.flock(holder, fcntl.LOCK_EX)
    done = threading.Event()

    def write() -> None:
        other = store.connect(path)
        store.save_draft(other, token, {"impact": 4}, {})
        other.close()
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert not done.wait(0.3), "the write went ahead while the lock was held"
    finally:
        os.close(holder)  # releases the lock
    assert done.wait(10), "the write did not go ahead once the lock was free"
    writer.join(10)
    assert store.get_draft(db, token)["answers"] == {"impact": 4}
    db.close()


def test_a_write_inside_a_write_transaction_reuses_the_lock(tmp_path):
    path = tmp_path / "nested.db"
    db = store.connect(path)
    store.migrate(db)
    token = store.create_draft(db, 24)
    db.close()

    def nested() -> None:  # in a thread of its own, so a lock taken twice fails the test, not hangs it
        own = store.connect(path)
        with own.transaction():
            store.save_draft(own, token, {"impact": 2}, {})
            store.delete_draft(own, token)
        own.close()

    thread = threading.Thread(target=nested, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "a write inside a write transaction waited for its own lock"
    db = store.connect(path)
    assert store.get_draft(db, token) is None
    db.close()


def test_two_processes_sending_at_once_lose_nothing(tmp_path):
    import json

    path = tmp_path / "two.db"
    db = store.connect(path)
    store.migrate(db)
    started = time.monotonic()
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(path), tag, "150", json.dumps(SUBMISSION)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("a", "b")
    ]
    references = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        references += json.loads(out)
    assert time.monotonic() - started < 120
    stored = {row[0] for row in db.execute("SELECT reference FROM submissions")}
    assert len(references) == 300 and set(references) == stored
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
