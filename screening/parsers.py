"""How each SCREENING_* setting's text is checked and turned into its value (config.SETTINGS uses these).

Every parser takes the variable's text ("" when unset) and the environment's name, and returns the value
or raises ValueError saying what was expected. May import the standard library; a parser that needs a
wing's rule (a store's URL, the mail server, the clock, single sign-on) imports it when it runs, so
reading the settings loads nothing else.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from importlib import import_module
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE = PROJECT_ROOT / "instance"

PHONE_CHARACTERS = set("0123456789 +-().")
HOST = re.compile(r"(\.?[A-Za-z0-9-]+)(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:]+\]")


def whole(low: int, high: int, default: int) -> Callable[[str, str], int]:
    """Return a parser of a whole number from `low` to `high` (`default` when unset)."""

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


def secret(raw: str, env: str) -> str:
    """Check the secret key: long enough, and set in production (development keeps one in instance/)."""
    if not raw:
        if env == "production":
            raise ValueError(
                "not set. Production needs a long random secret, for example the output of: "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        return dev_secret(INSTANCE)
    if len(raw) < 16:
        raise ValueError("too short; use at least 16 random characters")
    return raw


def database(raw: str, env: str) -> str:
    """Check the database setting: a SQLite file (instance/screening.db when unset) or a postgresql:// URL."""
    if not raw:
        return str(INSTANCE / "screening.db")
    from .store.db import is_postgres  # the one place that says which settings name which store

    if is_postgres(raw) and not raw.partition("://")[2].strip("/"):
        raise ValueError("the postgresql:// URL names no server or database")
    return raw


def replica(raw: str, env: str) -> str:
    """Check the read-only replica's setting: unset, or a postgresql:// URL."""
    from .store.db import is_postgres

    raw = raw.strip()
    if raw and not is_postgres(raw):
        raise ValueError("expected a postgresql:// URL of a read-only standby (a replica needs PostgreSQL)")
    return raw


def path_or(default: Path) -> Callable[[str, str], str]:
    """Return a parser of a path that is `default` when unset."""
    return lambda raw, env: raw or str(default)


def emergency_number(raw: str, env: str) -> str:
    """Check the emergency number: digits, spaces, + and - (911 when unset)."""
    number = raw.strip() or "911"
    if not all(ch.isdigit() or ch in " -+" for ch in number):
        raise ValueError(f"expected digits, found {number!r}")
    return number


def clinic_name(raw: str, env: str) -> str:
    """Check the clinic's name: printable, up to 100 characters, spaces collapsed."""
    name = " ".join(raw.split())
    if len(name) > 100 or any(not ch.isprintable() for ch in name):
        raise ValueError(f"expected a name of up to 100 characters, found {name!r}")
    return name


def clinic_phone(raw: str, env: str) -> str:
    """Check the clinic's phone number: 3 to 20 digits among spaces and + - ( ) ."""
    phone = " ".join(raw.split())
    digits = sum(ch.isdigit() for ch in phone)
    if phone and (not set(phone) <= PHONE_CHARACTERS or not 3 <= digits <= 20):
        raise ValueError(f"expected a phone number of digits, spaces and + - ( ) ., found {phone!r}")
    return phone


def trusted_hosts(raw: str, env: str) -> list[str] | None:
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


def timezone(raw: str, env: str) -> str:
    """Check the clinic's IANA time zone (UTC when unset)."""
    from .clinictime import zone

    name = raw.strip() or "UTC"
    zone(name)  # raises ValueError with the expected form
    return name


def smtp_url(raw: str, env: str) -> str:
    """Check the mail server's smtp:// or smtps:// URL with the alerts' rule."""
    from .alerts import check_smtp_url

    return check_smtp_url(raw.strip()) if raw.strip() else ""


def base_url(raw: str, env: str) -> str:
    """Check the site's address (this machine's in development when unset)."""
    base = raw.strip() or ("http://127.0.0.1:5000" if env == "development" else "")
    if base and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]+)?(/\S*)?", base):
        raise ValueError(f"expected an address like https://clinic.example.org, found {base!r}")
    return base


def two_step(raw: str, env: str) -> str:
    """Check the second-step mode: required, optional, or off outside production."""
    mode = raw.strip() or ("required" if env == "production" else "optional")
    if mode == "off" and env == "production":
        raise ValueError("off is refused in production; use required (the default) or optional")
    if mode not in ("required", "optional", "off"):
        raise ValueError(f"expected required, optional or off (development only), found {mode!r}")
    return mode


def text_or(default: str) -> Callable[[str, str], str]:
    """Return a parser of free text that is `default` when unset."""
    return lambda raw, env: raw.strip() or default


def issuer(raw: str, env: str) -> str:
    """Check the single sign-on issuer with review/oidc.py's rule (imported only when one is set)."""
    return import_module(".review.oidc", __package__).parse_issuer(raw, env) if raw.strip() else ""


def dev_secret(instance: Path) -> str:
    """Return a development secret kept in the instance folder, so restarts keep sessions."""
    path = instance / "dev-secret-key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
