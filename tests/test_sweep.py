"""Sweeps: planning, failing models, resuming, worker crashes, and a sweep killed with SIGKILL then resumed."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from torch import nn

from zeronas.config import find_data_dir
from zeronas.errors import InvalidInputError
from zeronas.evaluation.metrics import top_set
from zeronas.evaluation.scoring import ScoreSettings
from zeronas.evaluation.sweep import (
    CellTask,
    compute_task,
    parse_seeds,
    pending_tasks,
    plan_sweep,
    run_sweep,
    uniform_role,
)
from zeronas.executors import LocalBackend, WorkerLost, get_backend, list_backends
from zeronas.spaces import list_spaces, register_space
from zeronas.spaces.nb201.space import NasBench201Space, ops_to_string
from zeronas.store import ResultStore

DATA = find_data_dir()
needs_data = pytest.mark.skipif(
    DATA is None or not (DATA / "benchmarks" / "nasbench201.csv").exists(),
    reason="the zeronas data directory (../shared with benchmarks/nasbench201.csv) is not available",
)
SETTINGS = ScoreSettings(batch_size=8, source="synthetic")
CHEAP = ("params", "flops", "synflow")


class _Explodes(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)  # weights to score: the failure is the forward, not an empty model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("forward exploded")


if "nb201_broken_test" not in list_spaces():

    @register_space("nb201_broken_test")
    class BrokenSpace(NasBench201Space):
        """NB201 whose cells starting with 'none' cannot be built and starting with avg_pool fail forward."""

        def build(self, key: str, num_classes: int | None = None, **kwargs: object) -> nn.Module:
            first = self.ops(key)[0]
            if first == 1:
                raise RuntimeError("cannot build this cell")
            if first == 4:
                return _Explodes()
            return super().build(key, num_classes, **kwargs)


def test_parse_seeds() -> None:
    assert parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert parse_seeds("3") == [3] and parse_seeds("0,2, 7") == [0, 2, 7] and parse_seeds("0-2,5,1") == [0, 1, 2, 5]
    assert parse_seeds(4) == [4] and parse_seeds([2, 1, 2]) == [1, 2]
    for bad in ("", "a", "4-2", "-1"):
        with pytest.raises(InvalidInputError):
            parse_seeds(bad)


@needs_data
def test_plan_draws_a_seeded_sample_and_adds_the_whole_top_set() -> None:
    plan = plan_sweep("nb201", "c100", 30, include_top=0.1, sample_seed=3)
    again = plan_sweep("nb201", "cifar100", 30, include_top=0.1, sample_seed=3)
    assert plan == again and plan.dataset == "cifar100"
    assert len(set(plan.uniform)) == 30 and len(plan.top) == 16  # ceil(0.1% of 15,625)
    from zeronas.groundtruth.truth import ground_truth

    assert set(plan.top) == set(top_set(ground_truth("nb201", "cifar100"), 0.1))
    assert plan.cells[:30] == list(plan.uniform) and set(plan.cells) == set(plan.uniform) | set(plan.top)
    assert plan_sweep("nb201", "cifar100", 30, sample_seed=4).uniform != plan.uniform
    with pytest.raises(InvalidInputError, match="no cells"):
        plan_sweep("nb201", "cifar100", 0)


def test_failing_models_become_failed_rows_with_reasons() -> None:
    ok, unbuildable, exploding = (
        ops_to_string((2, 2, 2, 3, 3, 3)),
        ops_to_string((1, 2, 2, 3, 3, 3)),
        ops_to_string((4, 2, 2, 3, 3, 3)),
    )
    rows = {}
    for arch in (ok, unbuildable, exploding):
        task = CellTask("nb201_broken_test", arch, "cifar10", 0, ("params", "synflow"), SETTINGS, "d")
        rows[arch] = {r.proxy: r for r in compute_task(task)}
    assert all(r.status == "ok" and math.isfinite(r.value) for r in rows[ok].values())
    for r in rows[unbuildable].values():
        assert r.status == "error" and math.isnan(r.value) and "cannot build this cell" in r.reason
    assert rows[exploding]["synflow"].status == "error" and "forward exploded" in rows[exploding]["synflow"].reason
    bad_key = CellTask("nb201", "not-an-arch", "cifar10", 0, ("params",), SETTINGS, "d")
    [row] = compute_task(bad_key)
    assert row.status == "error" and "InvalidArchError" in row.reason


def test_sweep_skips_stored_rows_and_computes_only_missing_proxies(tmp_path: Path) -> None:
    from zeronas.evaluation.sweep import SweepPlan

    store = ResultStore(tmp_path / "s.sqlite")
    cells = tuple(ops_to_string(ops) for ops in ((2, 3, 0, 2, 2, 0), (3, 3, 3, 3, 3, 3), (0, 2, 4, 1, 2, 3)))
    plan = SweepPlan("nb201_broken_test", "cifar10", cells + (ops_to_string((1, 0, 0, 0, 0, 0)),))
    digest, stats = run_sweep(store, plan, ["params", "flops"], [0, 1], SETTINGS)
    assert stats.tasks == 8 and stats.rows == 16 and stats.failed == 2 * 2  # the unbuildable cell, 2 seeds
    assert store.settings(digest)["batch_size"] == 8 and store.settings(digest)["source"].startswith("synthetic")
    assert store.cells("nb201_broken_test", "cifar10", uniform_role(4, 0)) == set(plan.uniform)
    before = store.frame()
    _, again = run_sweep(store, plan, ["params", "flops"], [0, 1], SETTINGS)
    assert again.tasks == 0 and again.rows == 0
    tasks = pending_tasks(store, plan.space, plan.dataset, plan.cells, ["params", "synflow"], [0, 1], SETTINGS, digest)
    assert len(tasks) == 8 and all(t.proxies == ("synflow",) for t in tasks)
    _, more = run_sweep(store, plan, ["params", "synflow"], [0, 1], SETTINGS)
    assert more.rows == 8
    after = store.frame()
    assert len(after) == 24 and not after.duplicated(["arch", "proxy", "seed"]).any()
    kept = after.merge(before, on=["arch", "proxy", "seed"], suffixes=("", "_before"))
    assert len(kept) == 16 and (kept["created"] == kept["created_before"]).all()


def _square_or_die(task: int) -> int:
    if task == 13:
        os._exit(7)  # a worker crash (segfault, OOM kill) rather than an exception
    return task * task


def test_local_backend_isolates_a_crashing_task() -> None:
    assert "local" in list_backends() and isinstance(get_backend("local", workers=2), LocalBackend)
    results = dict(LocalBackend(workers=2).run(_square_or_die, [1, 2, 13, 4, 5]))
    assert {k: v for k, v in results.items() if k != 13} == {1: 1, 2: 4, 4: 16, 5: 25}
    assert isinstance(results[13], WorkerLost)
    assert dict(LocalBackend(workers=1).run(_square_or_die, [3])) == {3: 9}


def _descendants(pid: int) -> list[int]:
    """Children, grandchildren, ... of `pid` (forkserver workers are grandchildren of the sweep)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        kids = [child for child, parent in parents.items() if parent == current]
        found += kids
        frontier += kids
    return found


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _interrupt(args: list[str], store_path: Path, at_least: int, sig: int) -> tuple[int, str, list[int]]:
    """Run `zeronas <args>` in a subprocess, send `sig` once the store holds `at_least` rows; return its status."""
    # Ctrl-C raises KeyboardInterrupt as in a terminal, even when this test runs with SIGINT ignored
    driver = "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    driver += "from zeronas.cli import main; main(sys.argv[1:])"
    proc = subprocess.Popen(
        [sys.executable, "-c", driver, *args],
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            if store_path.exists() and len(ResultStore(store_path).frame()) >= at_least:
                break
            time.sleep(0.05)
        workers = _descendants(proc.pid)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    deadline = time.monotonic() + 20
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(w) for w in workers), "worker processes must exit when the sweep is stopped"
    return proc.returncode, err, workers


