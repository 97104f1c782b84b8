"""Several processes on one store: concurrent `zeronas evaluate` runs, `kill -9` then resume, a held lock.

Each check compares with one uninterrupted run into its own store: exactly the expected rows (cells x
proxies x seeds), none duplicated, none lost, and the same values. About 40 s in all on two cores.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from zeronas.store import ResultRow, ResultStore
from zeronas.store.checks import StoreLockedError

PROXIES = ("params", "flops", "synflow")
KEY = ["space", "arch", "dataset", "proxy", "seed", "settings"]
#: the 12-cell draw of sample seed 0 is the first 12 cells of its 40-cell draw (draws of one seed are nested)
FEW, MANY = 12, 40


def _command(sample: int, store: Path, out: Path) -> list[str]:
    args = ["evaluate", "--space", "nb201", "--dataset", "cifar10", "--proxies", ",".join(PROXIES), "--seeds", "0"]
    args += ["--sample", str(sample), "--workers", "1", "--store", str(store), "--out", str(out)]
    return [sys.executable, "-m", "zeronas", *args]


def _env(shared_dir: Path) -> dict[str, str]:
    return {**os.environ, "ZERONAS_DATA_DIR": str(shared_dir), "OMP_NUM_THREADS": "1"}


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def _rows(path: Path) -> pd.DataFrame:
    return ResultStore(path, read_only=True).frame()


def _assert_same_rows(frame: pd.DataFrame, reference: pd.DataFrame, cells: int) -> None:
    """`frame` holds every (cell, proxy) once, cells from the reference's draw, with the reference's values."""
    assert len(frame) == cells * len(PROXIES)
    assert not frame.duplicated(KEY).any()
    assert set(frame["proxy"]) == set(PROXIES) and frame["arch"].nunique() == cells
    merged = frame.merge(reference, on=KEY, suffixes=("", "_ref"), validate="one_to_one")
    assert len(merged) == len(frame), "every row must be one the uninterrupted run computed"
    assert (merged["status"] == "ok").all()
    assert (merged["value"] == merged["value_ref"]).all(), "values must equal the uninterrupted run's exactly"


@pytest.fixture(scope="module")
def reference(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """One uninterrupted run over the 40-cell draw, in a store of its own."""
    folder = tmp_path_factory.mktemp("reference")
    _run(_command(MANY, folder / "ref.sqlite", folder / "out"), _env(shared_dir))
    frame = _rows(folder / "ref.sqlite")
    assert len(frame) == MANY * len(PROXIES) and not frame.duplicated(KEY).any()
    return frame


def test_two_evaluate_processes_started_together_share_one_store(
    reference: pd.DataFrame, shared_dir: Path, tmp_path: Path
) -> None:
    store = tmp_path / "shared.sqlite"  # created by whichever process gets there first
    procs = [
        subprocess.Popen(
            _command(FEW, store, tmp_path / f"out{i}"),
            env=_env(shared_dir),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
    frame = _rows(store)
    _assert_same_rows(frame, reference, FEW)
    first_cells = reference.drop_duplicates("arch")["arch"].head(FEW)
    assert set(frame["arch"]) == set(first_cells)
    assert ResultStore(store, read_only=True).roles("nb201", "cifar10") == [f"uniform:{FEW}:0"]


def test_kill_9_mid_sweep_then_rerun_stores_exactly_the_uninterrupted_rows(
    reference: pd.DataFrame, shared_dir: Path, tmp_path: Path
) -> None:
    store, command = tmp_path / "killed.sqlite", _command(MANY, tmp_path / "killed.sqlite", tmp_path / "out")
    proc = subprocess.Popen(command, env=_env(shared_dir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if store.exists() and len(_rows(store)) >= 2 * len(PROXIES):
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    killed = _rows(store)
    assert 2 * len(PROXIES) <= len(killed) < MANY * len(PROXIES), "the sweep must be killed part-way"
    assert len(killed) % len(PROXIES) == 0, "one transaction per cell: a killed sweep leaves whole cells"
    _run(command, _env(shared_dir))
    final = _rows(store)
    _assert_same_rows(final, reference, MANY)
    kept = killed.merge(final, on=KEY, suffixes=("", "_final"))
    assert len(kept) == len(killed) and (kept["created"] == kept["created_final"]).all(), "stored rows are kept"


def test_a_store_locked_by_another_process_fails_after_the_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite"
    ResultStore(path).register_settings("s", {"a": 1})
    holder = "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
    holder += "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(30)"
    proc = subprocess.Popen([sys.executable, "-c", holder, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        store = ResultStore(path, timeout=0.5)  # opening reads only: it does not wait for the lock
        assert store.all_settings() == {"s": {"a": 1}}  # nor does reading (WAL)
        start = time.monotonic()
        with pytest.raises(StoreLockedError, match="locked by another process") as info:
            store.register_settings("t", {"b": 2})
        assert 0.4 < time.monotonic() - start < 10, "the wait is the busy timeout, bounded"
        assert str(path) in str(info.value) and "\n" not in str(info.value)
    finally:
        proc.kill()
        proc.wait()
    assert store.all_settings() == {"s": {"a": 1}}
    store.register_settings("t", {"b": 2})  # the lock is gone: the same store writes again
    assert set(store.all_settings()) == {"s", "t"}


def test_opening_a_store_never_drops_the_locks_of_its_open_connections(tmp_path: Path) -> None:
    """Opening checks the file's header; reading it by hand while this process has the store open would close a
    descriptor of the file, which drops every POSIX lock of the process on it: another process then takes the
    store for unused, deletes its WAL on exit, and this process's next write fails ('disk I/O error')."""
    path = tmp_path / "open.sqlite"
    first = ResultStore(path)
    first.add([ResultRow("nb201", "a0", "cifar10", "p", 0, "s", 1.0, "ok")])
    second = ResultStore(path)  # opened while `first` holds the file
    writer = "import sys; from zeronas.store import ResultStore, ResultRow; s = ResultStore(sys.argv[1]); "
    writer += "s.add([ResultRow('nb201', f'b{i}', 'cifar10', 'p', 0, 's', 1.0, 'ok') for i in range(500)]); s.close()"
    subprocess.run([sys.executable, "-c", writer, str(path)], check=True, timeout=120)
    assert Path(f"{path}-wal").exists(), "the other process must see this one's connections and keep the WAL"
    first.add([ResultRow("nb201", "a1", "cifar10", "p", 0, "s", 1.0, "ok")])
    assert len(second.frame()) == len(first.frame()) == 502
