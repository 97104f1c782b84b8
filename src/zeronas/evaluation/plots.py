"""Figures of an evaluation, drawn with matplotlib's object API (Agg canvas, no pyplot global state).

- `correlation_bars`: SPR and KT @All and @Top-k% per proxy, grouped bars with std error bars (survey Fig 6-7).
- `ratio_lines`: SPR and KT of each proxy against the top-k% ratio, 5..100% (survey Fig 13-14).
- `best_found_bars`: best-found of each proxy (mean over the cells tied at its top value, mean ± sample
  std over seeds) with the tied cells' min–max, beside the space optimum.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

_COLOURS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52")


def _figure(width: float, height: float, columns: int = 1) -> tuple[Figure, list]:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, columns, squeeze=False)[0]
    return fig, list(axes)


def correlation_bars(summary: pd.DataFrame, top: float, title: str = "") -> Figure:
    """Grouped bars: for each proxy, SPR (left) and KT (right) over All and over the top `top`%."""
    order = summary.sort_values("spr_all", ascending=False, na_position="last")
    x = np.arange(len(order))
    width = 0.38
    fig, axes = _figure(max(6.0, 0.75 * len(order) + 3), 4.2, columns=2)
    for ax, metric, label in zip(axes, ("spr", "kt"), ("Spearman ρ (SPR)", "Kendall τ (KT)"), strict=True):
        for i, (tag, name) in enumerate((("all", "All"), ("top", f"Top {top:g}%"))):
            means = order[f"{metric}_{tag}"].to_numpy(dtype=float)
            stds = order[f"{metric}_{tag}_std"].to_numpy(dtype=float)
            shown = np.isfinite(means)  # an undefined correlation (no cells, constant values) gets no bar
            ax.bar(
                x[shown] + (i - 0.5) * width,
                means[shown],
                width,
                yerr=np.nan_to_num(stds[shown]),
                label=name,
                color=_COLOURS[i],
                capsize=2,
            )
            for position in x[~shown]:
                ax.text(position + (i - 0.5) * width, 0.02, "n/a", ha="center", va="bottom", fontsize=7, rotation=90)
        ax.set_xticks(x, order["proxy"], rotation=45, ha="right")
        ax.set_xlim(-0.6, len(order) - 0.4)  # fixed: "n/a" labels alone would fall outside an autoscaled axis
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_ylim(
            min(-0.2, float(np.nanmin(order[[f"{metric}_all", f"{metric}_top"]].to_numpy(float), initial=0)) - 0.05),
            1.0,
        )
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(loc="upper right", fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def ratio_lines(ratios: pd.DataFrame, title: str = "") -> Figure:
    """SPR and KT (mean over seeds) of every proxy against the top-k% ratio."""
    fig, axes = _figure(11, 4.2, columns=2)
    for ax, metric, label in zip(axes, ("spr", "kt"), ("Spearman ρ (SPR)", "Kendall τ (KT)"), strict=True):
        for proxy, part in ratios.groupby("proxy", sort=True):
            part = part.sort_values("percent")
            ax.plot(part["percent"], part[metric], marker="o", markersize=3, label=str(proxy))
        ax.set_xlabel("top-k% of the space by ground truth")
        ax.set_ylabel(label)
        ax.set_xlim(0, 102)
        ax.grid(alpha=0.3)
    axes[1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def _axis_span(low: float, optimum: float, unit: str) -> tuple[float, float]:
    """The x range of the best-found plot: accuracies in % from 5 points below the lowest bar (not below 0);
    any other metric (an SSIM, a negative loss) with a margin of a tenth of its spread on both sides."""
    if unit == "%":
        return max(0.0, low - 5), optimum + 2
    margin = 0.1 * (optimum - low) or 0.05 * max(abs(optimum), 1.0)
    return low - margin, optimum + margin


def best_found_bars(
    summary: pd.DataFrame, optimum: float, title: str = "", population_best: float | None = None, unit: str = "%"
) -> Figure:
    """Horizontal bars: each proxy's best-found ground truth (mean ± sample std over seeds), the optimum as a line.

    A bar is the mean ground truth of the cells tied at the proxy's top value; where several tie, a grey
    line spans their min–max and the count is written beside it (`best_min`, `best_max`, `best_tied`).
    `population_best`: the best ground truth among the cells the proxies chose from (a dotted line).
    `unit`: '%' for accuracies; '' for any other metric (bars then start at the left edge of the axis,
    which may be negative).
    """
    order = summary.sort_values("best_acc", ascending=True, na_position="first")
    fig, axes = _figure(7, max(2.5, 0.35 * len(order) + 1.2))
    ax = axes[0]
    y = np.arange(len(order))
    floor = order[["best_acc", "best_min"]].to_numpy(float)
    left, right = _axis_span(float(np.nanmin(floor, initial=optimum)), optimum, unit)
    base = left if unit != "%" else 0.0
    values = order["best_acc"].fillna(base) - base
    ax.barh(y, values, left=base, xerr=order["best_acc_std"].fillna(0), color=_COLOURS[2], capsize=2)
    tied = order["best_tied"].fillna(0).to_numpy(int) > 1
    if tied.any():
        low, high = order["best_min"].to_numpy(float)[tied], order["best_max"].to_numpy(float)[tied]
        ax.hlines(y[tied], low, high, color="dimgrey", linewidth=2.5, alpha=0.8, label="min–max of tied cells")
        for position, end, count in zip(y[tied], high, order["best_tied"].to_numpy(int)[tied], strict=True):
            ax.text(end + 0.01 * (right - left), position, f"{count} tied", va="center", fontsize=7)
    ax.axvline(optimum, color=_COLOURS[3], linestyle="--", label=f"space optimum {optimum:.2f}{unit}")
    if population_best is not None and np.isfinite(population_best) and population_best < optimum:
        label = f"best evaluated cell {population_best:.2f}{unit}"
        ax.axvline(population_best, color="grey", linestyle=":", label=label)
    ax.set_yticks(y, order["proxy"])
    ax.set_xlim(left, right)
    what = "accuracy of the proxy's top cells (%, " if unit == "%" else "metric of the proxy's top cells ("
    ax.set_xlabel(f"ground-truth {what}mean over tied cells)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def png_bytes(fig: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes (for embedding)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def save_png(fig: Figure, path: str | os.PathLike, dpi: int = 110) -> Path:
    """Write the figure as a PNG file and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(fig, dpi))
    return path
