"""The gate between an algorithm and its objective: budget first, then the proxy, then the record.

Algorithms ask `feasible(key)` (costs only; no proxy is ever computed for a candidate over budget) and
`evaluate(key)`, which scores through the objective, appends a record in evaluation order, tracks the
best so far and, with a store, writes the step to the run's trace (`add_trace`, idempotent per step,
so a resumed run rewrites the same steps). `sample_feasible` draws until a candidate fits the budget
and raises `EmptyFeasibleSetError` after `max_tries` misses.

Algorithms that know several candidates at once (an exhaustive list, a random sample, an initial
population, an NSGA-II generation, a batch of children) call `evaluate_many`: with an `executor` (a
sweep backend: local processes or Ray), the proxy values missing for those candidates are computed in
parallel first (`prefetch`), then the candidates are evaluated in order as cache hits -- the records,
the trace and the result are exactly those of the sequential run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from zeronas.search.budget import BudgetChecker, EmptyFeasibleSetError
from zeronas.search.objective import Objective, sort_value


@dataclass
class Record:
    """One evaluated candidate."""

    step: int
    arch: str
    value: float
    proxies: dict[str, float] = field(default_factory=dict)
    costs: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    best: float = math.nan


class Evaluator:
    """Budget-checks, scores and records the candidates of one search run."""

    def __init__(
        self,
        objective: Objective,
        checker: BudgetChecker,
        store: object | None = None,
        run: str | None = None,
        progress: Callable[[Record], None] | None = None,
        max_tries: int = 1000,
        report_costs: tuple[str, ...] = (),
        seed: int = 0,
        executor: Any | None = None,
        chunk: int = 64,
    ) -> None:
        self.objective, self.checker, self.seed = objective, checker, seed
        #: a `zeronas.executors.Backend` that computes batches of candidates, or None (sequential)
        self.executor, self.chunk = executor, max(1, chunk)
        self.store, self.run = store, run
        self.progress, self.max_tries = progress, max_tries
        self.report_costs = report_costs
        self.records: list[Record] = []
        self.cache: dict[str, float] = {}
        self.best_key: str | None = None
        self.best_value = -math.inf
        #: how many evaluations the algorithm plans, when it knows (exhaustive sets it)
        self.planned: int | None = None

    @property
    def space(self) -> object:
        return self.checker.space

    @property
    def steps(self) -> int:
        return len(self.records)

    def feasible(self, key: str) -> bool:
        """Whether `key` fits every budget (cost models only)."""
        return self.checker.feasible(key)

    def sample_feasible(self, draw: Callable[[], str], what: str = "candidate") -> str:
        """Call `draw` until its key is feasible; EmptyFeasibleSetError after `max_tries` misses."""
        for _ in range(self.max_tries):
            key = draw()
            if self.feasible(key):
                return key
        raise EmptyFeasibleSetError(
            f"no {what} within budget ({self.checker.describe()}) after {self.max_tries} tries; relax the budget"
        )

    def evaluate(self, key: str) -> float:
        """Score a feasible `key` through the objective and record it as the next step."""
        start = time.perf_counter()
        value = float(self.objective(key))
        values = getattr(self.objective, "values", None)
        proxies = values(key) if callable(values) else {self.objective.label: value}
        self.cache[key] = value
        if sort_value(value) > self.best_value or self.best_key is None:
            self.best_key, self.best_value = key, sort_value(value)
        costs = self.checker.costs(key, self.report_costs)
        record = Record(self.steps, key, value, dict(proxies), costs, time.perf_counter() - start, self.best_value)
        self.records.append(record)
        if self.store is not None and self.run:
            payload = {"value": value, "best": record.best, "seconds": record.seconds, **proxies}
            payload.update({f"cost_{name}": cost for name, cost in costs.items()})
            self.store.add_trace(self.run, record.step, key, payload)
        if self.progress is not None:
            self.progress(record)
        return value

    def prefetch(self, keys: Sequence[str]) -> int:
        """Compute the missing objective values of the feasible `keys` on the executor; returns how many.

        Nothing happens without an executor or when the objective cannot batch (it then scores on `evaluate`).
        """
        batch = getattr(self.objective, "prefetch", None)
        if self.executor is None or not callable(batch):
            return 0
        return int(batch([key for key in keys if self.feasible(key)], self.executor))

    def evaluate_many(self, keys: Sequence[str]) -> list[float]:
        """`evaluate` each key in order, prefetching `chunk` keys at a time on the executor first."""
        values: list[float] = []
        for start in range(0, len(keys), self.chunk):
            part = keys[start : start + self.chunk]
            self.prefetch(part)
            values.extend(self.evaluate(key) for key in part)
        return values

    def top(self, k: int = 5) -> list[tuple[str, float]]:
        """The k best distinct keys evaluated so far, best first."""
        best = sorted(self.cache.items(), key=lambda kv: sort_value(kv[1]), reverse=True)
        return best[:k]
