"""Few-shot accuracy predictor (XGBoost on proxy values + encoding) on NB201 x3 and NAS-Bench-101.

For each benchmark: the pool is one uniform draw (the `zeronas evaluate --sample N` draw, sample seed 0)
with the proxy values of the exported sweeps in `benchmarks/results/store/` (seed 0); N = 10, 25, 50,
100 labelled cells are drawn at random from the pool (5 draws each) and the predictor ranks the rest.
Features: the proxies (NB201: 16 survey proxies plus MeCo and AZ-NAS's four components), the registered
ensembles of them (log-rank sums over the pool), the one-hot encoding and the space's graph descriptors.
Besides the full model: the same without the ensemble columns, proxies (and their ensembles) only, encoding
(one-hot and graph) only, the earlier model (raw target, depth 3, proxies and one-hot only) and the best
single proxy chosen on the N labels. NB101 has four pools: 1,000 cells with 7 cheap proxies, 200 and 400
cells (the 200 nested in the 400) with params, flops, synflow, MeCo and AZ-NAS's four components, and 800
cells (the 400 nested in them) with the 7 cheap proxies, MeCo, AZ-NAS's four components and zen.
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
    ENCODING_PREFIX,
    GRAPH_PREFIX,
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
#: the post-survey proxies added to each NB201 pool (their rows in the `*meco_az*` exports of the same cells)
POST_SURVEY = ("meco", "az_expressivity", "az_progressivity", "az_trainability", "az_complexity")
#: (space, dataset, uniform draw size, exported files with its seed-0 proxy values and the proxies taken from
#: each: None = all)
SETTINGS = (
    (
        "nb201",
        "cifar10",
        500,
        (("nb201_cifar10_p16_sample500_seed0", None), ("nb201_cifar10_meco_az_seed0", POST_SURVEY)),
    ),
    (
        "nb201",
        "cifar100",
        1000,
        (
            ("nb201_cifar100_cheap_seed0", None),
            ("nb201_cifar100_p12_sample1000_top5_seed0", None),
            ("nb201_cifar100_meco_az_sample1000_top5_seed0", POST_SURVEY),
        ),
    ),
    (
        "nb201",
        "ImageNet16-120",
        1000,
        (
            ("nb201_ImageNet16-120_cheap_seed0", None),
            ("nb201_ImageNet16-120_p12_sample1000_top5_seed0", None),
            ("nb201_ImageNet16-120_meco_az_sample1000_top5_seed0", POST_SURVEY),
        ),
    ),
    ("nb101", "cifar10", 1000, (("nb101_cifar10_p7_sample1000_seed0", None),)),
    ("nb101", "cifar10", 200, (("nb101_cifar10_zs_az_sample200_seed0", None),)),
    (
        "nb101",
        "cifar10",
        400,
        (("nb101_cifar10_zs_az_sample200_seed0", None), ("nb101_cifar10_meco_az_sample400_seed0", None)),
    ),
    (
        "nb101",
        "cifar10",
        800,
        (
            ("nb101_cifar10_p7_sample1000_seed0", None),
            ("nb101_cifar10_zs_az_sample200_seed0", POST_SURVEY),
            ("nb101_cifar10_meco_az_sample400_seed0", None),
            ("nb101_cifar10_meco_az_sample800_seed0", None),
            ("nb101_cifar10_zen_sample200_seed0", None),
            ("nb101_cifar10_zen_sample800_seed0", None),
        ),
    ),
)
#: the goal of the issue at 100 labels, and NAS-Bench-Suite-Zero's XGBoost on 13 proxies (100 / 1,000 labels)
GOALS = {"cifar10": 0.95, "cifar100": 0.95, "ImageNet16-120": 0.95, "nb101": 0.82}
SUITE_ZERO = {"cifar10": ".905 / .954", "cifar100": ".907 / .953", "ImageNet16-120": ".879 / .948", "nb101": "- / .811"}
#: the model of the first version (raw accuracy, depth 3, column subsample 0.8, one-hot encoding only)
EARLIER_MODEL = {"target": "raw", "params": {"max_depth": 3, "colsample_bytree": 0.8}}


def pool_values(
    space: str, dataset: str, size: int, files: tuple[tuple[str, tuple[str, ...] | None], ...]
) -> pd.DataFrame:
    """Seed-0 proxy values (cells x proxies) of the uniform draw, from the exported sweeps."""
    frames = []
    for name, proxies in files:
        rows = pd.read_csv(STORE / f"{name}.csv.gz")
        frames.append(rows if proxies is None else rows[rows["proxy"].isin(proxies)])
    rows = pd.concat(frames)
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
        if not all((STORE / f"{name}.csv.gz").is_file() for name, _ in files):
            print(f"skip {space}/{dataset}: export missing")
            continue
        values = pool_values(space, dataset, size, files)
        truth = ground_truth(space, dataset, "test")
        search_space = create_space(space)
        key = "nb101" if space == "nb101" else dataset
        full = feature_table(values, search_space)
        plain = feature_table(values, search_space, ensembles=False)
        for variant, features, model in (
            ("proxies+encoding", full, None),
            ("no ensembles", plain, None),
            ("proxies", feature_table(values), None),
            ("encoding", full[[c for c in full.columns if c.startswith((ENCODING_PREFIX, GRAPH_PREFIX))]], None),
            ("earlier model", plain[[c for c in plain.columns if not c.startswith(GRAPH_PREFIX)]], EARLIER_MODEL),
        ):
            start = time.perf_counter()
            proxies = list(values.columns) if variant != "encoding" else []
            curve = fewshot_curve(features, truth, DEFAULT_LABELS, args.draws, 0, proxies=proxies, model=model)
            summary = summarise_curve(curve)
            seconds = time.perf_counter() - start
            record = {
                "space": space,
                "dataset": dataset,
                "variant": variant,
                "model": model or "default",
                "pool": len(values),
                "proxies": list(values.columns),
                "seconds": seconds,
                "summary": summary.to_dict(orient="records"),
            }
            report.append(record)
            stem = f"curve_{space}_{dataset}_pool{len(values)}_{variant.replace('+', '_').replace(' ', '_')}"
            curve.assign(space=space, dataset=dataset, variant=variant).to_csv(args.out / f"{stem}.csv", index=False)
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
