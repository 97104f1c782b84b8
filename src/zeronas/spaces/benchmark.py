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
from pathlib import Path

import pandas as pd

from zeronas.config import data_file, find_data_dir, read_data_csv, register_data_file
from zeronas.data.datasets import get_dataset
from zeronas.errors import DataNotFoundError, InvalidInputError
from zeronas.registry import Registry

#: (dataset, metric, data_dir) -> trained value of every architecture, indexed by canonical key
TruthLoader = Callable[[str, str, "str | os.PathLike | None"], pd.Series]
#: data_dir -> named subsets of the space (name -> canonical keys) that reports evaluate as groups of their own
SubsetLoader = Callable[["str | os.PathLike | None"], dict[str, list[str]]]


@dataclass(frozen=True)
class DataImporter:
    """Converts an official benchmark file a user owns into a table of a zeronas data directory.

    `run(path, out_dir, dataset)` validates the whole file before writing, writes atomically and
    returns the files it wrote; `dataset` is None unless the user named one.
    """

    #: the `zeronas data import --kind` name
    kind: str
    #: file name endings recognised without --kind (lower case, e.g. ".pth")
    suffixes: tuple[str, ...]
    #: one line for help and listings
    description: str
    run: Callable[[Path, Path, str | None], list[Path]]


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
    #: official files `zeronas data import` converts for this benchmark
    importers: tuple[DataImporter, ...] = ()
    #: (glob pattern under the data directory, what it holds) of files this benchmark reads
    data_files: tuple[tuple[str, str], ...] = ()
    #: file-name stem of its NAS-Bench-Suite-Zero files (`benchmarks/reference_zc/<stem>__<dataset>.json`)
    reference_name: str = ""
    #: named subsets (families, kinds) evaluated beside the whole space; None: the whole space only
    subsets: SubsetLoader | None = None
    #: what the survey found, per subset name ('' for the whole space), shown beside the measured tables
    survey_claims: tuple[tuple[str, str], ...] = ()

    @property
    def reference_stem(self) -> str:
        return self.reference_name or self.name

    @property
    def truth_unit(self) -> str:
        """'%' when the ground truth is a percentage (its label says so), else '' (SSIM, negative loss, ...)."""
        return "%" if self.truth_label.endswith("%") else ""

    @property
    def has_ground_truth(self) -> bool:
        """Whether it ships a ground-truth reader (an imported table can stand in for a missing one)."""
        return self.truth is not None

    def truth_available(self, data_dir: str | os.PathLike | None = None) -> bool:
        """Whether `ground_truth` can answer from this data directory: a reader, or an imported table."""
        if self.truth is not None:
            return True
        try:
            root = find_data_dir(data_dir)
        except DataNotFoundError:
            return False
        return root is not None and any((root / IMPORTED_DIR).glob(f"{self.name}__*.csv"))

    def subset_names(self, data_dir: str | os.PathLike | None = None) -> list[str]:
        """The names of its subsets (none for most benchmarks)."""
        return [] if self.subsets is None else list(self.subsets(data_dir))

    def subset_keys(self, name: str, data_dir: str | os.PathLike | None = None) -> list[str]:
        """The canonical keys of subset `name`, or a one-line error naming the subsets it has."""
        subsets = {} if self.subsets is None else self.subsets(data_dir)
        if name not in subsets:
            offered = ", ".join(subsets) or "none"
            raise InvalidInputError(f"{self.name} has no subset {name!r} (its subsets: {offered})")
        return subsets[name]

    def survey_claim(self, subset: str = "") -> str:
        """The survey's finding on the whole space ('') or one subset, '' when it states none."""
        return dict(self.survey_claims).get(subset, "")

    def check_dataset(self, dataset: str) -> str:
        """The canonical data set name, or a one-line error when the ground truth does not cover it."""
        name = get_dataset(dataset).name
        if self.datasets and name not in self.datasets:
            raise InvalidInputError(f"{self.name} has no ground truth on {name}; it covers {', '.join(self.datasets)}")
        return name

    def ground_truth(self, dataset: str, metric: str = "test", data_dir: str | os.PathLike | None = None) -> pd.Series:
        """Trained value of every architecture on `dataset`, indexed by canonical key (float64)."""
        if self.truth is None:
            return imported_truth(self, self.check_dataset(dataset), metric, data_dir)
        if metric not in self.metrics:
            raise InvalidInputError(f"metric must be one of {', '.join(self.metrics)} for {self.name}, got {metric!r}")
        return self.truth(self.check_dataset(dataset), metric, data_dir).astype("float64")


#: where `zeronas data import` writes ground truth for benchmarks that ship no reader
IMPORTED_DIR = "benchmarks/imported"


def imported_truth_file(space: str, dataset: str) -> str:
    """The data-directory path of the imported ground truth of `space` on `dataset`."""
    return f"{IMPORTED_DIR}/{space}__{dataset}.csv"


def imported_truth(
    benchmark: Benchmark, dataset: str, metric: str, data_dir: str | os.PathLike | None = None
) -> pd.Series:
    """Ground truth of a benchmark without a reader, from the table `zeronas data import` wrote (arch, <metric>_acc)."""
    hint = (
        benchmark.truth_hint
        or f"import a NAS-Bench-Suite-Zero-style JSON with `zeronas data import FILE --space {benchmark.name}`"
    )
    try:
        path = data_file(imported_truth_file(benchmark.name, dataset), data_dir, hint=hint)
    except DataNotFoundError:
        raise DataNotFoundError(f"no ground truth for space {benchmark.name!r} on {dataset}; {hint}") from None
    frame = read_data_csv(path, ("arch",), hint=hint)
    column = f"{metric}_acc"
    if column not in frame.columns:
        offered = sorted(c.removesuffix("_acc") for c in frame.columns if c.endswith("_acc"))
        raise InvalidInputError(
            f"{path} has no {metric!r} metric (it holds {', '.join(offered) or 'none'}); pass --metric"
        )
    values = pd.to_numeric(frame[column], errors="coerce")
    if values.isna().any() or not frame["arch"].is_unique:
        raise InvalidInputError(f"{path}: column {column} must hold a number for every distinct arch; {hint}")
    return pd.Series(
        values.to_numpy(dtype="float64"),
        index=pd.Index(frame["arch"].astype(str), name="arch"),
        name=f"{dataset}_{metric}_acc",
    )


_BENCHMARKS: Registry[Benchmark] = Registry("benchmark")


def register_benchmark(benchmark: Benchmark) -> Benchmark:
    """Register `benchmark` under its space's name; its data files become known to `zeronas data`."""
    for pattern, what in benchmark.data_files:
        register_data_file(pattern, what)
    return _BENCHMARKS.add(benchmark.name, benchmark)


def get_benchmark(name: str) -> Benchmark:
    """The benchmark registered as `name` (`zeronas.spaces.get_benchmark` also resolves aliases)."""
    return _BENCHMARKS.get(name)


def list_benchmarks(with_ground_truth: bool = False) -> list[str]:
    """Names of the registered benchmarks (only those with a ground-truth reader when asked)."""
    return sorted(n for n in _BENCHMARKS.names() if not with_ground_truth or _BENCHMARKS.get(n).has_ground_truth)
