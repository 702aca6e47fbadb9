"""Random valid answer sets, as a patient would send them: for rule-change samples (`diff`) and the
seed data (`screening.seed`)."""

from __future__ import annotations

import random

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
