"""Single-objective searches over a SearchSpace: exhaustive ranking, random search, regularised evolution.

Every algorithm is `fn(evaluator, evaluations, rng, **options) -> dict` (extra facts for the result),
registered by name. They only see keys: the evaluator rejects over-budget candidates before any
proxy is computed and scores the rest through the one objective. Candidates known together go to
`evaluate_many`, so a parallel executor computes them side by side with the same result.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np

from zeronas.errors import InvalidInputError
from zeronas.registry import Registry
from zeronas.search.budget import EmptyFeasibleSetError
from zeronas.search.evaluator import Evaluator
from zeronas.search.objective import sort_value

Algorithm = Callable[..., dict]
ALGORITHMS: Registry[Algorithm] = Registry("search algorithm")


def register_algorithm(name: str) -> Callable[[Algorithm], Algorithm]:
    """Decorator: register a search algorithm under `name`."""

    def wrap(fn: Algorithm) -> Algorithm:
        return ALGORITHMS.add(name, fn)

    return wrap


def get_algorithm(name: str) -> Algorithm:
    """The algorithm registered as `name` (one-line UnknownNameError otherwise)."""
    return ALGORITHMS.get(name)


def list_algorithms() -> list[str]:
    return sorted(ALGORITHMS.names())


@register_algorithm("exhaustive")
def exhaustive(ev: Evaluator, evaluations: int | None = None, rng: np.random.Generator | None = None) -> dict:
    """Score every feasible key of a finite space (the budget filter runs first, without proxies)."""
    space = ev.space
    if space.size is None:
        raise InvalidInputError(f"exhaustive search needs a finite, enumerable space; {space.name!r} is not")
    keys = [key for key in space.enumerate() if ev.feasible(key)]
    if not keys:
        raise EmptyFeasibleSetError(f"no architecture of {space.name} is within budget ({ev.checker.describe()})")
    ev.planned = len(keys)
    ev.evaluate_many(keys)
    return {"feasible": len(keys)}


@register_algorithm("random")
def random_search(ev: Evaluator, evaluations: int, rng: np.random.Generator) -> dict:
    """Score `evaluations` distinct feasible keys drawn uniformly (fewer if the feasible set is smaller)."""
    space, keys, repeats = ev.space, {}, 0
    while ev.steps + len(keys) < evaluations:
        key = ev.sample_feasible(lambda: space.sample(rng), "random candidate")
        if key in keys:
            repeats += 1
            if repeats >= ev.max_tries:
                break  # the feasible set is (nearly) exhausted
            continue
        repeats = 0
        keys[key] = None
    ev.evaluate_many(list(keys))
    return {}


@register_algorithm("evolution")
def regularised_evolution(
    ev: Evaluator,
    evaluations: int,
    rng: np.random.Generator,
    population: int = 32,
    tournament: int = 8,
    aging: bool = True,
    batch: int = 1,
) -> dict:
    """Regularised evolution (Real et al. 2019) under hard constraints (Zen-NAS).

    A random feasible population; each step a tournament of `tournament` members picks the best as
    parent, one mutation gives a child (redrawn until within budget), the child is scored and joins,
    and the oldest member leaves (`aging=False`: the worst leaves, as in Zen-NAS). With `batch` B > 1,
    B children are bred from the same population and scored together (in parallel with an executor)
    before they join, each replacing one member: the batched variant of the same algorithm.
    """
    if population < 2 or not 1 <= tournament <= population:
        raise InvalidInputError(
            f"evolution needs population >= 2 and 1 <= tournament <= population, got {population} and {tournament}"
        )
    if batch < 1:
        raise InvalidInputError(f"evolution needs batch >= 1, got {batch}")
    space = ev.space
    initial = [
        ev.sample_feasible(lambda: space.sample(rng), "initial candidate")
        for _ in range(max(0, min(population, evaluations - ev.steps)))
    ]
    members: deque[tuple[str, float]] = deque(zip(initial, ev.evaluate_many(initial), strict=True))

    def child() -> str:
        picks = rng.choice(len(members), size=min(tournament, len(members)), replace=False)
        parent = max((members[int(i)] for i in picks), key=lambda kv: sort_value(kv[1]))[0]
        return space.mutate(parent, rng)

    while ev.steps < evaluations:
        children = [ev.sample_feasible(child, "mutated candidate") for _ in range(min(batch, evaluations - ev.steps))]
        for key, value in zip(children, ev.evaluate_many(children), strict=True):
            members.append((key, value))
            if aging:
                members.popleft()
            else:
                worst = min(range(len(members)), key=lambda i: sort_value(members[i][1]))
                del members[worst]
    return {"population": population, "tournament": tournament, "aging": aging, "batch": batch}
