"""TransNAS-Bench-101 proxy fidelity: zeronas proxies against NAS-Bench-Suite-Zero's on a sample of micro cells.

For each task, a seeded sample of the cells of `benchmarks/reference_zc/transnas101_micro__<task>.json`
(keys are op-digit tuples) is built with `TransNASMicroSpace().build(key, task=task)` (weights seeded),
scored with `zeronas.score` on the task's batch (`load_batch(task)`: real ImageNet inputs, the task's
targets and loss), and each proxy's values are rank-correlated (Spearman) with the reference values of
the same proxy (`jacob_cov` is the reference's `jacov`; synflow has no reference value) and with the
cells' validation metric. Results go to JSON with the machine description, after every task.

    python benchmarks/tnb_fidelity.py [--cells 16] [--batch-size 8] [--tasks autoencoder,jigsaw] [--threads 1]
"""

from __future__ import annotations

import argparse
import ast
import json
import time
from pathlib import Path

import numpy as np
import torch
from proxies import machine
from scipy.stats import spearmanr

from zeronas import score
from zeronas.config import data_file, read_data_json
from zeronas.data import load_batch
from zeronas.evaluation.scoring import build_seeded
from zeronas.spaces.tnb import TASK_NAMES, TransNASMicroSpace, get_task

REFERENCE = "benchmarks/reference_zc/transnas101_micro__{task}.json"
DEFAULT_OUT = Path("benchmarks/results/tnb_fidelity.json")
PROXIES = ("synflow", "snip", "grad_norm", "jacob_cov", "nwot", "fisher", "grasp", "params")
#: zeronas name -> the reference file's name
REFERENCE_NAME = {"jacob_cov": "jacov"}
#: tasks whose targets are real here (the others' targets are seeded stand-ins)
REAL_TARGETS = ("autoencoder", "jigsaw")


def _spearman(a: list[float], b: list[float]) -> float | None:
    """Spearman's rho over the pairs where both are finite; None when fewer than 3 or one side is constant."""
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if np.isfinite(x) and np.isfinite(y)]
    if len(pairs) < 3 or len({p[0] for p in pairs}) < 2 or len({p[1] for p in pairs}) < 2:
        return None
    rho = spearmanr([p[0] for p in pairs], [p[1] for p in pairs]).statistic
    return round(float(rho), 4)


def run_task(task: str, cells: int, batch_size: int, seed: int) -> dict[str, object]:
    """Score a seeded sample of the task's reference cells; correlations per proxy."""
    reference = read_data_json(data_file(REFERENCE.format(task=task)))
    keys = sorted(reference)
    picks = sorted(int(i) for i in np.random.default_rng(seed).choice(len(keys), cells, replace=False))
    space = TransNASMicroSpace(task=task)
    batch = load_batch(task, batch_size, seed)
    ours: dict[str, list[float]] = {p: [] for p in PROXIES}
    theirs: dict[str, list[float]] = {p: [] for p in PROXIES}
    accuracy, statuses = [], {p: {} for p in PROXIES}
    start = time.time()
    for i in picks:
        key = keys[i]
        net = build_seeded(space, space.validate(ast.literal_eval(key)), get_task(task).outputs, seed)
        scores = score(net, batch, list(PROXIES), seed=seed, inplace=True)
        for name in PROXIES:
            detail = scores.details[name]
            ours[name].append(detail.value if detail.ok else float("nan"))
            statuses[name][detail.status] = statuses[name].get(detail.status, 0) + 1
            ref = reference[key].get(REFERENCE_NAME.get(name, name))
            theirs[name].append(float(ref["score"]) if ref else float("nan"))
        accuracy.append(float(reference[key]["val_accuracy"]))
        print(f"{task} {key} {time.time() - start:.0f}s", flush=True)
    result = {
        "cells": len(picks),
        "targets": "real" if task in REAL_TARGETS else "stand-in",
        "batch_source": batch.source,
        "loss": batch.loss,
        "seconds": round(time.time() - start, 1),
        "spearman_vs_reference": {p: _spearman(ours[p], theirs[p]) for p in PROXIES},
        "spearman_vs_val_accuracy": {p: _spearman(ours[p], accuracy) for p in PROXIES},
        "reference_spearman_vs_val_accuracy": {p: _spearman(theirs[p], accuracy) for p in PROXIES},
        "status": statuses,
        "keys": [keys[i] for i in picks],
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=16, help="Reference cells per task (seeded sample).")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--tasks", default=",".join(("autoencoder", "jigsaw", *(t for t in TASK_NAMES if t not in REAL_TARGETS)))
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--date", default=time.strftime("%Y-%m-%d"))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tasks = [get_task(t).name for t in args.tasks.split(",")]
    report: dict[str, object] = {
        "machine": {**machine(), "description": "2-core CPU machine (shared)"},
        "measured": args.date,
        "command": f"python benchmarks/tnb_fidelity.py --cells {args.cells} --batch-size {args.batch_size} "
        f"--seed {args.seed} --tasks {','.join(tasks)} --threads {args.threads}",
        "proxies": list(PROXIES),
        "goal": "Spearman >= 0.80 against the reference on the tasks with real targets (autoencoder, jigsaw)",
        "tasks": {},
    }
    for task in tasks:
        report["tasks"][task] = run_task(task, args.cells, args.batch_size, args.seed)
        print(task, json.dumps(report["tasks"][task]["spearman_vs_reference"]), flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
