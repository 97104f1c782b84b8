"""Tabulated hardware costs: device tables of the data directory, read once, as cost models.

- `nb201_latency` (device=...): `hardware/nasbench201_latency_ms.csv`, latency (ms) of every
  NAS-Bench-201 cell, CIFAR-10 network, on 27 devices (HW-NAS-Bench's eyeriss/fpga/pixel3/raspi4,
  BRP-NAS's phones in integer ms, HELP's GPUs at batch 1/32/256 and Xeon CPUs).
- `pi5_latency`, `pi5_energy`, `pixel_latency`, `edge_device`: `hardware/nasbench201_edge_devices.csv.gz`
  (HW-NAS-Bench-360): Raspberry Pi 5 (LiteRT / ONNX / TorchMobile) median latency (ms), its
  variance and energy (mJ), and a Pixel phone (LiteRT latency), per task (cifar100, darcy, ninapro).
- `torchvision_latency`: `hardware/torchvision_models_latency.csv` (Framework-Tax), latency of
  torchvision models on CPUs, Raspberry Pi 4, Jetson and GPUs; keyed by the table's model names.
- `timm_latency` (table=...): the timm `timm/benchmark-infer-*.csv` tables (ms per batch step).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from zeronas.config import data_file, read_data_csv
from zeronas.data import get_dataset
from zeronas.errors import InvalidInputError, NotApplicableError, UnknownNameError
from zeronas.hardware.costs import CostModel, canonical_key, register_cost
from zeronas.spaces import SearchSpace

NB201_LATENCY = "hardware/nasbench201_latency_ms.csv"
EDGE_DEVICES = "hardware/nasbench201_edge_devices.csv.gz"
TORCHVISION = "hardware/torchvision_models_latency.csv"
TIMM_TABLES = {
    "cpu-i9_10940x": "timm/benchmark-infer-fp32-nchw-pt240-cpu-i9_10940x-dynamo.csv",
    "cpu-i7_12700h": "timm/benchmark-infer-fp32-nchw-pt240-cpu-i7_12700h-dynamo.csv",
    "rtx4090": "timm/benchmark-infer-amp-nchw-pt240-cu124-rtx4090.csv",
}
_HINT = "the hardware tables ship in the zeronas data directory (../shared/hardware)"
EDGE_COLUMNS = ("nb201_index", "device", "framework", "task", "status", "lat_ms_median", "lat_ms_var", "energy_mj")
TORCHVISION_COLUMNS = ("source", "model", "device", "median", "latency", "batch_size", "img_size")


class TableCost(CostModel):
    """A cost read from a table: canonical key -> value, for the data sets the table describes.

    `values` is one Series (the same numbers for every data set in `datasets`, or for all when
    None) or a mapping data set -> Series when the table differs per data set.
    """

    def __init__(
        self,
        values: pd.Series | Mapping[str, pd.Series],
        name: str,
        unit: str,
        space: str | None,
        datasets: Iterable[str] | None = None,
    ) -> None:
        self.name, self.unit, self.space = name, unit, space
        if isinstance(values, pd.Series):
            self.datasets = None if datasets is None else {get_dataset(d).name for d in datasets}
            self._tables = {None: self._clean(values)}
        else:
            self._tables = {get_dataset(d).name: self._clean(v) for d, v in values.items()}
            self.datasets = set(self._tables)

    @staticmethod
    def _clean(values: pd.Series) -> pd.Series:
        return values[~values.index.duplicated()].dropna().astype(float)

    def series(self, dataset: str | None = None) -> pd.Series:
        """key -> value for `dataset` (any, for a table that does not depend on it)."""
        if None in self._tables:
            return self._tables[None]
        return self._tables[get_dataset(dataset).name] if dataset else next(iter(self._tables.values()))

    def _check(self, space: SearchSpace | None, dataset: str) -> pd.Series:
        label = None if space is None else space.name
        if self.space is not None and label != self.space:
            raise NotApplicableError(
                f"cost {self.name!r} tabulates space {self.space!r}, not {label or 'named models'}"
            )
        if self.datasets is not None and get_dataset(dataset).name not in self.datasets:
            known = ", ".join(sorted(self.datasets))
            raise NotApplicableError(f"cost {self.name!r} has no {dataset!r} networks (tabulated: {known})")
        return self.series(dataset)

    def __call__(self, space: SearchSpace | None, key: str, dataset: str) -> float:
        values = self._check(space, dataset)
        arch = canonical_key(space, key)
        if arch not in values.index:
            raise InvalidInputError(f"cost {self.name!r} has no entry for {arch!r}")
        return float(values[arch])

    def many(self, space: SearchSpace | None, keys: list[str], dataset: str) -> np.ndarray:
        values = self._check(space, dataset)
        return values.reindex([canonical_key(space, k) for k in keys]).to_numpy(dtype=float)


# --- NAS-Bench-201 latency on 27 devices --------------------------------------------------------
@functools.lru_cache(maxsize=2)
def _nb201_latency(path: str) -> pd.DataFrame:
    return read_data_csv(path, ("arch_str",), hint=_HINT).set_index("arch_str")


def nb201_latency_table(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """arch string -> latency (ms) per device column (plus `nb201_index`)."""
    return _nb201_latency(str(data_file(NB201_LATENCY, data_dir, hint=_HINT)))


def nb201_devices(data_dir: str | os.PathLike | None = None) -> list[str]:
    """Device columns of the NB201 latency table."""
    return [c for c in nb201_latency_table(data_dir).columns if c != "nb201_index"]


@register_cost("nb201_latency")
def nb201_latency(device: str = "raspi4", data_dir: str | os.PathLike | None = None) -> TableCost:
    """Latency (ms) of NB201 cells on `device`; the table's networks are the CIFAR-10 ones.

    CIFAR-100 networks differ only in the classifier (64x10 vs 64x100 weights), so the table also
    serves cifar100; ImageNet16-120 networks run at 16x16 and are not covered.
    """
    table = nb201_latency_table(data_dir)
    if device not in table.columns or device == "nb201_index":
        raise UnknownNameError(f"unknown NB201 latency device {device!r} (known: {', '.join(nb201_devices(data_dir))})")
    return TableCost(table[device], f"nb201_latency[{device}]", "ms", "nb201", ("cifar10", "cifar100"))


# --- Raspberry Pi 5 / Pixel (HW-NAS-Bench-360) --------------------------------------------------
@functools.lru_cache(maxsize=2)
def _edge(path: str, index_path: str) -> pd.DataFrame:
    frame = read_data_csv(path, EDGE_COLUMNS, hint=_HINT)
    frame = frame[frame["status"] == "ok"].copy()
    index = read_data_csv(index_path, ("nb201_index", "arch_str"), usecols=["nb201_index", "arch_str"])
    archs = index.drop_duplicates("nb201_index").set_index("nb201_index")["arch_str"]
    frame["arch_str"] = archs.reindex(frame["nb201_index"]).to_numpy()
    return frame


def edge_table(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """The Pi 5 / Pixel table with an `arch_str` column (one row per cell, device, framework, task)."""
    index = data_file("benchmarks/nasbench201.csv", data_dir, hint="the NB201 index table")
    return _edge(str(data_file(EDGE_DEVICES, data_dir, hint=_HINT)), str(index))


_EDGE_METRICS = {"lat_ms_median": "ms (median)", "lat_ms_var": "ms^2 (variance)", "energy_mj": "mJ", "accuracy": "%"}


def edge_series(
    device: str, framework: str, task: str, metric: str, data_dir: str | os.PathLike | None = None
) -> pd.Series:
    """arch string -> `metric` of the edge table for one (device, framework, task)."""
    frame = edge_table(data_dir)
    if metric not in _EDGE_METRICS:
        raise UnknownNameError(f"unknown edge-table metric {metric!r} (known: {', '.join(_EDGE_METRICS)})")
    rows = frame[(frame["device"] == device) & (frame["framework"] == framework) & (frame["task"] == task)]
    if rows.empty:
        combos = sorted({f"{d}/{f}" for d, f in zip(frame["device"], frame["framework"], strict=True)})
        tasks = ", ".join(sorted(frame["task"].unique()))
        raise UnknownNameError(
            f"no edge-table rows for {device}/{framework}/{task} (devices: {', '.join(combos)}; tasks: {tasks})"
        )
    return rows.set_index("arch_str")[metric]


@register_cost("edge_device")
def edge_device(
    device: str = "pi5",
    framework: str = "litert",
    metric: str = "lat_ms_median",
    task: str = "cifar100",
    data_dir: str | os.PathLike | None = None,
) -> TableCost:
    """One column of the Pi 5 / Pixel table as a cost on NB201 cells built for `task`."""
    values = edge_series(device, framework, task, metric, data_dir)
    datasets = [task] if task == "cifar100" else None
    name = f"{device}_{metric}[{framework},{task}]"
    return TableCost(values, name, _EDGE_METRICS[metric], "nb201", datasets)


@register_cost("pi5_latency")
def pi5_latency(
    framework: str = "litert", task: str = "cifar100", data_dir: str | os.PathLike | None = None
) -> TableCost:
    """Median latency (ms) of NB201 cells on a Raspberry Pi 5 (framework litert, onnx or torchmobile)."""
    return edge_device("pi5", framework, "lat_ms_median", task, data_dir)


@register_cost("pi5_energy")
def pi5_energy(
    framework: str = "litert", task: str = "cifar100", data_dir: str | os.PathLike | None = None
) -> TableCost:
    """Energy (mJ) of one inference of NB201 cells on a Raspberry Pi 5 (framework litert, onnx or torchmobile)."""
    return edge_device("pi5", framework, "energy_mj", task, data_dir)


@register_cost("pixel_latency")
def pixel_latency(task: str = "cifar100", data_dir: str | os.PathLike | None = None) -> TableCost:
    """Latency (ms) of NB201 cells on a Pixel phone with LiteRT."""
    return edge_device("pixel", "litert", "lat_ms_median", task, data_dir)


# --- torchvision models (Framework-Tax) ---------------------------------------------------------
@functools.lru_cache(maxsize=2)
def _torchvision(path: str) -> pd.DataFrame:
    raw = read_data_csv(path, TORCHVISION_COLUMNS, hint=_HINT, low_memory=False)
    folder = raw["source"].str.rsplit("/", n=2).str[-2]
    machine = raw["source"].str.rsplit("/", n=1).str[-1].str.removesuffix(".csv")
    variant = folder.str.replace(r"^\d{4}_(\d{4}_)?", "", regex=True).str.replace("pretrained-", "", regex=False)
    seconds = raw["median"].fillna(raw["latency"])
    frame = pd.DataFrame(
        {
            "model": raw["model"],
            "device": raw["device"].fillna(machine),
            "variant": variant,
            "batch": raw["batch_size"].fillna(1).astype(int),
            "img_size": raw["img_size"],
            "latency_ms": seconds * 1000.0,
        }
    )
    return frame.dropna(subset=["latency_ms"]).reset_index(drop=True)


def torchvision_table(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Tidy Framework-Tax table: model, device, variant (run folder: vision, vision_jit, fp32, trt, ...), batch,
    img_size, latency_ms."""
    return _torchvision(str(data_file(TORCHVISION, data_dir, hint=_HINT)))


