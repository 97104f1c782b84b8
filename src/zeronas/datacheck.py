"""`zeronas data check` and `data info`: open every file zeronas reads from a data directory, validate it.

It reads through every layer that owns a data format (ground truth, reference values, hardware
tables, batches), so it sits above them, beside the command line.

Each known table is checked for what the code relies on: its columns, row count where the
benchmark fixes it (15,625 NAS-Bench-201 cells, 4,096 TransNAS-Bench-101 cells), value ranges
(accuracies in [0, 100]) and missing values; each .npz batch for uint8 N x 3 x H x W images and
labels in the data set's range. A file that cannot be read at all is a problem too, never a crash.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from zeronas.config import known_file_patterns, known_files, read_data_csv, read_data_json, read_data_npz
from zeronas.errors import InvalidInputError

NB201_CELLS = 15625
TRANSNAS_CELLS = 4096
NB201_ACCURACY = tuple(f"{p}_{m}_acc" for p in ("cifar10", "cifar100", "imagenet16_120") for m in ("val", "test"))
TRANSNAS_TASKS = ("class_scene", "class_object", "jigsaw", "room_layout", "segmentsemantic", "normal", "autoencoder")
#: npz name prefix -> allowed label range (inclusive); ImageNet16 labels are 1-based ImageNet-1k classes
LABEL_RANGES = (("cifar100", 0, 99), ("cifar10", 0, 9), ("imagenet16", 1, 1000), ("imagenet", 0, 999))


@dataclass(frozen=True)
class FileCheck:
    """The outcome for one file: status 'ok', 'problem', 'missing' or 'skipped', and why."""

    file: str
    what: str
    status: str
    detail: str = ""
    rows: int | None = None
    bytes: int | None = None

    @property
    def broken(self) -> bool:
        return self.status == "problem"


def _fail(message: str) -> None:
    raise InvalidInputError(message)


def _numbers(
    frame: pd.DataFrame, column: str, lo: float | None = None, hi: float | None = None, empty_ok: bool = False
) -> pd.Series:
    """Column `column` as floats; a problem when it holds text, unwanted empties or values outside [lo, hi]."""
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce")
    text = int((values.isna() & raw.notna()).sum())
    if text:
        _fail(f"column {column} holds {text} non-numeric value(s)")
    if not empty_ok and values.isna().any():
        _fail(f"column {column} has {int(values.isna().sum())} empty value(s)")
    finite = values.dropna()
    if (lo is not None and (finite < lo).any()) or (hi is not None and (finite > hi).any()):
        _fail(f"column {column} has values outside [{lo}, {hi}] (min {finite.min():.6g}, max {finite.max():.6g})")
    return values


def _rows(frame: pd.DataFrame, expected: int) -> None:
    if len(frame) != expected:
        _fail(f"expected {expected:,} rows, got {len(frame):,}")


def _nb201_index(frame: pd.DataFrame) -> None:
    index = _numbers(frame, "nb201_index", 0, NB201_CELLS - 1)
    if (index % 1 != 0).any() or index.duplicated().any():
        _fail("column nb201_index must hold distinct integers")


def _nb201(path: Path) -> int:
    from zeronas.spaces.nb201.space import ops_to_string, string_to_ops

    frame = read_data_csv(path, ("nb201_index", "arch_str", *NB201_ACCURACY))
    _rows(frame, NB201_CELLS)
    _nb201_index(frame)
    for column in NB201_ACCURACY:
        _numbers(frame, column, 0, 100)
    for arch in frame["arch_str"]:
        try:
            if ops_to_string(string_to_ops(str(arch))) != arch:
                raise ValueError(arch)
        except ValueError:
            _fail(f"arch_str {arch!r} is not a canonical NAS-Bench-201 arch string")
    if frame["arch_str"].duplicated().any():
        _fail("column arch_str has duplicates")
    return len(frame)


def _suite_zero_nb201(path: Path) -> int:
    from zeronas.groundtruth.reference import parse_suite_zero

    frame = parse_suite_zero(read_data_json(path), path.name)
    if "val_accuracy" not in frame.columns:
        _fail("entries lack val_accuracy")
    _numbers(frame, "val_accuracy", 0, 100)
    return len(frame)


def _suite_zero_other(path: Path) -> int:
    entries = read_data_json(path)
    if not isinstance(entries, dict) or not entries:
        _fail("expected a non-empty object {architecture: {proxy: {score, time}, val_accuracy}}")
    bad = next((k for k, v in entries.items() if not isinstance(v, dict)), None)
    if bad is not None:
        _fail(f"entry {bad!r} is not an object")
    frame = pd.DataFrame({"val_accuracy": [v.get("val_accuracy") for v in entries.values()]})
    _numbers(frame, "val_accuracy", 0, 100)
    return len(entries)


def _reference_full(path: Path) -> int:
    frame = read_data_csv(path, ("nb201_index", "params", "synflow", "logsynflow", "naswot", "nregions"))
    _rows(frame, NB201_CELLS)
    _nb201_index(frame)
    _numbers(frame, "params", 0)
    for column in ("synflow", "logsynflow", "naswot"):
        _numbers(frame, column)
    _numbers(frame, "nregions", 0, empty_ok=True)
    return len(frame)


def _transnas(path: Path) -> int:
    metrics = tuple(f"{task}_metric" for task in TRANSNAS_TASKS)
    frame = read_data_csv(path, ("op_indices", *metrics), dtype={"op_indices": str})
    _rows(frame, TRANSNAS_CELLS)
    ops = frame["op_indices"].astype(str).str.zfill(6)
    if not ops.str.fullmatch(r"[0-3]{6}").all() or ops.duplicated().any():
        _fail("column op_indices must hold distinct 6-digit op strings over 0..3")
    for column in metrics:
        _numbers(frame, column)
    return len(frame)


def _npz(path: Path) -> int:
    arrays = read_data_npz(path)
    images, labels = arrays.get("images"), arrays.get("labels")
    if images is None or labels is None:
        _fail("must hold arrays 'images' and 'labels'")
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1] != 3 or images.shape[2] != images.shape[3]:
        _fail(f"'images' must be uint8 N x 3 x H x H, got {images.dtype} {images.shape}")
    if labels.dtype.kind not in "iu" or labels.shape != (images.shape[0],):
        _fail(f"'labels' must be {images.shape[0]} integers, got {labels.dtype} {labels.shape}")
    if len(labels) == 0:
        _fail("holds no images")
    lo, hi = next(((lo, hi) for prefix, lo, hi in LABEL_RANGES if path.name.startswith(prefix)), (0, None))
    if labels.min() < lo or (hi is not None and labels.max() > hi):
        _fail(f"'labels' must lie in [{lo}, {hi}], got {labels.min()}..{labels.max()}")
    for name in ("wnids", "names"):
        if name in arrays and arrays[name].shape != labels.shape:
            _fail(f"'{name}' must have shape {labels.shape}, got {arrays[name].shape}")
    return len(labels)


def _latency(path: Path) -> int:
    frame = read_data_csv(path, ("nb201_index", "arch_str"))
    _rows(frame, NB201_CELLS)
    _nb201_index(frame)
    for column in frame.columns.drop(["nb201_index", "arch_str"]):
        _numbers(frame, column, 0)
    return len(frame)


def _edge(path: Path) -> int:
    from zeronas.hardware.tables import EDGE_COLUMNS

    frame = read_data_csv(path, (*EDGE_COLUMNS, "accuracy"))
    if (_numbers(frame, "nb201_index", 0, NB201_CELLS - 1) % 1 != 0).any():
        _fail("column nb201_index must hold integers")
    ok = frame[frame["status"] == "ok"]
    _numbers(ok, "lat_ms_median", 0)
    for column in ("lat_ms_var", "energy_mj"):
        _numbers(ok, column, 0, empty_ok=True)
    return len(frame)


def _torchvision(path: Path) -> int:
    from zeronas.hardware.tables import TORCHVISION_COLUMNS

    frame = read_data_csv(path, TORCHVISION_COLUMNS, low_memory=False)
    for column in ("median", "latency"):
        _numbers(frame, column, 0, empty_ok=True)
    if frame[["median", "latency"]].isna().all(axis=1).all():
        _fail("no row has a latency")
    return len(frame)


def _timm_benchmark(path: Path) -> int:
    frame = read_data_csv(path, ("model", "infer_img_size", "infer_step_time", "infer_batch_size"))
    for column in ("infer_img_size", "infer_step_time", "infer_batch_size"):
        _numbers(frame, column, 0)
    return len(frame)


def _timm_results(path: Path) -> int:
    frame = read_data_csv(path, ("model", "top1", "top5"))
    for column in ("top1", "top5"):
        _numbers(frame, column, 0, 100)
    return len(frame)


def _timm_metadata(path: Path) -> int:
    frame = read_data_csv(path, ("model", "pretrain"))
    if frame[["model", "pretrain"]].isna().any().any():
        _fail("columns model and pretrain must have no empty values")
    return len(frame)


def _any_csv(path: Path) -> int:
    frame = read_data_csv(path)
    if frame.empty:
        _fail("holds no rows")
    return len(frame)


def _any_json(path: Path) -> int:
    content = read_data_json(path)
    return len(content) if isinstance(content, dict | list) else 1


def _open_npz(path: Path) -> int:
    arrays = read_data_npz(path)
    return len(arrays["images"]) if "images" in arrays else len(next(iter(arrays.values()), ()))


def _open_csv(path: Path) -> int:
    return len(read_data_csv(path))


#: (pattern of the path inside the data directory, validator); the first match applies
VALIDATORS: tuple[tuple[str, Callable[[Path], int]], ...] = (
    ("benchmarks/nasbench201.csv", _nb201),
    ("benchmarks/reference_zc/nasbench201__*.json", _suite_zero_nb201),
    ("benchmarks/reference_zc/*.json", _suite_zero_other),
    ("benchmarks/reference_full/nasbench201__*.csv", _reference_full),
    ("benchmarks/transnas101_micro.csv", _transnas),
    ("data/*.npz", _npz),
    ("hardware/nasbench201_latency_ms.csv", _latency),
    ("hardware/nasbench201_edge_devices.csv.gz", _edge),
    ("hardware/torchvision_models_latency.csv", _torchvision),
    ("timm/benchmark-infer-*.csv", _timm_benchmark),
    ("timm/results-imagenet*.csv", _timm_results),
    ("timm/model_metadata-*.csv", _timm_metadata),
    ("*.csv", _any_csv),
    ("*.csv.gz", _any_csv),
    ("*.json", _any_json),
)
#: what just opening a file means, for `data info` (no content checks)
OPENERS: tuple[tuple[str, Callable[[Path], int]], ...] = (
    ("*.npz", _open_npz),
    ("*.csv", _open_csv),
    ("*.csv.gz", _open_csv),
    ("*.json", _any_json),
)


def _run(path: Path, relative: str, table: tuple) -> tuple[str, str, int | None]:
    """(status, detail, rows) of the first validator in `table` matching `relative`."""
    check = next((f for pattern, f in table if fnmatch.fnmatch(relative, pattern)), None)
    if check is None:
        return "skipped", "not a table zeronas reads", None
    try:
        rows = check(path)
    except InvalidInputError as exc:
        detail = str(exc).replace(f"{path} is ", "").replace(f"{path} ", "").replace(str(path), path.name)
        return "problem", detail, None
    return "ok", "", rows


def _survey(root: str | os.PathLike, table: tuple) -> list[FileCheck]:
    root = Path(root)
    results = []
    for pattern, what, needed in known_file_patterns():
        matches = known_files(root, pattern)
        if not matches:
            note = " - needed by `zeronas evaluate`" if needed else ""
            results.append(FileCheck(pattern, what + note, "missing"))
        for match in matches:
            relative = match.relative_to(root).as_posix()
            status, detail, rows = _run(match, relative, table)
            results.append(FileCheck(relative, what, status, detail, rows, match.stat().st_size))
    return results


def check_data(root: str | os.PathLike) -> list[FileCheck]:
    """Validate every known file of the data directory `root`: one FileCheck per file (or missing pattern)."""
    return _survey(root, VALIDATORS)


def open_data(root: str | os.PathLike) -> list[FileCheck]:
    """Open (without content checks) every known file of `root`: unreadable files come back as problems."""
    return _survey(root, OPENERS)


def data_inventory(data_dir: str | os.PathLike) -> pd.DataFrame:
    """What a data directory holds: one row per known table (present or missing), with size and rows.

    Every present file is opened: `problem` says why one cannot be read (truncated, corrupt), else is empty.
    """
    rows = [
        {
            "file": item.file,
            "what": item.what,
            "present": item.status != "missing",
            "rows": item.rows,
            "bytes": item.bytes,
            "problem": item.detail if item.broken else "",
        }
        for item in open_data(data_dir)
    ]
    return pd.DataFrame(rows, columns=["file", "what", "present", "rows", "bytes", "problem"])
