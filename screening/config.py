"""Read the app's settings from the environment, check them once, and explain a bad one."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

ENVIRONMENTS = ("production", "development")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable and the fix."""


def _int(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, found {raw!r}.") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}: expected a number from {low} to {high}, found {value}.")
    return value


def _dev_secret(instance: Path) -> str:
    """Return a development secret kept in the instance folder, so restarts keep sessions."""
    path = instance / "dev-secret-key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment(default_env: str = "production") -> dict:
    """Return the configuration mapping built from SCREENING_* variables."""
    env = os.environ.get("SCREENING_ENV", default_env) or default_env
    if env not in ENVIRONMENTS:
        raise ConfigError(f"SCREENING_ENV: expected one of {', '.join(ENVIRONMENTS)}, found {env!r}.")
    instance = PROJECT_ROOT / "instance"
    secret = os.environ.get("SCREENING_SECRET_KEY", "")
    if not secret:
        if env == "production":
            raise ConfigError(
                "SCREENING_SECRET_KEY: not set. Production needs a long random secret, for example "
                "the output of: python -c 'import secrets; print(secrets.token_urlsafe(48))'."
            )
        secret = _dev_secret(instance)
    elif len(secret) < 16:
        raise ConfigError("SCREENING_SECRET_KEY: too short; use at least 16 random characters.")
    clinic_name, clinic_phone = _clinic_contact()
    number = os.environ.get("SCREENING_EMERGENCY_NUMBER", "911").strip() or "911"
    if not all(ch.isdigit() or ch in " -+" for ch in number):
        raise ConfigError(f"SCREENING_EMERGENCY_NUMBER: expected digits, found {number!r}.")
    return {
        "SCREENING_ENV": env,
        "SECRET_KEY": secret,
        "DATABASE": os.environ.get("SCREENING_DATABASE") or str(instance / "screening.db"),
        "RULES_DIR": os.environ.get("SCREENING_RULES_DIR") or str(PROJECT_ROOT / "rules"),
        "EMERGENCY_NUMBER": number,
        "DRAFT_TTL_HOURS": _int("SCREENING_DRAFT_TTL_HOURS", 24, 1, 24 * 30),
        "SESSION_IDLE_MINUTES": _int("SCREENING_SESSION_IDLE_MINUTES", 30, 1, 24 * 60),
        "SESSION_MAX_HOURS": _int("SCREENING_SESSION_MAX_HOURS", 12, 1, 7 * 24),
        "RETENTION_DAYS": _int("SCREENING_RETENTION_DAYS", 365, 1, 365 * 30),
        "REPLY_DAYS": _int("SCREENING_REPLY_DAYS", 2, 0, 30),
        "CLINIC_NAME": clinic_name,
        "CLINIC_PHONE": clinic_phone,
        "TRUSTED_HOSTS": _trusted_hosts(env),
        "TIMEZONE": _timezone(),
        **_alert_settings(env),
    }


def _alert_settings(env: str) -> dict:
    """Return the mail settings for alerts (all optional; without an SMTP URL, development keeps mail
    in instance/mail/ and production's `screening notify` refuses to run)."""
    from .notify import check_smtp_url

    smtp = os.environ.get("SCREENING_SMTP_URL", "").strip()
    if smtp:
        try:
            check_smtp_url(smtp)
        except ValueError as exc:
            raise ConfigError(f"SCREENING_SMTP_URL: {exc}.") from None
    base = os.environ.get("SCREENING_BASE_URL", "").strip() or (
        "http://127.0.0.1:5000" if env == "development" else ""
    )
    if base and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]+)?(/[^\s]*)?", base):
        raise ConfigError(
            f"SCREENING_BASE_URL: expected an address like https://clinic.example.org, found {base!r}."
        )
    return {
        "SMTP_URL": smtp,
        "MAIL_FROM": os.environ.get("SCREENING_MAIL_FROM", "").strip() or "screening@localhost",
        "BASE_URL": base,
        "DIGEST_HOUR": _int("SCREENING_DIGEST_HOUR", 8, 0, 23),
    }


