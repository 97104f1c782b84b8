"""NSGA-II over (proxy, cost) with pymoo, on the space's own keys.

Individuals are architecture keys (one object variable); sampling, mutation and crossover call the
space's `sample`, `mutate` and `crossover` with pymoo's seeded generator, and duplicates are removed by
key. Objectives (minimised): -objective and the cost `cost` (a registered cost model, analytic when
the space has a counter). Budgets become one inequality constraint: an over-budget candidate gets its
violation and is never scored. The returned front is the non-dominated set of every feasible
candidate evaluated, not only of the last population.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.core.crossover import Crossover
from pymoo.core.duplicate import DuplicateElimination
from pymoo.core.mutation import Mutation
from pymoo.core.problem import Problem
from pymoo.core.sampling import Sampling
from pymoo.core.termination import Termination
from pymoo.optimize import minimize
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

from zeronas.errors import InvalidInputError
from zeronas.search.algorithms import register_algorithm
from zeronas.search.evaluator import Evaluator

#: objective value given to failed (NaN) or infeasible candidates; never compared among feasible ones
_WORST = 1e30


class _KeyProblem(Problem):
    def __init__(self, ev: Evaluator, cost: str) -> None:
        super().__init__(n_var=1, n_obj=2, n_ieq_constr=1 if ev.checker.budgets else 0)
        self.ev, self.cost = ev, cost

    def _violation(self, key: str) -> float:
        total = 0.0
        for budget in self.ev.checker.budgets:
            value = self.ev.checker.cost(key, budget.cost)
            if not budget.allows(value):
                total += max((value - budget.limit) / max(abs(budget.limit), 1e-12), 1e-9)
        return total

    def _evaluate(self, x: np.ndarray, out: dict, *args: object, **kwargs: object) -> None:
        f = np.full((len(x), 2), _WORST)
        g = np.zeros((len(x), 1))
        self.ev.prefetch([key for (key,) in x])  # the generation's missing values at once, when parallel
        for i, (key,) in enumerate(x):
            f[i, 1] = self.ev.checker.cost(key, self.cost)
            if self.ev.feasible(key):
                value = self.ev.evaluate(key)
                f[i, 0] = -value if math.isfinite(value) else _WORST
            else:
                g[i, 0] = self._violation(key)
        out["F"] = f
        if self.n_ieq_constr:
            out["G"] = g


class _KeySampling(Sampling):
    def __init__(self, ev: Evaluator) -> None:
        super().__init__()
        self.ev = ev

    def _do(self, problem: Problem, n_samples: int, *args: object, random_state=None, **kwargs: object) -> np.ndarray:
        space = self.ev.space
        keys = [self.ev.sample_feasible(lambda: space.sample(random_state), "initial candidate")]
        for _ in range(n_samples - 1):
            keys.append(self.ev.sample_feasible(lambda: space.sample(random_state), "initial candidate"))
        return np.array(keys, dtype=object).reshape(-1, 1)


class _KeyCrossover(Crossover):
    def __init__(self, ev: Evaluator, prob: float) -> None:
        super().__init__(n_parents=2, n_offsprings=1, prob=prob)
        self.ev = ev

    def _do(self, problem: Problem, x: np.ndarray, *args: object, random_state=None, **kwargs: object) -> np.ndarray:
        out = np.empty((1, x.shape[1], 1), dtype=object)
        for k in range(x.shape[1]):
            out[0, k, 0] = self.ev.space.crossover(x[0, k, 0], x[1, k, 0], random_state)
        return out


class _KeyMutation(Mutation):
    def __init__(self, ev: Evaluator, prob: float) -> None:
        super().__init__(prob=prob)
        self.ev = ev

    def _do(self, problem: Problem, x: np.ndarray, *args: object, random_state=None, **kwargs: object) -> np.ndarray:
        out = x.copy()
        for i in range(len(x)):
            out[i, 0] = self.ev.space.mutate(x[i, 0], random_state)
        return out


class _KeyDuplicates(DuplicateElimination):
    def _do(self, pop: object, other: object, is_duplicate: np.ndarray) -> np.ndarray:
        seen = set() if other is None else {ind.X[0] for ind in other}
        for i, ind in enumerate(pop):
            if ind.X[0] in seen:
                is_duplicate[i] = True
            else:
                seen.add(ind.X[0])
        return is_duplicate


class _Evaluations(Termination):
    """Stop after `n` scored candidates (or, over a tight budget, after `n * patience` budget checks)."""

    def __init__(self, ev: Evaluator, n: int, patience: int = 50) -> None:
        super().__init__()
        self.ev, self.n, self.patience = ev, n, patience

    def _update(self, algorithm: object) -> float:
        return max(self.ev.steps / self.n, self.ev.checker.checked / (self.n * self.patience))


def pareto_front(ev: Evaluator, cost: str) -> pd.DataFrame:
    """Non-dominated (max objective, min cost) set of the feasible candidates evaluated, by cost."""
    keys = [k for k, v in ev.cache.items() if math.isfinite(v)]
    if not keys:
        return pd.DataFrame(columns=["arch", "value", cost])
    values = np.array([ev.cache[k] for k in keys])
    costs = np.array([ev.checker.cost(k, cost) for k in keys])
    first = NonDominatedSorting().do(np.column_stack([-values, costs]), only_non_dominated_front=True)
    front = pd.DataFrame({"arch": [keys[i] for i in first], "value": values[first], cost: costs[first]})
    return front.sort_values([cost, "value"], ascending=[True, False]).reset_index(drop=True)


@register_algorithm("nsga2")
def nsga2(
    ev: Evaluator,
    evaluations: int,
    rng: np.random.Generator,
    population: int = 32,
    cost: str | None = None,
    crossover_prob: float = 0.9,
    mutation_prob: float = 1.0,
) -> dict:
    """NSGA-II (pymoo) maximising the objective and minimising `cost` (default: the first budget's, else flops)."""
    if population < 4:
        raise InvalidInputError(f"nsga2 needs a population of at least 4, got {population}")
    cost = cost or (ev.checker.budgets[0].cost if ev.checker.budgets else "flops")
    ev.checker.cost(ev.space.sample(np.random.default_rng(0)), cost)  # unknown cost names fail here, in one line
    algorithm = NSGA2(
        pop_size=population,
        sampling=_KeySampling(ev),
        crossover=_KeyCrossover(ev, crossover_prob),
        mutation=_KeyMutation(ev, mutation_prob),
        eliminate_duplicates=_KeyDuplicates(),
    )
    seed = int(rng.integers(2**31 - 1))
    # no copies: the operators and the termination must see this evaluator, not a deep copy of it
    minimize(
        _KeyProblem(ev, cost),
        algorithm,
        _Evaluations(ev, evaluations),
        seed=seed,
        verbose=False,
        copy_algorithm=False,
        copy_termination=False,
    )
    return {"front": pareto_front(ev, cost), "cost": cost, "population": population}
