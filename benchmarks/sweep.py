"""Sweep throughput benchmark: NB201 cells per minute, 1 vs N workers, local process pool and Ray.

For the cheap proxy set {params, flops, synflow, nwot} on `--cheap-cells` cells and for the whole
set ("all") on `--full-cells` cells (one seed, the same seeded cells for every configuration), each
configuration scores the cells into a fresh store exactly as `zeronas evaluate` does (the backend
runs `compute_task`; the driver writes each finished task's rows in one transaction) and reports:
  - cells/min over the sweep (Ray: after its start-up, which is reported on its own),
  - the N-vs-1 speed-up of each backend, and the parallel efficiency (worker busy time / (wall x N)),
  - the peak RSS of each worker process (getrusage(RUSAGE_SELF).ru_maxrss read inside the worker after
    each task; with 1 local worker the sweep runs in this process, so that figure includes the driver),
    beside the peak RSS of a process that only imports torch and zeronas (the floor of any worker),
and the projected time of a full NB201 sweep (15,625 cells) with the cheap set on N local workers.
Results go to JSON with the machine description, including the load average: on a shared machine
other processes compete for the same cores, so read the numbers with it.

    python benchmarks/sweep.py [--cheap-cells 40] [--full-cells 6] [--workers 2] [--skip-ray] [--out FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from zeronas.data import get_dataset
from zeronas.evaluation.scoring import ScoreSettings
from zeronas.evaluation.sweep import CellTask, compute_task, failed_rows, pending_tasks, pin_source
from zeronas.executors import WorkerLost, cpu_count, get_backend
from zeronas.proxies import resolve_proxies
from zeronas.spaces import create_space
from zeronas.store import ResultRow, ResultStore

CHEAP = ("params", "flops", "synflow", "nwot")
NB201_CELLS = 15_625


def measured_compute(task: CellTask) -> tuple[list[ResultRow], float, int, int]:
    """compute_task, plus its seconds, this process's peak RSS (KiB on Linux) and pid (runs in the worker)."""
    start = time.perf_counter()
    rows = compute_task(task)
    return rows, time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, os.getpid()


def run_config(
    backend_name: str, workers: int, cells: list[str], proxies: list[str], settings: ScoreSettings, dataset: str
) -> dict:
    """Score `cells` (seed 0) with `proxies` into a fresh store on `backend_name` with `workers`; time it."""
    with tempfile.TemporaryDirectory() as tmp:
        store = ResultStore(Path(tmp) / "bench.sqlite")
        digest = settings.digest(dataset)
        store.register_settings(digest, settings.as_dict(dataset))
        tasks = pending_tasks(store, "nb201", dataset, cells, proxies, [0], pin_source(settings, dataset), digest)
        load = os.getloadavg()[0]
        peaks: dict[int, int] = {}
        busy, failed, lost = 0.0, 0, 0
        with get_backend(backend_name, workers=workers) as backend:
            start = time.perf_counter()
            if hasattr(backend, "open"):  # Ray: start the instance now, to report its start-up apart
                backend.open()
            startup = time.perf_counter() - start
            start = time.perf_counter()
            for task, result in backend.run(measured_compute, tasks):
                if isinstance(result, WorkerLost):
                    rows, lost = failed_rows(task, str(result)), lost + 1
                else:
                    rows, seconds, rss, pid = result
                    busy += seconds
                    peaks[pid] = max(peaks.get(pid, 0), rss)
                store.add(rows)
                failed += sum(not math.isfinite(r.value) for r in rows)
            seconds = time.perf_counter() - start
        stored = len(store.frame())
    return {
        "backend": backend_name,
        "workers": workers,
        "cells": len(tasks),
        "proxies": len(proxies),
        "rows": stored,
        "failed_values": failed,
        "lost_tasks": lost,
        "startup_s": startup,
        "seconds": seconds,
        "cells_per_min": 60 * len(tasks) / seconds,
        "cells_per_min_with_startup": 60 * len(tasks) / (seconds + startup),
        "mean_task_s": busy / max(1, len(tasks) - lost),
        "efficiency": busy / (seconds * workers),
        "worker_peak_rss_mib": {str(pid): kib / 1024 for pid, kib in sorted(peaks.items())},
        "max_worker_peak_rss_mib": max(peaks.values(), default=0) / 1024,
        "in_process": backend_name == "local" and workers <= 1,
        "load_average_1min_before": load,
    }


