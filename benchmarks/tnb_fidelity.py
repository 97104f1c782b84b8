"""TransNAS-Bench-101 proxy fidelity: zeronas proxies against NAS-Bench-Suite-Zero's on a sample of micro cells.

For each task, a seeded sample of the cells of `benchmarks/reference_zc/transnas101_micro__<task>.json`
(keys are op-digit tuples) is built with `TransNASMicroSpace().build(key, task=task)` (weights seeded),
scored with `zeronas.score` on the task's batch (`load_batch(task)`: real ImageNet inputs, the task's
targets and loss), and each proxy's values are rank-correlated (Spearman) with the reference values of
the same proxy (`jacob_cov` is the reference's `jacov`; synflow has no reference value) and with the
cells' validation metric. With `--repeat-seed S` every cell is scored again under seed S (another
initialisation and another batch of the same images) and each proxy's seed-to-seed Spearman is reported:
the agreement a proxy has with itself when the weights and images change, which bounds what a
reference computed with other weights and other images (NAS-Bench-Suite-Zero's, on Taskonomy) can show.
With `--perturb R` every cell is scored again under the same seed on the batch times (1 + R·N(0,1))
(seeded noise): a proxy whose ranking moves under R far below an 8-bit pixel step (1/255) ranks cells
by float rounding, and no implementation can match another's values on it.
Results go to JSON with the machine description, after every task.

    python benchmarks/tnb_fidelity.py [--cells 16] [--batch-size 8] [--tasks autoencoder,jigsaw] [--threads 1]
        [--proxies jacob_cov,grasp] [--repeat-seed 1] [--perturb 1e-6]
"""

from __future__ import annotations

import argparse
import ast
import functools
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from proxies import machine
from scipy.stats import spearmanr

from zeronas import score
from zeronas.config import data_file, read_data_json
from zeronas.data import Batch, load_batch
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


@functools.lru_cache(maxsize=4)
def _batch(task: str, batch_size: int, seed: int) -> Batch:
    return load_batch(task, batch_size, seed)


@functools.lru_cache(maxsize=4)
def _perturbed_batch(task: str, batch_size: int, seed: int, relative: float) -> Batch:
    batch = _batch(task, batch_size, seed)
    noise = torch.randn(batch.x.shape, generator=torch.Generator().manual_seed(seed + 1), dtype=batch.x.dtype)
    return replace(batch, x=batch.x * (1.0 + relative * noise))


def _score_cell(
    space: TransNASMicroSpace,
    key: str,
    task: str,
    proxies: tuple[str, ...],
    batch_size: int,
    seed: int,
    perturb: float | None = None,
) -> dict[str, object]:
    """Score details of one reference cell built and scored under `seed` (on the perturbed batch with `perturb`)."""
    net = build_seeded(space, space.validate(ast.literal_eval(key)), get_task(task).outputs, seed)
    batch = _batch(task, batch_size, seed) if perturb is None else _perturbed_batch(task, batch_size, seed, perturb)
    return score(net, batch, list(proxies), seed=seed, inplace=True).details


def _values(details: dict[str, object], proxies: tuple[str, ...]) -> dict[str, float]:
    return {name: details[name].value if details[name].ok else float("nan") for name in proxies}


def run_task(
    task: str,
    cells: int,
    batch_size: int,
    seed: int,
    proxies: tuple[str, ...],
    repeat_seed: int | None = None,
    perturb: float | None = None,
) -> dict[str, object]:
    """Score a seeded sample of the task's reference cells; correlations per proxy (and seed to seed)."""
    reference = read_data_json(data_file(REFERENCE.format(task=task)))
    keys = sorted(reference)
    picks = sorted(int(i) for i in np.random.default_rng(seed).choice(len(keys), cells, replace=False))
    space = TransNASMicroSpace(task=task)
    batch = _batch(task, batch_size, seed)
    # repeated scorings: result label -> (seed, input perturbation)
    variants: dict[str, tuple[int, float | None]] = {}
    if repeat_seed is not None:
        variants[f"spearman_seed_{seed}_vs_seed_{repeat_seed}"] = (repeat_seed, None)
    if perturb is not None:
        variants[f"spearman_vs_input_perturbed_{perturb:g}"] = (seed, perturb)
    ours: dict[str, list[float]] = {p: [] for p in proxies}
    again = {label: {p: [] for p in proxies} for label in variants}
    theirs: dict[str, list[float]] = {p: [] for p in proxies}
    accuracy, statuses = [], {p: {} for p in proxies}
    start = time.time()
    for i in picks:
        key = keys[i]
        details = _score_cell(space, key, task, proxies, batch_size, seed)
        for label, (other_seed, noise) in variants.items():
            repeated = _values(_score_cell(space, key, task, proxies, batch_size, other_seed, noise), proxies)
            for name, value in repeated.items():
                again[label][name].append(value)
        for name, value in _values(details, proxies).items():
            ours[name].append(value)
            status = details[name].status
            statuses[name][status] = statuses[name].get(status, 0) + 1
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
        "spearman_vs_reference": {p: _spearman(ours[p], theirs[p]) for p in proxies},
        "spearman_vs_val_accuracy": {p: _spearman(ours[p], accuracy) for p in proxies},
        "reference_spearman_vs_val_accuracy": {p: _spearman(theirs[p], accuracy) for p in proxies},
        "status": statuses,
        "keys": [keys[i] for i in picks],
    }
    for label, values in again.items():
        result[label] = {p: _spearman(ours[p], values[p]) for p in proxies}
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
    parser.add_argument("--proxies", default=",".join(PROXIES), help="Comma-separated proxies to compare.")
    parser.add_argument("--repeat-seed", type=int, default=None, help="Score every cell again under this seed.")
    parser.add_argument(
        "--perturb", type=float, default=None, help="Score every cell again on the batch x (1+R·N(0,1))."
    )
    parser.add_argument("--date", default=time.strftime("%Y-%m-%d"))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tasks = [get_task(t).name for t in args.tasks.split(",")]
    proxies = tuple(p.strip() for p in args.proxies.split(",") if p.strip())
    repeat = "" if args.repeat_seed is None else f" --repeat-seed {args.repeat_seed}"
    repeat += "" if args.perturb is None else f" --perturb {args.perturb:g}"
    report: dict[str, object] = {
        "machine": {**machine(), "description": "2-core CPU machine (shared)"},
        "measured": args.date,
        "command": f"python benchmarks/tnb_fidelity.py --cells {args.cells} --batch-size {args.batch_size} "
        f"--seed {args.seed} --tasks {','.join(tasks)} --threads {args.threads} --proxies {','.join(proxies)}{repeat}",
        "proxies": list(proxies),
        "goal": "Spearman >= 0.80 against the reference on the tasks with real targets (autoencoder, jigsaw)",
        "tasks": {},
    }
    for task in tasks:
        report["tasks"][task] = run_task(
            task, args.cells, args.batch_size, args.seed, proxies, args.repeat_seed, args.perturb
        )
        print(task, json.dumps(report["tasks"][task]["spearman_vs_reference"]), flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
