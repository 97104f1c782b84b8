"""Search algorithms: budgets before proxies, evolution, random, exhaustive, NSGA-II fronts, reproducibility."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from torch import nn

from zeronas.config import find_data_dir
from zeronas.modelstats import count_flops, count_params
from zeronas.search import list_algorithms, search
from zeronas.search.budget import BudgetChecker
from zeronas.search.evaluator import Evaluator
from zeronas.spaces import create_space
from zeronas.spaces.base import SearchSpace


class Counting:
    """A deterministic objective that counts its calls (so tests see what was scored)."""

    label = "counting"

    def __init__(self, fn: object) -> None:
        self.fn, self.calls = fn, []

    def __call__(self, key: str) -> float:
        self.calls.append(key)
        return float(self.fn(key))


class Grid(SearchSpace):
    """A tiny finite space: keys 'a-b' with a, b in 0..4; value peaks at (3, 1)."""

    name = "grid"

    def validate(self, key: str) -> str:
        a, b = (int(x) for x in key.split("-"))
        return f"{a}-{b}"

    def sample(self, rng: np.random.Generator) -> str:
        return f"{rng.integers(5)}-{rng.integers(5)}"

    def mutate(self, key: str, rng: np.random.Generator) -> str:
        return self.neighbours(key)[int(rng.integers(len(self.neighbours(key))))]

    def crossover(self, a: str, b: str, rng: np.random.Generator) -> str:
        return f"{a.split('-')[0]}-{b.split('-')[1]}"

    def neighbours(self, key: str) -> list[str]:
        a, b = (int(x) for x in key.split("-"))
        return [f"{x}-{b}" for x in range(5) if x != a] + [f"{a}-{y}" for y in range(5) if y != b]

    def build(self, key: str, num_classes: int | None = None, **kwargs: object) -> nn.Module:
        return nn.Linear(2, num_classes or 10)

    def encode(self, key: str) -> np.ndarray:
        return np.array([int(x) for x in key.split("-")], dtype=np.float32)

    @property
    def size(self) -> int:
        return 25

    def enumerate(self) -> Iterator[str]:
        for a, b in itertools.product(range(5), repeat=2):
            yield f"{a}-{b}"


def grid_value(key: str) -> float:
    a, b = (int(x) for x in key.split("-"))
    return -((a - 3) ** 2) - (b - 1) ** 2


def test_algorithms_registered() -> None:
    assert {"exhaustive", "random", "evolution", "nsga2", "prune"} <= set(list_algorithms())


def test_exhaustive_ranks_the_whole_finite_space() -> None:
    objective = Counting(grid_value)
    result = search(Grid(), "cifar10", objective, "exhaustive", report_costs=())
    assert sorted(objective.calls) == sorted(Grid().enumerate())
    assert result.best_arch == "3-1"
    assert list(result.best["value"][:1]) == [0.0]
    assert result.stats["evaluations"] == 25


def test_random_search_draws_distinct_keys_and_stops_when_the_space_is_exhausted() -> None:
    objective = Counting(grid_value)
    result = search(Grid(), "cifar10", objective, "random", evaluations=100, report_costs=(), max_tries=200)
    assert len(objective.calls) == len(set(objective.calls)) == 25
    assert result.best_arch == "3-1"


def test_evolution_is_seeded_and_climbs() -> None:
    runs = [
        search(
            Grid(),
            "cifar10",
            Counting(grid_value),
            "evolution",
            evaluations=40,
            seed=s,
            population=5,
            tournament=2,
            report_costs=(),
        )
        for s in (1, 1, 2)
    ]
    assert runs[0].history["arch"].tolist() == runs[1].history["arch"].tolist()
    assert runs[0].history["arch"].tolist() != runs[2].history["arch"].tolist()
    for run in runs:
        assert run.best_arch == "3-1"
        assert run.history["best"].is_monotonic_increasing


def test_budget_is_checked_before_any_proxy() -> None:
    space = create_space("nb201")
    objective = Counting(lambda key: len(key))
    result = search(
        space,
        "cifar10",
        objective,
        "evolution",
        evaluations=60,
        budgets=["flops<=60M"],
        seed=0,
        population=10,
        tournament=3,
    )
    checker = BudgetChecker(space, "cifar10")
    assert result.stats["rejected"] > 0
    assert len(objective.calls) == 60
    assert all(checker.cost(k, "flops") <= 60 for k in objective.calls)
    assert (result.history["cost_flops"] <= 60).all()


def test_mbv2_evolution_under_a_flops_budget() -> None:
    space = create_space("mbv2", resolution=64)
    rng = np.random.default_rng(0)
    median = float(np.median([space.analytic_cost(space.sample(rng), "flops", 1000) for _ in range(40)]))
    limit = round(median, 1)
    result = search(
        space,
        "imagenet",
        "params",
        "evolution",
        evaluations=30,
        budgets=[f"flops<={limit}"],
        seed=0,
        population=8,
        tournament=3,
    )
    assert result.stats["rejected"] > 0
    assert result.history["arch"].map(space.validate).eq(result.history["arch"]).all()
    assert (result.history["cost_flops"] <= limit).all()
    assert result.history["value"].equals(result.history["params"])
    # the analytic costs the search used are those of the built networks
    for key in result.best["arch"].head(3):
        model = space.build(key, num_classes=1000)
        assert count_flops(model, (1, 3, 64, 64)) / 1e6 == result.best.set_index("arch").loc[key, "cost_flops"]
        assert count_params(model) / 1e6 == pytest.approx(result.best.set_index("arch").loc[key, "params"])
    assert result.best["value"].iloc[0] == result.history["value"].max()


def _dominates(a: pd.Series, b: pd.Series, cost: str) -> bool:
    return a["value"] >= b["value"] and a[cost] <= b[cost] and (a["value"] > b["value"] or a[cost] < b[cost])


def test_nsga2_on_nb201_returns_a_non_dominated_front() -> None:
    result = search("nb201", "cifar10", "synflow", "nsga2", evaluations=40, seed=0, population=8)
    front = result.front
    assert result.extra["cost"] == "flops"
    assert len(front) >= 3
    assert front["flops"].is_monotonic_increasing
    for (_, a), (_, b) in itertools.permutations(front.iterrows(), 2):
        assert not _dominates(a, b, "flops")
    # nothing evaluated dominates a front member, and every non-front candidate is dominated
    evaluated = result.history.drop_duplicates("arch").rename(columns={"cost_flops": "flops"})
    for _, member in front.iterrows():
        assert not any(_dominates(row, member, "flops") for _, row in evaluated.iterrows())
    others = evaluated[~evaluated["arch"].isin(front["arch"]) & np.isfinite(evaluated["value"])]
    for _, row in others.iterrows():
        assert any(_dominates(m, row, "flops") for _, m in front.iterrows())
    assert 40 <= result.stats["evaluations"] <= 48


def test_nsga2_respects_budgets_and_its_cost_axis() -> None:
    result = search(
        "nb201",
        "cifar10",
        Counting(lambda k: k.count("conv")),
        "nsga2",
        evaluations=24,
        seed=1,
        population=8,
        budgets=["params<=0.8M"],
        cost="params",
    )
    assert (result.history["cost_params"] <= 0.8).all()
    assert (result.front["params"] <= 0.8).all()


@pytest.mark.skipif(find_data_dir() is None, reason="NB201 benchmark table not found (../shared)")
def test_evolution_with_the_true_accuracy_finds_near_optimal_cells() -> None:
    from zeronas.spaces.nb201 import nb201_accuracy

    accuracy = nb201_accuracy("cifar10", "test")
    table = accuracy.to_dict()

    for seed in range(3):
        result = search(
            "nb201", "cifar10", Counting(table.__getitem__), "evolution", evaluations=300, seed=seed, report_costs=()
        )
        assert accuracy.max() - result.best["value"].iloc[0] < 0.5


def test_evaluator_records_in_order() -> None:
    ev = Evaluator(Counting(grid_value), BudgetChecker(Grid(), "cifar10"))
    for key in ("0-0", "3-1", "0-0"):
        ev.evaluate(key)
    assert [r.arch for r in ev.records] == ["0-0", "3-1", "0-0"]
    assert [r.best for r in ev.records] == [-10.0, 0.0, 0.0]
    assert ev.top(1) == [("3-1", 0.0)]
