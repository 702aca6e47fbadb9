"""Load, check and evaluate the rule set: answers in, an Outcome out. Knows nothing of Flask."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

from . import questionnaire as qmod
from .conditions import Condition
from .errors import Problem

RULE_FILES = ("questionnaire.yaml", "rules.yaml")


class RuleSetError(Exception):
    """The rule files have problems; `problems` lists every one of them."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the rule set:\n" + "\n".join(map(str, problems)))


@dataclass(frozen=True)
class Level:
    id: str
    label: str
    summary: str
    rank: int
    role: str = ""
    heading: str = ""


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    kind: str
    publisher: str = ""
    year: int | None = None
    url: str = ""


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    what: str
    may_offer: str = ""
    limits: str = ""
    ask: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    role: str = ""
    hide_when_urgent: bool = False


@dataclass(frozen=True)
class Rule:
    id: str
    level: str
    topic: str
    title: str
    message: str
    sources: tuple[str, ...]
    note: str
    always: bool
    when: Condition | None
    rank: int
    line: int | None = None
    alone: bool = False
    shown_with_level: str = ""  # shown only when a rule of this (higher) level shows too
    hidden_with_level: str = ""  # hidden when a rule of this (higher) level shows
    instead_of_sending: str = ""  # when it fires, the summary offers no sending and says this instead


@dataclass(frozen=True)
class Reason:
    """One answer that made a rule fire, in the question's and options' own words."""

    question: str
    question_label: str
    value: object
    value_labels: tuple[str, ...]

    @property
    def text(self) -> str:
        return f"{self.question_label}: {', '.join(self.value_labels)}"


class Fired:
    """A rule that fired. Why it fired (its reasons) is worked out the first time it is asked for:
    most callers want the level and topics only, and a reason costs a second pass over the answers."""

    __slots__ = ("_explain", "_reasons", "rule")

    def __init__(self, rule: Rule, explain: Callable[[], tuple[Reason, ...]]):
        self.rule = rule
        self._explain = explain
        self._reasons: tuple[Reason, ...] | None = None

    @property
    def reasons(self) -> tuple[Reason, ...]:
        if self._reasons is None:
            self._reasons = self._explain()
        return self._reasons

    def __eq__(self, other):
        if not isinstance(other, Fired):
            return NotImplemented
        return self.rule == other.rule and self.reasons == other.reasons

    __hash__ = None

    def __repr__(self) -> str:
        return f"Fired(rule={self.rule.id!r}, reasons={self.reasons!r})"


@dataclass(frozen=True)
class Outcome:
    level: str
    topics: tuple[str, ...]
    fired: tuple[Fired, ...]
    answers: dict
    version: str
    hash: str

    def to_dict(self) -> dict:
        """Return the outcome as plain JSON-ready data."""
        return {
            "level": self.level,
            "topics": list(self.topics),
            "rules": [
                {
                    "id": f.rule.id,
                    "level": f.rule.level,
                    "topic": f.rule.topic,
                    "title": f.rule.title,
                    "reasons": [
                        {"question": r.question, "answer": r.value, "text": r.text} for r in f.reasons
                    ],
                }
                for f in self.fired
            ],
            "ruleset": {"version": self.version, "hash": self.hash},
        }


@dataclass(frozen=True)
class Card:
    """One topic card of a summary: the topic, its rules that fired at the card's level, the sources to
    cite (the fired rules' first, then the topic's own, each once), and why it is shown: the answers
    behind every rule of the card's topic and level that the answers point to (each question once)."""

    topic: Topic
    items: tuple[Fired, ...]
    sources: tuple[str, ...]
    reasons: tuple[Reason, ...] = ()


