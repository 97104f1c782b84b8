"""Reference proxy values published by others, keyed by our canonical arch keys.

- NAS-Bench-Suite-Zero (`benchmarks/reference_zc/nasbench201__<dataset>.json`): about 725 NB201 cells
  per data set; keys are NASLib op tuples such as "(0, 2, 3, 2, 3, 1)" (= our op-index digits), each
  proxy entry holds `score` and `time`, plus `val_accuracy`. NASLib's `jacov` is our `jacob_cov`.
  Values are NASLib's as published (its pipeline replaced NaN/inf by -1e8).
- FreeREA (`benchmarks/reference_full/nasbench201__<dataset>.csv`): all 15,625 cells by official
  `nb201_index`: params, synflow (raw sum, not its log), logsynflow, naswot, nregions.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from zeronas.config import data_file
from zeronas.data.datasets import get_dataset
from zeronas.errors import InvalidArchError, InvalidInputError
from zeronas.spaces import create_space

#: NASLib proxy name -> zeronas proxy name, where they differ
NASLIB_NAMES = {"jacov": "jacob_cov"}
_ZC_HINT = (
    "import NAS-Bench-Suite-Zero's zc_nasbench201.json with `zeronas data import zc_nasbench201.json` "
    "or pass --data-dir pointing at a zeronas data directory"
)
_FULL_HINT = "this table comes with the zeronas data directory (../shared); pass --data-dir pointing at one"


def _dataset_name(dataset: str) -> str:
    return get_dataset(dataset).name


def parse_suite_zero(entries: dict, source: str, what: str = "score") -> pd.DataFrame:
    """NAS-Bench-Suite-Zero entries {op tuple: {proxy: {score, time}, val_accuracy, idx, ...}} -> DataFrame.

    Rows are indexed by canonical NB201 arch string; columns are our proxy names (their `score`, or
    their `time` with what='time'), `val_accuracy` and `naslib_idx`. `source` names the file in errors.
    """
    if what not in ("score", "time"):
        raise InvalidInputError(f"what must be 'score' or 'time', got {what!r}")
    if not isinstance(entries, dict) or not entries:
        raise InvalidInputError(f"{source} holds no NAS-Bench-Suite-Zero entries (expected {{op tuple: {{...}}}})")
    space = create_space("nb201")
    records = {}
    for key, entry in entries.items():
        try:
            arch = space.validate(key)
        except InvalidArchError as exc:
            raise InvalidInputError(f"{source}: key {key!r} is not an NB201 op tuple ({exc})") from None
        if not isinstance(entry, dict):
            raise InvalidInputError(f"{source}: entry {key!r} is not an object")
        record: dict[str, float] = {}
        for name, value in entry.items():
            if isinstance(value, dict) and "score" in value:
                record[NASLIB_NAMES.get(name, name)] = float(value.get(what, float("nan")))
            elif name == "val_accuracy":
                record["val_accuracy"] = float(value)
            elif name == "idx":
                record["naslib_idx"] = int(value)
        records[arch] = record
    frame = pd.DataFrame.from_dict(records, orient="index")
    frame.index.name = "arch"
    return frame


def reference_zc_path(dataset: str, data_dir: str | os.PathLike | None = None) -> os.PathLike:
    """Path of the NAS-Bench-Suite-Zero reference file of `dataset` (one-line error when missing)."""
    return data_file(f"benchmarks/reference_zc/nasbench201__{_dataset_name(dataset)}.json", data_dir, hint=_ZC_HINT)


def load_reference_zc(dataset: str, what: str = "score", data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """NAS-Bench-Suite-Zero NB201 values on `dataset`, indexed by canonical arch string."""
    path = reference_zc_path(dataset, data_dir)
    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read {path}: not valid JSON ({exc}); {_ZC_HINT}") from None
    return parse_suite_zero(entries, str(path), what)


def load_reference_full(dataset: str, data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """FreeREA's values for all NB201 cells on `dataset`, indexed by canonical arch string."""
    name = _dataset_name(dataset)
    path = data_file(f"benchmarks/reference_full/nasbench201__{name}.csv", data_dir, hint=_FULL_HINT)
    try:
        frame = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InvalidInputError(f"cannot read {path} ({type(exc).__name__}); {_FULL_HINT}") from None
    if "nb201_index" not in frame.columns:
        raise InvalidInputError(f"{path} lacks column nb201_index; {_FULL_HINT}")
    space = create_space("nb201", data_dir=data_dir)
    frame.index = pd.Index([space.arch_of_index(int(i)) for i in frame["nb201_index"]], name="arch")
    return frame
