"""Where zeronas finds its data directory, and how it reads the files in it.

An explicit data directory (`--data-dir`, $ZERONAS_DATA_DIR, a `data_dir=` argument) must be one:
a path that is missing, a file, or a folder holding none of the known files is an error naming it.
Only the implicit default (../shared) may be absent, so callers can fall back (e.g. to a synthetic
batch). Every reader of a data file goes through `read_data_csv` / `read_data_json` /
`read_data_npz`, which turn truncated or corrupt files into one `InvalidInputError` naming the file.
"""

from __future__ import annotations

import csv
import json
import os
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zeronas.errors import DataNotFoundError, InvalidInputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

ENV_DATA_DIR = "ZERONAS_DATA_DIR"
_REPO_ROOT = Path(__file__).resolve().parents[2]
#: (glob inside the data directory, what it is, whether zeronas evaluation needs it)
KNOWN_FILES = (
    ("benchmarks/nasbench201.csv", "NAS-Bench-201 ground truth (val/test accuracy, 3 data sets)", True),
    ("benchmarks/reference_zc/nasbench201__*.json", "NAS-Bench-Suite-Zero reference proxy values", False),
    ("benchmarks/reference_zc/nasbench101__*.json", "NAS-Bench-Suite-Zero NB101 reference values", False),
    ("benchmarks/reference_full/nasbench201__*.csv", "FreeREA reference proxies for all NB201 cells", False),
    ("benchmarks/transnas101_micro.csv", "TransNAS-Bench-101 micro ground truth", False),
    ("benchmarks/imported/*.csv", "ground truth imported from NAS-Bench-Suite-Zero-style files", False),
    ("data/*.npz", "real input batches", False),
    ("hardware/*", "hardware latency/energy tables", False),
    ("timm/*.csv", "timm ImageNet results and benchmarks", False),
)
_REGISTERED: list[tuple[str, str, bool]] = []


def register_data_file(pattern: str, what: str, needed: bool = False) -> None:
    """Make files matching `pattern` (a glob inside the data directory) known, e.g. a benchmark's own table."""
    if all(pattern != known for known, _, _ in (*KNOWN_FILES, *_REGISTERED)):
        _REGISTERED.append((pattern, what, needed))


def known_file_patterns() -> tuple[tuple[str, str, bool], ...]:
    """(pattern, what, needed) of every file zeronas reads: the built-in ones and those benchmarks registered."""
    return (*KNOWN_FILES, *_REGISTERED)


_EXPECTED = "e.g. benchmarks/nasbench201.csv, data/*.npz, hardware/*, timm/*.csv"


def known_files(root: Path, pattern: str) -> list[Path]:
    """The visible files of `root` matching one known pattern, sorted."""
    return sorted(p for p in root.glob(pattern) if p.is_file() and not p.name.startswith("."))


def _problem(path: Path, need_known: bool) -> str | None:
    """Why `path` is not a data directory, or None when it is one."""
    if not path.exists():
        return "does not exist"
    if not path.is_dir():
        return "is a file, not a directory"
    if need_known and not any(known_files(path, pattern) for pattern, _, _ in known_file_patterns()):
        return (
            f"holds none of the files zeronas reads ({_EXPECTED}); point it at a zeronas data directory "
            "(such as ../shared) or fill one with `zeronas data import`"
        )
    return None


def check_data_dir(path: str | os.PathLike, origin: str = "data directory", need_known: bool = True) -> Path:
    """`path` resolved, or a one-line `DataNotFoundError` naming `origin` and the path and what is wrong."""
    resolved = Path(path).expanduser().resolve()
    problem = _problem(resolved, need_known)
    if problem:
        raise DataNotFoundError(f"{origin} {resolved} {problem}")
    return resolved


def _explicit(explicit: str | os.PathLike | None) -> tuple[str | os.PathLike | None, str]:
    if explicit is not None:
        return explicit, "data directory"
    return os.environ.get(ENV_DATA_DIR) or None, f"${ENV_DATA_DIR}"


