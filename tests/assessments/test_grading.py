"""Grading is pure: keys and answers in, marks, score and pass/fail out; all-or-nothing by question type."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modules.assessments.grading import ItemKey, grade
from modules.assessments.types import AnswerError

SINGLE = ItemKey("single", ("a", "b", "c", "d"), frozenset({"b"}))
MULTIPLE = ItemKey("multiple", ("a", "b", "c", "d", "e"), frozenset({"a", "c"}))
TRUE_FALSE = ItemKey("true_false", ("true", "false"), frozenset({"false"}))


def test_right_answers_score_100_and_pass():
    """Every question right: 100% and passed."""
    result = grade([SINGLE, MULTIPLE, TRUE_FALSE], [["b"], ["c", "a"], ["false"]], pass_mark=80)
    assert result.marks == (True, True, True)
    assert (result.score, result.passed, result.correct_count) == (100, True, 3)


def test_multiple_is_all_or_nothing():
    """A "select all that apply" answer earns its mark only with exactly the keyed set."""
    assert grade([MULTIPLE], [["a"]], 80).marks == (False,)
    assert grade([MULTIPLE], [["a", "c", "e"]], 80).marks == (False,)
    assert grade([MULTIPLE], [["a", "c"]], 80).marks == (True,)
    assert grade([MULTIPLE], [[]], 80).marks == (False,)


def test_score_is_rounded_and_the_exact_fraction_compared_with_the_pass_mark():
    """4 of 5 is 80% (passes at 80); 7 of 9 is 78% (77.8, fails at 80); 2 of 3 shows 67% but fails at 67
    (66.7 is below it); the boundary is inclusive."""
    keys = [SINGLE] * 5
    assert grade(keys, [["b"]] * 4 + [["a"]], 80).score == 80
    assert grade(keys, [["b"]] * 4 + [["a"]], 80).passed
    nine = grade([SINGLE] * 9, [["b"]] * 7 + [["a"]] * 2, 80)
    assert (nine.score, nine.passed) == (78, False)
    assert grade([SINGLE] * 3, [["b"]] * 2 + [["c"]], 67).score == 67
    assert grade([SINGLE] * 3, [["b"]] * 2 + [["c"]], 66).passed
    assert not grade([SINGLE] * 3, [["b"]] * 2 + [["c"]], 67).passed


@pytest.mark.parametrize("answers, reason", [
    ([["z"]], "not offered"),
    ([["a", "b"]], "one answer"),
    ([["b", "b"]], "twice"),
    ([["b"], ["a"]], "expected 1 answers"),
])
def test_answers_no_honest_form_sends_are_refused(answers, reason):
    """An option not drawn, two answers to a one-answer question, a repeat, or the wrong count: AnswerError."""
    with pytest.raises(AnswerError, match=reason):
        grade([SINGLE], answers, 80)


def test_bad_arguments():
    """No questions or a pass mark outside 0–100 is a programming error."""
    with pytest.raises(ValueError):
        grade([], [], 80)
    with pytest.raises(ValueError):
        grade([SINGLE], [["b"]], 101)


OPTION_IDS = ("a", "b", "c", "d", "e")


@st.composite
def keyed_answers(draw):
    """Random questions of every type, each with a random (valid) answer."""
    keys, answers = [], []
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["single", "multiple", "true_false"]))
        if kind == "true_false":
            options = ("true", "false")
        else:
            options = tuple(draw(st.permutations(OPTION_IDS[: draw(st.integers(3, 5))])))
        if kind == "multiple":
            correct = frozenset(draw(st.sets(st.sampled_from(options), min_size=1)))
            chosen = sorted(draw(st.sets(st.sampled_from(options))))
        else:
            correct = frozenset({draw(st.sampled_from(options))})
            chosen = draw(st.lists(st.sampled_from(options), max_size=1))
        keys.append(ItemKey(kind, options, correct))
        answers.append(chosen)
    return keys, answers


@given(keyed_answers(), st.integers(0, 100))
def test_grading_properties(case, pass_mark):
    """A mark is earned iff the chosen set is the keyed set; score is 100·right/total rounded half up; pass iff
    the exact fraction reaches the mark."""
    keys, answers = case
    result = grade(keys, answers, pass_mark)
    assert result.marks == tuple(set(a) == set(k.correct) for k, a in zip(keys, answers, strict=True))
    assert result.score == int(100 * sum(result.marks) / len(keys) + 0.5)
    assert 0 <= result.score <= 100
    assert result.passed == (100 * sum(result.marks) >= pass_mark * len(keys))


@given(keyed_answers(), st.randoms(use_true_random=False))
def test_grading_ignores_option_and_answer_order(case, rng):
    """Shuffling the shown options or the order of chosen ids never changes a mark."""
    keys, answers = case
    shuffled_keys = [ItemKey(k.type, tuple(rng.sample(k.options, len(k.options))), k.correct) for k in keys]
    shuffled_answers = [rng.sample(a, len(a)) for a in answers]
    assert grade(keys, answers, 80) == grade(shuffled_keys, shuffled_answers, 80)
