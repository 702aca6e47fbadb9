"""Compile the condition language into plain callables, shared by question visibility and rules.

A condition is a leaf on one question, `{question: ID, OP: VALUE}`, or a combination of others:
`all: [...]`, `any: [...]`, `not: {...}`. A leaf on an unanswered or hidden question is false.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .errors import Collector, suggest

Test = Callable[[Mapping], bool]
COMBINATORS = ("all", "any", "not")


@dataclass(frozen=True)
class Leaf:
    """One comparison against one question's answer."""

    question: str
    op: str
    value: object
    test: Test


@dataclass(frozen=True)
class Condition:
    """A compiled condition: a fast test, and the leaves that made it true."""

    test: Test
    kind: str  # "leaf", "all", "any", "not"
    children: tuple = ()
    leaf: Leaf | None = None

    def matches(self, answers: Mapping) -> list[Leaf]:
        """Return the leaves that made this condition true for these answers (none under `not`)."""
        if self.kind == "leaf":
            return [self.leaf] if self.leaf.test(answers) else []
        if self.kind == "not":
            return []
        found: list[Leaf] = []
        for child in self.children:
            if child.test(answers):
                found.extend(child.matches(answers))
        return found

    def holds_but_for_exclusions(self, answers: Mapping) -> bool:
        """Return whether the condition holds with its `not` parts left out: the answers point where it
        points, though an exclusion (such as "not already told") may keep it from firing."""
        return self._positive(answers) is True

    def _positive(self, answers: Mapping) -> bool | None:
        if self.kind == "leaf":
            return self.test(answers)
        if self.kind == "not":
            return None
        found = [result for child in self.children if (result := child._positive(answers)) is not None]
        if not found:
            return None
        return all(found) if self.kind == "all" else any(found)

    def leaves(self) -> list[Leaf]:
        """Return every leaf, matched or not."""
        if self.kind == "leaf":
            return [self.leaf]
        return [leaf for child in self.children for leaf in child.leaves()]

    def questions(self) -> set[str]:
        """Return the ids of the questions this condition reads."""
        return {leaf.question for leaf in self.leaves()}


# --- operators: one table; each entry says which question types it fits and builds the test -----


def _is(qid, value, question):
    def test(answers):
        return answers.get(qid) == value

    return test


def _in(qid, values, question):
    allowed = frozenset(values)

    def test(answers):
        answer = answers.get(qid)
        return isinstance(answer, str) and answer in allowed

    return test


def _has(qid, value, question):
    def test(answers):
        answer = answers.get(qid)
        return isinstance(answer, list) and value in answer

    return test


def _has_any(qid, values, question):
    wanted = frozenset(values)

    def test(answers):
        answer = answers.get(qid)
        return isinstance(answer, list) and not wanted.isdisjoint(answer)

    return test


def _has_all(qid, values, question):
    wanted = frozenset(values)

    def test(answers):
        answer = answers.get(qid)
        return isinstance(answer, list) and wanted.issubset(answer)

    return test


def _compare(at_least: bool):
    def build(qid, value, question):
        if question.type == "number":
            bound = value

            def key(answer):
                return answer if isinstance(answer, int) and not isinstance(answer, bool) else None

        else:
            ranks = {option.id: index for index, option in enumerate(question.options)}
            bound = ranks[value]

            def key(answer):
                return ranks.get(answer) if isinstance(answer, str) else None

        if at_least:

            def test(answers):
                rank = key(answers.get(qid))
                return rank is not None and rank >= bound

        else:

            def test(answers):
                rank = key(answers.get(qid))
                return rank is not None and rank <= bound

        return test

    return build


@dataclass(frozen=True)
class Operator:
    """What an operator fits, what value it takes, and how it builds its test."""

    types: tuple[str, ...]
    takes: str  # "option", "options", "bound"
    build: Callable


OPERATORS: dict[str, Operator] = {
    "is": Operator(("single",), "option", _is),
    "in": Operator(("single",), "options", _in),
    "has": Operator(("multi",), "option", _has),
    "has_any": Operator(("multi",), "options", _has_any),
    "has_all": Operator(("multi",), "options", _has_all),
    "at_least": Operator(("number", "single"), "bound", _compare(at_least=True)),
    "at_most": Operator(("number", "single"), "bound", _compare(at_least=False)),
}


def allowed_operators(question) -> list[str]:
    """Return the operators that fit a question, in table order."""
    ops = [name for name, op in OPERATORS.items() if question.type in op.types]
    if question.type == "single" and not question.ordered:
        ops = [name for name in ops if OPERATORS[name].takes != "bound"]
    return ops


# --- compiling -----------------------------------------------------------------------------------


def _all(tests: tuple[Test, ...]) -> Test:
    if len(tests) == 1:
        return tests[0]

    def test(answers):  # a plain loop: measurably faster than all() over a generator here
        for child in tests:  # noqa: SIM110
            if not child(answers):
                return False
        return True

    return test


