"""Pareto fronts of accuracy against cost, budgeted picks, and how far a proxy's picks are from the truth.

Objectives are minimised: cost, and error = -accuracy. For hypervolume and IGD both are first
normalised to [0, 1] over *all candidate cells* (cost: (c - c_min) / (c_max - c_min); error:
(a_max - a) / (a_max - a_min)), and the hypervolume reference point is (1.1, 1.1) in that
normalised space, so every candidate counts and the numbers compare across cost models. Non-dominated
sorting, hypervolume and IGD are pymoo's (`NonDominatedSorting`, `pymoo.indicators.hv.HV`,
`pymoo.indicators.igd.IGD`).

Two proxy fronts are scored against the true front:
- *picks*: the cells the proxy picks across the budgets (its highest value within each budget);
- *front*: the proxy-optimal front, the cells not dominated in (cost, -proxy), at their true accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pymoo.indicators.hv import HV
from pymoo.indicators.igd import IGD
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

from zeronas.errors import InvalidInputError

REFERENCE_POINT = (1.1, 1.1)
DEFAULT_QUANTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0)


def non_dominated(objectives: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated rows of an (n, m) array of minimised objectives."""
    objectives = np.asarray(objectives, dtype=float)
    if objectives.ndim != 2 or len(objectives) == 0:
        return np.array([], dtype=int)
    return np.sort(NonDominatedSorting().do(objectives, only_non_dominated_front=True))


def pareto_front(cost: np.ndarray, accuracy: np.ndarray) -> np.ndarray:
    """Indices of the cells on the (low cost, high accuracy) front, ordered by cost (NaNs ignored)."""
    cost, accuracy = np.asarray(cost, dtype=float), np.asarray(accuracy, dtype=float)
    ok = np.flatnonzero(np.isfinite(cost) & np.isfinite(accuracy))
    front = ok[non_dominated(np.column_stack([cost[ok], -accuracy[ok]]))]
    return front[np.lexsort((-accuracy[front], cost[front]))]


@dataclass(frozen=True)
class Normaliser:
    """Min-max scaling of (cost, accuracy) into minimised objectives in [0, 1]."""

    cost_min: float
    cost_max: float
    acc_min: float
    acc_max: float

    @classmethod
    def fit(cls, cost: np.ndarray, accuracy: np.ndarray) -> Normaliser:
        cost, accuracy = np.asarray(cost, dtype=float), np.asarray(accuracy, dtype=float)
        return cls(
            float(np.nanmin(cost)), float(np.nanmax(cost)), float(np.nanmin(accuracy)), float(np.nanmax(accuracy))
        )

    def __call__(self, cost: np.ndarray, accuracy: np.ndarray) -> np.ndarray:
        c_span = (self.cost_max - self.cost_min) or 1.0
        a_span = (self.acc_max - self.acc_min) or 1.0
        c = (np.asarray(cost, dtype=float) - self.cost_min) / c_span
        e = (self.acc_max - np.asarray(accuracy, dtype=float)) / a_span
        return np.column_stack([c, e])


def hypervolume(objectives: np.ndarray, reference: Sequence[float] = REFERENCE_POINT) -> float:
    """Hypervolume dominated by `objectives` (minimised, normalised) up to `reference`."""
    objectives = np.asarray(objectives, dtype=float).reshape(-1, len(reference))
    if len(objectives) == 0:
        return 0.0
    return float(HV(ref_point=np.asarray(reference, dtype=float))(objectives))


def igd(objectives: np.ndarray, true_front: np.ndarray) -> float:
    """Inverted generational distance: mean distance from each true-front point to the nearest of `objectives`."""
    objectives = np.asarray(objectives, dtype=float)
    if len(objectives) == 0:
        return float("nan")
    return float(IGD(np.asarray(true_front, dtype=float))(objectives))


def budgets_from_quantiles(cost: np.ndarray, quantiles: Sequence[float] = DEFAULT_QUANTILES) -> list[float]:
    """Budgets at quantiles of the candidates' cost: tight (small quantile) to relaxed (1.0 = no limit)."""
    if not all(0 < q <= 1 for q in quantiles):
        raise InvalidInputError(f"budget quantiles must lie in (0, 1], got {list(quantiles)}")
    return [float(np.nanquantile(np.asarray(cost, dtype=float), q)) for q in quantiles]


