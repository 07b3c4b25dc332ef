"""The question-type registry and the draw (pure)."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modules.assessments import types
from modules.assessments.drawing import draw, shuffled


def test_registry_has_the_three_types():
    """single, multiple (checkboxes) and true_false are registered; only multiple takes several answers."""
    assert set(types.REGISTRY) >= {"single", "multiple", "true_false"}
    assert [name for name, t in types.REGISTRY.items() if t.many] == ["multiple"]


@pytest.mark.parametrize("name, options, correct, problem", [
    ("single", ["a", "b"], ["a"], "3 to 5 options"),
    ("single", ["a", "b", "c"], ["a", "b"], "exactly 1 correct"),
    ("single", ["a", "b", "x"], ["a"], "not allowed"),
    ("single", ["a", "b", "b"], ["a"], "unique"),
    ("multiple", ["a", "b", "c"], ["d"], "not an option"),
    ("true_false", ["true", "no"], ["true"], "exactly the options"),
    ("true_false", ["true", "false"], ["true", "false"], "exactly 1 correct"),
])
def test_type_rules(name, options, correct, problem):
    """Each type states its own option and key rules."""
    assert any(problem in reason for _field, reason in types.get(name).check(options, correct))


def test_valid_shapes_pass():
    """The shapes the bank format documents pass their type's check."""
    assert types.get("single").check(["a", "b", "c", "d", "e"], ["e"]) == []
    assert types.get("multiple").check(["a", "b", "c"], ["a", "b", "c"]) == []
    assert types.get("true_false").check(["true", "false"], ["false"]) == []


pools = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 12)), min_size=1, max_size=60,
                 unique_by=lambda pair: pair[0])


@given(pools, st.integers(1, 20), st.randoms(use_true_random=False))
def test_draw_covers_every_module_with_distinct_questions(pool, n, rng):
    """A draw has min(N, pool) distinct questions, one or more from every module; else N is too small."""
    modules = {m for _q, m in pool}
    if len(modules) > n:
        with pytest.raises(ValueError):
            draw(pool, n, rng)
        return
    drawn = draw(pool, n, rng)
    module_of = dict(pool)
    assert len(drawn) == min(n, len(pool)) == len(set(drawn))
    assert {module_of[q] for q in drawn} == modules


def test_draw_order_and_options_are_random_but_reproducible_with_a_seed():
    """Different seeds give different orders; the same seed the same draw."""
    pool = [(i, i % 4) for i in range(30)]
    assert draw(pool, 10, random.Random(1)) == draw(pool, 10, random.Random(1))
    assert len({tuple(draw(pool, 10, random.Random(seed))) for seed in range(10)}) > 1
    orders = {tuple(shuffled(["a", "b", "c", "d"], random.Random(seed))) for seed in range(20)}
    assert len(orders) > 1 and all(sorted(o) == ["a", "b", "c", "d"] for o in orders)
