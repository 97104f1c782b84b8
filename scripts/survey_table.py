"""Markdown table of an evaluation next to the survey's Table IV best-found values.

Reads the `*_summary.csv` files `zeronas evaluate --out DIR` writes (SPR/KT @All and @Top-k, best-found,
mean ± std over seeds) and prints one Markdown table per file with the survey's published best-found
accuracy beside ours (Li et al., "Zero-Shot NAS: Challenges, Solutions, and Opportunities", Table IV;
only the values that table gives, as quoted in the evaluation issue). `--full` adds the best-found of a
full-space sweep (every cell scored: the setting of the survey's table) as a column.

    python scripts/survey_table.py DIR/nb201_cifar100_*_summary.csv [--full FULL/nb201_cifar100_*_summary.csv]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pandas as pd

#: survey Table IV best-found test accuracy (%) per data set; "optimum" is the space's best cell
SURVEY_TABLE_IV = {
    "cifar100": {
        "optimum": 73.51,
        "params": 71.11,
        "flops": 71.11,
        "synflow": 62.22,
        "jacob_cov": 68.89,
        "zen": 68.10,
        "grad_norm": 60.02,
        "snip": 60.02,
        "fisher": 60.02,
        "grasp": 60.02,
        "gradsign": 60.02,
    },
    "ImageNet16-120": {"optimum": 47.31, "params": 41.44, "zen": 40.77},
}


def _pm(mean: float, std: float, digits: int, seeds: int) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "n/a"
    return f"{mean:.{digits}f}" + (f" ± {std:.{digits}f}" if seeds > 1 else "")


def _dataset(frame_path: Path) -> str:
    for name in SURVEY_TABLE_IV:
        if f"_{name}_" in frame_path.name:
            return name
    raise SystemExit(f"{frame_path}: the file name names no data set of the survey table")


def table(summary: Path, full: Path | None) -> str:
    """One Markdown table: our correlations and best-found per proxy, the survey's value beside it."""
    frame = pd.read_csv(summary)
    dataset = _dataset(summary)
    survey = SURVEY_TABLE_IV[dataset]
    full_best = {}
    if full is not None:
        full_frame = pd.read_csv(full)
        full_best = dict(zip(full_frame["proxy"], full_frame["best_acc"], strict=True))
    head = "| proxy | seeds | cells All / Top | SPR@All | KT@All | SPR@Top | KT@Top | best-found (sample) |"
    rule = "|---|---|---|---|---|---|---|---|"
    if full is not None:
        head += " best-found (full space) |"
        rule += "---|"
    head += " survey Table IV |"
    rule += "---|"
    lines = [head, rule]
    frame = frame.sort_values("spr_all", ascending=False, na_position="last")
    for row in frame.itertuples(index=False):
        n = int(row.seeds)
        cells = f"{int(row.cells_all)} / {int(row.cells_top) if not math.isnan(row.cells_top) else 0}"
        cols = [
            row.proxy,
            str(n),
            cells,
            _pm(row.spr_all, row.spr_all_std, 3, n),
            _pm(row.kt_all, row.kt_all_std, 3, n),
            _pm(row.spr_top, row.spr_top_std, 3, n),
            _pm(row.kt_top, row.kt_top_std, 3, n),
            _pm(row.best_acc, row.best_acc_std, 2, n),
        ]
        if full is not None:
            value = full_best.get(row.proxy)
            cols.append(f"{value:.2f}" if value is not None and not math.isnan(value) else "—")
        cols.append(f"{survey[row.proxy]:.2f}" if row.proxy in survey else "—")
        lines.append("| " + " | ".join(cols) + " |")
    optimum = float(frame["optimum"].iloc[0])
    lines.append(f"\nSpace optimum ({dataset}, test accuracy): ours {optimum:.2f}, survey {survey['optimum']:.2f}.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("summaries", nargs="+", type=Path, help="*_summary.csv files of zeronas evaluate")
    parser.add_argument("--full", type=Path, action="append", default=[], help="full-space summary per data set")
    args = parser.parse_args()
    full = {_dataset(path): path for path in args.full}
    for summary in args.summaries:
        print(f"### {summary.name}\n")
        print(table(summary, full.get(_dataset(summary))))
        print()


if __name__ == "__main__":
    main()
