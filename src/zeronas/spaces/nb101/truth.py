"""NAS-Bench-101 ground truth (`benchmarks/nasbench101.csv.gz`): the 423,624 cells on CIFAR-10.

Only test accuracy is exposed as a metric: the table's validation columns cover 20,001 cells,
and a ground truth with NaN for the rest would silently shrink every correlation.
"""

from __future__ import annotations

import functools
import os

import pandas as pd

from zeronas.config import data_file, read_data_csv
from zeronas.errors import InvalidInputError

TABLE = "benchmarks/nasbench101.csv.gz"
COLUMNS = ("hash", "num_vertices", "adjacency_rows", "ops", "test_acc_108_mean3", "params_M")
NUM_CELLS = 423_624
TRUTH_HINT = (
    "the NAS-Bench-101 table benchmarks/nasbench101.csv.gz (hash, adjacency_rows, ops, "
    "test_acc_108_mean3, params_M) must be in the data directory; pass --data-dir pointing at one"
)


@functools.lru_cache(maxsize=2)
def _read(path: str, mtime: float) -> pd.DataFrame:
    frame = read_data_csv(path, COLUMNS, hint=TRUTH_HINT, usecols=list(COLUMNS))
    if not frame["hash"].is_unique:
        raise InvalidInputError(f"{path} has repeated hashes; {TRUTH_HINT}")
    return frame.sort_values("hash").set_index("hash", drop=False)


def load_nasbench101(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """The whole table (read once per file version), indexed and sorted by hash."""
    path = data_file(TABLE, data_dir, hint=TRUTH_HINT)
    return _read(str(path), path.stat().st_mtime)


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    values = pd.to_numeric(frame[column], errors="coerce")
    if values.isna().any():
        raise InvalidInputError(f"nasbench101.csv.gz column {column} has {int(values.isna().sum())} non-numbers")
    return values


def nb101_accuracy(
    dataset: str = "cifar10", metric: str = "test", data_dir: str | os.PathLike | None = None
) -> pd.Series:
    """hash -> test accuracy (%) at 108 epochs, mean of the 3 trainings (the table stores a fraction)."""
    if metric != "test":
        raise InvalidInputError(f"NAS-Bench-101 ground truth has metric 'test' only, got {metric!r}")
    if dataset != "cifar10":
        raise InvalidInputError(f"NAS-Bench-101 covers cifar10 only, got {dataset!r}")
    return (_numeric(load_nasbench101(data_dir), "test_acc_108_mean3") * 100.0).rename("cifar10_test_acc")


def nb101_params(data_dir: str | os.PathLike | None = None) -> pd.Series:
    """hash -> official trainable parameters of the CIFAR-10 network, in millions."""
    return _numeric(load_nasbench101(data_dir), "params_M").rename("params_M")