class RuleSet:
    """The questionnaire, levels, sources, topic cards and rules, ready to evaluate answers.

    What safety means comes from the roles the rule files declare, never from ids or list positions:
    the level with `role: emergency` stops the questionnaire, the level with `role: urgent` means "see
    a doctor soon", and the topic with `role: safety` holds the notices for both. Loading refuses a
    rule set whose roles are missing, doubled or out of order, so these are always there.
    """

    def __init__(
        self,
        *,
        version,
        hash,
        questionnaire,
        levels,
        sources,
        topics,
        rules,
        exempt_words=(),
        about=None,
        approval=None,
    ):
        self.version = version
        self.about: dict = dict(about or {})
        self.approval: dict = dict(approval or {})  # who approved the safety content, and when
        self.hash = hash
        self.language = "en"  # a translated RuleSet says its language; its logic and hash are the English
        self.questionnaire: qmod.Questionnaire = questionnaire
        self.levels: list[Level] = levels
        self.sources: dict[str, Source] = sources
        self.topics: dict[str, Topic] = topics
        self.rules: list[Rule] = rules
        self.exempt_words: tuple[str, ...] = tuple(exempt_words)
        self._levels = {level.id: level for level in levels}
        self._by_rank = {level.rank: level.id for level in levels}
        roles = {level.role: level for level in levels if level.role}
        self.emergency_level: Level | None = roles.get("emergency")
        self.urgent_level: Level | None = roles.get("urgent")
        self.safety_topic: Topic | None = next((t for t in topics.values() if t.role == "safety"), None)
        self._emergency_rank = self.emergency_level.rank if self.emergency_level else float("inf")
        self._urgent_rank = self.urgent_level.rank if self.urgent_level else float("inf")
        self._safety_id = self.safety_topic.id if self.safety_topic else None
        self._hidden_when_urgent = {tid for tid, topic in topics.items() if topic.hide_when_urgent}
        self._always = [r for r in rules if r.always]
        self._level_bound = any(r.shown_with_level or r.hidden_with_level for r in rules)
        self._tested = [(r, r.when.test) for r in rules if not r.always and r.when is not None]
        self._order = {r.id: index for index, r in enumerate(rules)}
        self._question_order = {qid: index for index, qid in enumerate(questionnaire.questions)}

    def level(self, level_id: str) -> Level:
        return self._levels[level_id]

    # --- what the roles mean, for the views ---

    def is_emergency(self, outcome: Outcome) -> bool:
        """Return whether the outcome stops the questionnaire and sends the patient to emergency care."""
        return self._levels[outcome.level].rank >= self._emergency_rank

    def is_urgent(self, outcome: Outcome) -> bool:
        """Return whether the outcome says "see a doctor soon" (and is not an emergency)."""
        return self.is_urgent_level(outcome.level)

    def is_urgent_level(self, level_id: str) -> bool:
        """Return whether a level (say, one stored with a submission) is urgent or above, below emergency.

        A level id that this rule set no longer has counts as not urgent.
        """
        level = self._levels.get(level_id)
        return level is not None and self._urgent_rank <= level.rank < self._emergency_rank

    def safety_notices(self, outcome: Outcome) -> tuple[Fired, ...]:
        """Return the fired rules of the safety topic, in the order they fired."""
        return tuple(f for f in outcome.fired if f.rule.topic == self._safety_id)

    def emergency_notices(self, outcome: Outcome) -> tuple[Fired, ...]:
        """Return the fired rules at the emergency level: what the emergency page shows."""
        return tuple(f for f in outcome.fired if f.rule.rank >= self._emergency_rank)

    def urgent_notices(self, outcome: Outcome) -> tuple[Fired, ...]:
        """Return the fired safety rules below the emergency level: the "see a doctor soon" notices."""
        return tuple(f for f in self.safety_notices(outcome) if f.rule.rank < self._emergency_rank)

    def card_levels(self) -> list[Level]:
        """Return the levels whose rules show as topic cards (those without a safety role), highest first."""
        return [level for level in self.levels if not level.role]

    def emergency_from_partial(self, answers: Mapping) -> Outcome | None:
        """Return the outcome if these (possibly incomplete) answers already reach the emergency level.

        Used on the safety step: an emergency answer wins at once, whatever else is unanswered.
        """
        outcome = self.evaluate(answers)
        return outcome if self.is_emergency(outcome) else None

    def instead_of_sending(self, outcome: Outcome) -> str:
        """Return what the summary says instead of offering to send it (a rule that fired says so), or ""."""
        return next((f.rule.instead_of_sending for f in outcome.fired if f.rule.instead_of_sending), "")

    # --- evaluation ---

    def evaluate(self, answers: Mapping) -> Outcome:
        """Return the outcome for these answers; answers to hidden questions are ignored.

        An emergency keeps the safety rules alone. Otherwise every rule that fired shows, except that a
        rule marked `alone` keeps the safety rules and itself only, and an urgent rule hides the topics
        marked `hide_when_urgent` (their routine advice would contradict "see a doctor soon").
        """
        cleaned = self.questionnaire.clean(answers)
        fired = [rule for rule, test in self._tested if test(cleaned)]
        if any(rule.rank >= self._emergency_rank for rule in fired):
            fired = [rule for rule in fired if rule.topic == self._safety_id]
        else:
            fired = sorted(fired + self._always, key=lambda r: self._order[r.id])
            if any(rule.alone for rule in fired):
                fired = [rule for rule in fired if rule.alone or rule.topic == self._safety_id]
            if any(rule.rank >= self._urgent_rank for rule in fired):
                fired = [rule for rule in fired if rule.topic not in self._hidden_when_urgent]
            if self._level_bound:
                fired = _bound_by_level(fired)
        rank = max((rule.rank for rule in fired), default=min(self._by_rank))
        return Outcome(
            level=self._by_rank[rank],
            topics=tuple(sorted({rule.topic for rule in fired})),
            fired=tuple(Fired(rule, partial(self._reasons, rule, cleaned)) for rule in fired),
            answers=cleaned,
            version=self.version,
            hash=self.hash,
        )

    def cards(self, outcome: Outcome) -> dict[str, tuple[Card, ...]]:
        """Group an outcome's fired rules into topic cards by level, in the order the rules fired.

        A topic whose rules fired at two levels gets a card at each; both cite all its rules' sources.
        """
        by_topic: dict[str, list[Fired]] = {}
        for fired in outcome.fired:
            by_topic.setdefault(fired.rule.topic, []).append(fired)
        cited = {
            topic: tuple(
                dict.fromkeys([s for f in fired for s in f.rule.sources] + list(self.topics[topic].sources))
            )
            for topic, fired in by_topic.items()
        }
        cards: dict[str, dict[str, Card]] = {}
        for fired in outcome.fired:
            level, topic = fired.rule.level, fired.rule.topic
            here = cards.setdefault(level, {})
            if topic not in here:
                items = tuple(f for f in by_topic[topic] if f.rule.level == level)
                reasons = self._card_reasons(topic, level, items, outcome.answers)
                here[topic] = Card(self.topics[topic], items, cited[topic], reasons)
        return {level: tuple(here.values()) for level, here in cards.items()}

    def _card_reasons(self, topic: str, level: str, items: tuple[Fired, ...], answers) -> tuple[Reason, ...]:
        """Return the reasons of a card's fired rules, and of its topic's other rules at that level whose
        conditions the answers meet but for an exclusion (Helen told of stenosis whose legs ache on
        walking: the walking answer points to the card too, though only one message shows), each
        question once, in questionnaire order."""
        fired = {f.rule.id for f in items}
        reasons = [r for f in items for r in f.reasons]
        for rule in self.rules:
            if (
                rule.topic == topic
                and rule.level == level
                and rule.id not in fired
                and rule.when is not None
                and rule.when.holds_but_for_exclusions(answers)
            ):
                reasons.extend(self._reasons(rule, answers))
        once = {reason.question: reason for reason in reversed(reasons)}
        return tuple(sorted(once.values(), key=lambda reason: self._question_order[reason.question]))

    def _reasons(self, rule: Rule, answers: Mapping) -> tuple[Reason, ...]:
        if rule.when is None:
            return ()
        reasons, seen = [], set()
        for leaf in rule.when.matches(answers):
            if leaf.question in seen:
                continue
            seen.add(leaf.question)
            question = self.questionnaire.questions[leaf.question]
            answer = answers[leaf.question]
            labels = question.answer_labels(_matched_part(leaf, answer))
            reasons.append(Reason(question.id, question.short, answer, labels))
        return tuple(sorted(reasons, key=lambda reason: self._question_order[reason.question]))


def _bound_by_level(fired: list[Rule]) -> list[Rule]:
    """Drop the rules shown only beside a level that does not show, and those hidden beside one that does."""
    present = {rule.level for rule in fired if not (rule.shown_with_level or rule.hidden_with_level)}
    return [
        rule
        for rule in fired
        if (not rule.shown_with_level or rule.shown_with_level in present)
        and rule.hidden_with_level not in present
    ]


def _matched_part(leaf, answer):
    """Return the part of a choose-all answer that the leaf looked for, or the whole answer."""
    if isinstance(answer, list) and leaf.op in ("has", "has_any", "has_all"):
        wanted = {leaf.value} if leaf.op == "has" else set(leaf.value)
        return [item for item in answer if item in wanted]
    return answer
