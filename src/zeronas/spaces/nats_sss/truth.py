"""NATS-Bench size-space ground truth (`benchmarks/natsbench_sss.csv`, written by the importer).

Columns: nats_index, arch (canonical key), and per data set `<prefix>_val_acc` / `<prefix>_test_acc`
(90-epoch accuracies in %, averaged over the trials), with NB201's prefixes.
"""

from __future__ import annotations

import functools
import os

import pandas as pd

from zeronas.config import data_file, read_data_csv
from zeronas.data.datasets import get_dataset
from zeronas.errors import InvalidInputError
from zeronas.spaces.nb201.truth import NB201_DATASETS

TABLE = "benchmarks/natsbench_sss.csv"
#: dataset name -> column prefix in natsbench_sss.csv (the same as NAS-Bench-201's)
NATS_SSS_DATASETS = dict(NB201_DATASETS)
TRUTH_HINT = (
    "import the official NATS-Bench size-space file with `zeronas data import NATS-sss-v1_0-50262.pickle.pbz2 "
    "--kind nats_sss` (or its NATS-sss-v1_0-50262-simple folder; needs `pip install nats_bench`) "
    "or pass --data-dir pointing at a zeronas data directory that holds benchmarks/natsbench_sss.csv"
)


@functools.lru_cache(maxsize=4)
def _read(path: str, mtime: float) -> pd.DataFrame:
    frame = read_data_csv(path, ("nats_index", "arch"), hint=TRUTH_HINT)
    if not frame["arch"].is_unique:
        raise InvalidInputError(f"{path} has repeated archs; {TRUTH_HINT}")
    return frame.set_index("arch", drop=False)


def load_nats_sss(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """The whole table, indexed by canonical key."""
    path = data_file(TABLE, data_dir, hint=TRUTH_HINT)
    return _read(str(path), path.stat().st_mtime)


def nats_sss_accuracy(dataset: str, metric: str = "test", data_dir: str | os.PathLike | None = None) -> pd.Series:
    """key -> 90-epoch accuracy (%) on `dataset`; `metric` 'test' or 'val'."""
    if metric not in ("test", "val"):
        raise InvalidInputError(f"metric must be 'test' or 'val', got {metric!r}")
    name = get_dataset(dataset).name
    if name not in NATS_SSS_DATASETS:
        raise InvalidInputError(f"NATS-Bench SSS has no {dataset!r}; choose one of {', '.join(NATS_SSS_DATASETS)}")
    column = f"{NATS_SSS_DATASETS[name]}_{metric}_acc"
    frame = load_nats_sss(data_dir)
    if column not in frame.columns:
        raise InvalidInputError(f"natsbench_sss.csv lacks column {column}; {TRUTH_HINT}")
    values = pd.to_numeric(frame[column], errors="coerce")
    if values.isna().any():
        raise InvalidInputError(f"natsbench_sss.csv column {column} has {int(values.isna().sum())} non-numbers")
    return values.rename(f"{name}_{metric}_acc")
