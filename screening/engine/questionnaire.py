"""Model the questionnaire: steps, questions and options from YAML; which are shown; valid answers."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from . import yamlfile
from .conditions import Compiler, Condition
from .errors import Collector

QUESTION_TYPES = ("single", "multi", "number")
MESSAGE_FIELDS = {
    "required": set(),
    "required_multi": {"exclusive"},
    "exclusive": {"option"},
    "not_a_choice": set(),
    "number_required": {"min", "max"},
    "number_range": {"min", "max"},
}
# Which patient message each validation code shows.
MESSAGE_FOR_CODE = {
    "unknown_question": "not_a_choice",
    "not_a_choice": "not_a_choice",
    "not_a_list": "not_a_choice",
    "exclusive": "exclusive",
    "not_a_number": "number_range",
    "number_range": "number_range",
    "required": "required",
    "required_multi": "required_multi",
    "number_required": "number_required",
}


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    exclusive: bool = False
    hint: str = ""
    emergency: bool = False
    unless: tuple[str, str] | None = None  # (question, answer) that makes this emergency answer no emergency


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    label: str
    short: str
    hint: str = ""
    options: tuple[Option, ...] = ()
    ordered: bool = False
    min: int | None = None
    max: int | None = None
    min_label: str = ""
    max_label: str = ""
    show_when: Condition | None = None
    show_when_data: object = None
    step: str = ""
    collected_for_reviewers: bool = False
    optional: bool = False
    on_page_from_start: bool = False  # without the page script it is on the page before it is shown
    line: int | None = None
    _by_id: dict = field(default_factory=dict, compare=False, repr=False)

    def option(self, option_id) -> Option | None:
        """Return the option with this id, or None."""
        return self._by_id.get(option_id)

    def option_label(self, option_id) -> str:
        option = self._by_id.get(option_id)
        return option.label if option else str(option_id)

    @property
    def exclusive_options(self) -> tuple[Option, ...]:
        return tuple(option for option in self.options if option.exclusive)

    def answer_labels(self, answer) -> tuple[str, ...]:
        """Return the answer in the patient's words: option labels, or the number."""
        if answer is None:
            return ()
        if self.type == "number":
            return (str(answer),)
        if isinstance(answer, list):
            return tuple(self.option_label(item) for item in answer)
        return (self.option_label(answer),)


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    intro: str
    questions: tuple[Question, ...]
    show_when: Condition | None = None
    show_when_data: object = None  # the condition as written (FHIR puts it on the step's group)


@dataclass(frozen=True)
class AnswerError:
    """One answer that is not valid for its question."""

    question: str
    code: str
    params: dict = field(default_factory=dict, compare=False, hash=False)

    def message(self, messages: Mapping[str, str]) -> str:
        """Return the patient's message for this error, from the questionnaire's `messages`."""
        return messages[MESSAGE_FOR_CODE[self.code]].format(**self.params)

    def __str__(self) -> str:
        p = self.params
        text = {
            "unknown_question": "there is no such question",
            "not_a_choice": f"{p.get('value')!r} is not one of its options ({p.get('options')})",
            "not_a_list": f"it takes a list of option ids, found {p.get('value')!r}",
            "exclusive": f"'{p.get('option_id')}' cannot be combined with other options",
            "not_a_number": f"it takes a whole number, found {p.get('value')!r}",
            "number_range": f"{p.get('value')!r} is outside {p.get('min')} to {p.get('max')}",
            "required": "it needs an answer",
            "required_multi": "it needs at least one option",
            "number_required": "it needs a number",
        }[self.code]
        return f"question '{self.question}': {text}"


