"""The alert outbox: a row per reviewer who wants to hear, written in the submission's own transaction,
and delivered by `screening notify` (claimed with a lease, so two notifiers never send one twice)."""

from __future__ import annotations

from .db import shift


def alerts_insert(kind: str, submission: str) -> str:
    """Return the INSERT that queues one alert of `kind` per active reviewer who asked for it, for the
    submission that `submission` (a join clause naming it `s`) finds. Its parameters: level, kind,
    created, due, then the join's."""
    column = "alert_digest" if kind == "digest" else "alert_urgent"
    return (
        "INSERT INTO outbox (reviewer_id, submission_id, reference, level, kind, created, due) "  # noqa: S608
        f"SELECT r.id, s.id, s.reference, ?, ?, ?, ? FROM reviewers r {submission} "
        f"WHERE r.active = 1 AND r.{column} = 1"
    )


def queue_alerts(db, reference: str, level: str, alert: dict, at: str) -> None:
    """Queue one alert per active reviewer who asked for this kind (inside the submission's transaction)."""
    db.execute(
        alerts_insert(alert["kind"], "JOIN submissions s ON s.reference = ?"),
        [level, alert["kind"], at, alert["due"], reference],
    )


def claim_alerts(db, worker: str, at: str, lease_seconds: int = 120) -> list[dict]:
    """Claim the alerts that are due for this worker, with a lease; two workers never claim the same one."""
    until = shift(at, seconds=lease_seconds)
    with db.transaction():
        db.execute(
            "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id IN (SELECT id FROM outbox "  # noqa: S608
            "WHERE sent IS NULL AND failed IS NULL AND due <= ? "
            f"AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY due LIMIT 200{db.skip_locked})",
            [worker, until, at, at],
        )
        return db.rows(
            "SELECT o.*, r.email, r.active FROM outbox o JOIN reviewers r ON r.id = o.reviewer_id "
            "WHERE o.claimed_by = ? AND o.claimed_until = ? AND o.sent IS NULL ORDER BY o.id",
            [worker, until],
        )


def mark_alerts_sent(db, ids: list[int], at: str) -> None:
    with db.transaction():
        db.executemany(
            "UPDATE outbox SET sent = ?, claimed_until = NULL WHERE id = ?", [(at, i) for i in ids]
        )


def retry_alerts_later(db, ids: list[int], error: str, at: str, give_up_before: str) -> int:
    """Put failed alerts back with a growing wait; give up on those older than `give_up_before`.
    Return how many were given up."""
    given_up = 0
    with db.transaction():
        for alert_id in ids:
            attempts, created = db.execute(
                "SELECT attempts, created FROM outbox WHERE id = ?", [alert_id]
            ).fetchone()
            attempts += 1
            if created < give_up_before:
                db.execute(
                    "UPDATE outbox SET attempts = ?, failed = ?, last_error = ?, claimed_until = NULL "
                    "WHERE id = ?",
                    [attempts, at, error[:300], alert_id],
                )
                given_up += 1
            else:
                wait = min(60 * 2 ** (attempts - 1), 3600)
                db.execute(
                    "UPDATE outbox SET attempts = ?, due = ?, last_error = ?, claimed_until = NULL "
                    "WHERE id = ?",
                    [attempts, shift(at, seconds=wait), error[:300], alert_id],
                )
    return given_up


def failed_alerts(db, since: str) -> int:
    return db.scalar("SELECT count(*) FROM outbox WHERE failed IS NOT NULL AND failed >= ?", [since])
