"""Few-shot search on NB201: 1,000 cells scored by proxies, 50 or 100 of them "trained" as a predictor chooses.

Per data set and search seed (0-4): `search(..., algorithm="fewshot", evaluations=1000, labels=L)` with the
cheap proxies params, flops, synflow, nwot (proxy seed 0, so runs share stored values; the checked-in
full-space exports of CIFAR-100 and ImageNet16-120 are imported first and nothing is recomputed there).
On the same 1,000 scored cells, two baselines: the zero-shot pick (the cell with the best mean z-score of
the proxies, no training) and training L cells drawn at random (the best of them). Accuracies are the
benchmark's test accuracy; the space optimum is 94.37 / 73.51 / 47.31.

Usage: python benchmarks/fewshot_search.py --store /tmp/fewshot.sqlite [--seeds 5] [--out benchmarks/results/fewshot]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from zeronas.groundtruth.truth import ground_truth
from zeronas.search import search
from zeronas.store import ResultStore
from zeronas.store.transfer import import_rows

STORE = Path(__file__).parent / "results" / "store"
PROXIES = "params,flops,synflow,nwot"
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
EXPORTS = ("nb201_cifar100_cheap_seed0", "nb201_ImageNet16-120_cheap_seed0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--labels", default="50,100")
    parser.add_argument("--evaluations", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/fewshot"))
    args = parser.parse_args()
    store = ResultStore(args.store)
    for name in EXPORTS:
        if (STORE / f"{name}.csv.gz").is_file():
            import_rows(store, STORE / f"{name}.csv.gz")
    runs, lines = [], []
    for dataset in DATASETS:
        truth = ground_truth("nb201", dataset, "test")
        for labels in (int(n) for n in args.labels.split(",")):
            found, zero_shot, random_l, seconds = [], [], [], []
            for seed in range(args.seeds):
                start = time.perf_counter()
                result = search(
                    "nb201",
                    dataset,
                    PROXIES,
                    "fewshot",
                    evaluations=args.evaluations,
                    seed=seed,
                    proxy_seed=0,
                    store=store,
                    labels=labels,
                )
                seconds.append(time.perf_counter() - start)
                pool = result.history.drop_duplicates("arch")
                found.append(float(truth[result.best_arch]))
                zero_shot.append(float(truth[pool.sort_values("value", ascending=False)["arch"].iloc[0]]))
                draw = np.random.default_rng([seed, labels]).choice(pool["arch"].to_numpy(), labels, replace=False)
                random_l.append(float(truth[list(draw)].max()))
                runs.append(
                    {
                        "dataset": dataset,
                        "labels": labels,
                        "seed": seed,
                        "found": found[-1],
                        "zero_shot_pick": zero_shot[-1],
                        "random_trained_best": random_l[-1],
                        "seconds": seconds[-1],
                        "proxy_computations": result.stats["proxy_computations"],
                        "reused": result.stats["reused"],
                    }
                )
            line = (
                f"| {dataset} | {labels} | {np.mean(found):.2f} ± {np.std(found, ddof=1):.2f} | "
                f"{np.mean(random_l):.2f} ± {np.std(random_l, ddof=1):.2f} | "
                f"{np.mean(zero_shot):.2f} ± {np.std(zero_shot, ddof=1):.2f} | {truth.max():.2f} | "
                f"{np.mean(seconds):.0f} |"
            )
            lines.append(line)
            print(line, flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "fewshot_search.json").write_text(json.dumps(runs, indent=2))
    header = (
        f"| data set | cells trained | few-shot search | best of as many random cells | zero-shot pick ({PROXIES}) "
        "| optimum | seconds per search |\n|---|---|---|---|---|---|---|"
    )
    (args.out / "fewshot_search.md").write_text(header + "\n" + "\n".join(lines) + "\n")
    print(f"wrote {args.out}/fewshot_search.json and fewshot_search.md")


if __name__ == "__main__":
    main()
