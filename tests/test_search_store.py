"""Search with a result store: every proxy value a row, every evaluation a trace step, re-runs resume."""

from __future__ import annotations

from pathlib import Path

import pytest

from zeronas.search import search

store_module = pytest.importorskip("zeronas.store", reason="zeronas.store is not available")


def test_search_writes_rows_and_trace_and_resumes(tmp_path: Path) -> None:
    store = store_module.ResultStore(tmp_path / "store.sqlite")
    kwargs = dict(evaluations=16, seed=3, population=6, tournament=2, store=store)
    first = search("nb201", "cifar10", "synflow", "evolution", **kwargs)
    assert first.run and first.run.startswith("evolution-nb201-cifar10-synflow-s3-")
    rows = store.frame(space="nb201", dataset="cifar10", proxies=["synflow"], seeds=[3])
    assert sorted(rows["arch"]) == sorted(first.history["arch"].unique())
    values = rows.set_index("arch")["value"]
    assert all(values[a] == v for a, v in zip(first.history["arch"], first.history["value"], strict=True) if v == v)
    trace = store.trace(first.run)
    assert trace["step"].tolist() == list(range(16))
    assert trace["arch"].tolist() == first.history["arch"].tolist()
    assert trace["best"].tolist() == pytest.approx(first.history["best"].tolist())
    assert first.run in store.runs()

    again = search("nb201", "cifar10", "synflow", "evolution", **kwargs)
    assert again.run == first.run
    assert again.stats["proxy_computations"] == 0
    assert again.history["arch"].tolist() == first.history["arch"].tolist()
    assert again.history["value"].tolist() == pytest.approx(first.history["value"].tolist(), nan_ok=True)
    assert len(store.trace(first.run)) == 16
    assert len(store.frame(space="nb201", dataset="cifar10", proxies=["synflow"], seeds=[3])) == len(rows)


def test_another_seed_is_another_run(tmp_path: Path) -> None:
    store = store_module.ResultStore(tmp_path / "store.sqlite")
    a = search("nb201", "cifar10", "params", "random", evaluations=4, seed=0, store=store)
    b = search("nb201", "cifar10", "params", "random", evaluations=4, seed=1, store=store)
    assert a.run != b.run
    assert set(store.runs()) >= {a.run, b.run}
    assert set(store.frame(space="nb201", proxies=["params"])["seed"]) == {0, 1}
