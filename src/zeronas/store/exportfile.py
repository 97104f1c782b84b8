"""Reading an export file safely: a bounded, decompressed byte stream, and checked rows from its CSV chunks.

Why: `zeronas store import` takes files from elsewhere. A small .csv.gz can expand to terabytes (a
decompression bomb), a gzip can be cut short, and a CSV can hold text where numbers belong. The
stream stops with a one-line error after MAX_IMPORT_BYTES of text, so memory and time stay
bounded, and each chunk of rows is checked (row number, column, what is wrong) before any is stored.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import math
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from zeronas.errors import InvalidInputError
from zeronas.store.checks import describe_bytes, unsafe_name
from zeronas.store.sqlite import NAME_FIELDS, ResultRow

#: decompressed CSV text one import reads at most (2 GiB, several million rows); more is refused
MAX_IMPORT_BYTES = 2 * 1024**3
#: the longest line an import accepts (an export's lines are a few hundred bytes): bounds one row's memory
MAX_LINE_BYTES = 64 * 1024
#: rows parsed, checked and inserted at a time (memory stays bounded whatever the file's size)
IMPORT_CHUNK_ROWS = 10_000
#: compressed formats read as a stream, by magic bytes (the extension may lie)
_OPENERS = ((b"\x1f\x8b", gzip.open), (b"BZh", bz2.open), (b"\xfd7zXZ\x00", lzma.open))
_TEXT_COLUMNS = ("space", "arch", "dataset", "proxy", "settings", "status")
_SQLITE_INT = 2**63 - 1


def _size(count: int) -> str:
    """Bytes for messages: '2 GiB' for whole GiB, else a comma-grouped count."""
    return f"{count // 1024**3} GiB" if count >= 1024**3 and count % 1024**3 == 0 else f"{count:,} bytes"


class _Bounded(io.RawIOBase):
    """A readable stream that fails once more than `limit` bytes, or a line longer than `line_limit`, came through."""

    def __init__(self, raw: io.BufferedIOBase, source: Path, limit: int, line_limit: int) -> None:
        super().__init__()
        self._raw, self._source, self._limit, self._line_limit = raw, source, limit, line_limit
        self.count = self._line = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:
        count = self._raw.readinto(buffer)
        self.count += count
        if self.count > self._limit:
            raise InvalidInputError(
                f"{self._source} holds more than {_size(self._limit)} of CSV text (MAX_IMPORT_BYTES); "
                "import stopped, nothing stored: split it with `zeronas store export --space/--dataset/--proxies`"
            )
        end = bytes(buffer[:count]).rfind(b"\n")
        self._line = self._line + count if end < 0 else count - end - 1
        if self._line > self._line_limit:
            raise InvalidInputError(
                f"{self._source} has a line longer than {_size(self._line_limit)} (MAX_LINE_BYTES): not an export"
            )
        return count


@contextmanager
def open_export(source: Path) -> Iterator[io.BufferedReader]:
    """The export's CSV bytes (gzip, bzip2 or xz decompressed as read), bounded by MAX_IMPORT/LINE_BYTES."""
    with source.open("rb") as handle:
        head = handle.read(8)
    opener = next((open_ for magic, open_ in _OPENERS if head.startswith(magic)), None)
    if opener is None and describe_bytes(head) in ("a zip archive", "zstd data"):
        raise InvalidInputError(f"{source} is {describe_bytes(head)}; import reads .csv, .csv.gz, .csv.bz2 or .csv.xz")
    raw = opener(source, "rb") if opener is not None else source.open("rb")
    try:
        yield io.BufferedReader(_Bounded(raw, source, MAX_IMPORT_BYTES, MAX_LINE_BYTES))
    finally:
        raw.close()


