"""Budgets: parsing, one-line errors, analytic costs equal to the counted cost models, empty feasible sets."""

from __future__ import annotations

import numpy as np
import pytest

from zeronas.errors import InvalidInputError, UnknownNameError, ZeronasError
from zeronas.hardware import get_cost
from zeronas.search import EmptyFeasibleSetError, parse_budget, search
from zeronas.search.analytic import analytic_cost
from zeronas.search.budget import BudgetChecker, unit_scale
from zeronas.spaces import create_space


class Constant:
    """An objective that needs no network: the tests here are about budgets."""

    label = "constant"

    def __call__(self, key: str) -> float:
        return 1.0


@pytest.mark.parametrize(
    ("text", "cost", "op", "limit"),
    [
        ("flops<=600M", "flops", "<=", 600.0),
        ("params<5M", "params", "<", 5.0),
        (" params <= 500K ", "params", "<=", 0.5),
        ("macs<=1.5G", "macs", "<=", 1500.0),
        ("flops<=600", "flops", "<=", 600.0),
        ("flops<=2.5e8", "flops", "<=", 2.5e8),
    ],
)
def test_parse_valid_budgets(text: str, cost: str, op: str, limit: float) -> None:
    budget = parse_budget(text)
    assert (budget.cost, budget.op) == (cost, op)
    assert budget.limit == pytest.approx(limit)


def test_strict_and_inclusive_limits() -> None:
    assert parse_budget("params<=5M").allows(5.0)
    assert not parse_budget("params<5M").allows(5.0)
    assert not parse_budget("params<=5M").allows(float("nan"))


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("flops<=abc", InvalidInputError, "'abc' is not a number"),
        ("flops<=600X", InvalidInputError, "is not a number"),
        ("flops=600M", InvalidInputError, "must read cost<=value"),
        ("<=600M", InvalidInputError, "names no cost"),
        ("flopz<=600M", UnknownNameError, "unknown cost model 'flopz'; did you mean flops"),
    ],
)
def test_bad_budgets_give_one_line_errors(text: str, error: type, message: str) -> None:
    with pytest.raises(error, match=message) as info:
        parse_budget(text)
    assert "\n" not in str(info.value)


def test_unit_scale() -> None:
    assert unit_scale("M parameters") == 1e6
    assert unit_scale("MFLOPs (tensorwatch convention)") == 1e6
    assert unit_scale("ms") == 1.0
    assert unit_scale("mJ") == 1.0


def test_nb201_analytic_costs_equal_counted_costs() -> None:
    space = create_space("nb201")
    rng = np.random.default_rng(0)
    keys = ["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", *space.sample_many(6, rng)]
    for dataset in ("cifar10", "cifar100"):
        for what in ("params", "flops"):
            model = get_cost(what)
            for key in keys:
                assert analytic_cost(space, key, what, dataset) == pytest.approx(model(space, key, dataset), abs=1e-9)


def test_mbv2_budget_check_uses_the_analytic_counter() -> None:
    space = create_space("mbv2", resolution=64)
    checker = BudgetChecker(space, "imagenet", [parse_budget("flops<=20M")])
    key = space.default_key()
    assert checker.cost(key, "flops") == space.count(key)["flops"] / 1e6
    assert checker.feasible(key) == (space.count(key)["flops"] <= 20e6)


def test_empty_feasible_set_is_a_one_line_error() -> None:
    for algorithm in ("evolution", "random", "nsga2"):
        with pytest.raises(EmptyFeasibleSetError, match="no .* within budget \\(params<=1K\\) after 50 tries") as info:
            search("nb201", "cifar10", Constant(), algorithm, evaluations=10, budgets=["params<=1K"], max_tries=50)
        assert "\n" not in str(info.value)
    with pytest.raises(EmptyFeasibleSetError, match="no architecture of nb201 is within budget"):
        search("nb201", "cifar10", Constant(), "exhaustive", budgets=["params<=1K"])


def test_unknown_algorithm_and_bad_budget_in_search() -> None:
    with pytest.raises(UnknownNameError, match="unknown search algorithm 'evolve'.*known: evolution") as info:
        search("nb201", "cifar10", Constant(), "evolve", evaluations=5)
    assert "\n" not in str(info.value)
    with pytest.raises(ZeronasError, match="not a number"):
        search("nb201", "cifar10", Constant(), "random", evaluations=5, budgets=["flops<=abc"])
