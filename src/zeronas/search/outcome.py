"""What a search returns: the evaluation history, the best candidates, the front, counts; plots and ground truth."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from zeronas.errors import ZeronasError
from zeronas.search.evaluator import Evaluator


@dataclass
class SearchResult:
    """One search run: `history` in evaluation order, `best` distinct candidates (best first), `front` for NSGA-II."""

    algorithm: str
    space: str
    dataset: str
    objective: str
    seed: int
    run: str | None
    history: pd.DataFrame
    best: pd.DataFrame
    front: pd.DataFrame | None = None
    stats: dict[str, float] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def best_arch(self) -> str:
        return str(self.best["arch"].iloc[0])


def build_result(ev: Evaluator, algorithm: str, run: str | None, seconds: float, extra: dict, top: int) -> SearchResult:
    """Collect the evaluator's records into a SearchResult."""
    rows = [
        {
            "step": r.step,
            "arch": r.arch,
            "value": r.value,
            "best": r.best,
            "seconds": r.seconds,
            **r.proxies,
            **{f"cost_{k}": v for k, v in r.costs.items()},
        }
        for r in ev.records
    ]
    history = pd.DataFrame(rows)
    if history.empty:
        raise ZeronasError(f"{algorithm} search evaluated no candidate")
    distinct = history.drop_duplicates("arch").copy()
    distinct["_order"] = distinct["value"].fillna(-math.inf)
    picked = extra.pop("picked", None)  # an algorithm that chooses by more than the objective (fewshot) names its pick
    if picked is not None:
        distinct["_order"] = distinct["_order"].where(distinct["arch"] != picked, math.inf)
    best = distinct.sort_values(["_order", "step"], ascending=[False, True]).head(top).drop(columns=["_order", "best"])
    objective = ev.objective
    stats = {
        "evaluations": len(history),
        "unique": int(history["arch"].nunique()),
        "proxy_computations": int(getattr(objective, "computed", len(history))),
        "reused": int(getattr(objective, "reused", 0)),
        "computed_on_executor": int(getattr(objective, "computed_on_executor", 0)),
        "budget_checks": ev.checker.checked,
        "rejected": ev.checker.rejected,
        "seconds": seconds,
        "candidates_per_s": len(history) / seconds if seconds > 0 else math.nan,
    }
    front = extra.pop("front", None)
    return SearchResult(
        algorithm,
        ev.space.name,
        ev.checker.dataset,
        objective.label,
        ev.seed,
        run,
        history,
        best.reset_index(drop=True),
        front,
        stats,
        extra,
    )


def tabulated_accuracy(space: str, dataset: str) -> tuple[str, pd.Series] | None:
    """(metric, arch -> trained value over the whole space) of the space's benchmark on `dataset`.

    The metric is the benchmark's first ('test' accuracy where it has one). None when the benchmark has
    no ground truth or does not cover `dataset`; a table missing from the data directory raises
    DataNotFoundError (one line naming the file).
    """
    from zeronas.data import get_dataset
    from zeronas.spaces import get_benchmark

    benchmark = get_benchmark(space)
    if not benchmark.truth_available() or (benchmark.datasets and get_dataset(dataset).name not in benchmark.datasets):
        return None
    metric = benchmark.metrics[0]
    return metric, benchmark.ground_truth(dataset, metric)


def benchmark_truth(space: str, keys: list[str], dataset: str) -> pd.DataFrame | None:
    """Trained value and rank among all cells of the space (1 = best) of `keys`.

    The value is the benchmark's first metric ('test' accuracy where it has one; an imported table's
    'val'), in column `<metric>_acc`, named in `frame.attrs["column"]`. None when the space's benchmark
    has no ground truth or does not cover `dataset`; a benchmark table missing from the data directory
    raises DataNotFoundError (one line naming the file).
    """
    tabulated = tabulated_accuracy(space, dataset)
    if tabulated is None:
        return None
    metric, accuracy = tabulated
    ordered = np.sort(accuracy.to_numpy())[::-1]
    values = accuracy.reindex(keys).to_numpy()
    ranks = [int(np.searchsorted(-ordered, -v, side="left")) + 1 if np.isfinite(v) else -1 for v in values]
    column = f"{metric}_acc"
    frame = pd.DataFrame({"arch": keys, column: values, "rank": ranks, "optimum": float(ordered[0])})
    frame.attrs.update(cells=len(ordered), column=column, metric=metric)  # the rank is among this many cells
    return frame


def plot_trace(result: SearchResult, path: str | Path) -> Path:
    """PNG of the best-so-far objective (and every candidate's value) against evaluations."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    history = result.history
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    ax.scatter(history["step"] + 1, history["value"], s=6, alpha=0.35, color="tab:gray", label="candidate")
    ax.plot(history["step"] + 1, history["best"], color="tab:blue", lw=2, label="best so far")
    ax.set_xlabel("evaluations")
    ax.set_ylabel(result.objective)
    ax.set_title(f"{result.algorithm} on {result.space} / {result.dataset} (seed {result.seed})")
    return _save(fig, ax, path)


def _save(fig: object, ax: object, path: str | Path) -> Path:
    """Legend, grid and layout shared by the search plots; write the PNG and free the figure."""
    import matplotlib.pyplot as plt

    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_front(result: SearchResult, path: str | Path) -> Path:
    """PNG of every feasible candidate and the Pareto front (objective vs cost)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cost = str(result.extra.get("cost", "flops"))
    history = result.history.drop_duplicates("arch")
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    if f"cost_{cost}" in history:
        ax.scatter(history[f"cost_{cost}"], history["value"], s=6, alpha=0.35, color="tab:gray", label="evaluated")
    if result.front is not None and not result.front.empty:
        ax.step(result.front[cost], result.front["value"], where="post", color="tab:red", lw=1.5)
        ax.scatter(result.front[cost], result.front["value"], s=18, color="tab:red", label="Pareto front", zorder=3)
    ax.set_xlabel(cost)
    ax.set_ylabel(result.objective)
    ax.set_title(f"NSGA-II front on {result.space} / {result.dataset}")
    return _save(fig, ax, path)
