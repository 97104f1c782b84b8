"""Budgeted Pareto search over a set of candidates: gather costs, proxies and ground truth, pick, summarise.

Proxy values come from the result store when it has them (rows per (arch, proxy, seed) for the
scoring settings' digest, averaged over seeds, failures kept as NaN); cells missing there are
scored with `score_arch` (and written back when a store is given). Costs come from any cost model
(counted, measured, tabulated, predicted). Ground truth: the space's benchmark test accuracy, or the
accuracy column of NB201's Raspberry Pi 5 table (`accuracy="edge"`, cifar100).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from zeronas.data import get_dataset
from zeronas.errors import InvalidArchError, InvalidInputError
from zeronas.evaluation.scoring import ScoreSettings, score_arch
from zeronas.hardware.costs import CostModel
from zeronas.pareto.front import (
    DEFAULT_QUANTILES,
    REFERENCE_POINT,
    budget_picks,
    budgets_from_quantiles,
    front_summary,
)
from zeronas.proxies import ProxyValue, Scores
from zeronas.spaces import DEFAULT_SPACE, SearchSpace, get_benchmark

if TYPE_CHECKING:
    from zeronas.store import ResultStore

Scorer = Callable[[str, int], Scores]


@dataclass
class ParetoResult:
    """Everything a budgeted Pareto run found; `cells` has one row per candidate."""

    cells: pd.DataFrame
    picks: pd.DataFrame
    summary: pd.DataFrame
    budgets: list[float]
    proxies: list[str]
    cost_name: str
    cost_unit: str
    reference: tuple[float, float] = REFERENCE_POINT
    true_cost: str | None = None
    notes: list[str] = field(default_factory=list)
    predicted: pd.DataFrame | None = None

    def lost_table(self) -> pd.DataFrame:
        """budget x proxy -> accuracy lost (percentage points)."""
        return self.picks.pivot_table(index="budget", columns="proxy", values="acc_lost", sort=True)

    def to_json(self) -> dict[str, object]:
        return {
            "cost": self.cost_name,
            "unit": self.cost_unit,
            "budgets": self.budgets,
            "reference_point": list(self.reference),
            "normalisation": "min-max over all candidates; objectives (cost, max_acc - acc)",
            "picks": self.picks.to_dict(orient="records"),
            "summary": self.summary.to_dict(orient="records"),
            "predicted_vs_truth": None if self.predicted is None else self.predicted.to_dict(orient="records"),
            "notes": self.notes,
        }


def stored_proxies(
    store: ResultStore | None,
    space: str,
    keys: Sequence[str],
    dataset: str,
    proxies: Sequence[str],
    settings: str,
    seeds: Sequence[int],
) -> tuple[pd.DataFrame, list[str]]:
    """(key x proxy mean over `seeds` for keys the store has completely, keys it lacks).

    A value is NaN when any of its seeds failed, as when it is computed afresh.
    """
    table = pd.DataFrame(columns=list(proxies), dtype=float)
    if store is None:
        return table, list(keys)
    frame = store.frame(space=space, dataset=dataset, settings=settings, proxies=list(proxies), seeds=list(seeds))
    frame = frame[frame["arch"].isin(set(keys))]
    if frame.empty:
        return table, list(keys)
    frame = frame.assign(ok=frame["status"] == "ok", value=frame["value"].where(frame["status"] == "ok"))
    grouped = frame.groupby(["arch", "proxy"])
    present = grouped["seed"].nunique().unstack().reindex(columns=list(proxies))
    n_ok = grouped["ok"].sum().unstack().reindex(columns=list(proxies))
    means = grouped["value"].mean().unstack().reindex(columns=list(proxies))
    complete = present.eq(len(set(seeds))).all(axis=1)
    table = means.where(n_ok.eq(len(set(seeds))))[complete]
    return table.astype(float), [k for k in keys if k not in table.index]


def gather_proxies(
    space_label: str,
    keys: Sequence[str],
    dataset: str,
    proxies: Sequence[str],
    seeds: Sequence[int],
    scorer: Scorer,
    settings_digest: str,
    store: ResultStore | None = None,
    on_cell: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """key x proxy mean over seeds: from the store, scoring (and storing) whatever is missing."""
    table, missing = stored_proxies(store, space_label, keys, dataset, proxies, settings_digest, seeds)
    fresh = {}
    for key in missing:
        values = np.zeros(len(proxies))
        rows = []
        for seed in seeds:
            scores = _score_or_fail(scorer, key, seed, proxies)
            values += np.array([scores[p] for p in proxies], dtype=float)
            rows += _rows(space_label, key, dataset, seed, settings_digest, scores, proxies)
        if store is not None and rows:
            store.add(rows)
        fresh[key] = values / len(seeds)
        if on_cell:
            on_cell(key)
    if fresh:
        table = pd.concat([table, pd.DataFrame.from_dict(fresh, orient="index", columns=list(proxies))])
    return table.reindex(list(keys)).astype(float)


def _score_or_fail(scorer: Scorer, key: str, seed: int, proxies: Sequence[str]) -> Scores:
    """The candidate's scores; a candidate that cannot be built or run here gets failed (NaN) values with the reason.

    One zoo model that cannot take the proxy resolution must not stop a study of hundreds: its rows are
    stored as errors and it is left out of the picks, as an evaluation sweep does.
    """
    try:
        return scorer(key, seed)
    except (InvalidArchError, InvalidInputError) as exc:
        reason = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        return Scores({p: ProxyValue(p, float("nan"), "error", reason, 0.0) for p in proxies}, {}, {})


def _rows(space: str, key: str, dataset: str, seed: int, digest: str, scores: Scores, proxies: Sequence[str]) -> list:
    try:
        from zeronas.store import ResultRow
    except ImportError:
        return []
    return [
        ResultRow(
            space=space,
            arch=key,
            dataset=dataset,
            proxy=p,
            seed=seed,
            settings=digest,
            value=float(scores.details[p].value),
            status=scores.details[p].status,
            reason=scores.details[p].reason or "",
            seconds=float(scores.details[p].seconds),
        )
        for p in proxies
    ]


def space_scorer(space: SearchSpace, dataset: str, proxies: Sequence[str], settings: ScoreSettings) -> Scorer:
    """(key, seed) -> Scores through `score_arch`."""
    return lambda key, seed: score_arch(space, key, dataset, list(proxies), seed, settings)


def accuracy_series(
    dataset: str, source: str = "benchmark", data_dir: str | os.PathLike | None = None, space: str = DEFAULT_SPACE
) -> pd.Series:
    """Ground-truth accuracy per arch key: the `benchmark`'s first metric (test accuracy), or `edge` (NB201 Pi 5).

    'nb201' is the old spelling of 'benchmark'.
    """
    if source in ("benchmark", "nb201"):
        bench = get_benchmark(space)
        return bench.ground_truth(dataset, bench.metrics[0], data_dir)
    if source == "edge":
        from zeronas.hardware.tables import edge_series

        return edge_series("pi5", "litert", get_dataset(dataset).name, "accuracy", data_dir)
    raise InvalidInputError(f"--accuracy must be 'benchmark' or 'edge', got {source!r}")


def run_pareto(
    space: SearchSpace | None,
    keys: Sequence[str],
    dataset: str,
    cost: CostModel,
    proxy_table: pd.DataFrame,
    accuracy: pd.Series,
    budgets: Sequence[float] | None = None,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    true_cost: CostModel | None = None,
) -> ParetoResult:
    """Budgeted picks and front summary for `keys` under `cost` (and, for a predicted cost, against `true_cost`)."""
    proxies = list(proxy_table.columns)
    cells = proxy_table.reindex(list(keys)).copy()
    cells["cost"] = cost.many(space, list(keys), dataset)
    cells["accuracy"] = accuracy.reindex(list(keys)).to_numpy(dtype=float)
    notes = []
    if true_cost is not None:
        cells["true_cost"] = true_cost.many(space, list(keys), dataset)
    dropped = cells[["cost", "accuracy"] + (["true_cost"] if true_cost else [])].isna().any(axis=1)
    if dropped.any():
        notes.append(f"{int(dropped.sum())} candidates without cost or accuracy were left out")
        cells = cells[~dropped]
    unscored = cells.index[cells[proxies].isna().all(axis=1)] if proxies else cells.index[:0]
    if len(unscored):
        shown = ", ".join(map(str, unscored[:5])) + (", ..." if len(unscored) > 5 else "")
        notes.append(f"{len(unscored)} candidates failed to score (no proxy value: {shown}); no proxy picks them")
    if len(cells) < 2:
        raise InvalidInputError("fewer than 2 candidates have both a cost and a ground-truth accuracy")
    basis = cells["true_cost"] if true_cost is not None else cells["cost"]
    budgets = list(budgets) if budgets else budgets_from_quantiles(basis.to_numpy(), quantiles)
    tc = "true_cost" if true_cost is not None else None
    picks = budget_picks(cells, proxies, budgets, true_cost=tc)
    summary = front_summary(cells, picks, proxies, true_cost=tc)
    result = ParetoResult(cells, picks, summary, budgets, proxies, cost.name, cost.unit, true_cost=tc, notes=notes)
    if true_cost is not None:
        result.predicted = predicted_vs_truth(cells, budgets)
    return result


def predicted_vs_truth(cells: pd.DataFrame, budgets: Sequence[float]) -> pd.DataFrame:
    """How the ground-truth front changes when the cost is predicted: per budget, the best cell by accuracy
    under the predicted cost, its true cost, whether it breaks the budget, and accuracy lost."""
    oracle = cells.assign(oracle=cells["accuracy"])
    picks = budget_picks(oracle, ["oracle"], budgets, true_cost="true_cost")
    front = front_summary(oracle, picks, ["oracle"], true_cost="true_cost")
    picks["hv_ratio_front"] = float(front["hv_ratio_front"].iloc[0])
    picks["igd_front"] = float(front["igd_front"].iloc[0])
    rho = cells[["cost", "true_cost"]].corr(method="spearman").iloc[0, 1]
    picks["cost_spearman"] = float(rho)
    return picks.drop(columns=["proxy"])


def save_result(result: ParetoResult, out_dir: str | os.PathLike, stem: str, cells: bool = True) -> dict[str, Path]:
    """Write picks.csv, summary.csv, a JSON of the run and (with `cells`) every candidate's cells.csv under `out_dir`.

    `cells=False` skips the per-candidate table, which repeats what the result store holds (6 MB for
    the whole NB201 space).
    """
    import json

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "picks": out / f"{stem}_picks.csv",
        "summary": out / f"{stem}_summary.csv",
        "json": out / f"{stem}.json",
    }
    if cells:
        paths["cells"] = out / f"{stem}_cells.csv"
        result.cells.to_csv(paths["cells"], index_label="arch")
    result.picks.to_csv(paths["picks"], index=False)
    result.summary.to_csv(paths["summary"], index=False)
    paths["json"].write_text(json.dumps(result.to_json(), indent=1, default=str))
    return paths
