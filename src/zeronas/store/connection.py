"""The result store's SQLite file: its schema, one connection per process, checked opening, transactions.

Why a module of its own: how the file is opened and written (WAL journal so readers never wait,
`BEGIN IMMEDIATE` so writers queue, a bounded busy timeout, the checks of checks.py, one-line
errors for whatever SQLite raises) is independent of what the store holds (sqlite.py).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from zeronas.store.checks import StoreReadOnlyError, check_header, check_location, check_schema, describe_error

ENV_STORE = "ZERONAS_STORE"
#: seconds a write waits for another process's lock on the store before failing with "locked"
BUSY_TIMEOUT_S = 60.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    space TEXT NOT NULL, arch TEXT NOT NULL, dataset TEXT NOT NULL, proxy TEXT NOT NULL,
    seed INTEGER NOT NULL, settings TEXT NOT NULL,
    value REAL, status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', seconds REAL NOT NULL DEFAULT 0,
    created TEXT NOT NULL, version TEXT NOT NULL,
    UNIQUE (space, dataset, settings, arch, proxy, seed)
);
CREATE TABLE IF NOT EXISTS settings (digest TEXT PRIMARY KEY, json TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS traces (
    run TEXT NOT NULL, step INTEGER NOT NULL, arch TEXT NOT NULL, payload TEXT NOT NULL, created TEXT NOT NULL,
    PRIMARY KEY (run, step)
);
CREATE TABLE IF NOT EXISTS cells (
    space TEXT NOT NULL, dataset TEXT NOT NULL, role TEXT NOT NULL, arch TEXT NOT NULL, created TEXT NOT NULL,
    UNIQUE (space, dataset, role, arch)
);
"""


def default_store_path() -> Path:
    """$ZERONAS_STORE, else ./zeronas-results/store.sqlite."""
    env = os.environ.get(ENV_STORE)
    return Path(env).expanduser() if env else Path.cwd() / "zeronas-results" / "store.sqlite"


class StoreConnection:
    """The checked SQLite file of a result store: one connection per process, one-line errors, transactions."""

    def __init__(
        self, path: str | os.PathLike | None = None, *, read_only: bool = False, timeout: float | None = None
    ) -> None:
        self.path = Path(path).expanduser() if path is not None else default_store_path()
        self.read_only = read_only
        self.timeout = float(BUSY_TIMEOUT_S if timeout is None else timeout)
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        self._depth = 0
        self._temp: tuple[str, ...] = ()
        self._checked = False
        check_location(self.path, write=not read_only)
        if self.path.exists():
            check_header(self.path)
        try:
            with self._guard():
                conn = self._connection()
                missing = check_schema(conn, self.path, SCHEMA)
                self._checked = True  # only now may the file be changed (journal mode, tables)
                if read_only:  # absent tables read as empty: temporary ones, made for each connection
                    self._temp = tuple(missing)
                    self._create_temp(conn)
                else:
                    self._use_wal(conn)
                    if missing:
                        conn.executescript(f"BEGIN IMMEDIATE;{SCHEMA}COMMIT;")
        except BaseException:
            self.close()
            raise

    # --- connection ---------------------------------------------------------------------------
    @contextmanager
    def _guard(self) -> Iterator[None]:
        """SQLite errors inside become one-line store errors; an open transaction is rolled back."""
        try:
            yield
        except sqlite3.Error as exc:
            if self._conn is not None and self._pid == os.getpid() and self._conn.in_transaction:
                with suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
            raise describe_error(exc, self.path, self.timeout) from None

    def _create_temp(self, conn: sqlite3.Connection) -> None:
        """The schema's tables a read-only store lacks, as empty temporary tables of `conn` (queries then work)."""
        for statement in SCHEMA.split(";"):
            if any(f" EXISTS {table} (" in statement for table in self._temp):
                conn.execute(statement.replace("CREATE TABLE", "CREATE TEMP TABLE"))

    @staticmethod
    def _use_wal(conn: sqlite3.Connection) -> None:
        """WAL journal (readers never wait for the writer), switched on once per file; fewer fsyncs."""
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")

    def _connection(self) -> sqlite3.Connection:
        """One connection per process (a forked child opens its own)."""
        if self._conn is None or self._pid != os.getpid():
            self._conn, self._depth = None, 0
            with self._guard():
                if self.read_only:
                    uri = f"{self.path.resolve().as_uri()}?mode=ro"
                    conn = sqlite3.connect(uri, uri=True, timeout=self.timeout, isolation_level=None)
                else:
                    conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
                try:
                    if self._checked and not self.read_only:
                        self._use_wal(conn)
                    self._create_temp(conn)
                except BaseException:
                    conn.close()
                    raise
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def _query(self, sql: str, params: Iterable = ()) -> list[tuple]:
        """All rows of one read query."""
        with self._guard():
            return self._connection().execute(sql, tuple(params)).fetchall()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: everything written inside is stored, or (on any error) none of it.

        The write lock is taken up front (`BEGIN IMMEDIATE`) so concurrent writers queue; calls
        inside an open transaction join it.
        """
        if self.read_only:
            raise StoreReadOnlyError(f"result store {self.path} was opened read-only")
        conn = self._connection()
        if self._depth:
            self._depth += 1
            try:
                yield conn
            finally:
                self._depth -= 1
            return
        with self._guard():
            conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0

    def close(self) -> None:
        """Close this process's connection (reopened on next use)."""
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    def __enter__(self) -> StoreConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getstate__(self) -> dict:
        return {"path": self.path, "read_only": self.read_only, "timeout": self.timeout, "temp": self._temp}

    def __setstate__(self, state: dict) -> None:
        self.path, self._conn, self._pid, self._depth, self._checked = state["path"], None, -1, 0, True
        self.read_only = state.get("read_only", False)
        self.timeout = state.get("timeout", BUSY_TIMEOUT_S)
        self._temp = state.get("temp", ())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"
