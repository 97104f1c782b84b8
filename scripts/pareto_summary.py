"""Summarise the Pareto studies under a folder: accuracy lost at tight vs relaxed budgets, HV ratio, IGD.

Tight = the two smallest budgets of a study, relaxed = the two largest (with the default quantiles
0.05/0.1 and 0.75/1.0 of the candidates' cost). Reads the `*_picks.csv` and `*_summary.csv` that
`zeronas pareto` writes and prints (or writes) one Markdown table per study.

    python scripts/pareto_summary.py benchmarks/results/pareto [--out benchmarks/results/pareto/SUMMARY.md]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from zeronas.evaluation.report import markdown_table


def study_table(picks_csv: Path) -> pd.DataFrame:
    """proxy x (tight lost, relaxed lost, HV ratio of picks, IGD of picks) for one study."""
    picks = pd.read_csv(picks_csv)
    budgets = sorted(picks["budget"].unique())
    lost = picks.groupby(["proxy", "budget"], sort=False)["acc_lost"].mean().unstack()
    summary = pd.read_csv(str(picks_csv).replace("_picks.csv", "_summary.csv")).set_index("proxy")
    return pd.DataFrame(
        {
            "lost tight (pp)": lost[budgets[:2]].mean(axis=1),
            "lost relaxed (pp)": lost[budgets[-2:]].mean(axis=1),
            "HV ratio": summary["hv_ratio_picks"],
            "IGD": summary["igd_picks"],
        }
    ).reindex(summary.index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    parts = []
    for picks_csv in sorted(args.folder.glob("*/*_picks.csv")):
        table = study_table(picks_csv).round(2).T
        parts.append(f"## {picks_csv.parent.name}\n\n{markdown_table(table.rename_axis('metric').reset_index())}\n")
    text = "\n".join(parts)
    if args.out:
        args.out.write_text(text)
        print(f"wrote {args.out}")
    else:
        print(text)


if __name__ == "__main__":
    main()
