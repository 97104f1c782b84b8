"""How well a proxy ranks architectures against ground truth (the survey's §4 protocol).

Inputs are long rows as the store returns them (columns arch, proxy, seed, value) for one
(space, dataset, settings), and the ground truth over the WHOLE space (arch -> accuracy).

- SPR / KT: `scipy.stats.spearmanr` / `kendalltau` (tau-b) between proxy values (oriented: higher =
  predicted better) and ground truth, per seed, then mean ± std over seeds (sample std, ddof=1: NaN
  for a single seed).
- Top-k%: the top set is defined by ground truth over the whole space (the ceil(k% x size) best,
  ties at the boundary included). Correlations are computed on the scored cells of that set.
- Populations. A set whose every cell is scored is used whole ('complete'). Otherwise, when the
  uniformly drawn cells of a sweep are known (`uniform`: one set, or one set per proxy, since
  proxies of one store may have been swept over draws of different sizes), only those are used ('uniform'), because
  cells added on purpose (a sweep's --include-top set, a search's candidates) would bias the
  estimate; else every scored cell of the set ('scored').
- Failures (NaN values: errors, non-finite, not applicable) are excluded from correlations and
  best-found, and counted per proxy and per population; they are never dropped silently. Rows
  scored with nan_policy='naslib' carry NAS-Bench-Suite-Zero's -1e8 instead of NaN: they are
  counted as failed (status != 'ok') but ranked, as NASLib does.
- Best-found (survey Table IV): over the 'All' population, the cells with the highest finite proxy
  value (ties: exact float equality). When several cells tie there, best-found is the MEAN ground
  truth of the tied cells, with their min, max and count; no tie-break picks one of them (a saturated
  proxy such as linear_regions ties hundreds of cells, and any single pick would be arbitrary).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from zeronas.errors import InvalidInputError

#: the survey's ratio sweep: top 5%, 10%, ..., 100%
RATIOS = tuple(range(5, 101, 5))
#: how spreads over seeds are computed, for table notes
STD_RULE = "± is the sample standard deviation over seeds (ddof=1; none with one seed)"
#: how best-found treats ties, for table notes
BEST_FOUND_RULE = (
    "best-found: ground truth of the cell with the highest proxy value; when several cells share that value "
    "(exact equality), the mean over the tied cells, with their min-max and count"
)
#: the uniformly drawn cells: one set for every proxy, or a set per proxy (a proxy not in it: none known)
Uniform = set[str] | Mapping[str, set[str]] | None


def drawn_for(uniform: Uniform, proxy: str) -> set[str] | None:
    """The uniformly drawn cells that apply to `proxy`."""
    return uniform.get(proxy) if isinstance(uniform, Mapping) else uniform


def top_set(truth: pd.Series, percent: float) -> pd.Index:
    """Archs whose ground truth ranks in the top `percent`% of the whole space (ties at the edge included)."""
    if not 0 < percent <= 100:
        raise InvalidInputError(f"top-k percent must be in (0, 100], got {percent}")
    truth = truth.dropna()
    count = max(1, math.ceil(len(truth) * percent / 100 - 1e-9))
    return truth.nlargest(count, keep="all").index


def population(scored: pd.Index, members: pd.Index, uniform: set[str] | None = None) -> tuple[pd.Index, str]:
    """The cells of `members` to evaluate on, and which rule chose them ('complete', 'uniform', 'scored')."""
    present = members.intersection(scored)
    if len(present) == len(members):
        return present, "complete"
    if uniform:
        return present[present.isin(uniform)], "uniform"
    return present, "scored"


def rank_correlation(values: pd.Series, truth: pd.Series) -> tuple[float, float, int]:
    """(Spearman ρ, Kendall τ-b, n) over the archs where both are finite; NaN when undefined.

    Two points always correlate ±1, so fewer than three give NaN rather than a meaningless 1.0.
    """
    joined = pd.concat([values.rename("v"), truth.rename("t")], axis=1, join="inner")
    joined = joined[np.isfinite(joined["v"]) & np.isfinite(joined["t"])]
    n = len(joined)
    if n < 3 or joined["v"].nunique() < 2 or joined["t"].nunique() < 2:
        return math.nan, math.nan, n
    from scipy import stats  # here: sweep workers import this module and never need scipy.stats (~60 MiB)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spr = float(stats.spearmanr(joined["v"], joined["t"]).statistic)
        kt = float(stats.kendalltau(joined["v"], joined["t"]).statistic)
    return spr, kt, n


def _series_by_proxy_seed(rows: pd.DataFrame) -> Iterable[tuple[str, int, pd.Series]]:
    missing = {"arch", "proxy", "seed", "value"} - set(rows.columns)
    if missing:
        raise InvalidInputError(f"rows lack column(s) {', '.join(sorted(missing))}")
    if rows.duplicated(["arch", "proxy", "seed"]).any():
        raise InvalidInputError("rows hold several values per (arch, proxy, seed): pass rows of one settings digest")
    for (proxy, seed), group in rows.groupby(["proxy", "seed"], sort=True):
        yield str(proxy), int(seed), group.set_index("arch")["value"].astype("float64")


def correlation_table(
    rows: pd.DataFrame,
    truth: pd.Series,
    percents: Sequence[float] = (100, 5),
    uniform: Uniform = None,
    top_draws: Mapping[float, set[str]] | None = None,
) -> pd.DataFrame:
    """One row per (proxy, seed, percent): spr, kt, cells in the population, failed and used values.

    `top_draws`: percent -> cells drawn uniformly from that top set; an incomplete top set is then
    evaluated on the drawn cells (population 'top draw') instead of the uniform sample's share of it.
    """
    tops = {p: top_set(truth, p) for p in percents}
    records = []
    for proxy, seed, values in _series_by_proxy_seed(rows):
        for percent, members in tops.items():
            drawn = (top_draws or {}).get(float(percent)) if percent < 100 else None
            cells, rule = population(values.index, members, drawn or drawn_for(uniform, proxy))
            rule = "top draw" if drawn and rule == "uniform" else rule
            subset = values.reindex(cells)
            spr, kt, used = rank_correlation(subset, truth)
            records.append(
                {
                    "proxy": proxy,
                    "seed": seed,
                    "percent": float(percent),
                    "population": rule,
                    "cells": len(cells),
                    "top_size": len(members),
                    "failed": int((~np.isfinite(subset)).sum()),
                    "used": used,
                    "spr": spr,
                    "kt": kt,
                }
            )
    columns = ["proxy", "seed", "percent", "population", "cells", "top_size", "failed", "used", "spr", "kt"]
    return pd.DataFrame.from_records(records, columns=columns)


def top_tied(values: pd.Series) -> list[str]:
    """The archs sharing the highest finite value (exact float equality), in arch-key order.

    Failures (NaN, ±inf) never count; an empty list when no value is finite.
    """
    finite = values[np.isfinite(values)]
    if finite.empty:
        return []
    return sorted(finite.index[finite == finite.max()])


def best_found_table(rows: pd.DataFrame, truth: pd.Series, uniform: Uniform = None) -> pd.DataFrame:
    """One row per (proxy, seed): the top-valued cells over the 'All' population and their ground truth.

    `accuracy` is the mean ground truth of the `tied` cells sharing the top proxy value (the one cell's
    when tied == 1), `accuracy_min`/`accuracy_max` their range; `arch` is that cell when tied == 1, else
    the first tied cell in arch-key order (read it with `tied`).
    """
    everything = truth.dropna().index
    records = []
    for proxy, seed, values in _series_by_proxy_seed(rows):
        cells, rule = population(values.index, everything, drawn_for(uniform, proxy))
        tied = top_tied(values.reindex(cells))
        accuracies = truth.reindex(tied)
        records.append(
            {
                "proxy": proxy,
                "seed": seed,
                "population": rule,
                "cells": len(cells),
                "arch": tied[0] if tied else None,
                "value": float(values[tied[0]]) if tied else math.nan,
                "accuracy": float(accuracies.mean()) if tied else math.nan,
                "accuracy_min": float(accuracies.min()) if tied else math.nan,
                "accuracy_max": float(accuracies.max()) if tied else math.nan,
                "tied": len(tied),
                "population_best": float(truth.reindex(cells).max()) if len(cells) else math.nan,
                "optimum": float(truth.max()),
            }
        )
    columns = [
        "proxy",
        "seed",
        "population",
        "cells",
        "arch",
        "value",
        "accuracy",
        "accuracy_min",
        "accuracy_max",
        "tied",
        "population_best",
        "optimum",
    ]
    return pd.DataFrame.from_records(records, columns=columns)


def _mean_std(frame: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    """Mean and sample std (ddof=1; NaN for one seed) of `columns` per `keys`."""
    grouped = frame.groupby(keys, sort=False)
    out = grouped[columns].mean()
    stds = grouped[columns].std(ddof=1).add_suffix("_std")
    return out.join(stds)


def ratio_sweep(
    rows: pd.DataFrame, truth: pd.Series, percents: Sequence[float] = RATIOS, uniform: Uniform = None
) -> pd.DataFrame:
    """SPR/KT (mean and std over seeds) of every proxy for each top-k% (survey Fig 13-14)."""
    table = correlation_table(rows, truth, percents, uniform)
    summary = _mean_std(table, ["proxy", "percent"], ["spr", "kt"])
    summary["cells"] = table.groupby(["proxy", "percent"], sort=False)["cells"].mean()
    summary["failed"] = table.groupby(["proxy", "percent"], sort=False)["failed"].sum()
    return summary.reset_index()


@dataclass
class Evaluation:
    """Every number of one (space, dataset, settings): per-seed tables and the per-proxy summary."""

    summary: pd.DataFrame
    correlations: pd.DataFrame
    best_found: pd.DataFrame
    ratios: pd.DataFrame
    optimum: float
    top: float


def evaluate_rows(
    rows: pd.DataFrame,
    truth: pd.Series,
    top: float = 5,
    uniform: Uniform = None,
    ratios: Sequence[float] | None = RATIOS,
    top_draws: Mapping[float, set[str]] | None = None,
) -> Evaluation:
    """SPR/KT @All and @Top`top`%, best-found and the ratio sweep, summarised per proxy over seeds.

    Summary columns: proxy, seeds, rows, failed (NaN values among all rows of the proxy), cells_all,
    spr_all, spr_all_std, kt_all, kt_all_std, cells_top, spr_top, ..., best_acc, best_acc_std, best_min,
    best_max, best_tied, optimum. best_acc is the mean over seeds of each seed's best-found (the mean over
    its tied cells), best_acc_std its sample std (ddof=1), best_min/best_max the lowest/highest ground truth
    among the tied cells of any seed, best_tied the largest number of tied cells in a seed.
    """
    correlations = correlation_table(rows, truth, (100, top), uniform, top_draws)
    best = best_found_table(rows, truth, uniform)
    ratio_table = ratio_sweep(rows, truth, ratios, uniform) if ratios else pd.DataFrame()
    bad = ~np.isfinite(rows["value"].astype("float64"))
    if "status" in rows.columns:  # nan_policy='naslib' keeps failures as -1e8: counted, though not excluded
        bad |= rows["status"] != "ok"
    failed = rows.assign(failed=bad).groupby("proxy")
    summary = pd.DataFrame({"seeds": failed["seed"].nunique(), "rows": failed.size(), "failed": failed["failed"].sum()})
    for percent, tag in ((100, "all"), (top, "top")):
        part = correlations[correlations["percent"] == float(percent)]
        stats_ = _mean_std(part, ["proxy"], ["spr", "kt"])
        stats_.columns = [f"{c.split('_')[0]}_{tag}" + ("_std" if c.endswith("_std") else "") for c in stats_.columns]
        summary = summary.join(stats_)
        summary[f"cells_{tag}"] = part.groupby("proxy")["cells"].mean()
        summary[f"population_{tag}"] = part.groupby("proxy")["population"].first()
    best_stats = _mean_std(best, ["proxy"], ["accuracy"]).rename(
        columns={"accuracy": "best_acc", "accuracy_std": "best_acc_std"}
    )
    summary = summary.join(best_stats)
    by_proxy = best.groupby("proxy")
    summary["best_min"] = by_proxy["accuracy_min"].min()
    summary["best_max"] = by_proxy["accuracy_max"].max()
    summary["best_tied"] = by_proxy["tied"].max()
    summary["optimum"] = float(truth.max())
    summary.index.name = "proxy"
    order = [
        "seeds",
        "rows",
        "failed",
        "population_all",
        "cells_all",
        "spr_all",
        "spr_all_std",
        "kt_all",
        "kt_all_std",
        "population_top",
        "cells_top",
        "spr_top",
        "spr_top_std",
        "kt_top",
        "kt_top_std",
        "best_acc",
        "best_acc_std",
        "best_min",
        "best_max",
        "best_tied",
        "optimum",
    ]
    return Evaluation(summary[order].reset_index(), correlations, best, ratio_table, float(truth.max()), float(top))
