"""Markdown table of an evaluation next to the survey's Table IV best-found values.

Reads the `*_summary.csv` files `zeronas evaluate --out DIR` writes (SPR/KT @All and @Top-k, best-found,
mean ± sample std over seeds, ddof=1) and prints one Markdown table per file with the survey's published
best-found accuracy beside ours (Li et al., "Zero-Shot NAS: Challenges, Solutions, and Opportunities",
Table IV: every value it gives for CIFAR-100 and ImageNet16-120). `--full` adds the best-found of a
full-space sweep (every cell scored: the setting of the survey's table) as a column.

Best-found is the ground truth of the cell with the highest proxy value; when several cells share that
value it is the mean over the tied cells, and the table gives their count and min–max ('tied' column).

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
    "ImageNet16-120": {
        "optimum": 47.31,
        "params": 41.44,
        "flops": 41.44,
        "synflow": 26.08,
        "jacob_cov": 25.07,
        "zen": 40.77,
        "grad_norm": 29.27,
        "snip": 29.27,
        "fisher": 29.27,
        "grasp": 5.46,
        "gradsign": 5.46,
    },
}
NOTE = (
    "± is the sample standard deviation over seeds (ddof=1). Best-found: ground truth of the cell with the "
    "highest proxy value; when several cells tie there (exact equality), the mean over the tied cells; "
    "'tied' gives their largest count in a seed and the min–max of their ground truth."
)


def _pm(mean: float, std: float, digits: int, seeds: int) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "n/a"
    return f"{mean:.{digits}f}" + (f" ± {std:.{digits}f}" if seeds > 1 and not math.isnan(std) else "")


def _tied(row: object) -> str:
    count = int(row.best_tied) if not math.isnan(row.best_tied) else 0
    low, high = f"{row.best_min:.2f}", f"{row.best_max:.2f}"
    return "1" if count <= 1 else f"{count} ({low if low == high else f'{low}–{high}'})"


def _full(frame: pd.DataFrame, proxy: str) -> str:
    found = frame[frame["proxy"] == proxy]
    if found.empty or math.isnan(found["best_acc"].iloc[0]):
        return "—"
    tied = int(found["best_tied"].iloc[0])
    return f"{found['best_acc'].iloc[0]:.2f}" + (f" ({tied} tied)" if tied > 1 else "")


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
    full_frame = pd.read_csv(full) if full is not None else None
    head = "| proxy | seeds | cells All / Top | SPR@All | KT@All | SPR@Top | KT@Top | best-found (sample) | tied |"
    rule = "|---|---|---|---|---|---|---|---|---|"
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
            _tied(row),
        ]
        if full_frame is not None:
            cols.append(_full(full_frame, row.proxy))
        cols.append(f"{survey[row.proxy]:.2f}" if row.proxy in survey else "—")
        lines.append("| " + " | ".join(cols) + " |")
    optimum = float(frame["optimum"].iloc[0])
    lines.append(f"\nSpace optimum ({dataset}, test accuracy): ours {optimum:.2f}, survey {survey['optimum']:.2f}.")
    lines.append(f"\n{NOTE}")
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
