"""NAS-Bench-201 ground truth (`benchmarks/nasbench201.csv`): accuracies of all 15,625 cells."""

from __future__ import annotations

import functools
import os

import pandas as pd

from zeronas.config import data_file, read_data_csv
from zeronas.data.datasets import get_dataset
from zeronas.errors import InvalidInputError

#: dataset name -> column prefix in nasbench201.csv
NB201_DATASETS = {"cifar10": "cifar10", "cifar100": "cifar100", "ImageNet16-120": "imagenet16_120"}
TRUTH_HINT = (
    "import the official file with `zeronas data import NAS-Bench-201-v1_1-096897.pth` "
    "(needs `pip install nas-bench-201`) or pass --data-dir pointing at a zeronas data directory"
)


@functools.lru_cache(maxsize=4)
def _read(path: str, mtime: float) -> pd.DataFrame:
    frame = read_data_csv(path, ("nb201_index", "arch_str"), hint=TRUTH_HINT)
    return frame.set_index("arch_str", drop=False)


def load_nasbench201(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """The whole table, indexed by canonical arch string."""
    path = data_file("benchmarks/nasbench201.csv", data_dir, hint=TRUTH_HINT)
    return _read(str(path), path.stat().st_mtime)


def nb201_accuracy(dataset: str, metric: str = "test", data_dir: str | os.PathLike | None = None) -> pd.Series:
    """arch string -> accuracy (%) on `dataset`; `metric` 'test' (the survey's choice) or 'val'."""
    if metric not in ("test", "val"):
        raise InvalidInputError(f"metric must be 'test' or 'val', got {metric!r}")
    name = get_dataset(dataset).name
    if name not in NB201_DATASETS:
        raise InvalidInputError(f"NAS-Bench-201 has no {dataset!r}; choose one of {', '.join(NB201_DATASETS)}")
    column = f"{NB201_DATASETS[name]}_{metric}_acc"
    frame = load_nasbench201(data_dir)
    if column not in frame.columns:
        raise InvalidInputError(f"nasbench201.csv lacks column {column}; {TRUTH_HINT}")
    values = pd.to_numeric(frame[column], errors="coerce")
    if values.isna().all():
        raise InvalidInputError(f"nasbench201.csv column {column} holds no numbers; {TRUTH_HINT}")
    return values.rename(f"{name}_{metric}_acc")
