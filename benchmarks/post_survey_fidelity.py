"""Post-survey proxies on NAS-Bench-201: rank correlation with test accuracy on a seeded uniform sample of cells.

A seeded uniform sample (without replacement) of N architectures of the benchmark's ground truth
(`get_benchmark('nb201').ground_truth(dataset, 'test')`) is built with seeded weights
(`build_seeded`), scored with `zeronas.score` on the data set's batch (`load_batch`, real images when
the data directory has them) with the post-survey proxies and `params`, and each proxy's values are
rank-correlated (Spearman, Kendall) with the test accuracy over the cells where it is finite. The
AZ-NAS score is the pool aggregate of its four components over the sample (`az_nas_aggregate`; failed
components rank last). reg_swap is scored only when --swap-mu and --swap-sigma are given (the SWAP
code sets no defaults). Results go to JSON with the machine description.

    python benchmarks/post_survey_fidelity.py [--archs 50] [--dataset cifar10] [--batch-size 64] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from proxies import machine
from scipy.stats import kendalltau, spearmanr

import zeronas
from zeronas.evaluation.scoring import build_seeded
from zeronas.proxies import AZ_COMPONENTS, az_nas_aggregate
from zeronas.spaces import get_benchmark

SPACE = "nb201"
DEFAULT_OUT = Path("benchmarks/results/post_survey_fidelity.json")
PROXIES = ("meco", "meco_opt", "swap", *AZ_COMPONENTS, "jacobian_isometry", "params")


def correlations(values: pd.Series, truth: pd.Series) -> dict[str, object]:
    """Spearman's rho and Kendall's tau over the finite values; None when fewer than 3 or one side is constant."""
    finite = values[np.isfinite(values.to_numpy(dtype=np.float64))]
    used = truth.loc[finite.index]
    result: dict[str, object] = {"used": len(finite), "failed": len(values) - len(finite), "spearman": None}
    result["kendall"] = None
    if len(finite) >= 3 and finite.nunique() > 1 and used.nunique() > 1:
        result["spearman"] = round(float(spearmanr(finite, used).statistic), 4)
        result["kendall"] = round(float(kendalltau(finite, used).statistic), 4)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", type=int, default=50, help="Architectures in the seeded uniform sample.")
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0, help="Seeds the sample, the weights, the batch and the proxies.")
    parser.add_argument("--swap-repeats", type=int, default=32, help="Re-initialisations SWAP averages over.")
    parser.add_argument("--swap-mu", type=float, default=None, help="reg_swap's mu (thousands of parameters).")
    parser.add_argument("--swap-sigma", type=float, default=None, help="reg_swap's sigma (thousands of parameters).")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--date", default=time.strftime("%Y-%m-%d"))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    truth = get_benchmark(SPACE).ground_truth(args.dataset, "test")
    rng = np.random.default_rng(args.seed)
    keys = [truth.index[i] for i in sorted(rng.choice(len(truth), args.archs, replace=False))]
    space = zeronas.create_space(SPACE)
    classes = zeronas.data.get_dataset(args.dataset).num_classes
    batch = zeronas.load_batch(args.dataset, args.batch_size, args.seed)
    proxies = list(PROXIES)
    options: dict[str, dict[str, object]] = {"swap": {"repeats": args.swap_repeats}}
    if args.swap_mu is not None and args.swap_sigma is not None:
        proxies.insert(proxies.index("swap") + 1, "reg_swap")
        options["reg_swap"] = {"repeats": args.swap_repeats, "mu": args.swap_mu, "sigma": args.swap_sigma}

    rows, statuses = [], {p: {} for p in proxies}
    for i, key in enumerate(keys):
        net = build_seeded(space, key, classes, args.seed)
        scores = zeronas.score(net, batch, proxies, seed=args.seed, options=options, inplace=True)
        for name, detail in scores.details.items():
            statuses[name][detail.status] = statuses[name].get(detail.status, 0) + 1
        rows.append({name: (d.value if d.ok else math.nan) for name, d in scores.details.items()})
        print(f"{i + 1}/{len(keys)} {key}", flush=True)
    frame = pd.DataFrame(rows, index=keys)
    frame["az_nas"] = az_nas_aggregate(frame[list(AZ_COMPONENTS)])
    accuracy = truth.loc[keys]

    command = (
        f"python benchmarks/post_survey_fidelity.py --archs {args.archs} --dataset {args.dataset} "
        f"--batch-size {args.batch_size} --seed {args.seed} --swap-repeats {args.swap_repeats} --threads {args.threads}"
    )
    if "reg_swap" in proxies:
        command += f" --swap-mu {args.swap_mu:g} --swap-sigma {args.swap_sigma:g}"
    report = {
        "machine": {**machine(), "description": "2-core CPU machine (shared)"},
        "measured": args.date,
        "command": command,
        "space": SPACE,
        "dataset": args.dataset,
        "ground_truth": "test accuracy (get_benchmark('nb201').ground_truth(dataset, 'test'))",
        "archs": len(keys),
        "batch_source": batch.source,
        "batch_size": args.batch_size,
        "options": options,
        "reg_swap": "scored" if "reg_swap" in proxies else "skipped: give --swap-mu and --swap-sigma",
        "correlations": {name: correlations(frame[name], accuracy) for name in [*proxies, "az_nas"]},
        "status": statuses,
        "keys": keys,
    }
    for name, corr in report["correlations"].items():
        print(f"{name:18s} spearman {corr['spearman']!s:>8s} kendall {corr['kendall']!s:>8s} used {corr['used']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
