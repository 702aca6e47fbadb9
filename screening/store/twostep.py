"""The second step of a reviewer's sign-in: an authenticator app's secret and the last code counter
it accepted, hashed single-use recovery codes, passkeys; and the roles an admin gives."""

from __future__ import annotations

from .db import clock


def begin_totp(db, reviewer_id: int, secret: str) -> None:
    """Keep a new authenticator secret aside until the reviewer proves their app shows its codes."""
    db.write(
        "UPDATE reviewers SET totp_pending = ?, updated = ? WHERE id = ?", [secret, clock(), reviewer_id]
    )


def confirm_totp(db, reviewer_id: int, counter: int) -> None:
    """Make the pending secret the reviewer's, with the counter of the first code it gave."""
    db.write(
        "UPDATE reviewers SET totp_secret = totp_pending, totp_pending = NULL, totp_last_counter = ?, "
        "two_step_due = 0, updated = ? WHERE id = ? AND totp_pending IS NOT NULL",
        [counter, clock(), reviewer_id],
    )


def use_totp_counter(db, reviewer_id: int, counter: int) -> bool:
    """Record that the code of `counter` was used; False when it (or a later one) already was.

    One conditional UPDATE, so two hosts given the same code at the same moment accept it once.
    """
    return (
        db.write(
            "UPDATE reviewers SET totp_last_counter = ? WHERE id = ? AND totp_last_counter < ?",
            [counter, reviewer_id, counter],
        ).rowcount
        == 1
    )


def add_recovery_codes(db, reviewer_id: int, code_hashes: list[str]) -> None:
    """Replace the reviewer's recovery codes with new ones (hashed)."""
    with db.transaction():
        db.execute("DELETE FROM recovery_codes WHERE reviewer_id = ?", [reviewer_id])
        for code_hash in code_hashes:
            db.execute(
                "INSERT INTO recovery_codes (reviewer_id, code_hash) VALUES (?, ?)", [reviewer_id, code_hash]
            )


def unused_recovery_codes(db, reviewer_id: int) -> list[dict]:
    return db.rows(
        "SELECT id, code_hash FROM recovery_codes WHERE reviewer_id = ? AND used IS NULL ORDER BY id",
        [reviewer_id],
    )


def recovery_codes_left(db, reviewer_id: int) -> int:
    return db.scalar(
        "SELECT count(*) FROM recovery_codes WHERE reviewer_id = ? AND used IS NULL", [reviewer_id]
    )


def use_recovery_code(db, code_id: int) -> bool:
    """Mark a recovery code used; False when another request used it first."""
    return (
        db.write(
            "UPDATE recovery_codes SET used = ? WHERE id = ? AND used IS NULL", [clock(), code_id]
        ).rowcount
        == 1
    )


def add_passkey(
    db, reviewer_id: int, credential_id: str, public_key: str, sign_count: int, name: str
) -> None:
    db.write(
        "INSERT INTO passkeys (reviewer_id, credential_id, public_key, sign_count, name, created) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [reviewer_id, credential_id, public_key, sign_count, name, clock()],
    )
    db.write("UPDATE reviewers SET two_step_due = 0 WHERE id = ?", [reviewer_id])


def list_passkeys(db, reviewer_id: int) -> list[dict]:
    return db.rows("SELECT * FROM passkeys WHERE reviewer_id = ? ORDER BY id", [reviewer_id])


def passkey_by_credential(db, credential_id: str) -> dict | None:
    return db.one("SELECT * FROM passkeys WHERE credential_id = ?", [credential_id])


def use_passkey(db, passkey_id: int, old_count: int, new_count: int) -> bool:
    """Store a passkey's new signature counter; False when another sign-in moved it meanwhile."""
    return (
        db.write(
            "UPDATE passkeys SET sign_count = ?, last_used = ? WHERE id = ? AND sign_count = ?",
            [new_count, clock(), passkey_id, old_count],
        ).rowcount
        == 1
    )


def clear_two_step(db, reviewer_id: int) -> None:
    """Forget every second step of a reviewer (an admin's reset): they set one up at the next sign-in."""
    with db.transaction():
        db.execute(
            "UPDATE reviewers SET totp_secret = NULL, totp_pending = NULL, totp_last_counter = 0, "
            "two_step_due = 1, updated = ? WHERE id = ?",
            [clock(), reviewer_id],
        )
        db.execute("DELETE FROM recovery_codes WHERE reviewer_id = ?", [reviewer_id])
        db.execute("DELETE FROM passkeys WHERE reviewer_id = ?", [reviewer_id])


def set_reviewer_role(db, reviewer_id: int, role: str, given: bool) -> None:
    """Give or take the admin or exporter role."""
    column = {"admin": "is_admin", "exporter": "is_exporter"}[role]
    db.write(
        f"UPDATE reviewers SET {column} = ?, updated = ? WHERE id = ?",  # noqa: S608 (a fixed column)
        [int(given), clock(), reviewer_id],
    )


def queue_lockout_alert(db, reviewer_id: int, at: str) -> None:
    """Queue the mail that tells an account holder many wrong passwords paused sign-ins to their account."""
    db.write(
        "INSERT INTO outbox (reviewer_id, reference, level, kind, created, due) "
        "VALUES (?, '', '', 'lockout', ?, ?)",
        [reviewer_id, at, at],
    )
