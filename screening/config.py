"""Read the app's settings from the environment, check them once, and explain a bad one.

Every SCREENING_* setting is declared once, in SETTINGS: its name, the app config key it fills, its
default, the parser that checks it, and a line of help. `screening settings` prints the table with the
values in force (secrets hidden), and the README test reads it.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE = PROJECT_ROOT / "instance"

ENVIRONMENTS = ("production", "development")
PHONE_CHARACTERS = set("0123456789 +-().")
HOST = re.compile(r"(\.?[A-Za-z0-9-]+)(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:]+\]")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable and the fix."""


@dataclass(frozen=True)
class Setting:
    """One SCREENING_* variable: where it goes, its default, how it is checked, and what it means.

    `parse(raw, env)` gets the variable's text ("" when unset) and the environment name, and returns
    the value or raises ValueError with what was expected.
    """

    name: str
    key: str
    default: object
    parse: Callable[[str, str], object]
    help: str
    secret: bool = False


def _whole(low: int, high: int, default: int) -> Callable[[str, str], int]:
    def parse(raw: str, env: str) -> int:
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"expected a whole number, found {raw!r}") from None
        if not low <= value <= high:
            raise ValueError(f"expected a number from {low} to {high}, found {value}")
        return value

    return parse


def _env(raw: str, env: str) -> str:
    return env


def _secret(raw: str, env: str) -> str:
    if not raw:
        if env == "production":
            raise ValueError(
                "not set. Production needs a long random secret, for example the output of: "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        return _dev_secret(INSTANCE)
    if len(raw) < 16:
        raise ValueError("too short; use at least 16 random characters")
    return raw


def _database(raw: str, env: str) -> str:
    if not raw:
        return str(INSTANCE / "screening.db")
    from .store.db import is_postgres  # the one place that says which settings name which store

    if is_postgres(raw) and not raw.partition("://")[2].strip("/"):
        raise ValueError("the postgresql:// URL names no server or database")
    return raw


def _replica(raw: str, env: str) -> str:
    from .store.db import is_postgres

    raw = raw.strip()
    if raw and not is_postgres(raw):
        raise ValueError("expected a postgresql:// URL of a read-only standby (a replica needs PostgreSQL)")
    return raw


def _path_or(default: Path) -> Callable[[str, str], str]:
    return lambda raw, env: raw or str(default)


def _emergency_number(raw: str, env: str) -> str:
    number = raw.strip() or "911"
    if not all(ch.isdigit() or ch in " -+" for ch in number):
        raise ValueError(f"expected digits, found {number!r}")
    return number


def _clinic_name(raw: str, env: str) -> str:
    name = " ".join(raw.split())
    if len(name) > 100 or any(not ch.isprintable() for ch in name):
        raise ValueError(f"expected a name of up to 100 characters, found {name!r}")
    return name


def _clinic_phone(raw: str, env: str) -> str:
    phone = " ".join(raw.split())
    digits = sum(ch.isdigit() for ch in phone)
    if phone and (not set(phone) <= PHONE_CHARACTERS or not 3 <= digits <= 20):
        raise ValueError(f"expected a phone number of digits, spaces and + - ( ) ., found {phone!r}")
    return phone


def _trusted_hosts(raw: str, env: str) -> list[str] | None:
    """Werkzeug builds redirects from the Host header, so a host the clinic does not own is refused.
    Development trusts this machine's own names unless told otherwise."""
    if not raw.strip():
        return ["localhost", "127.0.0.1", "[::1]"] if env == "development" else None
    hosts = [host.strip() for host in raw.split(",") if host.strip()]
    for host in hosts:
        if not HOST.fullmatch(host):
            raise ValueError(
                "expected host names separated by commas (like clinic.example.org,.clinic.example.org), "
                f"found {host!r}"
            )
    return hosts


def _timezone(raw: str, env: str) -> str:
    from .clinictime import zone

    name = raw.strip() or "UTC"
    zone(name)  # raises ValueError with the expected form
    return name


def _smtp_url(raw: str, env: str) -> str:
    from .notify import check_smtp_url

    return check_smtp_url(raw.strip()) if raw.strip() else ""


def _base_url(raw: str, env: str) -> str:
    base = raw.strip() or ("http://127.0.0.1:5000" if env == "development" else "")
    if base and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]+)?(/\S*)?", base):
        raise ValueError(f"expected an address like https://clinic.example.org, found {base!r}")
    return base


