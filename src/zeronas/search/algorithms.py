"""Single-objective searches over a SearchSpace: exhaustive ranking, random search, regularised evolution.

Every algorithm is `fn(evaluator, evaluations, rng, **options) -> dict` (extra facts for the result),
registered by name. They only see keys: the evaluator rejects over-budget candidates before any
proxy is computed and scores the rest through the one objective.
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
    for key in keys:
        ev.evaluate(key)
    return {"feasible": len(keys)}


@register_algorithm("random")
def random_search(ev: Evaluator, evaluations: int, rng: np.random.Generator) -> dict:
    """Score `evaluations` distinct feasible keys drawn uniformly (fewer if the feasible set is smaller)."""
    space, seen, repeats = ev.space, set(), 0
    while ev.steps < evaluations:
        key = ev.sample_feasible(lambda: space.sample(rng), "random candidate")
        if key in seen:
            repeats += 1
            if repeats >= ev.max_tries:
                break  # the feasible set is (nearly) exhausted
            continue
        repeats = 0
        seen.add(key)
        ev.evaluate(key)
    return {}


@register_algorithm("evolution")
def regularised_evolution(
    ev: Evaluator,
    evaluations: int,
    rng: np.random.Generator,
    population: int = 32,
    tournament: int = 8,
    aging: bool = True,
) -> dict:
    """Regularised evolution (Real et al. 2019) under hard constraints (Zen-NAS).

    A random feasible population; each step a tournament of `tournament` members picks the best as
    parent, one mutation gives a child (redrawn until within budget), the child is scored and joins,
    and the oldest member leaves (`aging=False`: the worst leaves, as in Zen-NAS).
    """
    if population < 2 or not 1 <= tournament <= population:
        raise InvalidInputError(
            f"evolution needs population >= 2 and 1 <= tournament <= population, got {population} and {tournament}"
        )
    space = ev.space
    members: deque[tuple[str, float]] = deque()
    while len(members) < population and ev.steps < evaluations:
        key = ev.sample_feasible(lambda: space.sample(rng), "initial candidate")
        members.append((key, ev.evaluate(key)))

    def child() -> str:
        picks = rng.choice(len(members), size=min(tournament, len(members)), replace=False)
        parent = max((members[int(i)] for i in picks), key=lambda kv: sort_value(kv[1]))[0]
        return space.mutate(parent, rng)

    while ev.steps < evaluations:
        key = ev.sample_feasible(child, "mutated candidate")
        members.append((key, ev.evaluate(key)))
        if aging:
            members.popleft()
        else:
            worst = min(range(len(members)), key=lambda i: sort_value(members[i][1]))
            del members[worst]
    return {"population": population, "tournament": tournament, "aging": aging}