def read_failure(exc: BaseException, source: Path) -> InvalidInputError | None:
    """The one-line error for what reading or decompressing `source` raised; None for anything else (a bug)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, EOFError):
        return InvalidInputError(f"{source} is truncated: the compressed data ends early ({first})")
    if isinstance(exc, (zlib.error, lzma.LZMAError, gzip.BadGzipFile)):
        return InvalidInputError(f"{source} is damaged compressed data ({first})")
    if isinstance(exc, UnicodeDecodeError):
        return InvalidInputError(f"{source} is not UTF-8 text ({describe_bytes(exc.object[:64])}): not an export")
    if isinstance(exc, pd.errors.EmptyDataError):
        return InvalidInputError(f"{source} holds no CSV header: not a zeronas export")
    if isinstance(exc, (ValueError, OSError)):
        return InvalidInputError(f"cannot read {source} as a zeronas export: {first}")
    return None


def _fail(source: Path, chunk: pd.DataFrame, mask: pd.Series, column: str, what: str) -> None:
    """Raise for the first row where `mask` holds: its number (1 = first data row), column and text."""
    index = mask[mask].index[0]
    text = str(chunk.at[index, column])
    shown = f", got {text if len(text) <= 40 else text[:40] + '...'!r}" if text else ""
    raise InvalidInputError(f"{source} row {index + 1:,}: column {column} {what}{shown}")


def _numbers(source: Path, chunk: pd.DataFrame, column: str, empty_ok: bool) -> pd.Series:
    """`column` as floats; text that is not a number (or empty, unless `empty_ok`) is an error."""
    values = pd.to_numeric(chunk[column].str.strip().replace("", "nan"), errors="coerce")
    bad = values.isna() & ~chunk[column].str.strip().str.lower().isin(["nan", ""] if empty_ok else [])
    if bad.any():
        _fail(source, chunk, bad, column, "must be a number" + (" or empty" if empty_ok else ""))
    return values.astype("float64")


def parse_chunk(chunk: pd.DataFrame, source: Path, known: dict[str, str]) -> tuple[list[ResultRow], dict[str, str]]:
    """The checked rows of one chunk (all columns text), and the settings digests it introduces -> JSON.

    `known`: digests (-> settings JSON) of earlier chunks; a digest must carry the same settings throughout.
    """
    for column in _TEXT_COLUMNS:
        empty = chunk[column] == ""
        if empty.any():
            _fail(source, chunk, empty, column, "is empty")
    for column in NAME_FIELDS:
        unsafe = chunk[column].map(unsafe_name)
        if unsafe.any():
            _fail(source, chunk, unsafe, column, "must be a plain name (no path separator, control character or '..')")
    value = _numbers(source, chunk, "value", empty_ok=True)
    seconds = _numbers(source, chunk, "seconds", empty_ok=False)
    seed = _numbers(source, chunk, "seed", empty_ok=False)
    bad_seed = (seed != seed.round()) | (seed.abs() > _SQLITE_INT) | seed.isin([math.inf, -math.inf])
    if bad_seed.any():
        _fail(source, chunk, bad_seed, "seed", "must be a whole number")
    new: dict[str, str] = {}
    for digest, texts in chunk.groupby("settings", sort=False)["settings_json"]:
        distinct = texts.unique()
        text = known.get(digest, distinct[0])
        if len(distinct) > 1 or distinct[0] != text:
            _fail(
                source,
                chunk,
                (chunk["settings"] == digest) & (chunk["settings_json"] != text),
                "settings_json",
                f"differs between rows of settings {digest}",
            )
        if digest not in known:
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                _fail(source, chunk, chunk["settings"] == digest, "settings_json", "must be a JSON object")
            new[digest] = text
    rows = [
        ResultRow(space, arch, dataset, proxy, int(s), settings, float(v), status, reason, float(sec))
        for space, arch, dataset, proxy, s, settings, v, status, reason, sec in zip(
            chunk["space"],
            chunk["arch"],
            chunk["dataset"],
            chunk["proxy"],
            seed,
            chunk["settings"],
            value,
            chunk["status"],
            chunk["reason"],
            seconds,
            strict=True,
        )
    ]
    return rows, new
