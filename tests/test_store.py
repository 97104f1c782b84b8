"""The result store: idempotent writes, concurrent writer processes, filters, settings, traces."""

from __future__ import annotations

import math
import multiprocessing
import pickle
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from zeronas.errors import InvalidInputError, UnknownNameError
from zeronas.store import ResultRow, ResultStore, default_store_path
from zeronas.store.sqlite import COLUMNS


def row(arch: str = "a", proxy: str = "p", seed: int = 0, value: float = 1.0, **kw: object) -> ResultRow:
    fields = {"space": "nb201", "dataset": "cifar10", "settings": "s1", "status": "ok", **kw}
    return ResultRow(arch=arch, proxy=proxy, seed=seed, value=value, **fields)


def test_add_is_idempotent_and_keeps_the_first_value(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "s.sqlite")
    assert store.add([row("a", value=1.0), row("b", value=2.0)]) == 2
    assert store.add([row("a", value=1.0), row("b", value=99.0)]) == 0  # same keys: ignored, never duplicated
    assert store.add([row("a", value=5.0), row("c", value=3.0)]) == 1
    frame = store.frame()
    assert list(frame.columns) == list(COLUMNS)
    assert frame.set_index("arch")["value"].to_dict() == {"a": 1.0, "b": 2.0, "c": 3.0}
    assert store.add([]) == 0
    # a different seed, proxy, settings, dataset or space is a different row
    assert (
        store.add([row("a", seed=1), row("a", proxy="q"), row("a", settings="s2"), row("a", dataset="cifar100")]) == 4
    )
    assert store.add([row("a", space="other")]) == 1
    assert len(store.frame()) == 8


def test_failures_round_trip_as_nan_with_reason(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "s.sqlite")
    store.add([row("a", value=math.nan, status="error", reason="RuntimeError: boom", seconds=0.5), row("b")])
    frame = store.frame().set_index("arch")
    assert math.isnan(frame.loc["a", "value"]) and frame.loc["a", "status"] == "error"
    assert frame.loc["a", "reason"] == "RuntimeError: boom" and frame.loc["a", "seconds"] == 0.5
    assert frame.loc["b", "value"] == 1.0 and frame["version"].iloc[0]
    assert store.done("nb201", "cifar10", "s1") == {("a", "p", 0), ("b", "p", 0)}
    with pytest.raises(InvalidInputError):
        store.add([row("", value=1.0)])


def test_frame_filters(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "s.sqlite")
    rows = [
        row(arch, proxy, seed, float(i), settings=settings, dataset=dataset)
        for i, (arch, proxy, seed, settings, dataset) in enumerate(
            (a, p, s, st, d)
            for a in ("x", "y")
            for p in ("nwot", "synflow", "latency_ms:cpu-torch-b1")
            for s in (0, 1, 2)
            for st in ("s1", "s2")
            for d in ("cifar10", "cifar100")
        )
    ]
    assert store.add(rows) == 2 * 3 * 3 * 2 * 2
    assert len(store.frame(dataset="cifar100")) == 36
    assert len(store.frame(settings="s2", proxies="nwot")) == 12
    assert len(store.frame(proxies=["nwot", "synflow"], seeds=[0, 2])) == 32
    assert len(store.frame(proxies="nwot,synflow", seeds=1)) == 16
    assert set(store.frame(proxies="latency_ms:cpu-torch-b1")["proxy"]) == {"latency_ms:cpu-torch-b1"}
    assert store.frame(proxies=[]).empty and list(store.frame(space="none").columns) == list(COLUMNS)
    one = store.frame(space="nb201", dataset="cifar10", settings="s1", proxies="synflow", seeds=2)
    assert set(one["arch"]) == {"x", "y"} and len(one) == 2 and one["seed"].dtype == "int64"
    groups = store.groups().set_index(["dataset", "settings"])
    assert groups.loc[("cifar10", "s1"), "rows"] == 18 and groups.loc[("cifar10", "s1"), "cells"] == 2


def test_settings_registry(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "s.sqlite")
    settings = {"batch_size": 64, "options": {"zen": {"repeat": 4}}, "source": "cifar10_test_head.npz"}
    store.register_settings("d1", settings)
    store.register_settings("d1", dict(settings))  # idempotent
    assert store.settings("d1") == settings
    assert store.all_settings() == {"d1": settings}
    with pytest.raises(InvalidInputError, match="already registered"):
        store.register_settings("d1", {"batch_size": 32})
    with pytest.raises(UnknownNameError, match="d2"):
        store.settings("d2")


def test_traces_and_runs(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "s.sqlite")
    store.add_trace("evo-1", 1, "b", {"fitness": 2.5, "flops": 10})
    store.add_trace("evo-1", 0, "a", {"fitness": 1.5})
    store.add_trace("evo-1", 0, "z", {"fitness": 99.0})  # idempotent on (run, step): the first wins
    store.add_trace("rand-1", 0, "c", {"note": "x"})
    trace = store.trace("evo-1")
    assert list(trace["step"]) == [0, 1] and list(trace["arch"]) == ["a", "b"]
    assert list(trace["fitness"]) == [1.5, 2.5] and math.isnan(trace.loc[0, "flops"])
    assert {"run", "step", "arch", "fitness", "flops"} <= set(trace.columns)
    assert store.runs() == ["evo-1", "rand-1"]
    assert store.trace("missing").empty
    with pytest.raises(InvalidInputError, match="reserved"):
        store.add_trace("evo-1", 5, "a", {"arch": "x"})


def test_cell_roles_pickling_and_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = ResultStore(tmp_path / "s.sqlite")
    assert store.mark_cells("nb201", "cifar10", "uniform", ["a", "b"]) == 2
    assert store.mark_cells("nb201", "cifar10", "uniform", ["b", "c"]) == 1
    assert store.cells("nb201", "cifar10", "uniform") == {"a", "b", "c"}
    assert store.cells("nb201", "cifar100", "uniform") == set()
    store.add([row("a")])
    clone = pickle.loads(pickle.dumps(store))
    assert len(clone.frame()) == 1 and clone.path == store.path
    monkeypatch.setenv("ZERONAS_STORE", str(tmp_path / "env.sqlite"))
    assert default_store_path() == tmp_path / "env.sqlite"
    monkeypatch.delenv("ZERONAS_STORE")
    monkeypatch.chdir(tmp_path)
    assert default_store_path() == tmp_path / "zeronas-results" / "store.sqlite"
    (tmp_path / "bad.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises((InvalidInputError, sqlite3.DatabaseError)):
        ResultStore(tmp_path / "bad.sqlite").frame()


def _writer(path: str, worker: int, count: int) -> None:
    store = ResultStore(path)
    for i in range(count):  # overlapping keys: both processes write cells 0..count-1, one transaction each
        store.add([row(f"cell{i}", seed=0, value=float(i)), row(f"cell{i}", seed=worker + 1, value=float(i))])
        store.add_trace("shared", i, f"cell{i}", {"worker": worker})


def test_concurrent_writers_from_two_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sqlite")
    ResultStore(path)
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=_writer, args=(path, w, 60)) for w in range(2)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
        assert proc.exitcode == 0
    frame = ResultStore(path).frame()
    assert len(frame) == 60 * 3  # seed 0 shared by both writers, seeds 1 and 2 one each
    assert not frame.duplicated(["arch", "proxy", "seed"]).any()
    assert (frame["value"] == frame["arch"].str[4:].astype(float)).all()
    trace = ResultStore(path).trace("shared")
    assert list(trace["step"]) == list(range(60)) and set(trace["worker"]) <= {0, 1}
    assert isinstance(frame, pd.DataFrame)