#: code defining `peak_kib()` for a child interpreter: the peak RSS of its own memory map (VmHWM). On Linux
#: a fresh child's getrusage ru_maxrss keeps the parent's resident size at the fork (about 0.8 GB for a
#: parent holding torch), so it cannot show a child that stays below its parent.
PEAK_KIB = """
def peak_kib():
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""


def import_rss_mib() -> float:
    """Peak RSS of a fresh process that only imports what a sweep worker imports (torch, zeronas): the floor."""
    code = PEAK_KIB + "import zeronas.evaluation.sweep\nprint(peak_kib())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1]) / 1024


def machine() -> dict:
    ray_version = None
    if importlib.util.find_spec("ray") is not None:
        import ray

        ray_version = ray.__version__
    return {
        "platform": platform.platform(),
        "processor": platform.processor(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads_per_worker": 1,
        "cpus": os.cpu_count(),
        "usable_cpus": cpu_count(),
        "ray": ray_version,
        "load_average_at_start": list(os.getloadavg()),
        "import_only_peak_rss_mib": import_rss_mib(),
    }


def speedups(results: list[dict], workers: int) -> dict[str, float]:
    """cells/min with N workers over cells/min with 1, per (proxy set, backend)."""
    rate = {(r["set"], r["backend"], r["workers"]): r["cells_per_min"] for r in results}
    return {
        f"{name}/{backend}": rate[(name, backend, workers)] / rate[(name, backend, 1)]
        for name, backend, n in rate
        if n == workers and (name, backend, 1) in rate
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cheap-cells", type=int, default=40, help="cells scored with the cheap set")
    parser.add_argument("--full-cells", type=int, default=6, help="cells scored with every proxy")
    parser.add_argument("--workers", type=int, default=2, help="N of the 1-vs-N comparison")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--sample-seed", type=int, default=0)
    parser.add_argument("--skip-ray", action="store_true", help="local backend only")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/sweep.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)  # the 1-worker local sweep runs here: one thread, like every worker
    dataset = get_dataset(args.dataset).name
    settings = ScoreSettings(batch_size=args.batch_size)
    cells = create_space("nb201").sample_many(max(args.cheap_cells, args.full_cells), np.random.default_rng(0))
    backends = ["local"] if args.skip_ray or importlib.util.find_spec("ray") is None else ["local", "ray"]
    sets = {
        "cheap": (list(CHEAP), cells[: args.cheap_cells]),
        "all": (resolve_proxies("all"), cells[: args.full_cells]),
    }
    info = machine()
    print(
        f"{info['platform']}, {info['cpus']} CPUs, torch {info['torch']}, load average {info['load_average_at_start']}"
    )
    results = []
    for name, (proxies, subset) in sets.items():
        if not subset:  # --full-cells 0 / --cheap-cells 0: that set is skipped
            continue
        for backend in backends:
            for workers in sorted({1, args.workers}):
                result = {"set": name, **run_config(backend, workers, subset, proxies, settings, dataset)}
                results.append(result)
                print(
                    f"{name:5s} {backend:5s} x{workers}: {result['cells']} cells in {result['seconds']:.1f} s = "
                    f"{result['cells_per_min']:.1f} cells/min (start-up {result['startup_s']:.1f} s; "
                    f"{result['cells_per_min_with_startup']:.1f} with it), task {result['mean_task_s']:.2f} s, "
                    f"efficiency {result['efficiency']:.2f}, peak RSS {result['max_worker_peak_rss_mib']:.0f} MiB"
                    f"{' (in-process, includes the driver)' if result['in_process'] else ''}, "
                    f"{result['failed_values']} failed, load {result['load_average_1min_before']:.1f}",
                    flush=True,
                )
    ups = speedups(results, args.workers)
    for key, value in ups.items():
        print(f"speed-up {args.workers} vs 1 workers, {key}: {value:.2f}x")
    best = {r["workers"]: r["cells_per_min"] for r in results if r["set"] == "cheap" and r["backend"] == "local"}
    projection = {}
    if args.workers in best:
        minutes = NB201_CELLS / best[args.workers]
        projection = {"cells": NB201_CELLS, "set": list(CHEAP), "workers": args.workers, "minutes_per_seed": minutes}
        print(
            f"projected: {NB201_CELLS} NB201 cells x {{{', '.join(CHEAP)}}} on {args.workers} local workers: "
            f"{minutes:.0f} min ({minutes / 60:.1f} h) per seed, {5 * minutes / 60:.1f} h for seeds 0-4"
        )
    info["load_average_at_end"] = list(os.getloadavg())
    payload = {
        "machine": info,
        "batch_size": args.batch_size,
        "dataset": dataset,
        "batch_source": settings.as_dict(dataset)["source"],
        "results": results,
        "speedups": ups,
        "projection": projection,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2))
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
