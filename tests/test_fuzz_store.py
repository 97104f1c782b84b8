"""Bad input to the result store, `zeronas store import/export` and `report`: each ends in one clean line.

Classes: a store path that is not a usable store (Python API and every command with --store), an
import file that is not a valid export (nothing stored, nothing lost: one transaction), names that
would write outside the output folder, read-only and locked stores.
"""

from __future__ import annotations

import gzip
import io
import os
import random
import sqlite3
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from zeronas.errors import DataNotFoundError, InvalidInputError, ZeronasError
from zeronas.store import ResultRow, ResultStore, checks, connection, exportfile
from zeronas.store.checks import StoreLockedError, StoreReadOnlyError
from zeronas.store.transfer import export_rows, import_rows

HEADER = "space,arch,dataset,proxy,seed,settings,value,status,reason,seconds,settings_json,roles"
GOOD = 'nb201,|new{i}~0|,cifar10,synflow,0,s1,{i}.5,ok,,0.1,"{{""batch_size"": 64}}",uniform:9:0'


def _fill(path: Path) -> ResultStore:
    store = ResultStore(path)
    store.register_settings("s1", {"batch_size": 64})
    store.register_settings("s2", {"batch_size": 32})
    store.add(
        [
            ResultRow("nb201", f"|cell{i}~0|", "cifar10", proxy, seed, "s1", i + seed / 10, "ok")
            for i in range(40)
            for proxy in ("params", "synflow")
            for seed in (0, 1)
        ]
    )
    store.mark_cells("nb201", "cifar10", "uniform:40:0", [f"|cell{i}~0|" for i in range(40)])
    return store


@pytest.fixture
def store(tmp_path: Path) -> ResultStore:
    """A store holding 160 rows, two settings and one recorded draw."""
    return _fill(tmp_path / "store.sqlite")


def _state(store: ResultStore) -> tuple[pd.DataFrame, dict, set[str]]:
    return store.frame(), store.all_settings(), store.cells("nb201", "cifar10", "uniform:40:0")


def _assert_unchanged(store: ResultStore, before: tuple[pd.DataFrame, dict, set[str]]) -> None:
    after = _state(store)
    pd.testing.assert_frame_equal(after[0], before[0])
    assert after[1:] == before[1:]
    assert store.roles("nb201", "cifar10") == ["uniform:40:0"], "no role of a failed import may stay"


def _one_line(exc: BaseException, *fragments: str) -> None:
    text = str(exc)
    assert "\n" not in text and text.strip() == text
    for fragment in fragments:
        assert fragment.lower() in text.lower(), f"{fragment!r} not in {text!r}"


# --- 1. a store path that is not a usable store ---------------------------------------------------
def _real_store_bytes(tmp_path: Path) -> bytes:
    source = _fill(tmp_path / "real.sqlite")
    source.close()  # the last connection checkpoints the WAL into the file
    return (tmp_path / "real.sqlite").read_bytes()


def _foreign(path: Path, sql: str) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(sql)
    conn.close()


