"""Zero-shot search on NAS-Bench-201: evolution vs random search vs the exhaustive pick, per proxy.

For each data set and objective (a proxy, or several as their mean z-score): `--runs` evolution runs
and `--runs` random-search runs with `--evaluations` proxy evaluations each (algorithm seeds
0..runs-1, proxies always with seed `--proxy-seed`, so runs share stored values), and the exhaustive
pick over all 15,625 cells. Reports the test accuracy (and rank) of each found cell as mean ± std.
The exhaustive pick needs the whole space in the store (`zeronas evaluate --sample 15625`, or import
the project's exports: `zeronas store import benchmarks/results/store/nb201_cifar100_cheap_seed0.csv.gz
--store zeronas-results/survey.sqlite`, likewise for ImageNet16-120); without it the cells are scored
here, which takes hours for the activation proxies. Measured results: benchmarks/results/compare_search.json.

    python scripts/compare_search.py --store zeronas-results/survey.sqlite \
        --datasets cifar100,ImageNet16-120 --objectives params,synflow,nwot,nwot+synflow
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from zeronas.search import search
from zeronas.search.outcome import benchmark_truth
from zeronas.store import ResultStore


def found(result: object, dataset: str) -> dict:
    """The found cell with its test accuracy and rank among all cells."""
    truth = benchmark_truth("nb201", [result.best_arch], dataset)
    row = truth.iloc[0]
    return {
        "arch": result.best_arch,
        "test_acc": float(row["test_acc"]),
        "rank": int(row["rank"]),
        "seconds": result.stats["seconds"],
        "computed": result.stats["proxy_computations"],
    }


def summarise(runs: list[dict]) -> dict:
    acc = np.array([r["test_acc"] for r in runs])
    return {"mean": float(acc.mean()), "std": float(acc.std(ddof=0)), "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--datasets", default="cifar100,ImageNet16-120")
    parser.add_argument("--objectives", default="params,synflow,nwot,nwot+synflow")
    parser.add_argument("--evaluations", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--proxy-seed", type=int, default=0)
    parser.add_argument("--skip-exhaustive", action="store_true", help="no exhaustive pick (a partial store)")
    parser.add_argument("--out", type=Path, default=Path("zeronas-results/compare_search.json"))
    args = parser.parse_args()
    store = ResultStore(args.store)
    table: dict = json.loads(args.out.read_text()) if args.out.exists() else {}
    for dataset in args.datasets.split(","):
        optimum = float(benchmark_truth("nb201", ["index:0"], dataset)["optimum"].iloc[0])
        for objective in args.objectives.split(","):
            proxies = objective.split("+")
            entry = table.setdefault(dataset, {}).setdefault(objective, {"optimum": optimum})
            for algorithm in ("evolution", "random"):
                runs = []
                for seed in range(args.runs):
                    result = search(
                        "nb201",
                        dataset,
                        proxies,
                        algorithm,
                        args.evaluations,
                        seed=seed,
                        proxy_seed=args.proxy_seed,
                        store=store,
                    )
                    runs.append(found(result, dataset))
                entry[algorithm] = summarise(runs)
            if not args.skip_exhaustive:
                start = time.perf_counter()
                result = search("nb201", dataset, proxies, "exhaustive", None, proxy_seed=args.proxy_seed, store=store)
                entry["exhaustive"] = found(result, dataset) | {"wall_s": time.perf_counter() - start}
            pick = entry.get("exhaustive")
            print(
                f"{dataset:15s} {objective:14s}"
                f" | evolution {entry['evolution']['mean']:.2f}±{entry['evolution']['std']:.2f}"
                f" | random {entry['random']['mean']:.2f}±{entry['random']['std']:.2f}"
                + (f" | exhaustive {pick['test_acc']:.2f} (rank {pick['rank']})" if pick else "")
                + f" | optimum {optimum:.2f}",
                flush=True,
            )
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()
