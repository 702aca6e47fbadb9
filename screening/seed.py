"""Generate realistic fake submissions: valid answers, real outcomes from the rule set, made-up people."""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from . import store
from .engine.answers import random_answers

FIRST_NAMES = (
    "Ada", "Aisha", "Alan", "Amara", "Ana", "Ben", "Carla", "Chen", "Dana", "David", "Elena", "Emeka",
    "Fatima", "Frank", "Grace", "Hana", "Henry", "Ines", "Ivan", "Jack", "Jamal", "Joan", "Kenji", "Lara",
    "Leo", "Maria", "Mohammed", "Nadia", "Noah", "Olga", "Omar", "Priya", "Ravi", "Rosa", "Sam", "Sofia",
    "Tom", "Uma", "Vera", "Wei", "Yusuf", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Abbott", "Adeyemi", "Baker", "Becker", "Castro", "Chen", "Clarke", "Costa", "Dubois", "Evans",
    "Fischer", "Garcia", "Gupta", "Hall", "Hughes", "Ivanova", "Jones", "Kim", "Kowalski", "Lee",
    "Lopez", "Martin", "Mensah", "Murphy", "Nguyen", "Novak", "Okafor", "Patel", "Quinn", "Rossi",
    "Santos", "Schmidt", "Silva", "Singh", "Smith", "Tanaka", "Taylor", "Walker", "Wright", "Young",
)  # fmt: skip
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
POOL_SIZE = 5000
BATCH_SIZE = 5000


def _status(age: timedelta, rng: random.Random) -> str:
    """Return a plausible status for a submission this old: recent ones are new, old ones closed."""
    if age < timedelta(days=2):
        weights = {"new": 8, "in_review": 2}
    elif age < timedelta(days=21):
        weights = {"new": 3, "in_review": 4, "contacted": 3, "closed": 2}
    else:
        weights = {"new": 1, "in_review": 1, "contacted": 3, "closed": 30}
    # Tried, not reached needs its tries counted, which only a reviewer's move does: seeds have none.
    return rng.choices(store.STATUSES, [weights.get(status, 0) for status in store.STATUSES])[0]


def _person(rng: random.Random) -> dict:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first}.{last}{rng.randint(1, 999)}@{rng.choice(EMAIL_DOMAINS)}".lower()
    phone = f"555-01{rng.randint(0, 99):02d}-{rng.randint(0, 9999):04d}"
    method = rng.choices(("phone", "email"), (3, 2))[0]
    person = {"name": f"{first} {last}", "email": email, "phone": phone, "contact_method": method}
    if rng.random() < 0.15:
        person["email" if method == "phone" else "phone"] = ""
    return person


def _pool(ruleset, render_summary: Callable, rng: random.Random, size: int) -> list[dict]:
    """Return distinct evaluated answer sets that a patient could send (no emergency); submissions draw
    from them, so each is evaluated once."""
    pool: dict[str, dict] = {}
    attempts = 0
    while len(pool) < size and attempts < size * 20:
        attempts += 1
        answers = random_answers(ruleset, rng)
        key = json.dumps(answers, sort_keys=True)
        if key in pool or ruleset.is_emergency(ruleset.evaluate(answers)):
            continue  # an emergency is never sent in the app (it stops at the safety step), so none is seeded
        pool[key] = evaluated(ruleset, answers, render_summary)
    return list(pool.values())


def evaluated(ruleset, answers: dict, render_summary: Callable) -> dict:
    """Return the stored columns that follow from an answer set: outcome, level, topics and summary."""
    outcome = ruleset.evaluate(answers)
    return {
        "answers": outcome.answers,
        "outcome": outcome.to_dict(),
        "summary_html": render_summary(outcome),
        "level": outcome.level,
        "topics": list(outcome.topics),
    }


def _fresh_references(db, make_reference: Callable[[], str], count: int) -> list[str]:
    """Return `count` new references that no stored submission has (short references can collide)."""
    references: set[str] = set()
    while len(references) < count:
        wanted = {make_reference() for _ in range(count - len(references))} - references
        references |= wanted - store.existing_references(db, wanted)
    return sorted(references)


def seed(
    db,
    ruleset,
    render_summary: Callable,
    count: int,
    *,
    make_reference: Callable[[], str],
    rng_seed: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Insert `count` fake submissions received over the last year; return how many were inserted.

    `rng_seed` makes the people, answers and dates reproducible; references are always fresh, so
    seeding twice never collides.
    """
    rng = random.Random(rng_seed)  # noqa: S311 (fake demo data, not secrets)
    pool = _pool(ruleset, render_summary, rng, min(count, POOL_SIZE))
    now = datetime.fromisoformat(store.now())
    offsets = sorted((rng.uniform(0, 365 * 86400) for _ in range(count)), reverse=True)
    run = secrets.token_hex(4)
    inserted = 0
    for start in range(0, count, BATCH_SIZE):
        batch = offsets[start : start + BATCH_SIZE]
        references = _fresh_references(db, make_reference, len(batch))
        rows = []
        for n, (offset, reference) in enumerate(zip(batch, references, strict=True), start):
            received = now - timedelta(seconds=offset)
            entry = rng.choice(pool)
            person = _person(rng)
            timestamp = received.astimezone(UTC).isoformat(timespec="microseconds")
            rows.append(
                {
                    **entry,
                    **person,
                    "reference": reference,
                    "idempotency_key": f"seed-{run}-{n}",
                    "received": timestamp,
                    "updated": timestamp,
                    "status": _status(now - received, rng),
                    "ruleset_version": ruleset.version,
                    "ruleset_hash": ruleset.hash,
                }
            )
        store.insert_seed_submissions(db, rows)
        inserted += len(rows)
        if progress:
            progress(len(rows))
    return inserted
