"""Import of the official NATS-Bench size-space archive (read through `nats_bench`) into `benchmarks/natsbench_sss.csv`.

Accepts the single file (`NATS-sss-v1_0-50262.pickle.pbz2`, loaded whole) or the folder of
per-architecture files (`NATS-sss-v1_0-50262-simple`, read one architecture at a time). Every
architecture the archive holds gives a row: its official index, canonical key, and the 90-epoch
(hp '90', the paper's full training) validation and test accuracy averaged over trials --
cifar10 validation from 'cifar10-valid' and test from 'cifar10', cifar100 and ImageNet16-120
x-valid / x-test, as for NAS-Bench-201. The whole archive is checked before the table is written
atomically, so a bad archive leaves no half table.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from zeronas.config import write_atomic
from zeronas.data.datasets import get_dataset
from zeronas.errors import DataNotFoundError, InvalidArchError, InvalidInputError, ZeronasError
from zeronas.spaces.nats_sss.space import SIZE, NatsSizeSpace
from zeronas.spaces.nats_sss.truth import NATS_SSS_DATASETS, TABLE

#: the archive's full-training setting ('01' and '12' are the short schedules)
HP = "90"
_ARCH_FILE = re.compile(r"^(\d+)\.pickle\.pbz2$")


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines and lines[0] else type(exc).__name__


def _open(path: Path) -> object:
    """The NATS-Bench size API over `path` (a folder opens in fast mode)."""
    try:
        import nats_bench
    except ImportError:
        raise ZeronasError(
            f"reading {path.name} needs the NATS-Bench API: `pip install nats_bench`, then run the import again"
        ) from None
    try:
        return nats_bench.create(str(path), "sss", fast_mode=path.is_dir(), verbose=False)
    except Exception as exc:
        raise InvalidInputError(
            f"{path} is not a NATS-Bench size-space archive the API can read ({_first_line(exc)})"
        ) from None


def _indexes(api: object, path: Path) -> list[int]:
    """The architectures the archive holds: its evaluated ones, or for a folder the per-arch files present."""
    if path.is_dir():
        found = (_ARCH_FILE.match(p.name) for p in path.iterdir())
        return sorted({int(m.group(1)) for m in found if m})
    return sorted(int(i) for i in api.evaluated_indexes)


def _row(api: object, space: NatsSizeSpace, index: int) -> dict[str, object]:
    """The table row of one architecture; a one-line error names the index when the archive is wrong."""
    if not 0 <= index < len(api.meta_archs):
        raise InvalidInputError(f"architecture {index} is outside the archive's {len(api.meta_archs)} architectures")
    arch = api.meta_archs[index]
    try:
        key = space.validate(arch)
    except InvalidArchError as exc:
        raise InvalidInputError(f"architecture {index} of the archive is not a size-space key: {exc}") from None
    if space.index_of(key) != index:
        raise InvalidInputError(
            f"architecture {index} of the archive is {key}, whose official index is {space.index_of(key)}"
        )

    def accuracy(dataset: str, field: str) -> float:
        try:
            value = api.get_more_info(index, dataset, iepoch=None, hp=HP, is_random=False)[field]
        except Exception as exc:
            raise InvalidInputError(
                f"architecture {index} ({key}) has no hp={HP} {field} on {dataset}: {_first_line(exc)}"
            ) from None
        return float(value)

    row: dict[str, object] = {"nats_index": index, "arch": key}
    row["cifar10_val_acc"] = accuracy("cifar10-valid", "valid-accuracy")
    row["cifar10_test_acc"] = accuracy("cifar10", "test-accuracy")
    for dataset in ("cifar100", "ImageNet16-120"):
        prefix = NATS_SSS_DATASETS[dataset]
        row[f"{prefix}_val_acc"] = accuracy(dataset, "valid-accuracy")
        row[f"{prefix}_test_acc"] = accuracy(dataset, "test-accuracy")
    return row


def import_nats_sss(path: str | os.PathLike, out_dir: str | os.PathLike, dataset: str | None = None) -> list[Path]:
    """Convert an official NATS-Bench size-space archive into `<out_dir>/benchmarks/natsbench_sss.csv`.

    The table always holds all three data sets; a `dataset` given must be one of them.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise DataNotFoundError(f"file to import not found: {path}")
    if dataset is not None and get_dataset(dataset).name not in NATS_SSS_DATASETS:
        raise InvalidInputError(f"NATS-Bench SSS covers {', '.join(NATS_SSS_DATASETS)}, not {dataset!r}")
    api = _open(path)
    if len(api.meta_archs) != SIZE:
        raise InvalidInputError(f"{path} lists {len(api.meta_archs)} architectures; the size space has {SIZE}")
    indexes = _indexes(api, path)
    if not indexes:
        raise InvalidInputError(f"{path} holds no evaluated architectures")
    space = NatsSizeSpace()
    rows = []
    for index in indexes:
        rows.append(_row(api, space, index))
        if path.is_dir():  # fast mode keeps every architecture it reads: drop each once its row is made
            api.arch2infos_dict.pop(index, None)
            api.evaluated_indexes.discard(index)
    out = Path(out_dir).expanduser() / TABLE
    return [write_atomic(out, pd.DataFrame(rows).to_csv(index=False))]
