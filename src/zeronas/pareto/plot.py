"""The survey's Fig 18-19 view of a budgeted Pareto run: one panel per proxy.

Each panel shows every candidate (grey), the ground-truth Pareto front (black steps), the budgets
(dotted verticals), the ground-truth pick of each budget (open black circles) and the proxy's pick
(coloured stars), in (cost, accuracy). The accuracy axis starts a little below the lowest pick, so
the region where picks differ is readable; cells below it (collapsed networks) are counted in the label.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from zeronas.pareto.front import pareto_front
from zeronas.pareto.study import ParetoResult


def plot_pareto(result: ParetoResult, path: str | os.PathLike, title: str = "") -> Path:
    """Write the per-proxy panels to `path` (PNG/PDF by suffix); returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = result.cells
    cost_col = result.true_cost or "cost"
    cost, acc = cells[cost_col].to_numpy(dtype=float), cells["accuracy"].to_numpy(dtype=float)
    front = pareto_front(cost, acc)
    n = len(result.proxies)
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.6 * rows), squeeze=False, sharex=True, sharey=True)
    position = {k: i for i, k in enumerate(cells.index)}
    colours = plt.get_cmap("tab10")
    picked = [position[k] for column in ("best", "pick") for k in result.picks[column].dropna()]
    floor = float(np.nanmin(acc[picked])) - 2.0 if picked else float(np.nanmin(acc))
    hidden = int(np.sum(acc < floor))
    for j, proxy in enumerate(result.proxies):
        ax = axes[j // cols][j % cols]
        ax.scatter(cost, acc, s=6, c="0.75", lw=0, label="all cells")
        ax.step(cost[front], acc[front], where="post", c="k", lw=1.2, label="true front")
        for b in result.budgets:
            ax.axvline(b, c="0.5", ls=":", lw=0.8)
        mine = result.picks[result.picks["proxy"] == proxy]
        best = [position[k] for k in mine["best"].dropna()]
        chosen = [position[k] for k in mine["pick"].dropna()]
        ax.scatter(cost[best], acc[best], s=60, facecolors="none", edgecolors="k", label="true pick")
        ax.scatter(cost[chosen], acc[chosen], s=90, marker="*", color=colours(j % 10), label=f"{proxy} pick")
        lost = float(np.nanmean(mine["acc_lost"])) if len(mine) else float("nan")
        ax.set_title(f"{proxy} (mean lost {lost:.2f} pp)", fontsize=10)
        ax.set_ylim(bottom=floor)
        ax.legend(fontsize=7, loc="lower right")
    for j in range(n, rows * cols):
        axes[j // cols][j % cols].axis("off")
    for ax in axes[-1]:
        ax.set_xlabel(f"{result.cost_name} [{result.cost_unit}]", fontsize=9)
    for row in axes:
        row[0].set_ylabel("accuracy (%)" + (f"; {hidden} cells below" if hidden else ""))
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.98) if title else None)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