class Questionnaire:
    """The steps and questions, with visibility and validation of answers."""

    def __init__(self, steps: list[Step], messages: dict[str, str]):
        self.steps = steps
        self.messages = messages
        self.questions: dict[str, Question] = {q.id: q for step in steps for q in step.questions}
        self._steps = {step.id: step for step in steps}
        self._conditional = [(q.id, q.show_when.test) for q in self.questions.values() if q.show_when]

    def step(self, step_id: str) -> Step:
        return self._steps[step_id]

    def step_shown(self, step_id: str, answers: Mapping) -> bool:
        """Return whether a step is asked at all, given the answers so far (after cleaning)."""
        condition = self._steps[step_id].show_when
        return condition is None or condition.test(self.clean(answers))

    def shown_steps(self, answers: Mapping) -> list[Step]:
        """Return the steps that are asked, given the answers: a step's `show_when` can skip it whole."""
        cleaned = self.clean(answers)
        return [step for step in self.steps if step.show_when is None or step.show_when.test(cleaned)]

    @property
    def emergency_answers(self) -> list[tuple[Question, Option]]:
        """Return every option marked `emergency: true`, with its question: each alone is an emergency."""
        return [(q, o) for q in self.questions.values() for o in q.options if o.emergency]

    @property
    def emergency_step(self) -> Step:
        """Return the step that asks about emergency signs (the first step, which loading checks)."""
        marked = self.emergency_answers
        return self._steps[marked[0][0].step] if marked else self.steps[0]

    def is_shown(self, qid: str, answers: Mapping) -> bool:
        """Return whether the question is shown, given the other answers (after cleaning)."""
        question = self.questions[qid]
        return question.show_when is None or question.show_when.test(self.clean(answers))

    def clean(self, answers: Mapping) -> dict:
        """Return the answers without those to questions the other answers hide."""
        cleaned = dict(answers)
        for qid, test in self._conditional:
            if qid in cleaned and not test(cleaned):
                del cleaned[qid]
        return cleaned

    def shown_questions(self, step_id: str, answers: Mapping) -> list[Question]:
        cleaned = self.clean(answers)
        return [q for q in self._steps[step_id].questions if q.show_when is None or q.show_when.test(cleaned)]

    def missing(self, qid: str) -> AnswerError:
        """Return the error for a shown question left unanswered."""
        return _missing(self.questions[qid])

    def validate(self, answers: Mapping, *, complete: bool = False) -> list[AnswerError]:
        """Return every problem with these answers; with `complete`, every shown question needs one."""
        errors = [AnswerError(str(qid), "unknown_question") for qid in answers if qid not in self.questions]
        for qid, answer in answers.items():
            question = self.questions.get(qid)
            if question is not None:
                errors.extend(_check_answer(question, answer))
        if complete:
            cleaned = self.clean({k: v for k, v in answers.items() if k in self.questions})
            for question in self.questions.values():
                shown = question.show_when is None or question.show_when.test(cleaned)
                if shown and not question.optional and _is_empty(answers.get(question.id)):
                    errors.append(_missing(question))
        return errors


def _is_empty(answer) -> bool:
    return answer is None or answer == "" or answer == []


def _missing(question: Question) -> AnswerError:
    if question.type == "multi":
        exclusive = question.exclusive_options
        return AnswerError(
            question.id, "required_multi", {"exclusive": exclusive[0].label if exclusive else ""}
        )
    if question.type == "number":
        return AnswerError(question.id, "number_required", {"min": question.min, "max": question.max})
    return AnswerError(question.id, "required")


def _check_answer(question: Question, answer) -> list[AnswerError]:
    ids = [option.id for option in question.options]
    if _is_empty(answer):
        return []
    if question.type == "number":
        if not isinstance(answer, int) or isinstance(answer, bool):
            return [
                AnswerError(
                    question.id, "not_a_number", {"value": answer, "min": question.min, "max": question.max}
                )
            ]
        if not question.min <= answer <= question.max:
            return [
                AnswerError(
                    question.id, "number_range", {"value": answer, "min": question.min, "max": question.max}
                )
            ]
        return []
    if question.type == "single":
        if not isinstance(answer, str) or question.option(answer) is None:
            return [AnswerError(question.id, "not_a_choice", {"value": answer, "options": ", ".join(ids)})]
        return []
    if not isinstance(answer, list):
        return [AnswerError(question.id, "not_a_list", {"value": answer})]
    bad = [item for item in answer if not isinstance(item, str) or question.option(item) is None]
    if bad or len(set(answer)) != len(answer):
        value = bad[0] if bad else answer
        return [AnswerError(question.id, "not_a_choice", {"value": value, "options": ", ".join(ids)})]
    for item in answer:
        option = question.option(item)
        if option.exclusive and len(answer) > 1:
            return [AnswerError(question.id, "exclusive", {"option": option.label, "option_id": option.id})]
    return []


# --- building from YAML data ----------------------------------------------------------------------


def build(data: Mapping, collector: Collector) -> Questionnaire:
    """Build the questionnaire from checked YAML data, reporting semantic problems."""
    messages = dict(data.get("messages", {}))
    _check_messages(data.get("messages", {}), collector)
    seen: dict[str, int] = {}
    built: list[tuple[str, Question, Mapping]] = []
    for step_data in data.get("steps", []):
        for qdata in step_data.get("questions", []):
            question = _question(qdata, step_data["id"], seen, collector)
            if question is not None:
                built.append((step_data["id"], question, qdata))
    everything = {question.id: question for _, question, _ in built}
    order = list(everything)
    step_conditions = {
        step_data["id"]: _step_show_when(step_data, everything, order, built, collector)
        for step_data in data.get("steps", [])
        if "show_when" in step_data
    }
    finished: dict[str, Question] = {}
    for step_id, question, qdata in built:
        if "show_when" in qdata:
            question = _with_show_when(question, qdata, everything, order, collector)
        if step_conditions.get(step_id) is not None:
            question = _within_step(question, *step_conditions[step_id])
        finished[question.id] = question
    steps = [
        Step(
            step_data["id"],
            step_data["title"],
            step_data.get("intro", ""),
            tuple(q for sid, q, _ in built if sid == step_data["id"] for q in [finished[q.id]]),
            *(step_conditions.get(step_data["id"]) or (None, None)),
        )
        for step_data in data.get("steps", [])
    ]
    return Questionnaire(steps, messages)


