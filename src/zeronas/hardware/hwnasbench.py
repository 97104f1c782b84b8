"""Import of HW-NAS-Bench's official pickle (`HW-NAS-Bench-v1_0.pickle`, GATECH-EIC/HW-NAS-Bench).

The pickle holds, for the NAS-Bench-201 space, `data["nasbench201"][dataset][metric][nb201_index]`
with datasets cifar10 / cifar100 / ImageNet16-120 and metrics such as `edgegpu_latency`,
`edgegpu_energy`, `raspi4_latency`, `edgetpu_latency`, `pixel3_latency`, `eyeriss_latency`,
`eyeriss_energy`, `eyeriss_arithmetic_intensity`, `fpga_latency`, `fpga_energy` (15,625 values
each; latency in ms, energy in mJ). `import_hwnasbench` turns it into one tidy CSV (nb201_index,
arch_str, dataset, one column per metric) that the `hwnasbench` cost model reads: every device and
metric becomes a tabulated cost, `get_cost("hwnasbench", metric="edgegpu_energy")`.

The pickle is read with an unpickler that only admits plain containers and numpy arrays, so a
malformed or hostile file fails with one line instead of running code.
"""

from __future__ import annotations

import functools
import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd

from zeronas.config import find_data_dir, read_data_csv
from zeronas.errors import DataNotFoundError, InvalidInputError, UnknownNameError
from zeronas.hardware.costs import register_cost
from zeronas.hardware.tables import TableCost
from zeronas.spaces.nb201 import load_nasbench201

NUM_CELLS = 15625
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
ENV_PATH = "ZERONAS_HWNASBENCH"
CSV_NAME = "hwnasbench_nb201.csv"
_UNITS = {"latency": "ms", "energy": "mJ", "arithmetic_intensity": "ops/byte"}
_ALLOWED = {
    ("collections", "OrderedDict"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
}


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def default_csv_path() -> Path:
    """Where an import is written: $ZERONAS_HWNASBENCH, else <user data dir>/hardware/ (as `zeronas data import`)."""
    from zeronas.groundtruth.importers import user_data_dir

    env = os.environ.get(ENV_PATH)
    return Path(env).expanduser() if env else user_data_dir() / "hardware" / CSV_NAME


def _load_pickle(path: Path) -> dict:
    if not path.is_file():
        raise DataNotFoundError(f"HW-NAS-Bench pickle not found: {path} (get HW-NAS-Bench-v1_0.pickle from GATECH-EIC)")
    try:
        with path.open("rb") as f:
            data = _SafeUnpickler(f).load()
    except Exception as exc:  # any unpickling failure is a malformed file for the user
        raise InvalidInputError(f"{path} is not a readable HW-NAS-Bench pickle ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("nasbench201"), dict):
        raise InvalidInputError(f"{path} is not a HW-NAS-Bench pickle: no 'nasbench201' entry at the top level")
    return data["nasbench201"]


def _metric_columns(per_dataset: dict, dataset: str, path: Path) -> dict[str, np.ndarray]:
    columns = {}
    for metric, values in per_dataset.items():
        if metric == "config":
            continue
        try:
            arr = np.asarray(values, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            continue
        if arr.size != NUM_CELLS:
            raise InvalidInputError(f"{path}: {dataset}/{metric} has {arr.size} values, expected {NUM_CELLS}")
        columns[str(metric)] = arr
    if not columns:
        raise InvalidInputError(f"{path}: {dataset} holds no numeric metric of {NUM_CELLS} values")
    return columns


def read_hwnasbench(path: str | os.PathLike) -> pd.DataFrame:
    """The pickle as a tidy frame: nb201_index, arch_str, dataset, one float column per metric."""
    path = Path(path)
    nb201 = _load_pickle(path)
    datasets = [d for d in DATASETS if d in nb201]
    if not datasets:
        raise InvalidInputError(f"{path}: 'nasbench201' has none of the datasets {', '.join(DATASETS)}")
    archs = load_nasbench201().sort_values("nb201_index")["arch_str"].to_numpy()
    parts = []
    for dataset in datasets:
        if not isinstance(nb201[dataset], dict):
            raise InvalidInputError(f"{path}: nasbench201/{dataset} is not a metric -> values mapping")
        part = pd.DataFrame(_metric_columns(nb201[dataset], dataset, path))
        part.insert(0, "dataset", dataset)
        part.insert(0, "arch_str", archs)
        part.insert(0, "nb201_index", np.arange(NUM_CELLS))
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def import_hwnasbench(path: str | os.PathLike, out: str | os.PathLike | None = None) -> Path:
    """Convert the official pickle to the CSV the `hwnasbench` cost model reads; returns the CSV path."""
    frame = read_hwnasbench(path)
    target = Path(out) if out is not None else default_csv_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(target, index=False)
    _read_csv.cache_clear()
    return target


def find_import(path: str | os.PathLike | None = None) -> Path:
    """The imported CSV: `path`, else the default import path, else `hardware/` of the data directory."""
    candidates = [Path(path)] if path is not None else [default_csv_path()]
    data = find_data_dir()
    if path is None and data is not None:
        candidates.append(data / "hardware" / CSV_NAME)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise DataNotFoundError(
        f"no imported HW-NAS-Bench table at {candidates[0]}; run `zeronas hardware import HW-NAS-Bench-v1_0.pickle`"
    )


@functools.lru_cache(maxsize=4)
def _read_csv(path: str) -> pd.DataFrame:
    return read_data_csv(path, hint="re-create it with `zeronas hardware import`")


def hwnasbench_metrics(path: str | os.PathLike | None = None) -> list[str]:
    """Metric columns of the imported table (device_metric, e.g. raspi4_latency)."""
    frame = _read_csv(str(find_import(path)))
    return [c for c in frame.columns if c not in ("nb201_index", "arch_str", "dataset")]


@register_cost("hwnasbench")
def hwnasbench(metric: str = "edgegpu_latency", path: str | os.PathLike | None = None) -> TableCost:
    """One imported HW-NAS-Bench metric as a cost; its value depends on the data set the cell is built for."""
    frame = _read_csv(str(find_import(path)))
    if metric not in frame.columns or metric in ("nb201_index", "arch_str", "dataset"):
        raise UnknownNameError(f"unknown HW-NAS-Bench metric {metric!r} (known: {', '.join(hwnasbench_metrics(path))})")
    unit = next((u for suffix, u in _UNITS.items() if metric.endswith(suffix)), "")
    per_dataset = {d: g.set_index("arch_str")[metric] for d, g in frame.groupby("dataset")}
    return TableCost(per_dataset, f"hwnasbench[{metric}]", unit, "nb201")
