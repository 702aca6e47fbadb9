"""Properties of the engine over random valid answer sets, and over junk."""

from __future__ import annotations

from conftest import RULES_DIR
from hypothesis import given, settings
from hypothesis import strategies as st

from screening.rules import load_ruleset

RULESET = load_ruleset(RULES_DIR)
QUESTIONNAIRE = RULESET.questionnaire
EMERGENCY_OPTIONS = ["saddle_numbness", "bladder_change", "bowel_change", "leg_weakness", "chest_belly_pain"]


def answer_for(question):
    """Return a strategy for one valid answer to a question."""
    if question.type == "number":
        return st.integers(question.min, question.max)
    if question.type == "single":
        return st.sampled_from([o.id for o in question.options])
    plain = [o.id for o in question.options if not o.exclusive]
    alone = [[o.id] for o in question.options if o.exclusive]
    return st.one_of(st.lists(st.sampled_from(plain), min_size=1, unique=True), *(st.just(a) for a in alone))


@st.composite
def complete_answers(draw):
    """Draw a complete, valid answer set: every shown question answered, hidden ones left out."""
    answers = {}
    for question in QUESTIONNAIRE.questions.values():
        if question.show_when is None or question.show_when.test(answers):
            answers[question.id] = draw(answer_for(question))
    return answers


@settings(max_examples=300, deadline=None)
@given(complete_answers())
def test_valid_answers_evaluate_consistently(answers):
    assert QUESTIONNAIRE.validate(answers, complete=True) == []
    outcome = RULESET.evaluate(answers)
    assert RULESET.evaluate(answers) == outcome, "deterministic"
    ranks = [RULESET.level(f.rule.level).rank for f in outcome.fired]
    assert RULESET.level(outcome.level).rank == max(ranks)
    assert list(outcome.topics) == sorted({f.rule.topic for f in outcome.fired})
    assert all(reason.question in answers for f in outcome.fired for reason in f.reasons)


@settings(max_examples=200, deadline=None)
@given(complete_answers())
def test_summary_cards_hold_every_fired_rule_once_and_cite_each_source_once(answers):
    outcome = RULESET.evaluate(answers)
    cards = RULESET.cards(outcome)
    placed = [(level, item.rule.id) for level, row in cards.items() for card in row for item in card.items]
    assert sorted(placed) == sorted((f.rule.level, f.rule.id) for f in outcome.fired)
    for level, row in cards.items():
        assert len({card.topic.id for card in row}) == len(row), "one card per topic at each level"
        for card in row:
            assert all(item.rule.topic == card.topic.id and item.rule.level == level for item in card.items)
            wanted = {s for f in outcome.fired if f.rule.topic == card.topic.id for s in f.rule.sources}
            assert len(card.sources) == len(set(card.sources))
            assert set(card.sources) == wanted | set(card.topic.sources)


@settings(max_examples=200, deadline=None)
@given(complete_answers(), st.lists(st.sampled_from(EMERGENCY_OPTIONS), min_size=1, unique=True))
def test_emergency_answers_always_give_an_emergency_and_nothing_else(answers, signs):
    outcome = RULESET.evaluate(dict(answers, emergency_signs=signs))
    assert outcome.level == "emergency"
    assert outcome.topics == ("safety",)
    assert all(f.rule.topic == "safety" for f in outcome.fired)


@settings(max_examples=200, deadline=None)
@given(complete_answers(), st.data())
def test_answers_to_hidden_questions_change_nothing(answers, data):
    hidden = [q for q in QUESTIONNAIRE.questions.values() if q.id not in answers]
    extra = {q.id: data.draw(answer_for(q)) for q in hidden}
    assert RULESET.evaluate({**answers, **extra}) == RULESET.evaluate(answers)


JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
KEYS = st.sampled_from([*QUESTIONNAIRE.questions, "unknown", ""]) | st.text(max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(KEYS, JUNK, max_size=8))
def test_junk_answers_give_errors_never_exceptions(answers):
    errors = QUESTIONNAIRE.validate(answers)
    for error in errors:
        assert str(error).startswith(f"question '{error.question}': ")
        assert error.message(QUESTIONNAIRE.messages)
    if not errors:
        RULESET.evaluate(answers)
