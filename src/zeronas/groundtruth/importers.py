"""`zeronas data import`: official benchmark files a user owns, converted into tables of a data directory.

- NAS-Bench-Suite-Zero-style JSON (`zc_<benchmark>.json`: {dataset: {key: entry}} or one data set's
  {key: entry}, each entry holding proxy {score, time} objects and `val_accuracy`) for any registered
  benchmark: every key is validated by the benchmark's space, the entries become
  `benchmarks/reference_zc/<stem>__<dataset>.json` (keys canonical), and for a benchmark that ships no
  ground-truth reader the `val_accuracy` column becomes `benchmarks/imported/<space>__<dataset>.csv`,
  which `ground_truth` then reads (metric 'val').
- Benchmark-specific files (NAS-Bench-201 `.pth`, NATS-Bench archives, ...) through the importers each
  benchmark declares (`Benchmark.importers`).
Files are written atomically (temporary file, then rename); nothing is written unless the whole file is valid.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import pandas as pd

from zeronas.config import existing_file, read_data_json, write_atomic
from zeronas.data.datasets import get_dataset
from zeronas.errors import InvalidArchError, InvalidInputError, UnknownNameError
from zeronas.spaces import DataImporter, create_space, get_benchmark, list_benchmarks
from zeronas.spaces.benchmark import Benchmark, imported_truth_file
from zeronas.spaces.nb201.importer import import_nasbench201

ENV_USER_DATA = "XDG_DATA_HOME"
#: the generic --kind, valid for every benchmark
SUITE_ZERO = "suite-zero"
__all__ = ["SUITE_ZERO", "find_importer", "import_nasbench201", "import_suite_zero", "user_data_dir"]


def user_data_dir() -> Path:
    """Where imports go by default: $XDG_DATA_HOME/zeronas, else ~/.local/share/zeronas."""
    base = os.environ.get(ENV_USER_DATA) or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "zeronas"


def _mentions(stem: str, name: str) -> bool:
    return re.search(rf"(^|[_\-.]){re.escape(name)}([_\-.]|$)", stem, flags=re.IGNORECASE) is not None


def _dataset_or_none(name: str) -> str | None:
    try:
        return get_dataset(name).name
    except (UnknownNameError, AttributeError):
        return None


def _accepts_all(bench: Benchmark, keys: list[str]) -> bool:
    space = create_space(bench.name)
    try:
        for key in keys:
            space.validate(key)
    except InvalidArchError:
        return False
    return True


def _benchmark_of(path: Path, keys: list[str], space: str | None) -> Benchmark:
    """The benchmark named, else the one whose Suite-Zero stem the file name holds, else the one accepting all keys."""
    if space is not None:
        return get_benchmark(space)
    benches = [get_benchmark(name) for name in list_benchmarks()]
    named = [b for b in benches if _mentions(path.stem, b.reference_stem) or _mentions(path.stem, b.name)]
    if len(named) == 1:
        return named[0]
    fitting = [b for b in benches if _accepts_all(b, keys[:50])]
    if len(fitting) == 1:
        return fitting[0]
    which = ", ".join(b.name for b in fitting) if fitting else "none of " + ", ".join(b.name for b in benches)
    raise InvalidInputError(f"cannot tell the benchmark of {path.name} (its keys fit {which}); pass --space")


def _tables(path: Path, content: dict, bench: Benchmark, dataset: str | None) -> dict[str, dict]:
    """{dataset: entries} of a Suite-Zero file: one data set per top-level key, or one data set in all."""
    by_dataset = {key: _dataset_or_none(key) for key in content}
    if all(by_dataset.values()):
        tables = {by_dataset[key]: entries for key, entries in content.items()}
        if dataset is not None:
            name = get_dataset(dataset).name
            tables = {name: tables[name]} if name in tables else {}
    else:
        name = get_dataset(dataset).name if dataset else None
        if name is None:
            found = [d for d in bench.datasets if _mentions(path.stem, d)]
            name = max(found, key=len) if found else (bench.datasets[0] if len(bench.datasets) == 1 else None)
        if name is None:
            raise InvalidInputError(
                f"cannot tell the data set of {path.name}; pass --dataset ({', '.join(bench.datasets)})"
            )
        tables = {name: content}
    if bench.datasets:
        tables = {name: entries for name, entries in tables.items() if name in bench.datasets}
    if not tables:
        raise InvalidInputError(f"{path} holds no {bench.name} data set ({', '.join(bench.datasets) or 'any'})")
    return tables


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(f"{where} is not a finite number: {value!r}")
    return float(value)


def _validated(path: Path, bench: Benchmark, name: str, entries: object) -> dict[str, dict]:
    """{canonical key: entry} with every key valid in the space and every number finite or a score object."""
    if not isinstance(entries, dict) or not entries:
        raise InvalidInputError(f"{path} [{name}] holds no NAS-Bench-Suite-Zero entries (expected {{key: {{...}}}})")
    space = create_space(bench.name)
    out: dict[str, dict] = {}
    for key, entry in entries.items():
        try:
            canonical = space.validate(key)
        except InvalidArchError as exc:
            raise InvalidInputError(
                f"{path} [{name}]: key {key!r} is not a {bench.name} architecture ({exc})"
            ) from None
        if not isinstance(entry, dict):
            raise InvalidInputError(f"{path} [{name}]: entry {key!r} is not an object")
        for field, value in entry.items():
            if isinstance(value, dict) and "score" in value:
                if not isinstance(value["score"], int | float) or isinstance(value["score"], bool):
                    raise InvalidInputError(f"{path} [{name}]: {key!r} {field} score is not a number")
            elif field == "val_accuracy":
                _number(value, f"{path} [{name}]: {key!r} val_accuracy")
        if canonical in out:
            raise InvalidInputError(f"{path} [{name}]: keys {key!r} and another name the same architecture {canonical}")
        out[canonical] = entry
    return out


def import_suite_zero(
    path: str | os.PathLike, out_dir: str | os.PathLike, dataset: str | None = None, space: str | None = None
) -> list[Path]:
    """Convert a NAS-Bench-Suite-Zero-style JSON of any benchmark into data-directory tables; return the files.

    Writes `benchmarks/reference_zc/<stem>__<dataset>.json` per data set and, for a benchmark without a
    ground-truth reader, `benchmarks/imported/<space>__<dataset>.csv` (arch, val_acc) when the entries
    carry `val_accuracy`. The benchmark is `space`, else read from the file name, else the only one whose
    space accepts the keys.
    """
    path = existing_file(path, "file to import")
    content = read_data_json(path)
    if not isinstance(content, dict) or not content:
        raise InvalidInputError(f"{path} holds no NAS-Bench-Suite-Zero entries")
    first = next(iter(content.values()))
    nested = all(_dataset_or_none(k) for k in content) and isinstance(first, dict)
    sample = list(first) if nested else list(content)
    bench = _benchmark_of(path, [str(k) for k in sample], space)
    tables = {
        name: _validated(path, bench, name, entries) for name, entries in _tables(path, content, bench, dataset).items()
    }
    root = Path(out_dir).expanduser()
    written = []
    for name, entries in tables.items():
        out = root / "benchmarks" / "reference_zc" / f"{bench.reference_stem}__{name}.json"
        written.append(write_atomic(out, json.dumps(entries)))
        accuracy = {key: entry["val_accuracy"] for key, entry in entries.items() if "val_accuracy" in entry}
        if bench.truth is None and accuracy:
            frame = pd.DataFrame({"arch": list(accuracy), "val_acc": list(accuracy.values())})
            written.append(write_atomic(root / imported_truth_file(bench.name, name), frame.to_csv(index=False)))
    return written


def _suite_zero_importer(space: str | None) -> DataImporter:
    def run(path: Path, out_dir: Path, dataset: str | None) -> list[Path]:
        return import_suite_zero(path, out_dir, dataset, space)

    return DataImporter(SUITE_ZERO, (".json",), "NAS-Bench-Suite-Zero-style JSON, any benchmark", run)


def importers(space: str | None = None) -> list[tuple[Benchmark | None, DataImporter]]:
    """(benchmark or None for the generic one, importer) pairs, restricted to `space` when given."""
    benches = [get_benchmark(space)] if space else [get_benchmark(name) for name in list_benchmarks()]
    found: list[tuple[Benchmark | None, DataImporter]] = [(None, _suite_zero_importer(space))]
    found += [(bench, item) for bench in benches for item in bench.importers]
    return found


def find_importer(path: Path, kind: str = "auto", space: str | None = None) -> tuple[Benchmark | None, DataImporter]:
    """The importer of `kind` ('auto': by the file's ending), with the benchmark that declares it."""
    known = importers(space)
    kinds = ", ".join(item.kind for _, item in known)
    if kind != "auto":
        matches = [(bench, item) for bench, item in known if item.kind == kind]
        if not matches:
            raise InvalidInputError(f"--kind must be auto or one of {kinds}, got {kind!r}")
        return matches[0]
    name = path.name.lower()
    matches = [(bench, item) for bench, item in known if any(name.endswith(suffix) for suffix in item.suffixes)]
    if len(matches) != 1:
        which = "several importers" if matches else "no importer"
        raise InvalidInputError(f"cannot tell the kind of {path.name} ({which} match); pass --kind ({kinds})")
    return matches[0]