def _with_show_when(question: Question, qdata: Mapping, everything: dict, order: list, collector) -> Question:
    """Compile a question's show_when; it may only read questions asked before it."""
    subject = f"question '{question.id}'"
    line = qdata.line_of("show_when")
    condition = Compiler(everything, collector, subject).compile(qdata["show_when"], line)
    earlier = set(order[: order.index(question.id)])
    for other in sorted(condition.questions() - earlier):
        collector.add("show_when_order", line, subject, question=question.id, other=other)
    return replace(question, show_when=condition, show_when_data=yamlfile.plain(qdata["show_when"]))


def _step_show_when(step_data: Mapping, everything: dict, order: list, built: list, collector):
    """Compile a step's show_when; it may only read questions on earlier steps. Returns (condition, data)."""
    step_id = step_data["id"]
    subject = f"step '{step_id}'"
    line = step_data.line_of("show_when")
    condition = Compiler(everything, collector, subject).compile(step_data["show_when"], line)
    own = [q.id for sid, q, _ in built if sid == step_id]
    earlier = set(order[: order.index(own[0])]) if own and own[0] in order else set()
    for other in sorted(condition.questions() - earlier):
        collector.add("step_show_when_order", line, subject, step=step_id, other=other)
    return condition, yamlfile.plain(step_data["show_when"])


def _within_step(question: Question, condition: Condition, data) -> Question:
    """Return the question shown only when its step is: the step's condition and its own, both."""
    if question.show_when is None:
        return replace(question, show_when=condition, show_when_data=data)
    own = question.show_when

    def test(answers):
        return condition.test(answers) and own.test(answers)

    both = Condition(test, "all", (condition, own))
    return replace(question, show_when=both, show_when_data={"all": [data, question.show_when_data]})


def _check_messages(messages: Mapping, collector: Collector) -> None:
    for key, text in messages.items():
        allowed = MESSAGE_FIELDS.get(key, set())
        for _, name, _, _ in string.Formatter().parse(str(text)):
            if name is not None and name not in allowed:
                shown = ", ".join("{" + a + "}" for a in sorted(allowed)) or "no {fields}"
                collector.add(
                    "message_unknown_field",
                    messages.line_of(key),
                    f"message '{key}'",
                    key=key,
                    field=name,
                    allowed=shown,
                )


def _question(qdata: Mapping, step_id: str, seen: dict, collector: Collector) -> Question | None:
    qid, qtype, line = qdata["id"], qdata["type"], qdata.line
    subject = f"question '{qid}'"
    if qid in seen:
        collector.add("duplicate_id", line, subject, kind="question", id=qid, first=seen[qid])
        return None
    seen[qid] = line
    options = tuple(_option(o) for o in qdata.get("options", []))
    _check_options(qdata, qid, qtype, options, subject, collector)
    return Question(
        id=qid,
        type=qtype,
        label=qdata["label"],
        short=qdata.get("short", qdata["label"]),
        hint=qdata.get("hint", ""),
        options=options,
        ordered=bool(qdata.get("ordered", False)),
        min=qdata.get("min"),
        max=qdata.get("max"),
        min_label=qdata.get("min_label", ""),
        max_label=qdata.get("max_label", ""),
        step=step_id,
        collected_for_reviewers=bool(qdata.get("collected_for_reviewers", False)),
        optional=bool(qdata.get("optional", False)),
        on_page_from_start=bool(qdata.get("on_page_from_start", False)),
        line=line,
        _by_id={option.id: option for option in options},
    )


def _option(o: Mapping) -> Option:
    unless = o.get("emergency_unless")
    flags = bool(o.get("exclusive")), o.get("hint", ""), bool(o.get("emergency"))
    return Option(o["id"], o["label"], *flags, (unless["question"], unless["is"]) if unless else None)


def _check_options(qdata, qid, qtype, options, subject, collector) -> None:
    line = qdata.line
    if qtype == "number":
        if options:
            collector.add("options_for_number", line, subject, question=qid)
        low, high = qdata.get("min"), qdata.get("max")
        if not isinstance(low, int) or not isinstance(high, int) or low >= high:
            collector.add("range_missing", line, subject, question=qid)
        return
    if not options:
        collector.add("options_missing", line, subject, question=qid)
    if qdata.get("ordered") and qtype != "single":
        collector.add("ordered_not_single", qdata.line_of("ordered"), subject, question=qid)
    seen: dict[str, int] = {}
    option_lines = getattr(qdata.get("options"), "item_lines", [])
    for option, oline in zip(options, option_lines, strict=False):
        if option.id in seen:
            collector.add("duplicate_id", oline, subject, kind="option", id=option.id, first=seen[option.id])
        seen[option.id] = oline
        if option.exclusive and qtype != "multi":
            collector.add("exclusive_not_multi", oline, subject, question=qid, option=option.id)