@register_cost("torchvision_latency")
def torchvision_latency(
    device: str = "rpi4_cpu",
    variant: str | None = None,
    batch: int = 1,
    img_size: float | None = None,
    data_dir: str | os.PathLike | None = None,
) -> TableCost:
    """Latency (ms) of named torchvision models (keys: the table's names, `torchvision:` prefix allowed).

    Without `variant`/`img_size`, the first matching rows in file order are used (one per model).
    """
    frame = torchvision_table(data_dir)
    rows = frame[(frame["device"] == device) & (frame["batch"] == int(batch))]
    if variant is not None:
        rows = rows[rows["variant"] == variant]
    if img_size is not None:
        rows = rows[rows["img_size"] == float(img_size)]
    if rows.empty:
        known = ", ".join(sorted(frame["device"].unique()))
        raise UnknownNameError(f"no torchvision latency rows for {device} b{batch} {variant or ''} (devices: {known})")
    values = rows.drop_duplicates("model").set_index("model")["latency_ms"]
    values = pd.concat([values, values.rename(lambda m: f"torchvision:{m}")])
    return TableCost(values, f"torchvision_latency[{device}]", "ms", None)


# --- timm benchmark tables ----------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def _timm(path: str) -> pd.DataFrame:
    return read_data_csv(path, ("model", "infer_img_size", "infer_step_time", "infer_batch_size"), hint=_HINT)


