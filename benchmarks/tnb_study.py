"""TransNAS-Bench-101 micro, the survey's Fig 10 and Table V with zeronas's own values, all seven tasks.

Two kinds of rows per task, against the benchmark's validation metric (higher is better on every task):
  - params and flops of all 4,096 cells, from the space's exact part-counted costs
    (`TransNASMicroSpace.analytic_cost`, equal to the `params`/`flops` proxies on the built networks;
    with `--store` the equality is checked on every cell the store holds): Spearman/Kendall @All
    (4,096 cells) and @Top5% (the 205 cells of the top 5%), and the best-found metric (Table V);
  - every proxy of a `zeronas evaluate` sweep store (`--store`), through the same evaluation as
    `zeronas evaluate` (uniform draw @All, the top-5% draw @Top5%, best-found over the scored cells).
Beside them: the survey's Table V and NAS-Bench-Suite-Zero's figures recomputed from its reference
values (`benchmarks/tnb_reference.py`). Writes JSON and Markdown tables.

    python benchmarks/tnb_study.py [--store tnb.sqlite] [--out benchmarks/results/tnb_study]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd
from ensemble import group_digest
from proxies import machine
from tnb_reference import SURVEY_TABLE_V, figure_rows, task_rows

from zeronas.evaluation.groups import evaluate_group
from zeronas.evaluation.report import markdown_table
from zeronas.spaces import create_space, get_benchmark
from zeronas.spaces.tnb import TASK_NAMES
from zeronas.store import ResultStore

ANALYTIC = ("params", "flops")


def analytic_values(task: str) -> pd.DataFrame:
    """params (M) and flops (MFLOPs) of every micro cell for `task`, one row per canonical key."""
    space = create_space("tnb_micro")
    keys = list(space.enumerate())
    costs = {what: [space.analytic_cost(k, what, task=task) for k in keys] for what in ANALYTIC}
    return pd.DataFrame(costs, index=keys)


def analytic_rows(task: str, values: pd.DataFrame, top: float) -> list[dict[str, object]]:
    """Fig 10 and Table V rows of the analytic proxies over every cell of the space."""
    truth = get_benchmark("tnb_micro").ground_truth(task, "val").reindex(values.index)
    extra = {"source": "analytic, all cells", "optimum": float(truth.max())}
    return [{**row, **extra} for row in figure_rows(task, values, truth, top)]


def store_rows(store: ResultStore, task: str, top: float) -> list[dict[str, object]]:
    """Rows of every proxy stored for `task` (its largest settings group), evaluated as `zeronas evaluate` does."""
    digest = group_digest(store, "tnb_micro", task)
    result = evaluate_group(store, "tnb_micro", task, digest, "val", seeds=[0], top=top)
    rows = []
    for _, row in result.evaluation.summary.iterrows():
        rows.append({"task": task, "proxy": row["proxy"], "source": "sweep store", "cells": int(row["cells_all"]),
                     "spr_all": row["spr_all"], "kt_all": row["kt_all"], "cells_top": int(row["cells_top"]),
                     "spr_top": row["spr_top"], "kt_top": row["kt_top"], "best_found": row["best_acc"],
                     "optimum": row["optimum"]})  # fmt: skip
    return rows


def check_equal(store: ResultStore, task: str, values: pd.DataFrame) -> dict[str, list[int]]:
    """[equal, compared] of each analytic proxy against the store's values of the built networks."""
    stored = store.frame(space="tnb_micro", dataset=task, proxies=list(ANALYTIC), seeds=[0])
    stored = stored[stored["status"] == "ok"]
    out = {}
    for proxy in ANALYTIC:
        rows = stored[stored["proxy"] == proxy].set_index("arch")["value"]
        out[proxy] = [int((rows == values.loc[rows.index, proxy]).sum()), len(rows)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="a zeronas evaluate store of tnb_micro sweeps")
    parser.add_argument("--top", type=float, default=5.0)
    parser.add_argument("--date", default=time.strftime("%Y-%m-%d"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/tnb_study"))
    args = parser.parse_args()
    store = ResultStore(args.store) if args.store else None
    stored_tasks = set() if store is None else set(store.groups().query("space == 'tnb_micro'")["dataset"])
    rows, equal = [], {}
    for task in TASK_NAMES:
        values = analytic_values(task)
        rows += analytic_rows(task, values, args.top)
        if store is not None and task in stored_tasks:
            rows += store_rows(store, task, args.top)
            equal[task] = check_equal(store, task, values)
        rows += [{**r, "source": "NAS-Bench-Suite-Zero reference values"} for r in task_rows(task, args.top)]
    frame = pd.DataFrame(rows)
    pairs = zip(frame["task"], frame["proxy"], strict=True)
    frame["survey_table_v"] = [SURVEY_TABLE_V.get(task, {}).get(proxy) for task, proxy in pairs]
    print(frame.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    if equal:
        print("analytic == stored proxy value [equal, compared]:", equal)
    args.out.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/tnb_study.py" + (f" --store {args.store.name}" if args.store else "")
    report = {"machine": machine(), "measured": args.date, "command": command,
              "ground_truth": "get_benchmark('tnb_micro').ground_truth(task, 'val')",
              "analytic_equals_stored": equal, "rows": frame.to_dict(orient="records")}  # fmt: skip
    (args.out / "tnb_study.json").write_text(json.dumps(report, indent=1, default=float) + "\n")
    own = frame[frame["source"] != "NAS-Bench-Suite-Zero reference values"].copy()
    analytic = own["source"] == "analytic, all cells"
    own.loc[analytic, "proxy"] = own.loc[analytic, "proxy"] + " (all 4,096 cells)"
    for metric in ("spr_all", "spr_top", "best_found"):
        wide = own.pivot_table(index="proxy", columns="task", values=metric, sort=False)[list(TASK_NAMES)]
        (args.out / f"{metric}.md").write_text(markdown_table(wide.round(3).reset_index()) + "\n")


if __name__ == "__main__":
    main()
