"""Moving results between stores: export rows to a self-contained CSV (gzip by extension), import them back.

Why: a full-space sweep costs CPU-hours and lives in one machine's SQLite file. An export carries the
rows with the settings each digest stands for and the roles sweeps recorded for each row's cell (which
uniform draw it belongs to, whether it was added as a top-k% cell), so another machine (or a later
session) imports it and every sweep, report or search that asks for those rows finds them instead
of recomputing, and a report evaluates each proxy on the same draw as before.
Importing is idempotent (rows and roles already present are kept, never duplicated) and atomic: the
file is read in chunks, each checked, all inside one store transaction, so a bad row anywhere leaves
the store as it was. The decompressed text read is bounded (MAX_IMPORT_BYTES, MAX_LINE_BYTES).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from zeronas.errors import DataNotFoundError, InvalidInputError, ZeronasError
from zeronas.store.checks import SQLITE_MAGIC, describe_bytes, in_use
from zeronas.store.exportfile import (
    IMPORT_CHUNK_ROWS,
    MAX_IMPORT_BYTES,
    MAX_LINE_BYTES,
    open_export,
    parse_chunk,
    read_failure,
)
from zeronas.store.sqlite import COLUMNS, ResultStore

#: the exported columns: the store's, minus its bookkeeping, plus the settings each digest stands for
EXPORT_COLUMNS = (*[c for c in COLUMNS if c not in ("created", "version")], "settings_json")
#: the cell's recorded roles, ';'-joined; optional on import (exports before it have none)
ROLES_COLUMN = "roles"
_ROLE_SEP = ";"

__all__ = [
    "EXPORT_COLUMNS",
    "IMPORT_CHUNK_ROWS",
    "MAX_IMPORT_BYTES",
    "MAX_LINE_BYTES",
    "ROLES_COLUMN",
    "export_rows",
    "import_rows",
]


def _cell_roles(store: ResultStore, frame: pd.DataFrame) -> pd.Series:
    """Each row's ';'-joined roles of its (space, dataset, arch), '' where none was recorded."""
    joined: dict[tuple[str, str, str], list[str]] = {}
    for space, dataset in frame[["space", "dataset"]].drop_duplicates().itertuples(index=False):
        for role in store.roles(space, dataset):
            for arch in store.cells(space, dataset, role):
                joined.setdefault((space, dataset, arch), []).append(role)
    keys = zip(frame["space"], frame["dataset"], frame["arch"], strict=True)
    return pd.Series([_ROLE_SEP.join(joined.get(k, [])) for k in keys], index=frame.index, dtype=object)


def _check_target(store: ResultStore, target: Path) -> None:
    """An export never replaces the store itself, nor any other SQLite database (results would be lost)."""
    if target.is_dir():
        raise InvalidInputError(f"export file {target} is a directory; give a file name ending .csv or .csv.gz")
    store_files = {Path(f"{store.path.resolve()}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")}
    if target.resolve() in store_files:
        raise InvalidInputError(f"export file {target} is the result store itself; give another file name")
    if in_use(target):  # never opened outside SQLite: see `in_use`
        raise InvalidInputError(f"export file {target} is a SQLite database in use; not overwritten")
    if target.is_file():
        with target.open("rb") as handle:
            if handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC:
                raise InvalidInputError(f"export file {target} is a SQLite database (a result store?); not overwritten")


def export_rows(
    store: ResultStore,
    path: str | os.PathLike,
    space: str | None = None,
    dataset: str | None = None,
    proxies: str | None = None,
    seeds: Iterable[int] | None = None,
) -> int:
    """Write the (filtered) rows of `store` to `path` (.csv or .csv.gz); return how many were written.

    The file appears whole or not at all: it is written under a temporary name and then renamed.
    """
    target = Path(path)
    _check_target(store, target)
    seeds = None if seeds is None else list(seeds)
    frame = store.frame(space=space, dataset=dataset, proxies=proxies, seeds=seeds)
    if frame.empty:
        wanted = f"space={space} dataset={dataset} proxies={proxies} seeds={seeds}"
        raise InvalidInputError(f"{store.path} holds no rows matching {wanted}")
    texts = {digest: json.dumps(store.settings(digest), sort_keys=True) for digest in frame["settings"].unique()}
    frame["settings_json"] = frame["settings"].map(texts)
    frame[ROLES_COLUMN] = _cell_roles(store, frame)
    partial = target.with_name(f".{os.getpid()}.part.{target.name}")  # same suffixes: same compression
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        frame[[*EXPORT_COLUMNS, ROLES_COLUMN]].to_csv(partial, index=False, float_format="%.17g")
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise InvalidInputError(f"cannot write export file {target}: {exc.strerror or exc}") from None
    return len(frame)


