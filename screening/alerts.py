"""Tell reviewers about new submissions by email, without any health data in the mail.

A submission queues one outbox row per reviewer who asked for alerts, in the same transaction that
stores it. `screening notify` claims due rows with a lease (so two notify processes never send the
same row), sends them over SMTP, marks them sent once the server accepts them, and on failure tries
again later (1, 2, 4 ... minutes, at most an hour apart), giving up after a day with an error in the
log. Urgent submissions go out at once, one mail each; the others wait for the daily digest at the
clinic's local hour. In development without a mail server, mail is printed and kept in a folder.

Knows nothing of Flask: the CLI passes the settings in.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from . import store

log = logging.getLogger("screening.notify")
GIVE_UP_AFTER = timedelta(days=1)
AT_ONCE, DIGEST = "urgent", "digest"  # the outbox's kinds: sent at once, or in the daily digest
LOCKOUT = "lockout"  # sent at once to an account holder: many wrong passwords paused sign-ins


@dataclass(frozen=True)
class Settings:
    base_url: str  # where the reviewers' pages live, for the link in each mail
    mail_from: str
    smtp_url: str = ""  # smtp://user:password@host:port or smtps://...; "" keeps mail in `mail_dir`
    mail_dir: Path | None = None
    timezone: ZoneInfo | None = None
    digest_hour: int = 8


def next_digest(at: str, tz: ZoneInfo, hour: int) -> str:
    """Return the UTC instant of the next digest: the clinic's local `hour`, today if still ahead."""
    moment = datetime.fromisoformat(at).astimezone(tz)
    due = datetime.combine(moment.date(), time(hour), tzinfo=tz)
    if due <= moment:
        due = datetime.combine(moment.date() + timedelta(days=1), time(hour), tzinfo=tz)
    return store.shift(due.isoformat(), seconds=0)


def messages(rows: list[dict], settings: Settings) -> list[tuple[list[int], EmailMessage]]:
    """Build the mails for claimed rows: one per urgent row, one digest per reviewer.

    A mail says only that there are new submissions, their level words and references, and a link
    that needs sign-in: never a name, a contact detail, an answer, a topic or a summary.
    """
    mails = []
    digests: dict[str, list[dict]] = {}
    for row in rows:
        if row["kind"] == LOCKOUT:
            mails.append(
                (
                    [row["id"]],
                    _mail(
                        settings,
                        row["email"],
                        "Many failed sign-ins to your account",
                        _lockout_body(settings),
                    ),
                )
            )
        elif row["kind"] == AT_ONCE:
            body = (
                "A new urgent submission is waiting in the reviewers' inbox.\n\n"
                f"Level: {row['level']}\nReference: {row['reference']}\n"
                f"Open it (you will need to sign in): {_link(settings, row['reference'])}\n"
            )
            mails.append(
                ([row["id"]], _mail(settings, row["email"], f"Urgent submission {row['reference']}", body))
            )
        else:
            digests.setdefault(row["email"], []).append(row)
    for email, items in digests.items():
        lines = "\n".join(
            f"- {r['reference']} ({r['level']}): {_link(settings, r['reference'])}" for r in items
        )
        body = (
            f"{len(items)} new submission(s) are waiting in the reviewers' inbox.\n\n{lines}\n\n"
            "You will need to sign in to open them.\n"
        )
        subject = f"Daily digest: {len(items)} new submission(s)"
        mails.append(([r["id"] for r in items], _mail(settings, email, subject, body)))
    return mails


def deliver_due(db, settings: Settings, *, worker: str, now: Callable[[], str] | None = None) -> dict:
    """Send what is due once; return counts {"sent", "retry", "given_up", "skipped"}."""
    at = (now or store.now)()
    rows = store.claim_alerts(db, worker, at)
    counts = {"sent": 0, "retry": 0, "given_up": 0, "skipped": 0}
    inactive = [row["id"] for row in rows if not row["active"]]
    if inactive:  # a reviewer disabled since the alert was queued gets nothing
        store.mark_alerts_sent(db, inactive, at)
        counts["skipped"] = len(inactive)
    active = [row for row in rows if row["active"]]
    give_up_before = store.shift(at, days=-GIVE_UP_AFTER.days)
    for ids, mail in messages(active, settings):
        try:
            send(mail, settings)
        except (OSError, smtplib.SMTPException) as exc:
            given_up = store.retry_alerts_later(db, ids, f"{type(exc).__name__}: {exc}", at, give_up_before)
            if given_up:
                log.error("alert to reviewer %s given up after a day: %s", mail["To"], type(exc).__name__)
            counts["given_up"] += given_up
            counts["retry"] += len(ids) - given_up
            continue
        store.mark_alerts_sent(db, ids, at)
        counts["sent"] += len(ids)
    return counts


def send(mail: EmailMessage, settings: Settings) -> None:
    """Send one mail over SMTP (STARTTLS when offered), or keep it in the mail folder."""
    if not settings.smtp_url:
        folder = settings.mail_dir
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{store.now().replace(':', '-')}-{abs(hash(mail['Subject'] + mail['To']))}.eml"
        (folder / name).write_bytes(bytes(mail))
        print(f"--- mail (kept in {folder / name}) ---\n{mail}", flush=True)
        return
    url = urlsplit(settings.smtp_url)
    port = url.port or (465 if url.scheme == "smtps" else 25)
    if url.scheme == "smtps":
        client = smtplib.SMTP_SSL(url.hostname, port, timeout=20, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(url.hostname, port, timeout=20)
    with client:
        client.ehlo()
        if url.scheme == "smtp" and client.has_extn("starttls"):
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(mail)


def check_smtp_url(value: str) -> str:
    """Return a valid SMTP URL, or raise ValueError saying what is expected."""
    url = urlsplit(value)
    if url.scheme not in ("smtp", "smtps") or not url.hostname:
        raise ValueError(f"expected smtp://user:password@host:port or smtps://..., found {value!r}")
    return value


def _lockout_body(settings: Settings) -> str:
    """Say what happened and what to do, with no password, address or place in it."""
    return (
        "There were many failed attempts to sign in to your account on the clinic's reviewer pages,\n"
        "so sign-ins to it from browsers it has not used before are paused for a while.\n\n"
        "A browser you have signed in with before can still sign in as usual.\n\n"
        "If this was you, nothing more is needed. If it was not, tell a clinic admin, and change your\n"
        f"password under Your password once you are signed in: {settings.base_url.rstrip('/')}/review/\n"
    )


def _link(settings: Settings, reference: str) -> str:
    return f"{settings.base_url.rstrip('/')}/review/submissions/{reference}"


def _mail(settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = settings.mail_from, to, subject
    mail.set_content(body)
    return mail