def _text_or(default: str) -> Callable[[str, str], str]:
    return lambda raw, env: raw.strip() or default


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "SCREENING_ENV",
        "SCREENING_ENV",
        "production",
        _env,
        "production (secret key needed, cookies over HTTPS only) or development",
    ),
    Setting(
        "SCREENING_SECRET_KEY",
        "SECRET_KEY",
        "",
        _secret,
        "signs session cookies and form tokens; development keeps one in instance/dev-secret-key",
        secret=True,
    ),
    Setting(
        "SCREENING_DATABASE",
        "DATABASE",
        str(INSTANCE / "screening.db"),
        _database,
        "a SQLite file, or postgresql://user:password@host:port/dbname for several app hosts",
    ),
    Setting(
        "SCREENING_DATABASE_POOL_MIN",
        "DATABASE_POOL_MIN",
        1,
        _whole(0, 100, 1),
        "PostgreSQL: connections each worker process keeps open",
    ),
    Setting(
        "SCREENING_DATABASE_POOL_MAX",
        "DATABASE_POOL_MAX",
        10,
        _whole(1, 500, 10),
        "PostgreSQL: the most connections a worker process opens (its threads share them)",
    ),
    Setting(
        "SCREENING_DATABASE_POOL_TIMEOUT",
        "DATABASE_POOL_TIMEOUT",
        5,
        _whole(1, 120, 5),
        "PostgreSQL: seconds a request waits for a connection before the page says 'try again'",
    ),
    Setting(
        "SCREENING_DATABASE_REPLICA",
        "DATABASE_REPLICA",
        "",
        _replica,
        "PostgreSQL: a read-only standby for the reviewers' inbox, counts, overview and exports (optional)",
    ),
    Setting(
        "SCREENING_REPLICA_MAX_LAG_SECONDS",
        "REPLICA_MAX_LAG_SECONDS",
        30,
        _whole(1, 3600, 30),
        "reads go to the primary while the replica is this far behind, and for this long after a change",
    ),
    Setting(
        "SCREENING_RULES_DIR",
        "RULES_DIR",
        str(PROJECT_ROOT / "rules"),
        _path_or(PROJECT_ROOT / "rules"),
        "the folder with the rule files",
    ),
    Setting(
        "SCREENING_EMERGENCY_NUMBER",
        "EMERGENCY_NUMBER",
        "911",
        _emergency_number,
        "the number the emergency page tells people to call",
    ),
    Setting(
        "SCREENING_DRAFT_TTL_HOURS",
        "DRAFT_TTL_HOURS",
        24,
        _whole(1, 24 * 30, 24),
        "how long unsent answers are kept",
    ),
    Setting(
        "SCREENING_SESSION_IDLE_MINUTES",
        "SESSION_IDLE_MINUTES",
        30,
        _whole(1, 24 * 60, 30),
        "reviewers are signed out after this long idle",
    ),
    Setting(
        "SCREENING_SESSION_MAX_HOURS",
        "SESSION_MAX_HOURS",
        12,
        _whole(1, 7 * 24, 12),
        "reviewers are signed out this long after signing in",
    ),
    Setting(
        "SCREENING_RETENTION_DAYS",
        "RETENTION_DAYS",
        365,
        _whole(1, 365 * 30, 365),
        "the default age for screening purge",
    ),
    Setting(
        "SCREENING_REPLY_DAYS",
        "REPLY_DAYS",
        2,
        _whole(0, 30, 2),
        "the reply time the send and done pages promise (0: none)",
    ),
    Setting(
        "SCREENING_CLINIC_NAME", "CLINIC_NAME", "", _clinic_name, "the clinic's name on the patient pages"
    ),
    Setting(
        "SCREENING_CLINIC_PHONE",
        "CLINIC_PHONE",
        "",
        _clinic_phone,
        "the clinic's phone number on the patient pages",
    ),
    Setting(
        "SCREENING_TRUSTED_HOSTS",
        "TRUSTED_HOSTS",
        None,
        _trusted_hosts,
        "host names the site answers to, separated by commas",
    ),
    Setting(
        "SCREENING_TIMEZONE",
        "TIMEZONE",
        "UTC",
        _timezone,
        "the clinic's IANA time zone for the reviewer pages",
    ),
    Setting(
        "SCREENING_SMTP_URL",
        "SMTP_URL",
        "",
        _smtp_url,
        "the mail server for alerts (smtp:// or smtps://)",
        secret=True,
    ),
    Setting(
        "SCREENING_MAIL_FROM",
        "MAIL_FROM",
        "screening@localhost",
        _text_or("screening@localhost"),
        "the sender of alert emails",
    ),
    Setting(
        "SCREENING_BASE_URL",
        "BASE_URL",
        "http://127.0.0.1:5000",
        _base_url,
        "the site's address, for links in alerts and FHIR",
    ),
    Setting(
        "SCREENING_DIGEST_HOUR",
        "DIGEST_HOUR",
        8,
        _whole(0, 23, 8),
        "the clinic-local hour of the daily digest",
    ),
)


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
    values = {}
    for setting in SETTINGS:
        try:
            values[setting.key] = setting.parse(os.environ.get(setting.name, ""), env)
        except ValueError as exc:
            raise ConfigError(f"{setting.name}: {exc}.") from None
    return values


