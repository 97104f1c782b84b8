"""Searches on a parallel executor: the same records, trace and store rows as the sequential run."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from zeronas.config import find_data_dir
from zeronas.errors import InvalidInputError
from zeronas.evaluation.scoring import ScoreSettings
from zeronas.executors import Backend, get_backend
from zeronas.search import search
from zeronas.spaces import create_space
from zeronas.store import ResultStore

needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None, reason="ray is not installed (pip install 'zeronas[ray]')"
)
SETTINGS = ScoreSettings(batch_size=8)
ROW = ["arch", "proxy", "seed", "settings", "value", "status"]
#: (algorithm, evaluations, options): every algorithm that hands the evaluator several candidates at once
CASES = [
    ("random", 10, {}, "synflow"),
    ("evolution", 12, {"population": 4, "tournament": 2, "batch": 3}, "synflow"),
    ("nsga2", 12, {"population": 4, "cost": "flops"}, "synflow"),
    ("random", 6, {}, "params,synflow"),  # a mean z-score: its reference sample is computed on the executor too
]


def _run(tmp_path: Path, name: str, case: tuple, backend: object) -> tuple:
    algorithm, evaluations, options, proxy = case
    store = ResultStore(tmp_path / f"{name}.sqlite")
    result = search(
        "nb201",
        "cifar10",
        proxy,
        algorithm,
        evaluations,
        seed=3,
        settings=SETTINGS,
        store=store,
        backend=backend,
        **options,
    )
    rows = store.frame(proxies=["synflow"])[ROW].sort_values(["arch"]).reset_index(drop=True)
    return result, rows


def _same(first: tuple, second: tuple) -> None:
    (a, rows_a), (b, rows_b) = first, second
    assert list(a.history["arch"]) == list(b.history["arch"])  # the same candidates in the same order
    np.testing.assert_array_equal(a.history["value"], b.history["value"])  # bit for bit, a NaN equal to a NaN
    assert a.best_arch == b.best_arch
    assert rows_a.equals(rows_b)
    for count in ("proxy_computations", "reused"):
        assert a.stats[count] == b.stats[count], count


def _check_backend(tmp_path: Path, backend: Backend) -> None:
    with backend:
        for i, case in enumerate(CASES):
            algorithm, evaluations = case[:2]
            sequential = _run(tmp_path, f"{i}-seq", case, None)
            parallel = _run(tmp_path, f"{i}-{backend.name}", case, backend)
            _same(sequential, parallel)
            computed = parallel[0].stats["proxy_computations"]
            assert computed > 0 and parallel[0].stats["computed_on_executor"] == computed, algorithm
            assert sequential[0].stats["computed_on_executor"] == 0
            assert parallel[0].history["arch"].nunique() >= evaluations // 2


def test_local_workers_give_the_sequential_search(tmp_path: Path) -> None:
    _check_backend(tmp_path, get_backend("local", workers=2))


@needs_ray
def test_ray_workers_give_the_sequential_search(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    _check_backend(tmp_path, get_backend("ray", workers=2))
    assert not ray.is_initialized(), "the search session's Ray instance must be shut down after it"


def test_prefetch_computes_only_missing_values_and_counts_them(tmp_path: Path) -> None:
    from zeronas.search.objective import ProxyObjective

    space = create_space("nb201")
    keys = space.sample_many(4, np.random.default_rng(0))
    store = ResultStore(tmp_path / "s.sqlite")
    objective = ProxyObjective(space, "cifar10", "synflow", 0, SETTINGS, store)
    objective.values(keys[0])  # one cell scored the sequential way
    backend = get_backend("local", workers=1)
    assert objective.prefetch(keys, backend) == 3 and objective.prefetch(keys, backend) == 0
    assert len(store.frame()) == 4
    fresh = ProxyObjective(space, "cifar10", "synflow", 0, SETTINGS, None)
    assert [fresh.values(k) for k in keys] == [objective.values(k) for k in keys]


def test_evolution_batch_must_be_positive_and_prune_rejects_a_backend(capsys: pytest.CaptureFixture) -> None:
    from zeronas.cli import main

    with pytest.raises(InvalidInputError, match="batch >= 1"):
        search("nb201", "cifar10", "params", "evolution", 8, population=4, tournament=2, batch=0)
    for args, message in [
        (["--algorithm", "prune", "--backend", "local"], "--backend does not apply to prune"),
        (["--backend", "dask"], "unknown --backend 'dask'; available: local, ray"),
        (["--ray-address", "auto"], "--ray-address needs --backend ray"),
    ]:
        with pytest.raises(SystemExit) as exit_info:
            main(["search", "--evaluations", "2", "--no-export", *args])
        err = capsys.readouterr().err.strip()
        assert exit_info.value.code != 0 and message in err and "\n" not in err, err


def test_workers_use_the_callers_data_dir_after_a_command_with_another(tmp_path: Path, cli) -> None:
    """A command's --data-dir (kept in ZERONAS_DATA_DIR while it ran, and by the fork server it started) must not
    reach the workers of a later sweep in the same process."""
    import shutil

    shared = find_data_dir()
    if shared is None:
        pytest.skip("needs the data directory's CIFAR-10 batch")
    other = tmp_path / "other"
    for name in ("data/cifar10_test_head.npz", "benchmarks/nasbench201.csv"):
        (other / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shared / name, other / name)
    args = [
        "evaluate",
        "--space",
        "nb201",
        "-p",
        "params",
        "--seeds",
        "0",
        "--sample",
        "4",
        "-b",
        "2",
        "--workers",
        "2",
    ]
    result = cli(*args, "--include-top", "0", "--data-dir", other, "--store", tmp_path / "a.sqlite", "--out", tmp_path)
    assert result.code == 0, result.err
    os.environ.pop("ZERONAS_DATA_DIR", None)  # as the caller's own setting was (the test's env is restored after it)
    shutil.rmtree(other)
    store = ResultStore(tmp_path / "b.sqlite")
    with get_backend("local", workers=2) as backend:
        search("nb201", "cifar10", "synflow", "random", 4, seed=3, settings=SETTINGS, store=store, backend=backend)
    assert set(store.frame()["status"]) == {"ok"}
