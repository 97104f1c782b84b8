"""TransNAS-Bench-101 ground truth: the validation metric of every architecture on each of the 7 tasks.

`benchmarks/transnas101_micro.csv` (and, when a user has it, `benchmarks/transnas101_macro.csv`):
an `op_indices` column (micro: the six op digits; macro: the skeleton's digits) and one
`<task>_metric` column per task. Keys are read as text (leading zeros matter) and put in canonical form.
"""

from __future__ import annotations

import functools
import os

import pandas as pd

from zeronas.config import data_file, read_data_csv
from zeronas.errors import InvalidArchError, InvalidInputError
from zeronas.spaces.tnb.heads import TASK_NAMES, get_task
from zeronas.spaces.tnb.keys import macro_digits, macro_key, micro_key, micro_ops

MICRO_TABLE = "benchmarks/transnas101_micro.csv"
MACRO_TABLE = "benchmarks/transnas101_macro.csv"
COLUMNS = ("op_indices", *(f"{task}_metric" for task in TASK_NAMES))
MICRO_HINT = (
    "the TransNAS-Bench-101 micro table benchmarks/transnas101_micro.csv (op_indices and one "
    "<task>_metric column per task) must be in the data directory; pass --data-dir pointing at one"
)
MACRO_HINT = (
    "write the TransNAS-Bench-101 macro results as benchmarks/transnas101_macro.csv (op_indices = the "
    "skeleton digits such as 41414, one <task>_metric column per task) into the data directory"
)


def _canonical(text: str, macro: bool) -> str:
    return macro_key(macro_digits(text)) if macro else micro_key(micro_ops(text))


@functools.lru_cache(maxsize=4)
def _read(path: str, mtime: float, macro: bool) -> pd.DataFrame:
    hint = MACRO_HINT if macro else MICRO_HINT
    frame = read_data_csv(path, COLUMNS, hint=hint, dtype={"op_indices": str})
    try:
        keys = [_canonical(str(text).strip(), macro) for text in frame["op_indices"]]
    except InvalidArchError as exc:
        raise InvalidInputError(f"{path}: {exc}") from None
    frame = frame.assign(op_indices=keys)
    if not frame["op_indices"].is_unique:
        raise InvalidInputError(f"{path} has repeated architectures; {hint}")
    return frame.set_index("op_indices", drop=False).sort_index()


def load_transnas(macro: bool = False, data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """The whole micro (or macro) table, indexed by canonical key (read once per file version)."""
    path = data_file(MACRO_TABLE if macro else MICRO_TABLE, data_dir, hint=MACRO_HINT if macro else MICRO_HINT)
    return _read(str(path), path.stat().st_mtime, macro)


def _metric(macro: bool, dataset: str, metric: str, data_dir: str | os.PathLike | None) -> pd.Series:
    if metric != "val":
        raise InvalidInputError(f"TransNAS-Bench-101 ground truth has metric 'val' only, got {metric!r}")
    task = get_task(dataset).name
    frame = load_transnas(macro, data_dir)
    values = pd.to_numeric(frame[f"{task}_metric"], errors="coerce")
    if values.isna().any():
        raise InvalidInputError(
            f"{MACRO_TABLE if macro else MICRO_TABLE} column {task}_metric has {int(values.isna().sum())} non-numbers"
        )
    return values.astype("float64").rename(f"{task}_val")


def tnb_micro_truth(dataset: str, metric: str = "val", data_dir: str | os.PathLike | None = None) -> pd.Series:
    """Micro key -> validation metric of task `dataset` (accuracy %, SSIM, negative L2 loss: higher is better)."""
    return _metric(False, dataset, metric, data_dir)


def tnb_macro_truth(dataset: str, metric: str = "val", data_dir: str | os.PathLike | None = None) -> pd.Series:
    """Macro key -> validation metric of task `dataset` (needs benchmarks/transnas101_macro.csv)."""
    return _metric(True, dataset, metric, data_dir)
