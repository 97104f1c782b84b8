"""Moving results between stores: export rows to a self-contained CSV (gzip by extension), import them back.

Why: a full-space sweep costs CPU-hours and lives in one machine's SQLite file. An export carries the
rows with the settings each digest stands for and the roles sweeps recorded for each row's cell (which
uniform draw it belongs to, whether it was added as a top-k% cell), so another machine (or a later
session) imports it and every sweep, report or search that asks for those rows finds them instead
of recomputing, and a report evaluates each proxy on the same draw as before.
Importing is idempotent: rows and roles already present are kept and never duplicated.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from zeronas.errors import DataNotFoundError, InvalidInputError
from zeronas.store.sqlite import COLUMNS, ResultRow, ResultStore

#: the exported columns: the store's, minus its bookkeeping, plus the settings each digest stands for
EXPORT_COLUMNS = (*[c for c in COLUMNS if c not in ("created", "version")], "settings_json")
#: the cell's recorded roles, ';'-joined; optional on import (exports before it have none)
ROLES_COLUMN = "roles"
_ROLE_SEP = ";"


def _cell_roles(store: ResultStore, frame: pd.DataFrame) -> pd.Series:
    """Each row's ';'-joined roles of its (space, dataset, arch), '' where none was recorded."""
    joined: dict[tuple[str, str, str], list[str]] = {}
    for space, dataset in frame[["space", "dataset"]].drop_duplicates().itertuples(index=False):
        for role in store.roles(space, dataset):
            for arch in store.cells(space, dataset, role):
                joined.setdefault((space, dataset, arch), []).append(role)
    keys = zip(frame["space"], frame["dataset"], frame["arch"], strict=True)
    return pd.Series([_ROLE_SEP.join(joined.get(k, [])) for k in keys], index=frame.index, dtype=object)


def export_rows(
    store: ResultStore,
    path: str | os.PathLike,
    space: str | None = None,
    dataset: str | None = None,
    proxies: str | None = None,
    seeds: Iterable[int] | None = None,
) -> int:
    """Write the (filtered) rows of `store` to `path` (.csv or .csv.gz); return how many were written."""
    seeds = None if seeds is None else list(seeds)
    frame = store.frame(space=space, dataset=dataset, proxies=proxies, seeds=seeds)
    if frame.empty:
        wanted = f"space={space} dataset={dataset} proxies={proxies} seeds={seeds}"
        raise InvalidInputError(f"{store.path} holds no rows matching {wanted}")
    texts = {digest: json.dumps(store.settings(digest), sort_keys=True) for digest in frame["settings"].unique()}
    frame["settings_json"] = frame["settings"].map(texts)
    frame[ROLES_COLUMN] = _cell_roles(store, frame)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    frame[[*EXPORT_COLUMNS, ROLES_COLUMN]].to_csv(target, index=False, float_format="%.17g")
    return len(frame)


def import_rows(store: ResultStore, path: str | os.PathLike) -> tuple[int, int]:
    """Add the rows (and the cell roles) of an export to `store`; return (rows read, rows new to the store)."""
    source = Path(path)
    if not source.is_file():
        raise DataNotFoundError(f"no export file {source} (write one with `zeronas store export`)")
    try:
        frame = pd.read_csv(
            source, keep_default_na=False, na_values={"value": [""]}, dtype={"reason": str, ROLES_COLUMN: str}
        )
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read {source} as a zeronas export: {str(exc).splitlines()[0]}") from None
    missing = [c for c in EXPORT_COLUMNS if c not in frame.columns]
    if missing:
        raise InvalidInputError(f"{source} is not a zeronas export: missing column(s) {', '.join(missing)}")
    for digest, text in frame.groupby("settings")["settings_json"].first().items():
        store.register_settings(digest, json.loads(text))
    rows = [
        ResultRow(
            space=r.space,
            arch=r.arch,
            dataset=r.dataset,
            proxy=r.proxy,
            seed=int(r.seed),
            settings=r.settings,
            value=float(r.value),
            status=r.status,
            reason=r.reason,
            seconds=float(r.seconds),
        )
        for r in frame.itertuples(index=False)
    ]
    added = store.add(rows)
    if ROLES_COLUMN in frame.columns:
        marked = frame[frame[ROLES_COLUMN] != ""][["space", "dataset", "arch", ROLES_COLUMN]].drop_duplicates()
        by_role: dict[tuple[str, str, str], list[str]] = {}
        for space, dataset, arch, roles in marked.itertuples(index=False):
            for role in roles.split(_ROLE_SEP):
                by_role.setdefault((space, dataset, role), []).append(arch)
        for (space, dataset, role), archs in by_role.items():
            store.mark_cells(space, dataset, role, archs)
    return len(rows), added