def _pick(values: np.ndarray, cost: np.ndarray, allowed: np.ndarray) -> int | None:
    """Index of the highest finite value among `allowed` cells, ties broken by the lower cost."""
    idx = np.flatnonzero(allowed & np.isfinite(values))
    if idx.size == 0:
        return None
    best = values[idx].max()
    tied = idx[values[idx] == best]
    return int(tied[np.argmin(cost[tied])])


def budget_picks(
    cells: pd.DataFrame,
    proxies: Sequence[str],
    budgets: Sequence[float],
    cost: str = "cost",
    accuracy: str = "accuracy",
    true_cost: str | None = None,
) -> pd.DataFrame:
    """For every budget and proxy: the proxy's pick (highest value with `cost` <= budget) and the truth's.

    `cells` has one row per candidate with the `cost`, `accuracy` and proxy columns. With `true_cost`
    (a predicted `cost`), picks are made on the predicted cost but the ground-truth pick uses the
    true cost, and each pick's true cost and budget violation are reported.
    """
    c_sel = cells[cost].to_numpy(dtype=float)
    c_true = cells[true_cost].to_numpy(dtype=float) if true_cost else c_sel
    acc = cells[accuracy].to_numpy(dtype=float)
    keys = cells.index.to_numpy()
    rows = []
    for budget in budgets:
        truth = _pick(acc, c_true, c_true <= budget)
        for proxy in proxies:
            values = cells[proxy].to_numpy(dtype=float)
            pick = _pick(values, c_sel, c_sel <= budget)
            row = {
                "budget": float(budget),
                "proxy": proxy,
                "within_budget": int(np.sum(c_sel <= budget)),
                "failed": int(np.sum((c_sel <= budget) & ~np.isfinite(values))),
                "pick": None if pick is None else keys[pick],
                "pick_cost": np.nan if pick is None else c_true[pick],
                "pick_acc": np.nan if pick is None else acc[pick],
                "best": None if truth is None else keys[truth],
                "best_cost": np.nan if truth is None else c_true[truth],
                "best_acc": np.nan if truth is None else acc[truth],
            }
            row["acc_lost"] = row["best_acc"] - row["pick_acc"]
            if true_cost:
                row["violates"] = bool(pick is not None and c_true[pick] > budget)
            rows.append(row)
    return pd.DataFrame(rows)


def front_summary(
    cells: pd.DataFrame,
    picks: pd.DataFrame,
    proxies: Sequence[str],
    cost: str = "cost",
    accuracy: str = "accuracy",
    true_cost: str | None = None,
    reference: Sequence[float] = REFERENCE_POINT,
) -> pd.DataFrame:
    """Per proxy: mean/max accuracy lost over budgets, hypervolume ratio and IGD of its fronts vs the true one.

    All fronts are evaluated at the true cost (`true_cost` when given) and true accuracy.
    """
    c_true = cells[true_cost or cost].to_numpy(dtype=float)
    c_sel = cells[cost].to_numpy(dtype=float)
    acc = cells[accuracy].to_numpy(dtype=float)
    norm = Normaliser.fit(c_true, acc)
    true_pts = norm(c_true, acc)[pareto_front(c_true, acc)]
    hv_true = hypervolume(true_pts, reference)
    position = {k: i for i, k in enumerate(cells.index)}
    rows = []
    for proxy in proxies:
        mine = picks[picks["proxy"] == proxy]
        chosen = sorted({position[k] for k in mine["pick"].dropna()})
        pick_pts = norm(c_true[chosen], acc[chosen])
        values = cells[proxy].to_numpy(dtype=float)
        finite = np.flatnonzero(np.isfinite(values) & np.isfinite(c_sel))
        front = finite[non_dominated(np.column_stack([c_sel[finite], -values[finite]]))]
        front_pts = norm(c_true[front], acc[front])
        row = {
            "proxy": proxy,
            "mean_acc_lost": float(mine["acc_lost"].mean()),
            "max_acc_lost": float(mine["acc_lost"].max()),
            "hv_ratio_picks": hypervolume(pick_pts, reference) / hv_true if hv_true else float("nan"),
            "igd_picks": igd(pick_pts, true_pts),
            "hv_ratio_front": hypervolume(front_pts, reference) / hv_true if hv_true else float("nan"),
            "igd_front": igd(front_pts, true_pts),
            "front_size": int(len(front)),
        }
        if "violates" in mine:
            row["violations"] = int(mine["violates"].sum())
        rows.append(row)
    return pd.DataFrame(rows)
