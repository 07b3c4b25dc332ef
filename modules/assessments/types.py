"""Question types: a registry of how each type's options are checked, shown and marked.

A new type is one `register(QuestionType(...))` call; the bank schema, loader, form and grading all
read the registry rather than branching on type names.
"""

from collections.abc import Collection
from dataclasses import dataclass

LETTER_IDS = ("a", "b", "c", "d", "e")
TRUE_FALSE_IDS = ("true", "false")


class AnswerError(ValueError):
    """An answer that no honest form could have sent (e.g. two choices for a one-answer question)."""


@dataclass(frozen=True)
class QuestionType:
    """How one question type is validated in a bank, shown to staff and marked."""

    #: The name used in banks, e.g. "single".
    name: str
    #: Hint shown under the question, e.g. "Select one answer".
    hint: str
    #: True when several options may be chosen (checkboxes), False for one (radios).
    many: bool
    #: Option ids the type allows, in their canonical order.
    allowed_ids: tuple[str, ...]
    #: Fewest and most options a question of this type may have.
    min_options: int
    max_options: int
    #: Most options that may be keyed correct (None: any number up to all).
    max_correct: int | None

    def check(self, option_ids: list[str], correct: list[str]) -> list[tuple[str, str]]:
        """(field, reason) for each way the options or the key do not fit the type (empty when they do)."""
        problems = []
        if not self.min_options <= len(option_ids) <= self.max_options:
            span = (str(self.min_options) if self.min_options == self.max_options
                    else f"{self.min_options} to {self.max_options}")
            problems.append(("options", f"a {self.name} question needs {span} options, not {len(option_ids)}"))
        if len(set(option_ids)) != len(option_ids):
            problems.append(("options", "option ids must be unique"))
        stray = [i for i in option_ids if i not in self.allowed_ids]
        if stray:
            problems.append(("options", f"option ids {stray} are not allowed for {self.name}; "
                                         f"use {list(self.allowed_ids)}"))
        if self.allowed_ids == TRUE_FALSE_IDS and sorted(option_ids) != sorted(TRUE_FALSE_IDS):
            problems.append(("options", 'a true_false question has exactly the options "true" and "false"'))
        unknown = [c for c in correct if c not in option_ids]
        if unknown:
            problems.append(("correct", f"correct {unknown} is not an option id"))
        if self.max_correct is not None and len(correct) > self.max_correct:
            problems.append(("correct", f"a {self.name} question has exactly {self.max_correct} correct option"))
        if not correct:
            problems.append(("correct", "at least one option must be correct"))
        return problems

    def mark(self, correct: Collection[str], chosen: Collection[str]) -> bool:
        """Whether the chosen options earn the mark: exactly the keyed set (all-or-nothing)."""
        if not self.many and len(chosen) > 1:
            raise AnswerError(f"a {self.name} question takes one answer")
        return set(chosen) == set(correct)


REGISTRY: dict[str, QuestionType] = {}


def register(question_type: QuestionType) -> QuestionType:
    """Add a question type to the registry."""
    REGISTRY[question_type.name] = question_type
    return question_type


def get(name: str) -> QuestionType:
    """The registered type of that name (KeyError when unknown)."""
    return REGISTRY[name]


register(QuestionType("single", "Select one answer", many=False, allowed_ids=LETTER_IDS, min_options=3,
                      max_options=5, max_correct=1))
register(QuestionType("multiple", "Select all that apply", many=True, allowed_ids=LETTER_IDS, min_options=3,
                      max_options=5, max_correct=None))
register(QuestionType("true_false", "Select true or false", many=False, allowed_ids=TRUE_FALSE_IDS,
                      min_options=2, max_options=2, max_correct=1))
