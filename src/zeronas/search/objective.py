"""The objective every search algorithm maximises: a proxy value (or an aggregate) of an architecture key.

`ProxyObjective` scores keys with `score_arch` (seeded build + seeded batch), caches every value per key,
and, given a `ResultStore`, writes each computed proxy value as a row and reads the rows already stored
for the same (space, data set, settings digest, seed) first -- so a re-run skips every proxy computation
a previous run (or a sweep) already made. Several proxies give their mean z-score, each proxy
standardised by its mean and standard deviation over a fixed, seeded reference sample of the space: a
stationary aggregate (unlike ranks among the candidates seen so far) that still separates the best ones.
`EnsembleObjective` searches a pool ensemble (`zeronas.proxies.ensemble`): a key's value is its ensemble
score over the pool of the reference sample and every key evaluated so far.
`prefetch` computes the missing values of many keys at once on a sweep backend (local processes or
Ray) through the sweep's own task function, so they are the very values a sequential call computes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from zeronas.data import get_dataset
from zeronas.errors import InvalidInputError
from zeronas.evaluation.scoring import ScoreSettings, score_arch
from zeronas.proxies import resolve_proxies
from zeronas.spaces import SearchSpace


class Objective(Protocol):
    """What algorithms call: key -> value to maximise (NaN = failed, ranked last)."""

    label: str

    def __call__(self, key: str) -> float: ...


def sort_value(value: float) -> float:
    """The value used for comparisons: NaN ranks below everything."""
    return value if not math.isnan(value) else -math.inf


class ProxyObjective:
    """Proxy value(s) of keys of one space on one data set with one seed, cached and stored."""

    def __init__(
        self,
        space: SearchSpace,
        dataset: str,
        proxies: str | Iterable[str],
        seed: int = 0,
        settings: ScoreSettings | None = None,
        store: object | None = None,
        reference: int = 32,
    ) -> None:
        self.space, self.dataset, self.seed = space, get_dataset(dataset).name, seed
        self.names = resolve_proxies(proxies)
        if not self.names:
            raise InvalidInputError("the search objective needs at least one proxy")
        self.settings = settings or ScoreSettings()
        self.store = store
        self.label = self.names[0] if len(self.names) == 1 else "zmean(" + ",".join(self.names) + ")"
        self.digest = self.settings.digest(self.dataset) if store is not None else ""
        self._values: dict[str, dict[str, float]] = {}
        self.computed = 0
        self.computed_on_executor = 0  # the part of `computed` done by `prefetch`
        self.reused = 0
        self.seconds = 0.0
        if store is not None:
            self._load_stored()
        self._scale: dict[str, tuple[float, float]] | None = None
        self._reference = reference
        self._prefetched: set[str] = set()  # computed by `prefetch`, not yet asked for

    def _load_stored(self) -> None:
        self.store.register_settings(self.digest, self.settings.as_dict(self.dataset))
        frame = self.store.frame(
            space=self.space.name, dataset=self.dataset, settings=self.digest, proxies=self.names, seeds=[self.seed]
        )
        for arch, proxy, value in zip(frame["arch"], frame["proxy"], frame["value"], strict=True):
            self._values.setdefault(arch, {})[proxy] = float(value)

    def values(self, key: str) -> dict[str, float]:
        """Every requested proxy's oriented value of `key` (computing only what is neither cached nor stored)."""
        known = self._values.setdefault(key, {})
        missing = [n for n in self.names if n not in known]
        if not missing:
            return {n: known[n] for n in self.names}
        start = time.perf_counter()
        scores = score_arch(self.space, key, self.dataset, missing, seed=self.seed, settings=self.settings)
        self.seconds += time.perf_counter() - start
        self.computed += 1
        known.update(scores)
        if self.store is not None:
            self._store_rows(key, scores)
        return {n: known[n] for n in self.names}

    def prefetch(self, keys: Sequence[str], backend: Any) -> int:
        """Compute the values missing for `keys` on `backend` (a sweep Backend), storing their rows; returns the count.

        A model that fails becomes NaN values with their reason (as in a sweep), not an exception.
        """
        from zeronas.evaluation.sweep import CellTask, compute_task, failed_rows, pin_source
        from zeronas.executors import WorkerLost

        settings = pin_source(self.settings, self.dataset)
        config = tuple(sorted(self.space.config().items()))
        tasks = []
        wanted = list(keys)
        candidates = set(wanted)  # the reference keys are not asked for yet: a later call reuses them
        if len(self.names) > 1 and self._scale is None:  # the z-score reference sample, computed alongside
            wanted += self.reference_keys()
        for key in dict.fromkeys(wanted):
            known = self._values.get(key, {})
            missing = tuple(n for n in self.names if n not in known)
            if missing:
                task = CellTask(self.space.name, key, self.dataset, self.seed, missing, settings, self.digest, config)
                tasks.append(task)
        if not tasks:
            return 0
        start = time.perf_counter()
        for task, result in backend.run(compute_task, tasks):
            rows = failed_rows(task, str(result)) if isinstance(result, WorkerLost) else result
            if self.store is not None:
                self.store.add(rows)
            self._values.setdefault(task.arch, {}).update({row.proxy: float(row.value) for row in rows})
            if task.arch in candidates:
                self._prefetched.add(task.arch)
        self.seconds += time.perf_counter() - start
        self.computed += len(tasks)
        self.computed_on_executor += len(tasks)
        return len(tasks)

    def _store_rows(self, key: str, scores: object) -> None:
        from zeronas.store import ResultRow

        rows = [
            ResultRow(
                space=self.space.name,
                arch=key,
                dataset=self.dataset,
                proxy=name,
                seed=self.seed,
                settings=self.digest,
                value=float(d.value),
                status=d.status,
                reason=d.reason,
                seconds=float(d.seconds),
            )
            for name, d in scores.details.items()
        ]
        self.store.add(rows)

    def reference_keys(self) -> list[str]:
        """The seeded reference sample the z-scores of several proxies are standardised over."""
        return self.space.sample_many(self._reference, np.random.default_rng([self.seed, 7919]))

    def scale(self) -> dict[str, tuple[float, float]]:
        """Per proxy (mean, std) over the seeded reference sample (only used with several proxies)."""
        if self._scale is None:
            keys = self.reference_keys()
            table = np.array([[self.values(k)[n] for n in self.names] for k in keys], dtype=float)
            self._scale = {}
            for j, name in enumerate(self.names):
                column = table[np.isfinite(table[:, j]), j]
                std = float(column.std()) if column.size > 1 else 0.0
                self._scale[name] = (float(column.mean()) if column.size else 0.0, std if std > 0 else 1.0)
        return self._scale

    def _asked(self, key: str) -> dict[str, float]:
        """`values(key)` for a candidate the algorithm asks for, counted as reused when nothing was computed."""
        before = self.computed
        values = self.values(key)
        prefetched = key in self._prefetched
        self._prefetched.discard(key)
        self.reused += self.computed == before and not prefetched
        return values

    def __call__(self, key: str) -> float:
        values = self._asked(key)
        if len(self.names) == 1:
            return float(values[self.names[0]])
        scale = self.scale()
        return float(np.mean([(values[n] - scale[n][0]) / scale[n][1] for n in self.names]))


