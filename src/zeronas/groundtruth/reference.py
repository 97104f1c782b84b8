"""Reference proxy values published by others, keyed by our canonical arch keys.

- NAS-Bench-Suite-Zero (`benchmarks/reference_zc/nasbench201__<dataset>.json`): about 725 NB201 cells
  per data set; keys are NASLib op tuples such as "(0, 2, 3, 2, 3, 1)" (= our op-index digits), each
  proxy entry holds `score` and `time`, plus `val_accuracy`. NASLib's `jacov` is our `jacob_cov`.
  Values are NASLib's as published (its pipeline replaced NaN/inf by -1e8).
- FreeREA (`benchmarks/reference_full/nasbench201__<dataset>.csv`): all 15,625 cells by official
  `nb201_index`: params, synflow (raw sum, not its log), logsynflow, naswot, nregions.
"""

from __future__ import annotations

import os

import pandas as pd

from zeronas.config import data_file, read_data_csv, read_data_json
from zeronas.data.datasets import get_dataset
from zeronas.errors import InvalidArchError, InvalidInputError
from zeronas.spaces import create_space
from zeronas.spaces.nb201.truth import load_nasbench201

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
        try:
            records[arch] = _suite_zero_record(entry, what)
        except (TypeError, ValueError, OverflowError) as exc:
            raise InvalidInputError(f"{source}: entry {key!r} holds a non-number ({exc})") from None
    frame = pd.DataFrame.from_dict(records, orient="index")
    frame.index.name = "arch"
    return frame


def _suite_zero_record(entry: dict, what: str) -> dict[str, float]:
    record: dict[str, float] = {}
    for name, value in entry.items():
        if isinstance(value, dict) and "score" in value:
            record[NASLIB_NAMES.get(name, name)] = float(value.get(what, float("nan")))
        elif name == "val_accuracy":
            record["val_accuracy"] = float(value)
        elif name == "idx":
            record["naslib_idx"] = int(value)
    return record


def reference_zc_path(dataset: str, data_dir: str | os.PathLike | None = None) -> os.PathLike:
    """Path of the NAS-Bench-Suite-Zero reference file of `dataset` (one-line error when missing)."""
    return data_file(f"benchmarks/reference_zc/nasbench201__{_dataset_name(dataset)}.json", data_dir, hint=_ZC_HINT)


def load_reference_zc(dataset: str, what: str = "score", data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """NAS-Bench-Suite-Zero NB201 values on `dataset`, indexed by canonical arch string."""
    path = reference_zc_path(dataset, data_dir)
    return parse_suite_zero(read_data_json(path, hint=_ZC_HINT), str(path), what)


def load_reference_full(dataset: str, data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """FreeREA's values for all NB201 cells on `dataset`, indexed by canonical arch string."""
    name = _dataset_name(dataset)
    path = data_file(f"benchmarks/reference_full/nasbench201__{name}.csv", data_dir, hint=_FULL_HINT)
    frame = read_data_csv(path, ("nb201_index",), hint=_FULL_HINT)
    index = pd.to_numeric(frame["nb201_index"], errors="coerce")
    if index.isna().any() or (index % 1 != 0).any():
        raise InvalidInputError(f"{path}: column nb201_index must hold integers; {_FULL_HINT}")
    table = load_nasbench201(data_dir)
    archs = pd.Series(table["arch_str"].to_numpy(), index=pd.to_numeric(table["nb201_index"], errors="coerce"))
    mapped = archs[~archs.index.duplicated()].reindex(index.astype("int64"))
    if mapped.isna().any():
        unknown = int(index[mapped.isna().to_numpy()].iloc[0])
        raise InvalidInputError(f"{path}: nb201_index {unknown} is not in the NAS-Bench-201 table; {_FULL_HINT}")
    frame.index = pd.Index(mapped.to_numpy(), name="arch")
    return frame
