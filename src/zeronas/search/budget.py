"""Hard budgets over registered cost models: `flops<=600M`, `params<5M`, `latency_ms<=20`.

A budget names any cost of `zeronas.hardware.list_costs()`. A number with a K, M or G suffix is an
absolute quantity (600M FLOPs) converted to the cost's unit (MFLOPs); a bare number is already in the
cost's unit (`flops<=600` also means 600 MFLOPs). Params/FLOPs/MACs come from the space's closed-form
counter when it has one (`analytic.py`), so checking a candidate never builds a network.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from zeronas.data import get_dataset
from zeronas.errors import InvalidInputError, ZeronasError
from zeronas.hardware import get_cost
from zeronas.search.analytic import analytic_cost
from zeronas.spaces import SearchSpace

_SUFFIX = {"": 1.0, "K": 1e3, "k": 1e3, "M": 1e6, "G": 1e9}
_NUMBER = re.compile(r"^([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([KkMG]?)$")
_UNIT_PREFIX = re.compile(r"^([KMG])(?![a-z])")


class EmptyFeasibleSetError(ZeronasError):
    """No candidate satisfying the budgets could be found."""


def unit_scale(unit: str) -> float:
    """Absolute size of one unit: 1e6 for 'M parameters' or 'MFLOPs', 1 for 'ms' or 'mJ'."""
    m = _UNIT_PREFIX.match(unit.strip())
    return _SUFFIX[m.group(1)] if m else 1.0


@dataclass(frozen=True)
class Budget:
    """`cost <= limit` (or `<`), the limit in the cost model's unit."""

    cost: str
    op: str
    limit: float
    unit: str
    text: str

    def allows(self, value: float) -> bool:
        """Whether a cost value satisfies the budget (NaN never does)."""
        if not math.isfinite(value):
            return False
        return value <= self.limit if self.op == "<=" else value < self.limit

    def __str__(self) -> str:
        return f"{self.cost}{self.op}{self.limit:g} ({self.unit})"


def parse_budget(text: str) -> Budget:
    """Parse one budget such as 'flops<=600M'; one-line errors for bad numbers and unknown costs."""
    name, op, rest = text.partition("<")
    if not op:
        raise InvalidInputError(f"budget {text!r} must read cost<=value or cost<value, e.g. flops<=600M")
    op = "<=" if rest.startswith("=") else "<"
    value_text = rest[1:].strip() if op == "<=" else rest.strip()
    name = name.strip()
    if not name:
        raise InvalidInputError(f"budget {text!r} names no cost; e.g. flops<=600M, params<=5M")
    m = _NUMBER.match(value_text)
    if value_text.startswith("-") and _NUMBER.match(value_text[1:]):
        raise InvalidInputError(f"budget {text!r}: a cost limit must be positive, got {value_text}")
    if not m:
        raise InvalidInputError(
            f"budget {text!r}: {value_text!r} is not a number with an optional K, M or G suffix (e.g. 600M)"
        )
    model = get_cost(name)  # UnknownNameError lists the registered costs
    unit = getattr(model, "unit", "") or ""
    number = float(m.group(1)) * _SUFFIX[m.group(2)]
    if not math.isfinite(number):
        raise InvalidInputError(f"budget {text!r}: the limit must be a finite number")
    limit = number / unit_scale(unit) if m.group(2) else number
    return Budget(name, op, limit, unit, text.strip())


def parse_budgets(texts: Iterable[str] | None) -> list[Budget]:
    """Parse every budget; the same cost twice is a one-line error (which limit was meant is unclear)."""
    return check_budgets([parse_budget(t) for t in texts or []])


def check_budgets(budgets: list[Budget]) -> list[Budget]:
    """`budgets`, unless one cost has two of them (a one-line error)."""
    seen: dict[str, Budget] = {}
    for budget in budgets:
        if budget.cost in seen:
            raise InvalidInputError(
                f"--budget on {budget.cost} twice ({seen[budget.cost].text!r}, {budget.text!r}); give one per cost"
            )
        seen[budget.cost] = budget
    return budgets


class BudgetChecker:
    """Costs of keys of one space on one data set, cached, and whether they satisfy the budgets."""

    def __init__(self, space: SearchSpace, dataset: str, budgets: Sequence[Budget] = ()) -> None:
        self.space, self.dataset = space, get_dataset(dataset).name
        self.budgets = list(budgets)
        self._models: dict[str, object] = {}
        self._cache: dict[tuple[str, str], float] = {}
        self.checked = 0
        self.rejected = 0

    def cost(self, key: str, name: str) -> float:
        """Cost `name` of `key` (analytic when the space has a counter, else the registered cost model)."""
        if (key, name) not in self._cache:
            value = analytic_cost(self.space, key, name, self.dataset)
            if value is None:
                if name not in self._models:
                    self._models[name] = get_cost(name)
                value = float(self._models[name](self.space, key, self.dataset))
            self._cache[(key, name)] = value
        return self._cache[(key, name)]

    def costs(self, key: str, names: Iterable[str] = ()) -> dict[str, float]:
        """The budgeted costs of `key`, plus any extra `names`."""
        wanted = dict.fromkeys([*(b.cost for b in self.budgets), *names])
        return {name: self.cost(key, name) for name in wanted}

    def feasible(self, key: str) -> bool:
        """Whether `key` satisfies every budget; counts checks and rejections."""
        self.checked += 1
        ok = all(b.allows(self.cost(key, b.cost)) for b in self.budgets)
        self.rejected += not ok
        return ok

    def describe(self) -> str:
        return ", ".join(b.text for b in self.budgets) or "no budget"
