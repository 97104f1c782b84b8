"""Few-shot accuracy predictor (XGBoost on proxy values + encoding) on NB201 x3 and NAS-Bench-101.

For each benchmark: the pool is one uniform draw (the `zeronas evaluate --sample N` draw, sample seed 0)
with the proxy values of the exported sweeps in `benchmarks/results/store/` (seed 0); N = 10, 25, 50,
100 labelled cells are drawn at random from the pool (5 draws each) and the predictor ranks the rest.
Besides the full model: proxies only, encoding only, and the best single proxy chosen on the N labels.
The model's settings were chosen on NB201 CIFAR-10 only; CIFAR-100, ImageNet16-120 and NB101 are held out.

Usage: python benchmarks/fewshot.py [--draws 5] [--out benchmarks/results/fewshot]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from zeronas.evaluation.fewshot import (
    DEFAULT_LABELS,
    complete_cells,
    feature_table,
    fewshot_curve,
    proxy_table,
    summarise_curve,
)
from zeronas.evaluation.sweep import plan_sweep
from zeronas.groundtruth.truth import ground_truth
from zeronas.spaces import create_space

STORE = Path(__file__).parent / "results" / "store"
#: (space, dataset, uniform draw size, exported files with its seed-0 proxy values)
SETTINGS = (
    ("nb201", "cifar10", 500, ("nb201_cifar10_p16_sample500_seed0",)),
    ("nb201", "cifar100", 1000, ("nb201_cifar100_cheap_seed0", "nb201_cifar100_p12_sample1000_top5_seed0")),
    (
        "nb201",
        "ImageNet16-120",
        1000,
        ("nb201_ImageNet16-120_cheap_seed0", "nb201_ImageNet16-120_p12_sample1000_top5_seed0"),
    ),
    ("nb101", "cifar10", 1000, ("nb101_cifar10_p7_sample1000_seed0",)),
)
#: the goal of the issue at 100 labels, and NAS-Bench-Suite-Zero's XGBoost on 13 proxies (100 / 1,000 labels)
GOALS = {"cifar10": 0.95, "cifar100": 0.95, "ImageNet16-120": 0.95, "nb101": 0.82}
SUITE_ZERO = {"cifar10": ".905 / .954", "cifar100": ".907 / .953", "ImageNet16-120": ".879 / .948", "nb101": "- / .811"}


def pool_values(space: str, dataset: str, size: int, files: tuple[str, ...]) -> pd.DataFrame:
    """Seed-0 proxy values (cells x proxies) of the uniform draw, from the exported sweeps."""
    rows = pd.concat([pd.read_csv(STORE / f"{name}.csv.gz") for name in files])
    rows = rows[rows["seed"] == 0]
    uniform = set(plan_sweep(space, dataset, size, 0, 0, "test").uniform)
    rows = rows[rows["arch"].isin(uniform)]
    rows = rows[rows["arch"].isin(complete_cells(rows, sorted(rows["proxy"].unique())))]
    return proxy_table(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/fewshot"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    report, lines = [], []
    for space, dataset, size, files in SETTINGS:
        if not all((STORE / f"{name}.csv.gz").is_file() for name in files):
            print(f"skip {space}/{dataset}: export missing")
            continue
        values = pool_values(space, dataset, size, files)
        truth = ground_truth(space, dataset, "test")
        search_space = create_space(space)
        key = "nb101" if space == "nb101" else dataset
        for variant, features in (
            ("proxies+encoding", feature_table(values, search_space)),
            ("proxies", feature_table(values)),
            ("encoding", feature_table(values, search_space).drop(columns=list(values.columns))),
        ):
            start = time.perf_counter()
            proxies = list(values.columns) if variant != "encoding" else []
            curve = fewshot_curve(features, truth, DEFAULT_LABELS, args.draws, 0, proxies=proxies)
            summary = summarise_curve(curve)
            seconds = time.perf_counter() - start
            record = {
                "space": space,
                "dataset": dataset,
                "variant": variant,
                "pool": len(values),
                "proxies": list(values.columns),
                "seconds": seconds,
                "summary": summary.to_dict(orient="records"),
            }
            report.append(record)
            curve.assign(space=space, dataset=dataset, variant=variant).to_csv(
                args.out / f"curve_{space}_{dataset}_{variant.replace('+', '_')}.csv", index=False
            )
            at = summary.set_index("labels")
            cells = " | ".join(f"{at.loc[n, 'spearman_mean']:.3f} ± {at.loc[n, 'spearman_std']:.3f}" for n in at.index)
            extra = ""
            if variant == "proxies+encoding":
                extra = (
                    f" | {at.loc[100, 'spearman_top_mean']:.3f} | {at.loc[100, 'proxy_spearman_mean']:.3f}"
                    f" | {GOALS[key]} | {SUITE_ZERO[key]}"
                )
            else:
                extra = " | | | |"
            lines.append(f"| {space} {dataset} | {variant} | {len(values)} | {cells}{extra} |")
            print(lines[-1], f"({seconds:.1f} s)", flush=True)
    (args.out / "fewshot.json").write_text(json.dumps(report, indent=2, default=float))
    header = (
        "| benchmark | features | pool | SPR N=10 | N=25 | N=50 | N=100 | SPR top 5% (N=100) | best single proxy "
        "chosen on the 100 labels | goal (N=100) | Suite-Zero XGBoost 100 / 1,000 labels |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|"
    )
    (args.out / "fewshot.md").write_text(header + "\n" + "\n".join(lines) + "\n")
    print(f"wrote {args.out}/fewshot.json, fewshot.md and the curves")


if __name__ == "__main__":
    main()
