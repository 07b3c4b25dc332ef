"""Grading: a pure function of the drawn questions' keys and the answers (no database, no request).

Views grade first, then persist what grading returned (DESIGN §8: CTFd's attempt() before solve()).
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from modules.assessments import types
from modules.assessments.types import AnswerError
from modules.core.numbers import percent


@dataclass(frozen=True)
class ItemKey:
    """What grading needs to know about one drawn question."""

    #: The question type's registry name.
    type: str
    #: The option ids shown (in any order).
    options: tuple[str, ...]
    #: The ids keyed correct.
    correct: frozenset[str]


@dataclass(frozen=True)
class Grade:
    """The outcome of grading one attempt."""

    #: Whether each question earned its mark, in draw order.
    marks: tuple[bool, ...]
    #: Percentage correct, rounded down.
    score: int
    #: Whether the score reached the pass mark.
    passed: bool

    @property
    def correct_count(self) -> int:
        """How many questions earned their mark."""
        return sum(self.marks)


def grade(keys: Sequence[ItemKey], answers: Sequence[Collection[str]], pass_mark: int) -> Grade:
    """Mark each answer all-or-nothing by its question type, then score and compare with the pass mark.

    Raises AnswerError for an answer no honest form could send: a different number of answers than
    questions, an option id that was not shown, or several answers to a one-answer question.
    """
    if not keys:
        raise ValueError("an attempt has at least one question")
    if not 0 <= pass_mark <= 100:
        raise ValueError("the pass mark is a percentage from 0 to 100")
    if len(answers) != len(keys):
        raise AnswerError(f"expected {len(keys)} answers, got {len(answers)}")
    marks = []
    for key, chosen in zip(keys, answers, strict=True):
        chosen = list(chosen)
        if len(set(chosen)) != len(chosen):
            raise AnswerError("an option was chosen twice")
        stray = [c for c in chosen if c not in key.options]
        if stray:
            raise AnswerError(f"options {stray} were not offered")
        marks.append(types.get(key.type).mark(key.correct, chosen))
    # Shown rounded (2 of 3 is 67%); passing compares the exact fraction, so rounding never lifts a fail.
    score = percent(sum(marks), len(marks))
    return Grade(marks=tuple(marks), score=score, passed=100 * sum(marks) >= pass_mark * len(marks))
