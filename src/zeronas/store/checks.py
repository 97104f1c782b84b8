"""Checks made when a result store is opened, and one-line messages for what SQLite reports later.

Why: `--store` can name anything (a CSV export, a folder, a truncated copy, another program's
database, a file another process holds locked, a read-only file). Opening checks the cheap things
up front -- where the file is, its 100-byte SQLite header, the schema -- so each case fails at once
with one line naming the file, never deep inside a query with SQLite's terse text or a traceback.
"""

from __future__ import annotations

import os
import sqlite3
from functools import cache
from pathlib import Path

from zeronas.errors import DataNotFoundError, InvalidInputError, ZeronasError

SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_SIZE = 100
#: SQLite's primary result codes this module words itself (the rest keep SQLite's text)
_BUSY, _LOCKED, _READONLY, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 5, 6, 8, 11, 13, 14, 26
#: magic numbers of files a user may hand over by mistake, and what they are
_KNOWN_FORMATS = (
    (b"\x1f\x8b", "gzip data (an export? add it with `zeronas store import`)"),
    (b"BZh", "bzip2 data"),
    (b"\xfd7zXZ\x00", "xz data"),
    (b"PK\x03\x04", "a zip archive"),
    (b"\x28\xb5\x2f\xfd", "zstd data"),
)


class StoreLockedError(InvalidInputError):
    """Another process held the store's lock for longer than the busy timeout."""


class StoreReadOnlyError(InvalidInputError):
    """The store cannot be written: a read-only file, folder or file system, or opened read-only."""


def describe_bytes(head: bytes) -> str:
    """What the first bytes of a file look like, for messages: 'a text file', 'gzip data', ..."""
    for magic, kind in _KNOWN_FORMATS:
        if head.startswith(magic):
            return kind
    if head.startswith(SQLITE_MAGIC):
        return "a SQLite database"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "binary data"
    return "a text file" if all(c.isprintable() or c.isspace() for c in text) else "binary data"


def _writable(path: Path) -> bool:
    """Whether this process may write `path` (a file, or a folder to create files in)."""
    return os.access(path, os.W_OK | (os.X_OK if path.is_dir() else 0))


def in_use(path: Path) -> bool:
    """A journal next to the file: a SQLite connection (maybe of this process) has it open, or crashed writing it.

    Then the file is never opened outside SQLite: POSIX locks belong to the process, and closing any
    descriptor of the file drops the locks this process's SQLite connections hold on it (a classic
    way to corrupt a database). `Path.exists` only stats, so asking is safe.
    """
    return any(Path(f"{path}{suffix}").exists() for suffix in ("-wal", "-shm", "-journal"))


def check_location(path: Path, write: bool) -> None:
    """The store path is a regular file (or, to write, may become one) that this process may use."""
    if path.is_dir():
        raise InvalidInputError(f"result store {path} is a directory, not a SQLite file")
    if not path.exists():
        if not write:
            raise DataNotFoundError(f"result store {path} not found; fill it with `zeronas evaluate --store {path}`")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidInputError(f"cannot create result store {path}: {exc.strerror or exc}") from None
        if not _writable(path.parent):
            raise StoreReadOnlyError(f"cannot create result store {path}: its folder {path.parent} is read-only")
        return
    if not path.is_file():
        raise InvalidInputError(f"result store {path} is not a regular file")
    if not write:
        return
    if not _writable(path):
        raise StoreReadOnlyError(f"result store {path} is read-only (no write permission on the file)")
    if not in_use(path) and not _writable(path.parent):
        raise StoreReadOnlyError(
            f"result store {path} is in a read-only folder ({path.parent}): SQLite writes its journal next to it"
        )


def check_header(path: Path) -> None:
    """The file starts with the SQLite header and is as long as the header says (not truncated).

    Checked only while no connection has the file open (`in_use`): an open store is SQLite's to
    read, and its size may lag the header while a checkpoint writes it. An empty file is an empty
    database (SQLite fills it).
    """
    if in_use(path):
        return
    size = path.stat().st_size
    if size == 0:
        return
    with path.open("rb") as handle:
        head = handle.read(HEADER_SIZE)
    if head[: len(SQLITE_MAGIC)] != SQLITE_MAGIC[: len(head)]:
        raise InvalidInputError(f"result store {path} is not a SQLite database: it holds {describe_bytes(head)}")
    if len(head) < HEADER_SIZE:
        raise InvalidInputError(
            f"result store {path} is truncated: {size} bytes, shorter than the {HEADER_SIZE}-byte SQLite header"
        )
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    counted = head[24:28] == head[92:96]  # the page count is valid only when these two counters agree
    if counted and pages and size < pages * page_size:
        raise InvalidInputError(
            f"result store {path} is truncated: its header counts {pages:,} pages of {page_size:,} bytes "
            f"({pages * page_size:,} bytes) but the file holds {size:,}; restore it from a copy or an export"
        )


@cache
def expected_columns(schema: str) -> dict[str, frozenset[str]]:
    """Table -> column names of `schema` (SQL), read back from a scratch in-memory database."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(schema)
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: frozenset(row[1] for row in conn.execute(f"PRAGMA table_info({t})")) for t in tables}
    finally:
        conn.close()


def check_schema(conn: sqlite3.Connection, path: Path, schema: str) -> list[str]:
    """The store's tables of `schema` that are missing (to create); an error when it is another database.

    A database with none of the tables but others of its own is not a result store; a table of the
    schema that lacks columns means a different program (or a damaged store) wrote it.
    """
    expected = expected_columns(schema)
    found = {
        name
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
        if not name.startswith("sqlite_")
    }
    foreign = sorted(found - set(expected))
    if "results" not in found and foreign:
        raise InvalidInputError(
            f"result store {path} is a SQLite database but not a zeronas result store "
            f"(it holds table(s) {', '.join(foreign[:5])}{', ...' if len(foreign) > 5 else ''})"
        )
    for table in sorted(found & set(expected)):
        columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        missing = sorted(expected[table] - columns)
        if missing:
            raise InvalidInputError(
                f"result store {path} is not a zeronas result store: its table {table} lacks column(s) "
                f"{', '.join(missing)}"
            )
    return sorted(set(expected) - found)


def describe_error(exc: sqlite3.Error, path: Path, timeout: float) -> ZeronasError:
    """The one-line store error for what SQLite raised while using the store at `path`."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = " ".join(str(exc).split()) or type(exc).__name__
    if primary in (_BUSY, _LOCKED) or "database is locked" in text:
        return StoreLockedError(
            f"result store {path} is locked by another process (waited {timeout:g} s for it); "
            "run again once that process is done"
        )
    if primary == _READONLY or "readonly" in text:
        return StoreReadOnlyError(f"result store {path} is read-only ({text})")
    if primary in (_CORRUPT, _NOTADB):
        return InvalidInputError(f"result store {path} is damaged or not a SQLite database ({text})")
    if primary == _FULL:
        return InvalidInputError(f"result store {path}: the disk is full ({text})")
    if primary == _CANTOPEN:
        return InvalidInputError(f"cannot open result store {path} ({text}); check the file and its folder")
    return InvalidInputError(f"result store {path}: {text}")


#: characters a stored name may not hold: reports build file names from space, data set and settings names
_UNSAFE = frozenset("/\\") | frozenset(chr(c) for c in range(32)) | {"\x7f"}


def unsafe_name(value: str) -> bool:
    """Whether `value` holds a path separator or a control character (or is '.' or '..')."""
    return value in (".", "..") or any(c in _UNSAFE for c in value)
