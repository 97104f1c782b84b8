"""The ray backend: the same rows as the local backend, lost workers, ordered map, sessions, a missing Ray."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from zeronas.errors import InvalidInputError, ZeronasError
from zeronas.evaluation.scoring import ScoreSettings
from zeronas.evaluation.sweep import SweepPlan, pin_source, run_sweep
from zeronas.executors import WorkerLost, get_backend, list_backends
from zeronas.spaces import create_space
from zeronas.store import ResultStore

needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None, reason="ray is not installed (pip install 'zeronas[ray]')"
)
PROXIES = ["params", "flops", "synflow"]
SETTINGS = ScoreSettings(batch_size=16)  # the real CIFAR-10 batch when ../shared is there, else synthetic
KEYS = ["space", "arch", "dataset", "proxy", "seed", "settings"]


def _plan() -> SweepPlan:
    cells = create_space("nb201").sample_many(6, np.random.default_rng(11))
    return SweepPlan("nb201", "cifar10", tuple(cells))


def _rows(store: ResultStore) -> list[tuple]:
    frame = store.frame()[[*KEYS, "value", "status", "reason"]]
    return sorted(frame.itertuples(index=False, name=None))


def _square_or_die(task: int) -> int:
    if task == 13:
        os._exit(7)  # a worker crash (segfault, OOM kill) rather than an exception
    return task * task


def _worker_state(task: int) -> tuple[int, int, int]:
    import torch

    return task, os.getpid(), torch.get_num_threads()


@needs_ray
def test_ray_sweep_writes_the_same_rows_as_the_local_backend(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    plan = _plan()
    local = ResultStore(tmp_path / "local.sqlite")
    run_sweep(local, plan, PROXIES, [0, 1], SETTINGS, "local", workers=2)

    store = ResultStore(tmp_path / "ray.sqlite")
    run_sweep(store, plan, PROXIES, [0], SETTINGS, "local", workers=1)  # a sweep started locally...
    digest, stats = run_sweep(store, plan, PROXIES, [0, 1], SETTINGS, "ray", workers=2)  # ...resumed on Ray
    assert stats.tasks == 6 and stats.rows == 6 * len(PROXIES) and stats.failed == 0
    assert not ray.is_initialized(), "a Ray instance the backend started must be shut down after the sweep"

    rows = _rows(store)
    assert len(rows) == 6 * 2 * len(PROXIES) and rows == _rows(local)  # every value bit-for-bit
    synflow = store.frame(proxies=["synflow"]).pivot(index="arch", columns="seed", values="value")
    assert (synflow[0] != synflow[1]).all(), "seeds change synflow: the comparison covers seeded values"

    _, again = run_sweep(store, plan, PROXIES, [0, 1], SETTINGS, "ray", workers=2)
    assert again.tasks == 0 and not ray.is_initialized()  # nothing missing: Ray is not even started
    assert store.settings(digest)["batch_size"] == 16


@needs_ray
def test_ray_session_reuses_workers_keeps_order_and_reports_lost_workers() -> None:
    ray = pytest.importorskip("ray")
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # this test module is not importable on workers
    assert "ray" in list_backends()
    with get_backend("ray", workers=2) as backend:
        first = backend.map(_worker_state, list(range(9, -1, -1)))
        assert [task for task, _, _ in first] == list(range(9, -1, -1))  # map keeps the given order
        assert all(threads == 1 for _, _, threads in first)  # torch limited to one thread per worker
        pids = {pid for _, pid, _ in first}
        assert 1 <= len(pids) <= 2 and os.getpid() not in pids  # two worker processes, not the driver
        again = {pid for _, pid, _ in backend.map(_worker_state, range(6))}
        assert again <= pids, "inside a session the same instance and its worker processes serve every call"

        results = dict(backend.run(_square_or_die, [1, 2, 13, 4, 5]))
        assert {k: v for k, v in results.items() if k != 13} == {1: 1, 2: 4, 4: 16, 5: 25}
        assert isinstance(results[13], WorkerLost) and "worker process died" in str(results[13])

        assert ray.is_initialized()
    assert not ray.is_initialized()


@needs_ray
def test_an_unreachable_cluster_fails_fast_with_one_line() -> None:
    ray = pytest.importorskip("ray")
    backend = get_backend("ray", workers=2, address="127.0.0.1:1")  # nothing listens on port 1
    with pytest.raises(ZeronasError, match=r"could not join the Ray cluster at 127\.0\.0\.1:1") as info:
        list(backend.run(abs, [-1]))
    assert "\n" not in str(info.value) and not ray.is_initialized()


def test_missing_ray_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(ZeronasError, match=r"needs Ray.*pip install ray \(the zeronas 'ray' extra\)") as info:
        get_backend("ray", workers=2)
    assert "\n" not in str(info.value)
    with pytest.raises(InvalidInputError, match="workers >= 1"):
        get_backend("ray", workers=0)  # bad options are reported before Ray is looked for


def test_cli_rejects_ray_options_clearly(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, shared_dir: Path, tmp_path: Path
) -> None:
    from zeronas.cli import main

    args = ["evaluate", "--proxies", "params", "--sample", "4", "--seeds", "0", "--store", str(tmp_path / "s.sqlite")]

    def exit_code(*extra: str) -> int:
        with pytest.raises(SystemExit) as info:
            main([*args, *extra])
        return int(info.value.code or 0)

    assert exit_code("--ray-address", "auto") == 2
    assert "--ray-address needs --backend ray" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "ray", None)
    assert exit_code("--backend", "ray") == 2
    err = capsys.readouterr().err.strip()
    assert "needs Ray" in err and "pip install ray (the zeronas 'ray' extra)" in err and err.count("\n") == 0
    assert not (tmp_path / "s.sqlite").exists() or len(ResultStore(tmp_path / "s.sqlite").frame()) == 0


def test_pin_source_keeps_the_digest_and_fixes_the_real_batch(shared_dir: Path) -> None:
    auto = ScoreSettings(batch_size=16)
    pinned = pin_source(auto, "cifar10")
    assert pinned.source == "real" and pinned.digest("cifar10") == auto.digest("cifar10")
    synthetic = ScoreSettings(batch_size=16, source="synthetic")
    assert pin_source(synthetic, "cifar10") is synthetic


@needs_ray
def test_ray_latency_table_has_the_rows_of_the_local_table(tmp_path: Path) -> None:
    from zeronas.hardware.measured_latency import MeasuredLatency, measure_cells

    ray = pytest.importorskip("ray")
    space, cells = create_space("nb201"), _plan().uniform[:4]
    tables = {}
    for name in ("local", "ray"):
        store = ResultStore(tmp_path / f"latency-{name}.sqlite")
        cost = MeasuredLatency(warmup=1, repeats=5, store=store, clock="thread")
        with get_backend(name, workers=2) as backend:
            progress = measure_cells(space, cells, "cifar10", cost, executor=backend)
        assert (progress.measured, progress.failed) == (4, 0)
        tables[name] = store.frame().sort_values(["arch", "proxy"]).reset_index(drop=True)
    assert not ray.is_initialized()
    local, remote = tables["local"], tables["ray"]
    assert len(remote) == 4 * 3 and remote[KEYS].equals(local[KEYS])  # same cells, rows, run and protocol digest
    assert (remote["status"] == "ok").all() and (remote["value"] > 0).all()