def _check_source(source: Path) -> None:
    """The import file exists, is a file, is not empty and is not a SQLite database."""
    if source.is_dir():
        raise InvalidInputError(f"export file {source} is a directory, not a file written by `zeronas store export`")
    if not source.is_file():
        raise DataNotFoundError(f"no export file {source} (write one with `zeronas store export`)")
    if in_use(source):  # never opened outside SQLite: see `in_use`
        raise InvalidInputError(f"{source} is a SQLite database in use, not an export: export its rows first")
    try:
        with source.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise InvalidInputError(f"cannot read export file {source}: {exc.strerror or exc}") from None
    if not head:
        raise InvalidInputError(f"export file {source} is empty")
    if head == SQLITE_MAGIC:
        raise InvalidInputError(
            f"{source} is {describe_bytes(head)}, not an export: export its rows with `zeronas store export` first"
        )


def _add_roles(store: ResultStore, chunk: pd.DataFrame) -> None:
    """Record the roles an export carries for its rows' cells (idempotent)."""
    marked = chunk[chunk[ROLES_COLUMN] != ""][["space", "dataset", "arch", ROLES_COLUMN]].drop_duplicates()
    by_role: dict[tuple[str, str, str], list[str]] = {}
    for space, dataset, arch, roles in marked.itertuples(index=False):
        for role in roles.split(_ROLE_SEP):
            if role:
                by_role.setdefault((space, dataset, role), []).append(arch)
    for (space, dataset, role), archs in by_role.items():
        store.mark_cells(space, dataset, role, archs)


def _register(store: ResultStore, source: Path, digest: str, settings: dict, registered: dict[str, dict]) -> None:
    """Register the settings of `digest` unless the store holds them; other settings for it are an error."""
    if digest not in registered:
        store.register_settings(digest, settings)
    elif registered[digest] != settings:
        raise InvalidInputError(
            f"{source}: settings digest {digest} is already registered in {store.path} with other settings"
        )


def import_rows(store: ResultStore, path: str | os.PathLike) -> tuple[int, int]:
    """Add the rows (and the cell roles) of an export to `store`; return (rows read, rows new to the store).

    All or nothing: any unreadable or invalid row, or more than MAX_IMPORT_BYTES of text, is a
    one-line error naming the file (and the row) and the store keeps exactly what it held before.
    """
    source = Path(path)
    _check_source(source)
    read = added = 0
    settings: dict[str, str] = {}
    registered = store.all_settings()
    try:
        with open_export(source) as handle, store.transaction():
            chunks = pd.read_csv(handle, dtype=str, keep_default_na=False, na_filter=False, chunksize=IMPORT_CHUNK_ROWS)
            for number, chunk in enumerate(chunks):
                if number == 0:
                    missing = [c for c in EXPORT_COLUMNS if c not in chunk.columns]
                    if missing:
                        raise InvalidInputError(
                            f"{source} is not a zeronas export: missing column(s) {', '.join(missing)}"
                        )
                chunk = chunk.fillna("")  # short rows: their missing fields are empty, and checked as such
                rows, new_settings = parse_chunk(chunk, source, settings)
                for digest, text in new_settings.items():
                    _register(store, source, digest, json.loads(text), registered)
                settings.update(new_settings)
                added += store.add(rows)
                read += len(rows)
                if ROLES_COLUMN in chunk.columns:
                    _add_roles(store, chunk)
    except ZeronasError:
        raise
    except Exception as exc:
        failure = read_failure(exc, source)
        if failure is None:
            raise
        raise failure from None
    return read, added