def _timezone() -> str:
    """Return the clinic's IANA time zone name (reviewers see and filter times in it); default UTC."""
    from .clinictime import zone

    name = os.environ.get("SCREENING_TIMEZONE", "").strip() or "UTC"
    try:
        zone(name)
    except ValueError as exc:
        raise ConfigError(f"SCREENING_TIMEZONE: {exc}.") from None
    return name


HOST = re.compile(r"(\.?[A-Za-z0-9-]+)(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:]+\]")


def _trusted_hosts(env: str) -> list[str] | None:
    """Return the host names requests may name (Werkzeug's TRUSTED_HOSTS), or None for any.

    Redirects are built from the Host header, so a host the clinic does not own must be refused.
    Development trusts this machine's own names unless told otherwise.
    """
    raw = os.environ.get("SCREENING_TRUSTED_HOSTS", "").strip()
    if not raw:
        return ["localhost", "127.0.0.1", "[::1]"] if env == "development" else None
    hosts = [host.strip() for host in raw.split(",") if host.strip()]
    for host in hosts:
        if not HOST.fullmatch(host):
            raise ConfigError(
                f"SCREENING_TRUSTED_HOSTS: expected host names separated by commas (like "
                f"clinic.example.org,.clinic.example.org), found {host!r}."
            )
    return hosts


PHONE_CHARACTERS = set("0123456789 +-().")


def _clinic_contact() -> tuple[str, str]:
    """Return the clinic's name and phone number for the patient pages (both optional)."""
    name = " ".join(os.environ.get("SCREENING_CLINIC_NAME", "").split())
    if len(name) > 100 or any(not ch.isprintable() for ch in name):
        raise ConfigError(f"SCREENING_CLINIC_NAME: expected a name of up to 100 characters, found {name!r}.")
    phone = " ".join(os.environ.get("SCREENING_CLINIC_PHONE", "").split())
    digits = sum(ch.isdigit() for ch in phone)
    if phone and (not set(phone) <= PHONE_CHARACTERS or not 3 <= digits <= 20):
        raise ConfigError(
            "SCREENING_CLINIC_PHONE: expected a phone number of digits, spaces and + - ( ) ., "
            f"found {phone!r}."
        )
    return name, phone


def tel_href(phone: str) -> str:
    """Return a tel: link for a phone number as written (digits and a leading + only)."""
    return (
        "tel:" + ("+" if phone.strip().startswith("+") else "") + "".join(ch for ch in phone if ch.isdigit())
    )


def defaults() -> dict:
    """Return settings that do not come from the environment."""
    return {
        "TEMPLATES_DIR": str(PROJECT_ROOT / "templates"),
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "DATABASE_BUSY_TIMEOUT_MS": 5000,
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_SSL_STRICT": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "screening_session",
        "SIGNIN_MAX_ATTEMPTS": 5,
        "SIGNIN_MAX_ACCOUNT_ATTEMPTS": 50,
        "SIGNIN_HAMMER_NOTICE": 20,
        "SIGNIN_WINDOW_MINUTES": 15,
        "DRAFT_TTL_HOURS": 24,
        "SESSION_IDLE_MINUTES": 30,
        "SESSION_MAX_HOURS": 12,
        "RETENTION_DAYS": 365,
        "REPLY_DAYS": 2,
        "EMERGENCY_NUMBER": "911",
        "CLINIC_NAME": "",
        "CLINIC_PHONE": "",
        "TIMEZONE": "UTC",
        "SMTP_URL": "",
        "MAIL_FROM": "screening@localhost",
        "BASE_URL": "http://127.0.0.1:5000",
        "DIGEST_HOUR": 8,
        "SCREENING_ENV": "production",
        "RULES_DIR": str(PROJECT_ROOT / "rules"),
        "DATABASE": str(PROJECT_ROOT / "instance" / "screening.db"),
    }
