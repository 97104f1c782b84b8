"""Post-survey proxies on stored sweeps: Spearman/Kendall next to #Params and the published figures.

Reads the values that `zeronas evaluate` stored (one settings group per store, seed 0, the recorded uniform
draws and top sets), keeps the cells where `swap` was computed (so every proxy and #Params are compared on the
same cells) and rank-correlates each post-survey proxy with test accuracy over the cells where it is finite.
`reg_swap` is derived from the stored `swap` and `params` values (SWAP x exp(-(P - mu)^2 / sigma), P in
thousands of parameters, exactly the proxy's formula). mu and sigma have no default in the SWAP code, so they
are chosen on the `--design` benchmark only (NB201 CIFAR-10: a grid of mu over quantiles and multiples of
the maximum of P and sigma over multiples of var(P), best Spearman) and then applied untouched to every
other benchmark. Writes JSON and a Markdown table.

    python benchmarks/post_survey_stores.py nb201:cifar10:C10.sqlite nb201:cifar100:C100.sqlite \
        [--design nb201:cifar10] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
from ensemble import first_metric, store_table
from post_survey_fidelity import correlations
from proxies import machine

from zeronas.evaluation.report import markdown_table
from zeronas.groundtruth.truth import ground_truth
from zeronas.store import ResultStore

OUT = Path("benchmarks/results/post_survey_stores")
PROXIES = ("params", "swap", "reg_swap", "jacobian_isometry", "genas_flatness", "meco", "meco_opt")
#: Spearman on NB201 test accuracy as the proxies' papers publish it (benchmark -> proxy -> rho)
PUBLISHED = {
    "nb201/cifar10": {"meco": 0.89},
    "nb201/cifar100": {"reg_swap": 0.90},
}
#: mu: quantiles of P, then multiples of its maximum (the best may lie beyond the largest cell)
MU_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
MU_BEYOND = (1.25, 1.5, 2.0, 3.0)
SIGMA_FACTORS = tuple(2.0**k for k in range(-3, 9))


def reg_swap(values: pd.DataFrame, mu: float, sigma: float) -> pd.Series:
    """The reg_swap proxy's value from stored swap and params (millions) values."""
    size = values["params"] * 1e3
    return values["swap"] * np.exp(-((size - mu) ** 2) / sigma)


def design_reg_swap(values: pd.DataFrame, truth: pd.Series) -> dict[str, object]:
    """mu, sigma of the grid with the best Spearman of reg_swap on this benchmark (the design data)."""
    both = values[["swap", "params"]].dropna()
    size = both["params"] * 1e3
    trials = []
    centres = [(f"quantile {q:g}", float(size.quantile(q))) for q in MU_QUANTILES]
    centres += [(f"{m:g} x max", m * float(size.max())) for m in MU_BEYOND]
    variance = float(size.var())
    for where, mu in centres:
        for factor in SIGMA_FACTORS:
            sigma = variance * factor
            rho = correlations(reg_swap(both, mu, sigma), truth)["spearman"]
            trials.append({"mu_at": where, "sigma_factor": factor, "mu": mu, "sigma": sigma, "spearman": rho})
    best = max(trials, key=lambda t: -math.inf if t["spearman"] is None else t["spearman"])
    return {"chosen": best, "grid": trials}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stores", nargs="+", help="space:dataset:store.sqlite")
    parser.add_argument("--design", default="nb201:cifar10", help="space:dataset that chooses reg_swap's mu, sigma")
    parser.add_argument("--date", default=time.strftime("%Y-%m-%d"))
    parser.add_argument("--out", type=Path, default=OUT, help="folder of post_survey_stores.json and .md")
    args = parser.parse_args()

    tables = {}
    for entry in args.stores:
        space, dataset, path = entry.split(":", 2)
        values = store_table(ResultStore(Path(path)), space, dataset)
        if "swap" in values:  # the cells the post-survey sweep covered: every proxy on the same cells as #Params
            values = values[values["swap"].notna()]
        tables[f"{space}/{dataset}"] = (values, ground_truth(space, dataset, first_metric(space)).reindex(values.index))
    design_key = args.design.replace(":", "/")
    if design_key not in tables:
        raise SystemExit(f"--design {args.design}: not among the stores given")
    design = design_reg_swap(*tables[design_key])
    mu, sigma = design["chosen"]["mu"], design["chosen"]["sigma"]
    records = []
    for benchmark, (values, truth) in tables.items():
        if {"swap", "params"} <= set(values):
            values = values.assign(reg_swap=reg_swap(values, mu, sigma))
        for proxy in [p for p in PROXIES if p in values]:
            corr = correlations(values[proxy], truth)
            records.append({"benchmark": benchmark, "proxy": proxy, "cells": corr["used"], "failed": corr["failed"],
                            "spearman": corr["spearman"], "kendall": corr["kendall"],
                            "published": PUBLISHED.get(benchmark, {}).get(proxy)})  # fmt: skip
    frame = pd.DataFrame(records)
    print(frame.to_string(index=False))
    print(f"reg_swap: mu {mu:.1f}, sigma {sigma:.1f} (thousands of parameters), chosen on {design_key}")
    report = {
        "machine": machine(),
        "measured": args.date,
        "command": "python benchmarks/post_survey_stores.py " + " ".join(args.stores) + f" --design {args.design}",
        "ground_truth": "test accuracy",
        "reg_swap_design": {"benchmark": design_key, **design},
        "rows": records,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "post_survey_stores.json").write_text(json.dumps(report, indent=1) + "\n")
    (args.out / "post_survey_stores.md").write_text(markdown_table(frame) + "\n")


if __name__ == "__main__":
    main()
