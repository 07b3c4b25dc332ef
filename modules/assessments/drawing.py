"""Drawing an attempt's questions: pure, with the random source passed in (tests pass a seeded one)."""

import random
from collections.abc import Hashable, Sequence
from typing import TypeVar

T = TypeVar("T")


def draw(pool: Sequence[tuple[T, Hashable]], n: int, rng: random.Random) -> list[T]:
    """N distinct questions, at least one from every module in the pool, in random order.

    `pool` pairs each question with its module. Raises ValueError when N cannot cover every module;
    when the pool is smaller than N, every question is drawn.
    """
    by_module: dict[Hashable, list[int]] = {}
    for index, (_question, module) in enumerate(pool):
        by_module.setdefault(module, []).append(index)
    if len(by_module) > n:
        raise ValueError(f"{n} questions cannot cover {len(by_module)} modules")
    # One from each module first (in a fixed module order, so a seeded draw is reproducible), then the rest.
    picked = [rng.choice(indexes) for _module, indexes in sorted(by_module.items(), key=lambda m: str(m[0]))]
    rest = sorted(set(range(len(pool))) - set(picked))
    picked += rng.sample(rest, min(n - len(picked), len(rest)))
    rng.shuffle(picked)
    return [pool[i][0] for i in picked]


def shuffled(options: Sequence[str], rng: random.Random) -> list[str]:
    """Option ids in a random order."""
    order = list(options)
    rng.shuffle(order)
    return order
