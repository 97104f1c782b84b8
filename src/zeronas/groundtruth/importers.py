"""Convert official benchmark files a user owns into zeronas tables in a data directory, and list one.

- NAS-Bench-201 `.pth` (e.g. NAS-Bench-201-v1_1-096897.pth), read through the `nas_201_api` package
  (`pip install nas-bench-201`), becomes `benchmarks/nasbench201.csv`: every cell's official index,
  arch string, op digits, and 200-epoch validation and test accuracy averaged over trials (cifar10
  validation from 'cifar10-valid', test from 'cifar10'; cifar100 and ImageNet16-120 x-valid / x-test).
- NAS-Bench-Suite-Zero `zc_*.json` (all data sets in one file, or one data set as in reference_zc)
  becomes `benchmarks/reference_zc/nasbench201__<dataset>.json`, keys normalised to op tuples.
Files are written atomically (temporary file, then rename), so an interrupted import leaves no half table.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd

from zeronas.config import KNOWN_FILES, read_data_json
from zeronas.data.datasets import get_dataset
from zeronas.errors import DataNotFoundError, InvalidInputError, UnknownNameError, ZeronasError
from zeronas.groundtruth.reference import parse_suite_zero
from zeronas.spaces import create_space
from zeronas.spaces.nb201.truth import NB201_DATASETS

ENV_USER_DATA = "XDG_DATA_HOME"
__all__ = ["KNOWN_FILES", "import_nasbench201", "import_suite_zero", "user_data_dir"]


def user_data_dir() -> Path:
    """Where imports go by default: $XDG_DATA_HOME/zeronas, else ~/.local/share/zeronas."""
    base = os.environ.get(ENV_USER_DATA) or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "zeronas"


def _write_atomic(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def _existing(path: str | os.PathLike) -> Path:
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataNotFoundError(f"file to import not found: {path}")
    return path


def import_nasbench201(path: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Convert an official NAS-Bench-201 `.pth` into `<out_dir>/benchmarks/nasbench201.csv`."""
    path = _existing(path)
    try:
        from nas_201_api import NASBench201API
    except ImportError:
        raise ZeronasError(
            f"reading {path.name} needs the NAS-Bench-201 API: `pip install nas-bench-201`, then run the import again"
        ) from None
    try:
        api = NASBench201API(str(path), verbose=False)
    except Exception as exc:
        raise InvalidInputError(f"{path} is not a NAS-Bench-201 file the API can read ({exc})") from None
    space = create_space("nb201")

    def accuracy(index: int, dataset: str, key: str) -> float:
        return float(api.get_more_info(index, dataset, iepoch=None, hp="200", is_random=False)[key])

    rows = []
    for index, arch in enumerate(api.meta_archs):
        key = space.validate(arch)
        row: dict[str, object] = {"nb201_index": index, "arch_str": key, "op_indices": space.op_string(key)}
        row["cifar10_val_acc"] = accuracy(index, "cifar10-valid", "valid-accuracy")
        row["cifar10_test_acc"] = accuracy(index, "cifar10", "test-accuracy")
        for dataset in ("cifar100", "ImageNet16-120"):
            prefix = NB201_DATASETS[dataset]
            row[f"{prefix}_val_acc"] = accuracy(index, dataset, "valid-accuracy")
            row[f"{prefix}_test_acc"] = accuracy(index, dataset, "test-accuracy")
        rows.append(row)
    if not rows:
        raise InvalidInputError(f"{path} holds no architectures")
    out = Path(out_dir).expanduser() / "benchmarks" / "nasbench201.csv"
    return _write_atomic(out, pd.DataFrame(rows).to_csv(index=False))


def _dataset_from_name(path: Path) -> str | None:
    for name in sorted(NB201_DATASETS, key=len, reverse=True):
        if re.search(rf"(^|[_\-.]){re.escape(name)}([_\-.]|$)", path.stem, flags=re.IGNORECASE):
            return name
    return None


def _dataset_or_none(name: str) -> str | None:
    try:
        return get_dataset(name).name
    except UnknownNameError:
        return None


def import_suite_zero(path: str | os.PathLike, out_dir: str | os.PathLike, dataset: str | None = None) -> list[Path]:
    """Convert a NAS-Bench-Suite-Zero NB201 `zc_*.json` into reference_zc tables; return the files written."""
    path = _existing(path)
    content = read_data_json(path)
    if not isinstance(content, dict) or not content:
        raise InvalidInputError(f"{path} holds no NAS-Bench-Suite-Zero entries")
    by_dataset = {k: _dataset_or_none(k) for k in content}
    if all(by_dataset.values()):
        tables = {by_dataset[k]: v for k, v in content.items() if by_dataset[k] in NB201_DATASETS}
        if dataset is not None:
            name = get_dataset(dataset).name
            tables = {name: tables[name]} if name in tables else {}
    else:
        name = get_dataset(dataset).name if dataset else _dataset_from_name(path)
        if name is None:
            raise InvalidInputError(f"cannot tell the data set of {path.name}; pass --dataset cifar10|cifar100|...")
        tables = {name: content}
    if not tables:
        raise InvalidInputError(f"{path} holds no NAS-Bench-201 data set ({', '.join(NB201_DATASETS)})")
    space = create_space("nb201")
    written = []
    for name, entries in tables.items():
        parse_suite_zero(entries, f"{path} [{name}]")  # validates every key and entry before writing
        normalised = {str(space.ops(key)): entry for key, entry in entries.items()}
        out = Path(out_dir).expanduser() / "benchmarks" / "reference_zc" / f"nasbench201__{name}.json"
        written.append(_write_atomic(out, json.dumps(normalised)))
    return written