BAD_STORES: dict[str, tuple[Callable[[Path, Path], None], str]] = {
    "text": (lambda p, t: p.write_text("space,arch\nnb201,|x~0|\n"), "not a SQLite database: it holds a text file"),
    "random-bytes": (lambda p, t: p.write_bytes(random.Random(0).randbytes(4096)), "not a SQLite database"),
    "gzip-export": (lambda p, t: p.write_bytes(gzip.compress(b"space,arch\n")), "store import"),
    "header-cut": (lambda p, t: p.write_bytes(_real_store_bytes(t)[:60]), "truncated"),
    "truncated": (lambda p, t: p.write_bytes((lambda b: b[: len(b) // 2])(_real_store_bytes(t))), "truncated"),
    "directory": (lambda p, t: p.mkdir(), "is a directory"),
    "foreign-db": (lambda p, t: _foreign(p, "CREATE TABLE users (name TEXT);"), "not a zeronas result store"),
    "missing-columns": (
        lambda p, t: _foreign(p, "CREATE TABLE results (space, arch);"),
        "table results lacks column(s) created, dataset",
    ),
}


def _bad_store(kind: str, tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / f"{kind}.sqlite"
    make, fragment = BAD_STORES[kind]
    make(path, tmp_path)
    return path, fragment


def _fingerprint(path: Path) -> object:
    return sorted(os.listdir(path)) if path.is_dir() else path.read_bytes()


@pytest.mark.parametrize("read_only", [False, True], ids=["write", "read-only"])
@pytest.mark.parametrize("kind", sorted(BAD_STORES))
def test_bad_store_file_fails_when_opened(kind: str, read_only: bool, tmp_path: Path) -> None:
    path, fragment = _bad_store(kind, tmp_path)
    before = _fingerprint(path)
    with pytest.raises(InvalidInputError) as info:
        ResultStore(path, read_only=read_only)
    _one_line(info.value, str(path), fragment)
    assert _fingerprint(path) == before, "a file that is not a store is never written"


def test_missing_store_read_only_and_unusable_folder(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError) as info:
        ResultStore(tmp_path / "none.sqlite", read_only=True)
    _one_line(info.value, str(tmp_path / "none.sqlite"), "not found")
    assert not (tmp_path / "none.sqlite").exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidInputError) as info:
        ResultStore(tmp_path / "file" / "s.sqlite")
    _one_line(info.value, "cannot create result store", str(tmp_path / "file" / "s.sqlite"))


STORE_COMMANDS = {
    "store info": lambda s, t: ("store", "info", "--store", s),
    "store export": lambda s, t: ("store", "export", str(t / "x.csv"), "--store", s),
    "store import": lambda s, t: ("store", "import", str(_export(t)), "--store", s),
    "report": lambda s, t: ("report", "--store", s, "--out", str(t / "out")),
}
DATA_COMMANDS = {
    "evaluate": ("evaluate", "--proxies", "params", "--seeds", "0", "--sample", "2", "--workers", "1"),
    "search": ("search", "--space", "nb201", "--proxies", "params", "-n", "3"),
    "pareto": ("pareto", "--space", "nb201", "--proxies", "params", "--sample", "4"),
    "hardware measure": ("hardware", "measure", "--space", "nb201", "--sample", "1", "--repeats", "1"),
}


def _export(tmp_path: Path) -> Path:
    target = tmp_path / "export.csv"
    if not target.exists():
        export_rows(_fill(tmp_path / "export-source.sqlite"), target)
    return target


@pytest.mark.parametrize("kind", ["text", "truncated", "directory", "foreign-db", "missing-columns"])
@pytest.mark.parametrize("command", sorted(STORE_COMMANDS))
def test_store_commands_on_a_bad_store(cli, command: str, kind: str, tmp_path: Path) -> None:
    path, fragment = _bad_store(kind, tmp_path)
    before = _fingerprint(path)
    cli(*STORE_COMMANDS[command](str(path), tmp_path)).assert_clean_error(str(path), fragment)
    assert _fingerprint(path) == before
    assert not (tmp_path / "out").exists() and not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("kind", ["random-bytes", "foreign-db"])
@pytest.mark.parametrize("command", sorted(DATA_COMMANDS))
def test_scoring_commands_on_a_bad_store(cli, shared_dir, command: str, kind: str, tmp_path: Path) -> None:
    path, fragment = _bad_store(kind, tmp_path)
    before = _fingerprint(path)
    args = (*DATA_COMMANDS[command], "--store", str(path))
    out = () if command == "hardware measure" else ("--out", str(tmp_path / "out"))
    cli(*args, *out, "--data-dir", str(shared_dir)).assert_clean_error(str(path), fragment)
    assert _fingerprint(path) == before


# --- 2. importing garbage: a clean error, and the store exactly as before -------------------------
def _csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def _good(*numbers: int) -> list[str]:
    return [GOOD.format(i=i) for i in numbers]


def _zip(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("rows.csv", data)
    return buffer.getvalue()


def _flip(data: bytes) -> bytes:
    middle = bytearray(data)
    for i in range(len(middle) // 3, len(middle) // 3 + 8):
        middle[i] ^= 0xFF
    return bytes(middle)


def _rows_csv(count: int) -> bytes:
    return _csv(*_good(*range(count)))


GARBAGE: dict[str, tuple[str, bytes, str]] = {
    "random-bytes": ("x.csv", random.Random(1).randbytes(3000), "not UTF-8"),
    "empty": ("x.csv", b"", "is empty"),
    "blank-line": ("x.csv", b"\n\n", "no CSV header"),
    "wrong-columns": ("x.csv", b"a,b\n1,2\n", "missing column(s) space"),
    "missing-settings-json": ("x.csv", _csv("nb201,a,cifar10,p,0,s1,1,ok,,0", header=HEADER[:-20]), "settings_json"),
    "text-in-value": ("x.csv", _csv(*_good(1, 2), GOOD.format(i=3).replace("3.5", "abc")), "row 3: column value"),
    "text-in-seed": ("x.csv", _csv(*_good(1), GOOD.format(i=2).replace(",0,s1", ",zero,s1")), "row 2: column seed"),
    "fractional-seed": ("x.csv", _csv(GOOD.format(i=1).replace(",0,s1", ",1.5,s1")), "whole number"),
    "huge-seed": ("x.csv", _csv(GOOD.format(i=1).replace(",0,s1", ",1e30,s1")), "whole number"),
    "empty-seconds": ("x.csv", _csv(GOOD.format(i=1).replace(",0.1,", ",,")), "column seconds"),
    "empty-arch": ("x.csv", _csv(*_good(1), GOOD.format(i=2).replace("|new2~0|", "")), "row 2: column arch is empty"),
    "slash-in-settings": ("x.csv", _csv(GOOD.format(i=1).replace(",s1,", ",../../x,")), "column settings"),
    "dotdot-space": ("x.csv", _csv(GOOD.format(i=1).replace("nb201,", "..,", 1)), "column space"),
    "newline-in-proxy": ("x.csv", _csv(GOOD.format(i=1).replace("synflow", '"syn\nflow"')), "column proxy"),
    "settings-not-json": ("x.csv", _csv(GOOD.format(i=1).replace('"{""batch_size"": 64}"', "{oops")), "JSON object"),
    "settings-json-list": ("x.csv", _csv(GOOD.format(i=1).replace('"{""batch_size"": 64}"', '"[1]"')), "JSON object"),
    "settings-disagree": ("x.csv", _csv(*_good(1), GOOD.format(i=2).replace("64", "65")), "differs between rows"),
    "settings-clash-store": ("x.csv", _csv(GOOD.format(i=1).replace("64", "16")), "already registered"),
    "too-many-fields": ("x.csv", _csv(*_good(1), GOOD.format(i=2) + ",extra,more"), "cannot read"),
    "latin-1": ("x.csv", _csv(*_good(1)).replace(b"|new1~0|", "caf\xe9".encode("latin-1")), "not UTF-8"),
    "truncated-gzip": ("x.csv.gz", gzip.compress(_rows_csv(60))[:-40], "truncated"),
    "damaged-gzip": ("x.csv.gz", _flip(gzip.compress(_rows_csv(60))), "damaged"),
    "zip-archive": ("x.csv.zip", _zip(_rows_csv(3)), "zip archive"),
    "gzip-bomb": ("x.csv.gz", gzip.compress(_rows_csv(2) + b"\n" * 200_000), "more than 10,000 bytes"),
    "one-endless-line": ("x.csv.gz", gzip.compress(_rows_csv(2) + b"\x00" * 5000), "line longer than 1,000 bytes"),
}


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Import limits of 10,000 bytes (1,000 a line), 2-row chunks: bombs trip fast, a bad row follows stored chunks."""
    monkeypatch.setattr(exportfile, "MAX_IMPORT_BYTES", 10_000)
    monkeypatch.setattr(exportfile, "MAX_LINE_BYTES", 1_000)
    monkeypatch.setattr(exportfile, "IMPORT_CHUNK_ROWS", 2)


@pytest.mark.parametrize("case", sorted(GARBAGE))
def test_import_of_garbage_stores_nothing(case: str, store: ResultStore, small_limits: None, tmp_path: Path) -> None:
    name, data, fragment = GARBAGE[case]
    source = tmp_path / name
    source.write_bytes(data)
    before = _state(store)
    with pytest.raises(InvalidInputError) as info:
        import_rows(store, source)
    _one_line(info.value, str(source), fragment)
    _assert_unchanged(store, before)


@pytest.mark.parametrize(
    ("make", "error", "fragment"),
    [
        (lambda p: None, DataNotFoundError, "no export file"),
        (lambda p: p.mkdir(), InvalidInputError, "is a directory"),
        (lambda p: _fill(p).close(), InvalidInputError, "is a SQLite database, not an export"),
    ],
    ids=["missing", "directory", "a-store"],
)
def test_import_of_what_is_no_file_or_a_store(make, error, fragment: str, store: ResultStore, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    make(source)
    before = _state(store)
    with pytest.raises(error) as info:
        import_rows(store, source)
    _one_line(info.value, str(source), fragment)
    _assert_unchanged(store, before)


def test_a_bad_row_after_stored_chunks_rolls_everything_back(store: ResultStore, small_limits, tmp_path) -> None:
    source = tmp_path / "late.csv"
    source.write_bytes(_csv(*_good(1, 2, 3, 4), GOOD.format(i=5).replace(",0,s1", ",x,s1")))
    before = _state(store)
    with pytest.raises(InvalidInputError, match="row 5: column seed"):
        import_rows(store, source)
    _assert_unchanged(store, before)
    source.write_bytes(_csv(*_good(1, 2, 3, 4, 5)))  # the same file, fixed: every chunk goes in
    assert import_rows(store, source) == (5, 5)
    assert store.cells("nb201", "cifar10", "uniform:9:0") == {f"|new{i}~0|" for i in range(1, 6)}


def test_duplicate_rows_import_once_and_reimport_adds_nothing(store: ResultStore, tmp_path: Path) -> None:
    source = tmp_path / "dup.csv.gz"
    source.write_bytes(gzip.compress(_csv(*_good(1, 1, 2), GOOD.format(i=1).replace("1.5", "99"))))
    assert import_rows(store, source) == (4, 2)
    assert import_rows(store, source) == (4, 0)
    values = store.frame(proxies="synflow", seeds=0).set_index("arch")["value"]
    assert values["|new1~0|"] == 1.5 and values["|new2~0|"] == 2.5  # the first of duplicate keys wins
    assert len(store.frame()) == 162
    header_only = tmp_path / "none.csv"
    header_only.write_bytes(_csv())
    assert import_rows(store, header_only) == (0, 0)


@pytest.mark.parametrize("case", ["random-bytes", "empty", "wrong-columns", "text-in-value", "truncated-gzip"])
def test_cli_import_of_garbage(cli, case: str, store: ResultStore, small_limits, tmp_path: Path) -> None:
    name, data, fragment = GARBAGE[case]
    (tmp_path / name).write_bytes(data)
    before = _state(store)
    cli("store", "import", str(tmp_path / name), "--store", str(store.path)).assert_clean_error(fragment)
    _assert_unchanged(store, before)


def test_cli_import_bomb_and_missing_file(cli, store: ResultStore, small_limits, tmp_path: Path) -> None:
    name, data, _ = GARBAGE["gzip-bomb"]
    (tmp_path / name).write_bytes(data)
    before = _state(store)
    cli("store", "import", str(tmp_path / name), "--store", str(store.path)).assert_clean_error("MAX_IMPORT_BYTES")
    cli("store", "import", str(tmp_path / "no.csv"), "--store", str(store.path)).assert_clean_error("no export file")
    _assert_unchanged(store, before)


# --- 3. names that would write outside the output folder ------------------------------------------
def test_export_never_overwrites_a_store(cli, store: ResultStore, tmp_path: Path) -> None:
    before = _state(store)
    cli("store", "export", str(store.path), "--store", str(store.path)).assert_clean_error("result store itself")
    other = _fill(tmp_path / "other.sqlite")
    other.close()
    data = other.path.read_bytes()
    with pytest.raises(InvalidInputError, match="is a SQLite database"):
        export_rows(store, other.path)
    assert other.path.read_bytes() == data
    (tmp_path / "folder").mkdir()
    cli("store", "export", str(tmp_path / "folder"), "--store", str(store.path)).assert_clean_error("directory")
    _assert_unchanged(store, before)
    assert not [p for p in tmp_path.rglob("*.part.*")], "no partial export is left behind"


@pytest.mark.parametrize("field", ["space", "dataset", "proxy", "settings"])
@pytest.mark.parametrize("name", ["../../escape", "a/b", "..", "a\\b", "tab\there"])
def test_rows_with_path_names_are_refused(field: str, name: str, store: ResultStore) -> None:
    row = ResultRow("nb201", "|x~0|", "cifar10", "p", 0, "s1", 1.0, "ok")
    with pytest.raises(InvalidInputError) as info:
        store.add([ResultRow(**{**row.__dict__, field: name})])
    _one_line(info.value, field)
    assert len(store.frame()) == 160


def test_report_refuses_stored_names_that_leave_the_output_folder(cli, tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    ResultStore(path).close()
    conn = sqlite3.connect(path)  # written behind the store's back: its own checks refuse such a name
    values = ("nb201", "|x~0|", "cifar10", "p", 0, "../../../pwn", 1.0, "ok", "", 0.0, "c", "v")
    conn.execute(f"INSERT INTO results VALUES ({', '.join('?' * len(values))})", values)
    conn.commit()
    conn.close()
    cli("report", "--store", str(path), "--out", str(tmp_path / "a" / "b" / "out")).assert_clean_error(
        "settings name '../../../pwn'", "path separator"
    )
    assert not (tmp_path / "a").exists() and all(p.name.startswith("s.sqlite") for p in tmp_path.iterdir())


def test_search_run_id_with_a_path_is_refused(cli, tmp_path: Path) -> None:
    cli("search", "--run", "../escape", "--out", str(tmp_path / "out")).assert_clean_error("--run")
    assert not (tmp_path / "escape").exists()


# --- read-only and locked stores -------------------------------------------------------------------
def test_read_only_store_reads_but_refuses_writes(store: ResultStore) -> None:
    before = _state(store)
    read_only = ResultStore(store.path, read_only=True)
    assert len(read_only.frame()) == 160 and read_only.all_settings() == before[1]
    for write in (
        lambda s: s.add([ResultRow("nb201", "|y~0|", "cifar10", "p", 0, "s1", 1.0, "ok")]),
        lambda s: s.register_settings("s9", {}),
        lambda s: s.mark_cells("nb201", "cifar10", "top:5", ["|y~0|"]),
        lambda s: s.add_trace("run", 0, "|y~0|", {}),
    ):
        with pytest.raises(StoreReadOnlyError) as info:
            write(read_only)
        _one_line(info.value, str(store.path), "read-only")
    _assert_unchanged(store, before)


def test_sqlite_read_only_refusal_is_one_line(store: ResultStore) -> None:
    """What SQLite says for a read-only file or file system (EROFS, chmod), seen through a mode=ro connection."""
    before = _state(store)
    store.close()
    store._conn = sqlite3.connect(f"{store.path.as_uri()}?mode=ro", uri=True, isolation_level=None)
    store._pid = os.getpid()
    with pytest.raises(StoreReadOnlyError) as info:
        store.add([ResultRow("nb201", "|y~0|", "cifar10", "p", 0, "s1", 1.0, "ok")])
    _one_line(info.value, str(store.path), "read-only", "readonly database")
    store.close()
    _assert_unchanged(store, before)


def test_read_only_location_cli(cli, store: ResultStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """As root, chmod does not stop writes: the permission check itself is made to say no."""
    before, export = _state(store), _export(tmp_path)
    store.close()  # no journal left: SQLite would need to create one in the folder
    monkeypatch.setattr(checks, "_writable", lambda path: path != store.path)
    cli("store", "import", str(export), "--store", str(store.path)).assert_clean_error(str(store.path), "read-only")
    monkeypatch.setattr(checks, "_writable", lambda path: path != store.path.parent)
    cli("store", "import", str(export), "--store", str(store.path)).assert_clean_error("read-only folder")
    assert cli("store", "info", "--store", str(store.path)).code == 0  # reading needs no write permission
    _assert_unchanged(store, before)


def test_chmod_read_only_file_in_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    _fill(folder / "s.sqlite").close()
    os.chmod(folder / "s.sqlite", 0o444)
    os.chmod(folder, 0o555)
    try:
        if os.access(folder / "s.sqlite", os.W_OK):
            pytest.skip("this user (root) writes read-only files anyway; test_read_only_location_cli covers it")
        with pytest.raises(StoreReadOnlyError) as info:
            ResultStore(folder / "s.sqlite")
        _one_line(info.value, "read-only")
        assert len(ResultStore(folder / "s.sqlite", read_only=True).frame()) == 160
    finally:
        os.chmod(folder, 0o755)


def test_store_locked_by_another_connection(cli, store: ResultStore, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(connection, "BUSY_TIMEOUT_S", 0.2)
    before = _state(store)
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        cli("store", "import", str(_export(tmp_path)), "--store", str(store.path)).assert_clean_error(
            str(store.path), "locked by another process", "0.2 s"
        )
        with pytest.raises(StoreLockedError):
            ResultStore(store.path).register_settings("s9", {})
        assert len(ResultStore(store.path, read_only=True).frame()) == 160  # readers do not wait (WAL)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    _assert_unchanged(store, before)

    assert issubclass(StoreLockedError, ZeronasError) and issubclass(StoreReadOnlyError, ZeronasError)


def test_import_or_export_onto_an_open_store_never_touches_it(store: ResultStore, tmp_path: Path) -> None:
    """An open store is never read or written outside SQLite (that would drop this process's locks on it)."""
    before = _state(store)
    with pytest.raises(InvalidInputError) as info:
        import_rows(store, store.path)
    _one_line(info.value, str(store.path), "in use")
    other = _fill(tmp_path / "other.sqlite")
    with pytest.raises(InvalidInputError) as info:
        export_rows(store, other.path)
    _one_line(info.value, str(other.path), "in use")
    assert len(other.frame()) == 160
    _assert_unchanged(store, before)
