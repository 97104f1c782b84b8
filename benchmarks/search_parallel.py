"""Parallel search and latency-table benchmark: the same runs sequentially, on 1 and on N Ray (or local) workers.

Each configuration runs into a fresh store, so every proxy value is computed, and reports candidates/s
(Ray after its start-up, reported on its own) and the N-vs-1 speed-up; every parallel run must give the
sequential run's history exactly, or the script fails. Algorithms: random search (one batch), evolution
with `batch=N` children per step (and its initial population), NSGA-II (one batch per generation).
The latency table (`hardware measure`) times `--latency-cells` cells on 1 and N workers (thread CPU time;
the timings of side-by-side workers interfere on one machine, the throughput is what is compared).

    python benchmarks/search_parallel.py [--evaluations 64] [--workers 2] [--backend ray] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from zeronas.evaluation.scoring import ScoreSettings
from zeronas.executors import get_backend
from zeronas.hardware.measured_latency import MeasuredLatency, measure_cells
from zeronas.search import search
from zeronas.spaces import create_space
from zeronas.store import ResultStore


def run_search(algorithm: str, args: argparse.Namespace, options: dict, backend: object, tmp: Path) -> dict:
    """One search into a fresh store; seconds exclude the backend's start-up (opened before the clock)."""
    store = ResultStore(tmp / f"{algorithm}-{time.monotonic_ns()}.sqlite")
    settings = ScoreSettings(batch_size=args.batch_size)
    start = time.perf_counter()
    result = search(
        "nb201",
        args.dataset,
        args.proxy,
        algorithm,
        args.evaluations,
        seed=0,
        settings=settings,
        store=store,
        backend=backend,
        **options,
    )
    seconds = time.perf_counter() - start
    return {
        "history": list(zip(result.history["arch"], result.history["value"], strict=True)),
        "seconds": seconds,
        "candidates_per_s": len(result.history) / seconds,
        "computed": result.stats["proxy_computations"],
    }


def same_history(a: list[tuple[str, float]], b: list[tuple[str, float]]) -> bool:
    """Equal architectures in the same order with equal values, a NaN (failed) value equal to a NaN."""
    if [arch for arch, _ in a] != [arch for arch, _ in b]:
        return False
    return bool(np.array_equal([v for _, v in a], [v for _, v in b], equal_nan=True))


def warm(task: tuple[str, int]) -> int:
    """Run in a worker: import what a search task imports and load its batch (start-up, not search time)."""
    from zeronas.evaluation.scoring import cached_batch

    cached_batch(task[0], task[1], 0, None, "auto", None)
    return os.getpid()


def opened(name: str, workers: int, dataset: str, batch_size: int) -> tuple[object, float]:
    """A backend in a session with its workers started and warm, and the seconds that took."""
    backend = get_backend(name, workers=workers)
    start = time.perf_counter()
    backend.__enter__()
    backend.map(warm, [(dataset, batch_size)] * (4 * workers))
    return backend, time.perf_counter() - start


def latency_rate(cells: list[str], backend: object, tmp: Path, dataset: str) -> float:
    """Cells per second of a fresh latency table over `cells` on `backend` (None: this process)."""
    store = ResultStore(tmp / f"latency-{time.monotonic_ns()}.sqlite")
    cost = MeasuredLatency(warmup=2, repeats=10, store=store, clock="thread")
    start = time.perf_counter()
    progress = measure_cells(create_space("nb201"), cells, dataset, cost, executor=backend)
    if progress.measured != len(cells):
        raise SystemExit(f"latency table measured {progress.measured} of {len(cells)} cells")
    return len(cells) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=64)
    parser.add_argument("--proxy", default="nwot,synflow")
    parser.add_argument("--dataset", default="cifar100")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backend", default="ray", help="ray or local")
    parser.add_argument("--latency-cells", type=int, default=24)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/search_parallel.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)  # the sequential runs happen here: one thread, like every worker
    n = args.workers
    algorithms = {
        "random": {},
        "evolution": {"population": 16, "tournament": 4, "batch": n},
        "nsga2": {"population": 16, "cost": "flops"},
    }
    load = list(os.getloadavg())
    print(f"{platform.platform()}, {os.cpu_count()} CPUs, torch {torch.__version__}, load average {load}")
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        runs = {name: {"sequential": run_search(name, args, opts, None, tmp)} for name, opts in algorithms.items()}
        cells = create_space("nb201").sample_many(args.latency_cells, np.random.default_rng(1))
        latency = {"sequential": latency_rate(cells, None, tmp, args.dataset)}
        startup = {}
        for workers in (1, n):
            label = f"{args.backend}x{workers}"
            backend, startup[label] = opened(args.backend, workers, args.dataset, args.batch_size)
            try:
                for name, opts in algorithms.items():
                    runs[name][label] = run_search(name, args, opts, backend, tmp)
                    if not same_history(runs[name][label]["history"], runs[name]["sequential"]["history"]):
                        raise SystemExit(f"{name} on {label} differs from the sequential run")
                latency[label] = latency_rate(cells, backend, tmp, args.dataset)
            finally:
                backend.__exit__(None, None, None)
    one, many = f"{args.backend}x1", f"{args.backend}x{n}"
    for name, by_config in runs.items():
        rates = {label: r["candidates_per_s"] for label, r in by_config.items()}
        results[name] = {
            "evaluations": len(by_config["sequential"]["history"]),
            "computed": by_config["sequential"]["computed"],
            "candidates_per_s": rates,
            "speedup_n_vs_1": rates[many] / rates[one],
            "speedup_n_vs_sequential": rates[many] / rates["sequential"],
            "options": algorithms[name],
        }
        print(
            f"{name:9s}: "
            + ", ".join(f"{label} {rate:.2f} cand/s" for label, rate in rates.items())
            + f"; {many} vs {one}: {results[name]['speedup_n_vs_1']:.2f}x, "
            f"vs sequential {results[name]['speedup_n_vs_sequential']:.2f}x"
        )
    results["latency_table"] = {
        "cells": len(cells),
        "cells_per_s": latency,
        "speedup_n_vs_1": latency[many] / latency[one],
    }
    print(
        "latency  : "
        + ", ".join(f"{label} {rate:.2f} cells/s" for label, rate in latency.items())
        + f"; {many} vs {one}: {results['latency_table']['speedup_n_vs_1']:.2f}x"
    )
    print("start-up: " + ", ".join(f"{label} {s:.1f} s" for label, s in startup.items()))
    payload = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
            "load_average_at_start": load,
            "load_average_at_end": list(os.getloadavg()),
        },
        "settings": {k: str(v) for k, v in vars(args).items()},
        "startup_s": startup,
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2))
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
