"""Import of the official NAS-Bench-201 file (`.pth`, read through `nas_201_api`) into `benchmarks/nasbench201.csv`.

Every cell's official index, arch string, op digits, and 200-epoch validation and test accuracy
averaged over trials (cifar10 validation from 'cifar10-valid', test from 'cifar10'; cifar100 and
ImageNet16-120 x-valid / x-test). Written atomically, so an interrupted import leaves no half table.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from zeronas.config import existing_file, write_atomic
from zeronas.errors import InvalidInputError, ZeronasError
from zeronas.spaces.nb201.space import NasBench201Space
from zeronas.spaces.nb201.truth import NB201_DATASETS


def import_nasbench201(path: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Convert an official NAS-Bench-201 `.pth` into `<out_dir>/benchmarks/nasbench201.csv`."""
    path = existing_file(path, "file to import")
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
    space = NasBench201Space()

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
    return write_atomic(out, pd.DataFrame(rows).to_csv(index=False))
