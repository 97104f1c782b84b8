"""Where zeronas finds its data directory (benchmark tables, real batches, hardware tables)."""

from __future__ import annotations

import os
from pathlib import Path

from zeronas.errors import DataNotFoundError

ENV_DATA_DIR = "ZERONAS_DATA_DIR"
_REPO_ROOT = Path(__file__).resolve().parents[2]


def find_data_dir(explicit: str | os.PathLike | None = None) -> Path | None:
    """Return the data directory: `explicit`, else $ZERONAS_DATA_DIR, else ../shared if present.

    Returns None when no candidate exists, so callers can fall back (e.g. to a synthetic batch).
    """
    if explicit is not None:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser().resolve()
    for candidate in (Path.cwd().parent / "shared", _REPO_ROOT.parent / "shared"):
        if candidate.is_dir():
            return candidate.resolve()
    return None


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Like `find_data_dir`, but raise a clear error when there is none."""
    found = find_data_dir(explicit)
    if found is None or not found.is_dir():
        where = found or f"${ENV_DATA_DIR} or ../shared"
        raise DataNotFoundError(f"data directory not found ({where}); pass --data-dir or set {ENV_DATA_DIR}")
    return found


def data_file(relative: str, explicit: str | os.PathLike | None = None, hint: str = "") -> Path:
    """Path of `relative` inside the data directory; a one-line error names the file when missing."""
    path = data_dir(explicit) / relative
    if not path.exists():
        extra = f"; {hint}" if hint else ""
        raise DataNotFoundError(f"missing data file {path}{extra}")
    return path


def use_data_dir(path: str | os.PathLike | None) -> None:
    """Make `path` the data directory of this process and of the workers it starts."""
    if path is not None:
        os.environ[ENV_DATA_DIR] = str(Path(path).expanduser().resolve())
