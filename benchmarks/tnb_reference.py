"""NAS-Bench-Suite-Zero's TransNAS-Bench-101 micro figures, recomputed from its own reference values.

For each of the seven tasks, `benchmarks/reference_zc/transnas101_micro__<task>.json` holds NAS-Bench-Suite-Zero's
values of 11 proxies on about 711 micro cells. Against the benchmark's ground truth of those cells
(`get_benchmark('tnb_micro').ground_truth(task)`, higher is better on every task) this reports, per proxy:
Spearman and Kendall @All (the 711 cells) and @Top5% (the cells in the top 5% of those 711 by truth), and
the truth of the cell the proxy ranks first among them (the survey's Table V "best-found"; ties: the mean).
The survey's Table V values (segmentsemantic, normal, autoencoder) are printed beside. Writes JSON and
Markdown.

    python benchmarks/tnb_reference.py [--out benchmarks/results/tnb_reference]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd
from proxies import machine

from zeronas.config import data_file, read_data_json
from zeronas.evaluation.metrics import rank_correlation, top_set, top_tied
from zeronas.evaluation.report import markdown_table
from zeronas.groundtruth.reference import NASLIB_NAMES
from zeronas.spaces import create_space, get_benchmark
from zeronas.spaces.tnb import TASK_NAMES

REFERENCE = "benchmarks/reference_zc/transnas101_micro__{task}.json"
#: the survey's Table V: the metric of the cell each proxy picks on TNB micro (and the optimum, "gt")
SURVEY_TABLE_V = {
    "segmentsemantic": {"gt": 94.61, "grad_norm": 91.66, "snip": 94.43, "grasp": 94.53, "gradsign": 90.19,
                        "fisher": 91.89, "jacob_cov": 94.34, "synflow": 94.46, "zen": 94.50, "params": 94.50,
                        "flops": 94.50},
    "normal": {"gt": 0.59, "grad_norm": 0.53, "snip": 0.53, "grasp": 0.38, "gradsign": 0.57, "fisher": 0.57,
               "jacob_cov": 0.55, "synflow": 0.53, "zen": 0.55, "params": 0.55, "flops": 0.55},
    "autoencoder": {"gt": 0.58, "grad_norm": 0.36, "snip": 0.33, "grasp": 0.33, "gradsign": 0.35, "fisher": 0.49,
                    "jacob_cov": 0.42, "synflow": 0.46, "zen": 0.46, "params": 0.46, "flops": 0.46},
}  # fmt: skip


def reference_values(task: str) -> pd.DataFrame:
    """Suite-Zero's proxy scores of one task, one row per canonical micro key, one column per proxy."""
    space = create_space("tnb_micro")
    entries = read_data_json(data_file(REFERENCE.format(task=task)))
    records = {
        space.validate(key): {NASLIB_NAMES.get(n, n): float(v["score"]) for n, v in e.items() if isinstance(v, dict)}
        for key, e in entries.items()
    }
    return pd.DataFrame.from_dict(records, orient="index")


def figure_rows(task: str, values: pd.DataFrame, truth: pd.Series, top: float) -> list[dict[str, object]]:
    """Fig 10 and Table V figures of each column of `values` (one row per cell) against `truth` of those cells."""
    members = top_set(truth, top)
    rows = []
    for proxy in values.columns:
        spr, kt, used = rank_correlation(values[proxy], truth)
        spr_top, kt_top, used_top = rank_correlation(values.loc[members, proxy], truth)
        tied = top_tied(values[proxy])
        rows.append({"task": task, "proxy": proxy, "cells": used, "spr_all": spr, "kt_all": kt,
                     "cells_top": used_top, "spr_top": spr_top, "kt_top": kt_top,
                     "best_found": float(truth.reindex(tied).mean()) if tied else None})  # fmt: skip
    return rows


def task_rows(task: str, top: float) -> list[dict[str, object]]:
    values = reference_values(task)
    space_truth = get_benchmark("tnb_micro").ground_truth(task, "val")
    truth = space_truth.reindex(values.index)
    extra = {"reference_optimum": float(truth.max()), "space_optimum": float(space_truth.max())}
    return [{**row, "survey_table_v": SURVEY_TABLE_V.get(task, {}).get(row["proxy"]), **extra}
            for row in figure_rows(task, values, truth, top)]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=float, default=5.0)
    parser.add_argument("--date", default=time.strftime("%Y-%m-%d"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/tnb_reference"))
    args = parser.parse_args()
    frame = pd.DataFrame([row for task in TASK_NAMES for row in task_rows(task, args.top)])
    print(frame.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"machine": machine(), "measured": args.date, "command": "python benchmarks/tnb_reference.py",
              "ground_truth": "get_benchmark('tnb_micro').ground_truth(task) (validation metric, higher is better)",
              "rows": frame.to_dict(orient="records")}  # fmt: skip
    (args.out / "tnb_reference.json").write_text(json.dumps(report, indent=1) + "\n")
    for metric in ("spr_all", "spr_top", "best_found"):
        wide = frame.pivot_table(index="proxy", columns="task", values=metric, sort=False)
        (args.out / f"{metric}.md").write_text(markdown_table(wide.round(3).reset_index()) + "\n")


if __name__ == "__main__":
    main()