@needs_data
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds worker processes through Linux /proc")
def test_interrupt_then_sigkill_then_resume_keeps_stored_rows_and_never_duplicates(tmp_path: Path) -> None:
    store_path = tmp_path / "kill.sqlite"
    args = ["evaluate", "--space", "nb201", "--dataset", "cifar10", "--proxies", ",".join(CHEAP), "--seeds", "0-1"]
    args += ["--sample", "16", "--batch-size", "16", "--store", str(store_path), "--out", str(tmp_path / "out")]
    total = 16 * 2 * len(CHEAP)

    code, err, _ = _interrupt([*args, "--workers", "2"], store_path, 3, signal.SIGINT)  # Ctrl-C
    assert code == 130 and "results already stored are kept" in err
    interrupted = ResultStore(store_path).frame()
    assert 3 <= len(interrupted) < total

    code, _, workers = _interrupt([*args, "--workers", "2"], store_path, len(interrupted) + 6, signal.SIGKILL)
    assert code == -signal.SIGKILL and len(workers) >= 2
    snapshot = ResultStore(store_path).frame()
    assert len(interrupted) + 6 <= len(snapshot) < total, "the sweep must be killed part-way"

    from zeronas.cli import main

    main([*args, "--workers", "1"])
    final = ResultStore(store_path).frame()
    assert len(final) == total
    assert not final.duplicated(["space", "arch", "dataset", "proxy", "seed", "settings"]).any()
    merged = snapshot.merge(final, on=["arch", "proxy", "seed", "settings"], suffixes=("", "_final"))
    assert len(merged) == len(snapshot)
    assert (merged["created"] == merged["created_final"]).all()
    same = (merged["value"] == merged["value_final"]) | (merged["value"].isna() & merged["value_final"].isna())
    assert same.all()
