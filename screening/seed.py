"""Generate realistic fake submissions: valid answers, real outcomes from the rule set, made-up people."""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from . import store

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
# How often a choose-all question is answered with its "none of these" option.
EXCLUSIVE_CHANCE = {
    "emergency_signs": 0.97,
    "warning_signs": 0.88,
    "diagnosis": 0.3,
    "treatments_tried": 0.2,
    "health_factors": 0.45,
}
DEFAULT_EXCLUSIVE_CHANCE = 0.3
# Relative weights where a uniform choice would be unrealistic; other options weigh 1.
OPTION_WEIGHTS = {
    "major_trauma": {"no": 80},
    "age_band": {"18_to_49": 8, "50_to_64": 10, "65_to_79": 8, "80_plus": 3},
    "sudden_pain_minor_event": {"no": 6},
    "prior_surgery": {"no": 12},
    "imaging": {"mri": 3},
}
# How many options a choose-all answer has, when it is not "none of these".
CHOICE_COUNT_WEIGHTS = (6, 3, 1)
POOL_SIZE = 5000
BATCH_SIZE = 5000


def random_answer(question, rng: random.Random):
    """Return a valid random answer to one question."""
    if question.type == "number":
        return rng.randint(question.min, question.max)
    options = list(question.options)
    if question.type == "single":
        weights = OPTION_WEIGHTS.get(question.id, {})
        return rng.choices([o.id for o in options], [weights.get(o.id, 1) for o in options])[0]
    exclusive = [o for o in options if o.exclusive]
    others = [o for o in options if not o.exclusive]
    if exclusive and rng.random() < EXCLUSIVE_CHANCE.get(question.id, DEFAULT_EXCLUSIVE_CHANCE):
        return [exclusive[0].id]
    counts = range(1, min(len(others), len(CHOICE_COUNT_WEIGHTS)) + 1)
    count = rng.choices(counts, CHOICE_COUNT_WEIGHTS[: len(counts)])[0]
    chosen = set(rng.sample([o.id for o in others], count))
    return [o.id for o in others if o.id in chosen]


def random_answers(ruleset, rng: random.Random) -> dict:
    """Return a complete, valid answer set, as a patient would send it.

    Questions are answered in order and only when shown. When the answers reach the highest level
    (an emergency), the questionnaire stops after the safety step, as it does for a patient.
    """
    questionnaire = ruleset.questionnaire
    answers: dict = {}
    for question in questionnaire.questions.values():
        if questionnaire.is_shown(question.id, answers):
            answers[question.id] = random_answer(question, rng)
    if ruleset.is_emergency(ruleset.evaluate(answers)):
        first_step = {q.id for q in questionnaire.emergency_step.questions}
        answers = {qid: value for qid, value in answers.items() if qid in first_step}
    return answers


def _status(age: timedelta, rng: random.Random) -> str:
    """Return a plausible status for a submission this old: recent ones are new, old ones closed."""
    if age < timedelta(days=2):
        return rng.choices(store.STATUSES, (8, 2, 0, 0))[0]
    if age < timedelta(days=21):
        return rng.choices(store.STATUSES, (3, 4, 3, 2))[0]
    return rng.choices(store.STATUSES, (1, 1, 3, 30))[0]


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