def value(name: str, env: str = "production"):
    """Return one setting as the environment gives it (for commands that need no app, like `rules`)."""
    setting = next(s for s in SETTINGS if s.name == name)
    return setting.parse(os.environ.get(name, ""), env)


def in_force(config: dict) -> list[tuple[str, str, str]]:
    """Return (name, value, help) for every setting as the app runs with it, secrets hidden."""
    rows = []
    for setting in SETTINGS:
        value = config.get(setting.key, setting.default)
        if setting.secret and value:
            shown = "(set, hidden)"
        elif isinstance(value, list):
            shown = ",".join(value)
        elif setting.key in ("DATABASE", "DATABASE_REPLICA"):
            shown = without_password(str(value))
        else:
            shown = "" if value is None else str(value)
        rows.append((setting.name, shown, setting.help))
    return rows


def defaults() -> dict:
    """Return settings that do not come from the environment, and each setting's default."""
    fixed = {
        "TEMPLATES_DIR": str(PROJECT_ROOT / "templates"),
        "TRANSLATIONS_DIR": str(PROJECT_ROOT / "translations"),
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "DATABASE_BUSY_TIMEOUT_MS": 5000,
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_I18N_ENABLED": False,  # the messages a patient reads come from our catalogues, not WTForms'
        "WTF_CSRF_SSL_STRICT": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "screening_session",
        "SIGNIN_MAX_ATTEMPTS": 5,
        "SIGNIN_MAX_ACCOUNT_ATTEMPTS": 50,
        "SIGNIN_HAMMER_NOTICE": 20,
        "SIGNIN_WINDOW_MINUTES": 15,
    }
    return {**{s.key: s.default for s in SETTINGS if s.key != "SECRET_KEY"}, **fixed}


def without_password(url: str) -> str:
    """Return a database setting fit for a message or a log: a URL's password shows as ***."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def tel_href(phone: str) -> str:
    """Return a tel: link for a phone number as written (digits and a leading + only)."""
    plus = "+" if phone.strip().startswith("+") else ""
    return "tel:" + plus + "".join(ch for ch in phone if ch.isdigit())