def find_data_dir(explicit: str | os.PathLike | None = None) -> Path | None:
    """Return the data directory: `explicit`, else $ZERONAS_DATA_DIR, else ../shared if present.

    An explicit or environment path must be a data directory (else DataNotFoundError); None only
    when neither is given and ../shared is absent, so callers can fall back.
    """
    given, origin = _explicit(explicit)
    if given is not None:
        return check_data_dir(given, origin)
    for candidate in (Path.cwd().parent / "shared", _REPO_ROOT.parent / "shared"):
        if candidate.is_dir():
            return candidate.resolve()
    return None


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Like `find_data_dir`, but raise a clear error when there is none.

    An explicit folder need not hold every file: `data_file` then names the one that is missing.
    """
    given, origin = _explicit(explicit)
    if given is not None:
        return check_data_dir(given, origin, need_known=False)
    found = find_data_dir()
    if found is None:
        raise DataNotFoundError(f"data directory not found (${ENV_DATA_DIR} or ../shared); pass --data-dir")
    return found


def data_file(relative: str, explicit: str | os.PathLike | None = None, hint: str = "") -> Path:
    """Path of `relative` inside the data directory; a one-line error names the file when missing."""
    path = data_dir(explicit) / relative
    if not path.exists():
        extra = f"; {hint}" if hint else ""
        raise DataNotFoundError(f"missing data file {path}{extra}")
    return path


def use_data_dir(path: str | os.PathLike | None) -> None:
    """Make `path` (--data-dir) the data directory of this process and of the workers it starts.

    Called by every command: a --data-dir or $ZERONAS_DATA_DIR that is not a data directory is an error.
    """
    if path is not None:
        os.environ[ENV_DATA_DIR] = str(check_data_dir(path, "--data-dir"))
    elif os.environ.get(ENV_DATA_DIR):
        check_data_dir(os.environ[ENV_DATA_DIR], f"${ENV_DATA_DIR}")


# --- reading data files -------------------------------------------------------------------------
def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text and text[0] else type(exc).__name__


def _unreadable(path: Path, kind: str, reason: str, hint: str = "") -> InvalidInputError:
    extra = f"; {hint}" if hint else ""
    return InvalidInputError(f"{path} is not a readable {kind} file (truncated or corrupt): {reason}{extra}")


def _fields(line: bytes) -> int:
    return len(next(csv.reader([line.decode("utf-8", errors="replace")]), []))


def _cut_mid_row(path: Path) -> bool:
    """Whether an uncompressed CSV ends inside a row: no final line break and fewer fields than its header."""
    if path.suffix != ".csv":
        return False
    with path.open("rb") as handle:
        header = handle.readline()
        handle.seek(max(0, path.stat().st_size - 65536))
        tail = handle.read()
    if not tail or tail.endswith((b"\n", b"\r")):
        return False
    return _fields(tail.splitlines()[-1]) < _fields(header)


def read_data_csv(
    path: str | os.PathLike, columns: tuple[str, ...] = (), hint: str = "", **kwargs: Any
) -> pd.DataFrame:
    """pd.read_csv of a data file (.csv or .csv.gz) that must hold `columns`; one-line errors name the file."""
    import pandas as pd

    path = Path(path)
    try:
        frame = pd.read_csv(path, **kwargs)
        truncated = _cut_mid_row(path)
    except pd.errors.EmptyDataError:
        raise _unreadable(path, "CSV", "the file is empty", hint) from None
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        raise _unreadable(path, "CSV", _reason(exc), hint) from None
    if truncated:
        raise _unreadable(path, "CSV", "its last row is cut off", hint)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        extra = f"; {hint}" if hint else ""
        raise InvalidInputError(f"{path} lacks column(s) {', '.join(missing)}{extra}")
    return frame


def read_data_json(path: str | os.PathLike, hint: str = "") -> Any:
    """json.loads of a data file; one-line errors name the file."""
    path = Path(path)
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, RecursionError, ValueError) as exc:
        raise _unreadable(path, "JSON", _reason(exc), hint) from None


def read_data_npz(path: str | os.PathLike, hint: str = "") -> dict[str, np.ndarray]:
    """All arrays of an .npz data file, read eagerly (so a corrupt member fails here, naming the file)."""
    import numpy as np

    path = Path(path)
    try:
        with path.open("rb") as handle:
            if handle.read(4) != b"PK\x03\x04":
                raise _unreadable(path, ".npz", "not a zip archive", hint)
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except InvalidInputError:
        raise
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile, ValueError, KeyError) as exc:
        raise _unreadable(path, ".npz", _reason(exc), hint) from None


# --- writing data files -------------------------------------------------------------------------
def existing_file(path: str | os.PathLike, what: str = "file") -> Path:
    """`path` expanded, or a one-line DataNotFoundError naming it when it is not a file."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataNotFoundError(f"{what} not found: {path}")
    return path


def write_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write `text` to `path` through a temporary file and a rename: readers never see half a table."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