class EnsembleObjective(ProxyObjective):
    """A pool ensemble as the objective: a key's value is its ensemble score over the pool evaluated so far.

    The pool starts as the seeded reference sample (so the first candidates are not ranked among a handful)
    and grows with every evaluated key; a value is the key's score at the moment it is evaluated, so later
    values rank among more cells. `pick(keys)` ranks the given keys over the final pool: the search's answer.
    """

    def __init__(
        self,
        space: SearchSpace,
        dataset: str,
        ensemble: str,
        seed: int = 0,
        settings: ScoreSettings | None = None,
        store: object | None = None,
        reference: int = 32,
    ) -> None:
        from zeronas.proxies import get_ensemble

        self.ensemble = get_ensemble(ensemble)
        super().__init__(space, dataset, list(self.ensemble.members), seed, settings, store, reference)
        self.label = self.ensemble.name
        self._pool: dict[str, None] = {}

    def _pool_scores(self) -> pd.Series:
        from zeronas.proxies import ensemble_scores

        if not self._pool:
            self._pool = dict.fromkeys(self.reference_keys())
            for key in self._pool:
                self.values(key)
        table = pd.DataFrame.from_dict({k: self._values[k] for k in self._pool}, orient="index")
        return ensemble_scores(self.ensemble.name, table)

    def __call__(self, key: str) -> float:
        self._pool_scores()  # the reference pool first, so that `key` never ranks in an empty pool
        self._asked(key)
        self._pool[key] = None
        return float(self._pool_scores()[key])

    def pick(self, keys: Iterable[str]) -> str | None:
        """The key among `keys` (evaluated ones) with the highest ensemble score over the whole pool."""
        wanted = [k for k in dict.fromkeys(keys) if k in self._pool]
        if not wanted:
            return None
        return str(self._pool_scores()[wanted].idxmax())