def _any(tests: tuple[Test, ...]) -> Test:
    if len(tests) == 1:
        return tests[0]

    def test(answers):  # a plain loop: measurably faster than any() over a generator here
        for child in tests:  # noqa: SIM110
            if child(answers):
                return True
        return False

    return test


def _not(inner: Test) -> Test:
    def test(answers):
        return not inner(answers)

    return test


def _never(answers) -> bool:
    return False


class Compiler:
    """Compile condition data against a set of questions, reporting problems instead of raising."""

    def __init__(self, questions: Mapping, collector: Collector, subject: str, shared: dict | None = None):
        self.questions = questions
        self.collector = collector
        self.subject = subject
        # Identical leaves across a rule set share one compiled leaf: less memory, warmer caches.
        self.shared = shared if shared is not None else {}

    def compile(self, data, line: int | None) -> Condition:
        line = getattr(data, "line", line)
        if not isinstance(data, Mapping) or not data:
            self._problem("condition_shape", line, found=repr(data))
            return Condition(_never, "all", ())
        if "question" in data:
            return self._leaf(data, line)
        if len(data) != 1 or next(iter(data)) not in COMBINATORS:
            self._problem("condition_shape", line, found=", ".join(map(str, data)))
            return Condition(_never, "all", ())
        op, body = next(iter(data.items()))
        if op == "not":
            inner = self.compile(body, line)
            return Condition(_not(inner.test), "not", (inner,))
        if not isinstance(body, list) or not body:
            self._problem("empty_combinator", line, op=op)
            return Condition(_never, op, ())
        lines = getattr(body, "item_lines", [line] * len(body))
        children = tuple(self.compile(item, item_line) for item, item_line in zip(body, lines, strict=True))
        tests = tuple(child.test for child in children)
        return Condition(_all(tests) if op == "all" else _any(tests), op, children)

    def _leaf(self, data: Mapping, line: int | None) -> Condition:
        qid = data["question"]
        ops = [key for key in data if key != "question"]
        never = Condition(_never, "all", ())
        if len(ops) != 1:
            self._problem("condition_shape", line, found=f"question with {len(ops)} operators")
            return never
        op_name, value = ops[0], data[ops[0]]
        if op_name not in OPERATORS:
            self._problem("unknown_operator", line, op=op_name, suggest=suggest(op_name, OPERATORS))
            return never
        question = self.questions.get(qid)
        if question is None:
            self._problem("unknown_question", line, question=qid, suggest=suggest(qid, self.questions))
            return never
        if not self._fits(op_name, question, line) or not self._value_ok(op_name, value, question, line):
            return never
        if isinstance(value, list):
            value = tuple(value)
        key = (qid, op_name, value)
        if key not in self.shared:
            test = OPERATORS[op_name].build(qid, value, question)
            self.shared[key] = Condition(test, "leaf", (), Leaf(qid, op_name, value, test))
        return self.shared[key]

    def _fits(self, op_name: str, question, line) -> bool:
        operator = OPERATORS[op_name]
        allowed = ", ".join(allowed_operators(question))
        if question.type not in operator.types:
            self._problem(
                "operator_needs_type",
                line,
                op=op_name,
                question=question.id,
                qtype=question.type,
                allowed=allowed,
            )
            return False
        if operator.takes == "bound" and question.type == "single" and not question.ordered:
            self._problem("operator_unordered", line, op=op_name, question=question.id)
            return False
        return True

    def _value_ok(self, op_name: str, value, question, line) -> bool:
        takes = OPERATORS[op_name].takes
        if takes == "bound" and question.type == "number":
            if not isinstance(value, int) or isinstance(value, bool):
                self._problem(
                    "operator_value",
                    line,
                    op=op_name,
                    question=question.id,
                    expected="a whole number",
                    found=repr(value),
                )
                return False
            if not question.min <= value <= question.max:
                self._problem(
                    "number_out_of_range",
                    line,
                    op=op_name,
                    value=value,
                    question=question.id,
                    low=question.min,
                    high=question.max,
                )
                return False
            return True
        if takes == "options":
            if not isinstance(value, list) or not value:
                self._problem(
                    "operator_value",
                    line,
                    op=op_name,
                    question=question.id,
                    expected="a list of option ids",
                    found=repr(value),
                )
                return False
            return all([self._option_ok(item, question, line) for item in value])  # noqa: C419 (report every bad option)
        return self._option_ok(value, question, line)

    def _option_ok(self, value, question, line) -> bool:
        ids = [option.id for option in question.options]
        if value in ids:
            return True
        self._problem(
            "unknown_option",
            line,
            question=question.id,
            option=value,
            options=", ".join(ids),
            suggest=suggest(value, ids),
        )
        return False

    def _problem(self, code: str, line, **params) -> None:
        self.collector.add(code, line, self.subject, **params)
