"""Read the app's settings from the environment, check them once, and explain a bad one.

Every SCREENING_* setting is declared once, in SETTINGS: its name, the app config key it fills, its
default, the parser that checks it (in `parsers`), and a line of help. `screening settings` prints the
table with the values in force (secrets hidden), and the README test reads it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import parsers
from .parsers import INSTANCE, PROJECT_ROOT

EXPORTS = INSTANCE / "exports"

ENVIRONMENTS = ("production", "development")


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


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "SCREENING_ENV",
        "SCREENING_ENV",
        "production",
        lambda raw, env: env,
        "production (secret key needed, cookies over HTTPS only) or development",
    ),
    Setting(
        "SCREENING_SECRET_KEY",
        "SECRET_KEY",
        "",
        parsers.secret,
        "signs session cookies and form tokens; development keeps one in instance/dev-secret-key",
        secret=True,
    ),
    Setting(
        "SCREENING_DATABASE",
        "DATABASE",
        str(INSTANCE / "screening.db"),
        parsers.database,
        "a SQLite file, or postgresql://user:password@host:port/dbname for several app hosts",
    ),
    Setting(
        "SCREENING_DATABASE_POOL_MIN",
        "DATABASE_POOL_MIN",
        1,
        parsers.whole(0, 100, 1),
        "PostgreSQL: connections each worker process keeps open",
    ),
    Setting(
        "SCREENING_DATABASE_POOL_MAX",
        "DATABASE_POOL_MAX",
        10,
        parsers.whole(1, 500, 10),
        "PostgreSQL: the most connections a worker process opens (its threads share them)",
    ),
    Setting(
        "SCREENING_DATABASE_POOL_TIMEOUT",
        "DATABASE_POOL_TIMEOUT",
        5,
        parsers.whole(1, 120, 5),
        "PostgreSQL: seconds a request waits for a connection before the page says 'try again'",
    ),
    Setting(
        "SCREENING_DATABASE_REPLICA",
        "DATABASE_REPLICA",
        "",
        parsers.replica,
        "PostgreSQL: a read-only standby for the reviewers' inbox, counts, overview and exports (optional)",
    ),
    Setting(
        "SCREENING_REPLICA_MAX_LAG_SECONDS",
        "REPLICA_MAX_LAG_SECONDS",
        30,
        parsers.whole(1, 3600, 30),
        "reads go to the primary while the replica is this far behind, and for this long after a change",
    ),
    Setting(
        "SCREENING_RULES_DIR",
        "RULES_DIR",
        str(PROJECT_ROOT / "rules"),
        parsers.path_or(PROJECT_ROOT / "rules"),
        "the folder with the rule files",
    ),
    Setting(
        "SCREENING_EMERGENCY_NUMBER",
        "EMERGENCY_NUMBER",
        "911",
        parsers.emergency_number,
        "the number the emergency page tells people to call",
    ),
    Setting(
        "SCREENING_DRAFT_TTL_HOURS",
        "DRAFT_TTL_HOURS",
        24,
        parsers.whole(1, 24 * 30, 24),
        "how long unsent answers are kept",
    ),
    Setting(
        "SCREENING_SESSION_IDLE_MINUTES",
        "SESSION_IDLE_MINUTES",
        30,
        parsers.whole(1, 24 * 60, 30),
        "reviewers are signed out after this long idle",
    ),
    Setting(
        "SCREENING_SESSION_MAX_HOURS",
        "SESSION_MAX_HOURS",
        12,
        parsers.whole(1, 7 * 24, 12),
        "reviewers are signed out this long after signing in",
    ),
    Setting(
        "SCREENING_RETENTION_DAYS",
        "RETENTION_DAYS",
        365,
        parsers.whole(1, 365 * 30, 365),
        "the default age for screening purge",
    ),
    Setting(
        "SCREENING_REPLY_DAYS",
        "REPLY_DAYS",
        2,
        parsers.whole(0, 30, 2),
        "the reply time the send and done pages promise (0: none)",
    ),
    Setting(
        "SCREENING_CLINIC_NAME",
        "CLINIC_NAME",
        "",
        parsers.clinic_name,
        "the clinic's name on the patient pages",
    ),
    Setting(
        "SCREENING_CLINIC_PHONE",
        "CLINIC_PHONE",
        "",
        parsers.clinic_phone,
        "the clinic's phone number on the patient pages",
    ),
    Setting(
        "SCREENING_TRUSTED_HOSTS",
        "TRUSTED_HOSTS",
        None,
        parsers.trusted_hosts,
        "host names the site answers to, separated by commas",
    ),
    Setting(
        "SCREENING_TIMEZONE",
        "TIMEZONE",
        "UTC",
        parsers.timezone,
        "the clinic's IANA time zone for the reviewer pages",
    ),
    Setting(
        "SCREENING_SMTP_URL",
        "SMTP_URL",
        "",
        parsers.smtp_url,
        "the mail server for alerts (smtp:// or smtps://)",
        secret=True,
    ),
    Setting(
        "SCREENING_MAIL_FROM",
        "MAIL_FROM",
        "screening@localhost",
        parsers.text_or("screening@localhost"),
        "the sender of alert emails",
    ),
    Setting(
        "SCREENING_BASE_URL",
        "BASE_URL",
        "http://127.0.0.1:5000",
        parsers.base_url,
        "the site's address, for links in alerts and FHIR",
    ),
    Setting(
        "SCREENING_DIGEST_HOUR",
        "DIGEST_HOUR",
        8,
        parsers.whole(0, 23, 8),
        "the clinic-local hour of the daily digest",
    ),
    Setting(
        "SCREENING_TWO_STEP",
        "TWO_STEP",
        "required",
        parsers.two_step,
        "required, optional or off (second step)",
    ),
    Setting(
        "SCREENING_EXPORTS_NEED_ROLE",
        "EXPORTS_NEED_ROLE",
        0,
        parsers.whole(0, 1, 0),
        "1: exports need a role",
    ),
    *(
        Setting("SCREENING_" + key, key, default, parse, help, secret=key.endswith("SECRET"))
        for key, default, parse, help in (
            ("OIDC_ISSUER", "", parsers.issuer, "single sign-on: the provider's https:// issuer URL"),
            ("OIDC_CLIENT_ID", "", parsers.text_or(""), "single sign-on: the client id the provider gave"),
            ("OIDC_CLIENT_SECRET", "", parsers.text_or(""), "single sign-on: the client secret it gave"),
            (
                "OIDC_NAME",
                "your hospital account",
                parsers.text_or("your hospital account"),
                "Sign in with NAME",
            ),
            ("OIDC_CREATE_REVIEWERS", 0, parsers.whole(0, 1, 0), "1: make accounts for verified strangers"),
            (
                "PROXY_HOPS",
                0,
                parsers.whole(0, 5, 0),
                "reverse proxies in front to trust for the client's address",
            ),
            (
                "EXPORT_DIR",
                str(EXPORTS),
                parsers.path_or(EXPORTS),
                "where FHIR $export files are kept for a day",
            ),
        )
    ),
)


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


def mail_folder(database: str) -> Path:
    """Return where development keeps alert mail when no mail server is set: a `mail` folder beside the
    SQLite file (instance/mail/ by default), or instance/mail/ when the database is PostgreSQL."""
    from .store.db import is_postgres

    return INSTANCE / "mail" if is_postgres(database) else Path(database).parent / "mail"
