"""`search()`: one call from (space, data set, proxy, algorithm, budgets) to a SearchResult.

Seeded and reproducible: the algorithm draws from `numpy.random.default_rng(seed)`, proxies use the
same seed for weights and batch. With a store, every computed proxy value is a row and every
evaluation a trace step of run `run` (by default a name derived from the whole configuration, so
running the same command again resumes: stored proxy values are reused, not recomputed).
With `backend` (a sweep backend name or instance: 'local' processes or 'ray'), the candidates an
algorithm knows together are scored in parallel; the result is the one of the sequential run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from zeronas.data import get_dataset
from zeronas.errors import InvalidInputError
from zeronas.evaluation.scoring import ScoreSettings
from zeronas.proxies import is_ensemble
from zeronas.search.algorithms import get_algorithm
from zeronas.search.budget import Budget, BudgetChecker, check_budgets, parse_budget
from zeronas.search.evaluator import Evaluator, Record
from zeronas.search.objective import EnsembleObjective, Objective, ProxyObjective
from zeronas.search.outcome import SearchResult, build_result
from zeronas.spaces import SearchSpace, create_space


def default_run_id(
    algorithm: str, space: SearchSpace, dataset: str, objective: str, seed: int, extra: dict[str, object]
) -> str:
    """A readable run id that is the same for the same configuration (so a re-run resumes)."""
    text = json.dumps(extra, sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{algorithm}-{space.name}-{dataset}-{objective}-s{seed}-{digest}"


def search(
    space: str | SearchSpace,
    dataset: str,
    proxy: str | Sequence[str] | Objective,
    algorithm: str = "evolution",
    evaluations: int = 200,
    budgets: Sequence[str | Budget] = (),
    seed: int = 0,
    settings: ScoreSettings | None = None,
    store: object | None = None,
    run: str | None = None,
    progress: Callable[[Record, Evaluator], None] | None = None,
    report_costs: Sequence[str] = ("params", "flops"),
    top: int = 10,
    max_tries: int = 1000,
    proxy_seed: int | None = None,
    backend: Any | None = None,
    workers: int | None = None,
    **options: object,
) -> SearchResult:
    """Run `algorithm` on `space` maximising `proxy` under `budgets`; options go to the algorithm.

    `proxy`: a registered proxy name, several (comma-separated or a list: their mean z-score), or any
    `Objective` callable (key -> value). `store`: a `zeronas.store.ResultStore` or None. `seed` drives
    the algorithm; `proxy_seed` (default: `seed`) fixes the proxies' weight init and batch, so
    repeated searches with different `seed` can share one set of stored proxy values. `backend`: None
    (score in this process, one candidate at a time), a registered sweep backend name started with
    `workers`, or a `Backend` instance (kept open by the caller).
    """
    proxy_seed = seed if proxy_seed is None else proxy_seed
    fn = get_algorithm(algorithm)
    if evaluations is not None and evaluations < 1:
        raise InvalidInputError(f"evaluations must be at least 1, got {evaluations}")
    space = create_space(space) if isinstance(space, str) else space
    info = get_dataset(dataset)
    parsed = check_budgets([b if isinstance(b, Budget) else parse_budget(b) for b in budgets])
    if settings is None:  # a space built for a resolution of its own (mbv2) scores at that resolution
        own = vars(space).get("resolution")
        settings = ScoreSettings(resolution=own if own and own != info.resolution else None)
    ensemble = _ensemble_name(proxy)
    if ensemble:
        objective: Objective = EnsembleObjective(space, info.name, ensemble, proxy_seed, settings, store)
    elif isinstance(proxy, str | list | tuple):
        objective = ProxyObjective(space, info.name, proxy, proxy_seed, settings, store)
    else:
        objective = proxy
    if store is not None and run is None:
        config = {
            "budgets": [b.text for b in parsed],
            "evaluations": evaluations,
            "options": options,
            "space": vars(space),
            "settings": settings.as_dict(info.name),
            "proxy_seed": proxy_seed,
        }
        run = default_run_id(algorithm, space, info.name, objective.label, seed, config)
    checker = BudgetChecker(space, info.name, parsed)
    evaluator = Evaluator(objective, checker, store, run, None, max_tries, tuple(report_costs), seed)
    if progress is not None:
        evaluator.progress = lambda record: progress(record, evaluator)
    with _executor(backend, workers) as executor:
        evaluator.executor = executor
        start = time.perf_counter()
        extra = dict(fn(evaluator, evaluations, np.random.default_rng(seed), **options) or {})
        if isinstance(objective, EnsembleObjective) and "picked" not in extra:
            extra["picked"] = objective.pick(r.arch for r in evaluator.records)
        seconds = time.perf_counter() - start
    return build_result(evaluator, algorithm, run, seconds, extra, top)


def _ensemble_name(proxy: object) -> str | None:
    """The pool ensemble `proxy` names, if it names one; an ensemble among other names is an error."""
    names = [p.strip() for p in proxy.split(",")] if isinstance(proxy, str) else proxy
    if not isinstance(names, list | tuple):
        return None
    found = [n for n in names if is_ensemble(n)]
    if found and len(names) > 1:
        raise InvalidInputError(f"search a pool ensemble ({found[0]}) on its own, not with other proxies")
    return found[0] if found else None


@contextlib.contextmanager
def _executor(backend: Any | None, workers: int | None) -> Any:
    """None, the given Backend instance (left open), or a named backend kept up for the whole search."""
    from zeronas.executors import Backend, get_backend

    if backend is None or isinstance(backend, Backend):
        yield backend
        return
    with get_backend(str(backend), workers=workers) as executor:
        yield executor
