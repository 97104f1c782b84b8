"""Moving results between stores: export rows to a self-contained CSV (gzip by extension), import them back.

Why: a full-space sweep costs CPU-hours and lives in one machine's SQLite file. An export carries the
rows with the settings each digest stands for, so another machine (or a later session) imports it
and every sweep, report or search that asks for those rows finds them instead of recomputing.
Importing is idempotent: rows already present are kept and never duplicated.
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
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    frame[list(EXPORT_COLUMNS)].to_csv(target, index=False, float_format="%.17g")
    return len(frame)


def import_rows(store: ResultStore, path: str | os.PathLike) -> tuple[int, int]:
    """Add the rows of an export to `store`; return (rows read, rows new to the store)."""
    source = Path(path)
    if not source.is_file():
        raise DataNotFoundError(f"no export file {source} (write one with `zeronas store export`)")
    try:
        frame = pd.read_csv(source, keep_default_na=False, na_values={"value": [""]}, dtype={"reason": str})
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
    return len(rows), store.add(rows)
