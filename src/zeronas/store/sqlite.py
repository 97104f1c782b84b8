"""The result store: one SQLite file holding proxy values, their settings and search traces.

Why SQLite: it is in the standard library, a single file is easy to copy, and its transactions make
the store safe against `kill -9` (an interrupted transaction is rolled back) and against several
writer processes (WAL journal, busy timeout, `BEGIN IMMEDIATE`). Every table has a UNIQUE key and
rows go in with `INSERT OR IGNORE`, so writing the same result twice keeps the first and never
duplicates it: a resumed sweep simply skips what is already there.

Opening a store checks the file (checks.py: a folder, not SQLite, truncated, another program's
database, read-only) and every SQLite failure later becomes one line naming the store file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from zeronas.errors import InvalidInputError, UnknownNameError
from zeronas.store.checks import unsafe_name
from zeronas.store.connection import BUSY_TIMEOUT_S, ENV_STORE, StoreConnection, default_store_path

__all__ = ["BUSY_TIMEOUT_S", "COLUMNS", "ENV_STORE", "ResultRow", "ResultStore", "default_store_path"]
#: columns of `ResultStore.frame`, in order
COLUMNS = (
    "space",
    "arch",
    "dataset",
    "proxy",
    "seed",
    "settings",
    "value",
    "status",
    "reason",
    "seconds",
    "created",
    "version",
)
_TRACE_KEYS = ("run", "step", "arch")
#: row fields that end up in file names (report tables are named space_dataset_settings)
NAME_FIELDS = ("space", "dataset", "proxy", "settings")


@dataclass(frozen=True)
class ResultRow:
    """One measured value: a proxy (or a measured metric such as latency) of one architecture and seed."""

    space: str
    arch: str
    dataset: str
    proxy: str
    seed: int
    settings: str
    value: float
    status: str
    reason: str = ""
    seconds: float = 0.0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _version() -> str:
    from zeronas import __version__

    return __version__


def _json_default(obj: object) -> object:
    item = getattr(obj, "item", None)  # numpy scalars
    if callable(item):
        return item()
    tolist = getattr(obj, "tolist", None)  # numpy arrays
    if callable(tolist):
        return tolist()
    return str(obj)


def _as_list(value: object) -> list | None:
    """A filter argument: None (no filter), one value, a comma-separated string or an iterable."""
    if value is None:
        return None
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, Iterable):
        return list(value)
    return [value]


def _row_tuple(row: ResultRow, created: str, version: str) -> tuple:
    if not isinstance(row, ResultRow):
        raise InvalidInputError(f"store rows must be ResultRow, got {type(row).__name__}")
    for name in ("space", "arch", "dataset", "proxy", "settings", "status"):
        if not isinstance(getattr(row, name), str) or not getattr(row, name):
            raise InvalidInputError(f"ResultRow.{name} must be a non-empty string, got {getattr(row, name)!r}")
    for name in NAME_FIELDS:
        if unsafe_name(getattr(row, name)):
            raise InvalidInputError(
                f"ResultRow.{name} {getattr(row, name)!r} must be a plain name (no path separator, control "
                "character or '..'): report file names are built from it"
            )
    value = float(row.value)
    return (
        row.space,
        row.arch,
        row.dataset,
        row.proxy,
        int(row.seed),
        row.settings,
        None if math.isnan(value) else value,
        row.status,
        str(row.reason or ""),
        float(row.seconds),
        created,
        version,
    )


class ResultStore(StoreConnection):
    """Results of proxy evaluations in one SQLite file (created with its schema when missing).

    `read_only`: open without ever writing (reports, exports; works on a store in a read-only
    folder); a missing store is then an error instead of a new one. `timeout`: seconds a write waits
    for another process's lock (default BUSY_TIMEOUT_S). Every failure is a one-line ZeronasError.
    """

    # --- settings -----------------------------------------------------------------------------
    def register_settings(self, digest: str, settings: dict) -> None:
        """Record what a settings digest stands for (idempotent; a different dict for a known digest is an error)."""
        text = json.dumps(settings, sort_keys=True, default=_json_default)
        with self.transaction() as conn:
            old = conn.execute("SELECT json FROM settings WHERE digest = ?", (digest,)).fetchone()
            if old is None:
                conn.execute("INSERT INTO settings VALUES (?, ?, ?)", (digest, text, _now()))
            elif old[0] != text:
                raise InvalidInputError(
                    f"settings digest {digest} is already registered in {self.path} with other settings"
                )

    def settings(self, digest: str) -> dict:
        """The settings dict registered for `digest`."""
        rows = self._query("SELECT json FROM settings WHERE digest = ?", (digest,))
        if not rows:
            raise UnknownNameError(f"settings digest {digest!r} is not registered in {self.path}")
        return json.loads(rows[0][0])

    def all_settings(self) -> dict[str, dict]:
        """Every registered digest -> its settings."""
        rows = self._query("SELECT digest, json FROM settings ORDER BY rowid")
        return {digest: json.loads(text) for digest, text in rows}

    # --- results ------------------------------------------------------------------------------
    def add(self, rows: Iterable[ResultRow]) -> int:
        """Insert `rows` in one transaction, ignoring those already stored; return how many were new."""
        created, version = _now(), _version()
        values = [_row_tuple(row, created, version) for row in rows]
        if not values:
            return 0
        with self.transaction() as conn:
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO results (space, arch, dataset, proxy, seed, settings, value, status, reason, "
                "seconds, created, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
            return conn.total_changes - before

    def done(self, space: str, dataset: str, settings: str) -> set[tuple[str, str, int]]:
        """{(arch, proxy, seed)} already stored for (space, dataset, settings)."""
        rows = self._query(
            "SELECT arch, proxy, seed FROM results WHERE space = ? AND dataset = ? AND settings = ?",
            (space, dataset, settings),
        )
        return {(arch, proxy, int(seed)) for arch, proxy, seed in rows}

    def frame(
        self,
        space: str | None = None,
        dataset: str | None = None,
        settings: str | Iterable[str] | None = None,
        proxies: str | Iterable[str] | None = None,
        seeds: int | Iterable[int] | None = None,
    ) -> pd.DataFrame:
        """Stored rows as a DataFrame (columns `COLUMNS`, insertion order), filtered by any given argument.

        Failed values are NaN with their status and reason; they are never left out.
        """
        clauses, params = [], []
        for column, wanted in (
            ("space", _as_list(space)),
            ("dataset", _as_list(dataset)),
            ("settings", _as_list(settings)),
            ("proxy", _as_list(proxies)),
            ("seed", None if seeds is None else [int(s) for s in _as_list(seeds)]),
        ):
            if wanted is not None:
                clauses.append(f"{column} IN ({', '.join('?' * len(wanted))})" if wanted else "0")
                params.extend(wanted)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        query = f"SELECT {', '.join(COLUMNS)} FROM results{where} ORDER BY rowid"
        rows = self._query(query, params)
        frame = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
        frame["seed"] = frame["seed"].astype("int64")
        frame["value"] = frame["value"].astype("float64")
        frame["seconds"] = frame["seconds"].astype("float64")
        return frame

    def groups(self) -> pd.DataFrame:
        """One row per stored (space, dataset, settings): rows, failed rows, proxies, seeds, cells."""
        query = (
            "SELECT space, dataset, settings, COUNT(*), SUM(status != 'ok'), COUNT(DISTINCT proxy), "
            "COUNT(DISTINCT seed), COUNT(DISTINCT arch) FROM results GROUP BY space, dataset, settings "
            "ORDER BY MIN(rowid)"
        )
        columns = ["space", "dataset", "settings", "rows", "failed", "proxies", "seeds", "cells"]
        return pd.DataFrame.from_records(self._query(query), columns=columns)

    # --- cell roles (which cells a sweep drew uniformly, which it added as the top set) ---------
    def mark_cells(self, space: str, dataset: str, role: str, archs: Iterable[str]) -> int:
        """Record that `archs` of (space, dataset) play `role` (e.g. 'uniform', 'top'); idempotent."""
        created = _now()
        values = [(space, dataset, role, arch, created) for arch in archs]
        with self.transaction() as conn:
            before = conn.total_changes
            conn.executemany("INSERT OR IGNORE INTO cells VALUES (?, ?, ?, ?, ?)", values)
            return conn.total_changes - before

    def cells(self, space: str, dataset: str, role: str) -> set[str]:
        """The archs of (space, dataset) marked with `role`."""
        rows = self._query(
            "SELECT arch FROM cells WHERE space = ? AND dataset = ? AND role = ?", (space, dataset, role)
        )
        return {arch for (arch,) in rows}

    def roles(self, space: str, dataset: str) -> list[str]:
        """The cell roles recorded for (space, dataset)."""
        rows = self._query(
            "SELECT DISTINCT role FROM cells WHERE space = ? AND dataset = ? ORDER BY role", (space, dataset)
        )
        return [role for (role,) in rows]

    # --- search traces ------------------------------------------------------------------------
    def add_trace(self, run: str, step: int, arch: str, payload: dict) -> None:
        """Record candidate `step` of search `run` (idempotent on (run, step): the first write wins)."""
        clash = set(payload) & set(_TRACE_KEYS)
        if clash:
            raise InvalidInputError(f"trace payload may not use the reserved key(s) {', '.join(sorted(clash))}")
        text = json.dumps(payload, default=_json_default)
        with self.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO traces VALUES (?, ?, ?, ?, ?)", (run, int(step), arch, text, _now()))

    def trace(self, run: str) -> pd.DataFrame:
        """The candidates of `run` in step order: columns run, step, arch and every payload key."""
        rows = self._query("SELECT step, arch, payload FROM traces WHERE run = ? ORDER BY step", (run,))
        records = [{"run": run, "step": int(step), "arch": arch, **json.loads(payload)} for step, arch, payload in rows]
        frame = pd.DataFrame.from_records(records)
        return frame if records else pd.DataFrame(columns=list(_TRACE_KEYS))

    def runs(self) -> list[str]:
        """Names of the stored search runs, in the order they were first written."""
        rows = self._query("SELECT run FROM traces GROUP BY run ORDER BY MIN(rowid)")
        return [run for (run,) in rows]