def timm_benchmark(table: str = "cpu-i9_10940x", data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """One timm inference benchmark table: model, infer_img_size, samples/s, step time (ms), batch, params,
    GMACs (one row per model and image size)."""
    if table not in TIMM_TABLES:
        raise UnknownNameError(f"unknown timm benchmark table {table!r} (known: {', '.join(TIMM_TABLES)})")
    return _timm(str(data_file(TIMM_TABLES[table], data_dir, hint=_HINT)))


@register_cost("timm_latency")
def timm_latency(
    table: str = "cpu-i9_10940x", img_size: int = 224, data_dir: str | os.PathLike | None = None
) -> TableCost:
    """Step time (ms) of timm models at the table's batch size (1 on the CPU tables, 1024 on the RTX 4090).

    The tables time most models at several image sizes: the row at `img_size` is used, else the
    model's row with the nearest size (the larger one on a tie).
    """
    frame = timm_benchmark(table, data_dir).copy()
    frame["gap"] = (frame["infer_img_size"] - int(img_size)).abs()
    frame = frame.sort_values(["model", "gap", "infer_img_size"], ascending=[True, True, False])
    values = frame.drop_duplicates("model").set_index("model")["infer_step_time"]
    values = pd.concat([values, values.rename(lambda m: f"timm:{m}")])
    batch = int(frame["infer_batch_size"].iloc[0])
    return TableCost(values, f"timm_latency[{table}]", f"ms per batch of {batch}", None)
