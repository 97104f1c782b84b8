"""A benchmark is a search space plus what makes it one: data sets, ground truth, references, defaults.

The core (evaluate, report, search, pareto, rank, run, hardware measure, store) asks the registry
for these and names no space itself. A benchmark lives in one folder under `spaces/` (its model,
key conversions and ground-truth reader) and is registered with one line in `spaces/__init__.py`.
A space without ground truth here (mbv2, or a benchmark whose table the user has not imported)
still scores, searches under cost budgets and measures latency; what needs the table says so in
one line.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from zeronas.data.datasets import get_dataset
from zeronas.errors import DataNotFoundError, InvalidInputError
from zeronas.registry import Registry

#: (dataset, metric, data_dir) -> trained value of every architecture, indexed by canonical key
TruthLoader = Callable[[str, str, "str | os.PathLike | None"], pd.Series]


@dataclass(frozen=True)
class Benchmark:
    """A registered space's benchmark facts; `name` is the space's registry name."""

    name: str
    description: str
    #: data sets (or tasks) the ground truth covers; empty when it has none
    datasets: tuple[str, ...] = ()
    default_dataset: str = "cifar10"
    #: proxies a search uses by default (several: their mean z-score)
    default_proxies: str = "synflow"
    #: cost axis of a Pareto study by default
    default_cost: str = "flops"
    #: cells `evaluate --include-top K` draws from the top set by default (0: the whole set)
    top_sample: int = 0
    truth: TruthLoader | None = None
    #: the metrics `truth` answers ('test' first: the survey's choice)
    metrics: tuple[str, ...] = ("test", "val")
    #: what the ground truth measures, for tables and messages
    truth_label: str = "test accuracy %"
    #: how a user gets the ground truth when the data directory lacks it
    truth_hint: str = ""

    @property
    def has_ground_truth(self) -> bool:
        return self.truth is not None

    def check_dataset(self, dataset: str) -> str:
        """The canonical data set name, or a one-line error when the ground truth does not cover it."""
        name = get_dataset(dataset).name
        if self.datasets and name not in self.datasets:
            raise InvalidInputError(f"{self.name} has no ground truth on {name}; it covers {', '.join(self.datasets)}")
        return name

    def ground_truth(self, dataset: str, metric: str = "test", data_dir: str | os.PathLike | None = None) -> pd.Series:
        """Trained value of every architecture on `dataset`, indexed by canonical key (float64)."""
        if self.truth is None:
            hint = f"; {self.truth_hint}" if self.truth_hint else ""
            raise DataNotFoundError(f"no ground truth for space {self.name!r}{hint}")
        if metric not in self.metrics:
            raise InvalidInputError(f"metric must be one of {', '.join(self.metrics)} for {self.name}, got {metric!r}")
        return self.truth(self.check_dataset(dataset), metric, data_dir).astype("float64")


_BENCHMARKS: Registry[Benchmark] = Registry("benchmark")


def register_benchmark(benchmark: Benchmark) -> Benchmark:
    """Register `benchmark` under its space's name."""
    return _BENCHMARKS.add(benchmark.name, benchmark)


def get_benchmark(name: str) -> Benchmark:
    """The benchmark registered as `name` (`zeronas.spaces.get_benchmark` also resolves aliases)."""
    return _BENCHMARKS.get(name)


def list_benchmarks(with_ground_truth: bool = False) -> list[str]:
    """Names of the registered benchmarks (only those with a ground-truth reader when asked)."""
    return sorted(n for n in _BENCHMARKS.names() if not with_ground_truth or _BENCHMARKS.get(n).has_ground_truth)
