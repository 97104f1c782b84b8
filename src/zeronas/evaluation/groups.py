"""Evaluate what the store holds: one `GroupResult` per (space, dataset, settings), and its tables and plots.

Everything here reads stored rows and ground truth; nothing recomputes a proxy. Spreads over seeds
are sample standard deviations (ddof=1); best-found averages the ground truth of the cells tied at the
top proxy value (see `zeronas.evaluation.metrics`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from zeronas.errors import InvalidInputError, UnknownNameError, ZeronasError
from zeronas.evaluation import plots
from zeronas.evaluation.metrics import BEST_FOUND_RULE, RATIOS, STD_RULE, Evaluation, evaluate_rows, top_set
from zeronas.evaluation.sweep import recorded_draws, recorded_top_draws, recorded_tops
from zeronas.groundtruth.truth import ground_truth
from zeronas.proxies.ensemble import ensemble_rows, stored_names
from zeronas.spaces import get_benchmark
from zeronas.store import ResultStore
from zeronas.store.checks import unsafe_name

_POPULATION = {
    "complete": "every cell of the set scored",
    "uniform": "the uniformly drawn cells only",
    "scored": "every scored cell (no uniform sample recorded)",
    "top draw": "a uniform draw of cells from the top set (--top-sample)",
}

#: fewest models a subset's default Top-k% set holds before k widens to SUBSET_FALLBACK_TOP
SUBSET_MIN_TOP = 10
SUBSET_FALLBACK_TOP = 20.0


@dataclass
class GroupResult:
    """The evaluation of one (space, dataset, settings digest) and what it was computed from."""

    space: str
    dataset: str
    digest: str
    settings: dict
    metric: str
    evaluation: Evaluation
    failures: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    #: the benchmark subset (a family, a kind) the group was restricted to; '' for the whole space
    subset: str = ""

    @property
    def name(self) -> str:
        return f"{self.space}_{self.dataset}_{self.digest}" + (f"_{self.subset}" if self.subset else "")

    @property
    def title(self) -> str:
        where = f"{self.space} [{self.subset}]" if self.subset else self.space
        return f"{where} / {self.dataset} / settings {self.digest} ({self.metric} {self.truth_kind})"

    @property
    def unit(self) -> str:
        """The ground truth's unit, the benchmark's: '%' for accuracies, '' for an SSIM, a loss or another metric."""
        return get_benchmark(self.space).truth_unit

    @property
    def truth_kind(self) -> str:
        """'accuracy' for a percentage ground truth, else 'metric'."""
        return "accuracy" if self.unit == "%" else "metric"

    def unit_label(self, name: str) -> str:
        """A column name with the ground truth's unit: 'best-found %' or 'best-found'."""
        return f"{name} {self.unit}" if self.unit else name

    def figures(self) -> dict[str, bytes]:
        """PNG bytes of the three plots, by short name."""
        ev = self.evaluation
        out = {
            "correlations": plots.correlation_bars(ev.summary, ev.top, self.title),
            "best_found": plots.best_found_bars(
                ev.summary, ev.optimum, self.title, float(ev.best_found["population_best"].max()), self.unit
            ),
        }
        if not ev.ratios.empty:
            out["ratios"] = plots.ratio_lines(ev.ratios, self.title)
        return {name: plots.png_bytes(fig) for name, fig in out.items()}


def default_top(store: ResultStore, space: str, dataset: str, truth: pd.Series, scored: set[str]) -> float:
    """The largest recorded --include-top K whose whole top set, or a draw from it, is scored, else 5."""
    complete = [k for k in recorded_tops(store, space, dataset) if set(top_set(truth, k)) <= scored]
    drawn = [k for k, cells in recorded_top_draws(store, space, dataset).items() if cells and cells <= scored]
    return max(complete + drawn, default=5.0)


def subset_top(size: int, top: float) -> float:
    """k of a subset's Top-k% columns: `top`, or SUBSET_FALLBACK_TOP when its top k% holds < SUBSET_MIN_TOP models."""
    return top if math.ceil(size * top / 100 - 1e-9) >= SUBSET_MIN_TOP else max(top, SUBSET_FALLBACK_TOP)


def failure_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Failed values by (proxy, status, reason), most frequent first."""
    failed = rows[rows["status"] != "ok"]
    if failed.empty:
        return pd.DataFrame(columns=["proxy", "status", "reason", "count"])
    table = failed.groupby(["proxy", "status", "reason"]).size().rename("count").reset_index()
    return table.sort_values(["count", "proxy"], ascending=[False, True]).reset_index(drop=True)


def draw_per_proxy(draws: list[set[str]], rows: pd.DataFrame) -> dict[str, set[str]]:
    """Per proxy, the recorded uniform draw its rows cover best: the largest share, then the larger draw.

    A store may hold one proxy swept over 1,000 uniform cells plus a top set and another over 100 or over
    the whole space; each is evaluated on its own draw, never on cells some other sweep drew (a top set
    would then pass for uniform cells). A cell counts as covered when every seed of the proxy scored it.
    """
    chosen: dict[str, set[str]] = {}
    for proxy, group in rows.groupby("proxy", sort=False):
        covered = set.intersection(*(set(seed_rows["arch"]) for _, seed_rows in group.groupby("seed")))
        shares = [(len(draw & covered) / len(draw), len(draw), i) for i, draw in enumerate(draws) if draw]
        best = max(shares, default=(0.0, 0, -1))
        if best[0] > 0:
            chosen[str(proxy)] = draws[best[2]]
    return chosen


def evaluate_group(
    store: ResultStore,
    space: str,
    dataset: str,
    digest: str,
    metric: str = "test",
    top: float | None = None,
    proxies: Sequence[str] | None = None,
    seeds: Sequence[int] | None = None,
    cells: Iterable[str] | None = None,
    uniform: Iterable[str] | None = None,
    ratios: Sequence[float] | None = RATIOS,
    data_dir: str | os.PathLike | None = None,
    subset: str = "",
) -> GroupResult:
    """Metrics of the stored rows of one group, optionally restricted to `proxies`, `seeds` and `cells`.

    `subset`: one of the benchmark's named subsets (`Benchmark.subsets`); its ground truth is then the
    subset's only (Top-k% sets are the subset's best), and k defaults by `subset_top`.

    `uniform`: the uniformly drawn cells; by default, per proxy, the draw recorded for (space, dataset) that
    its rows cover best (`draw_per_proxy`).
    `top`: k of the Top-k% columns; by default the largest K whose top set a sweep added (--include-top K)
    and the rows cover whole, else 5 (the survey's).
    """
    truth = ground_truth(space, dataset, metric, data_dir)
    notes = []
    if subset:
        bench = get_benchmark(space)
        members = set(bench.subset_keys(subset, data_dir))
        truth = truth[truth.index.isin(members)]
        cells = members if cells is None else set(cells) & members
        claim = bench.survey_claim(subset)
        notes.append(f"subset {subset}: {len(truth)} architectures with ground truth" + (f"; {claim}" if claim else ""))
    query, ensembles = (None, None) if proxies is None else stored_names(proxies)
    rows = store.frame(space=space, dataset=dataset, settings=digest, proxies=query, seeds=seeds)
    if cells is not None:
        rows = rows[rows["arch"].isin(set(cells))]
    unknown = ~rows["arch"].isin(truth.index)
    if unknown.any():
        notes.append(f"{rows.loc[unknown, 'arch'].nunique()} stored cell(s) have no ground truth and are left out")
        rows = rows[~unknown]
    derived = ensemble_rows(rows, ensembles)
    if not derived.empty:
        names = ", ".join(dict.fromkeys(derived["proxy"]))
        notes.append(f"{names}: ranked over the pool of every scored cell with all member values (per seed)")
        rows = pd.concat([rows, derived.reindex(columns=rows.columns)], ignore_index=True)
    if rows.empty:
        raise ZeronasError(f"no stored rows for {space}/{dataset}/settings {digest} with the given filters")
    drawn: set[str] | dict[str, set[str]]
    if uniform is None:
        drawn = draw_per_proxy(recorded_draws(store, space, dataset), rows)
    else:
        drawn = set(uniform) & set(rows["arch"])
    if not drawn:
        notes.append("no uniformly drawn cells recorded: incomplete sets use every scored cell")
    try:
        settings = store.settings(digest)
    except ZeronasError:
        settings, notes = {}, [*notes, f"settings {digest} are not registered in the store"]
    if top is None:
        top = default_top(store, space, dataset, truth, set(rows["arch"]))
        if subset:
            widened = subset_top(len(truth), top)
            if widened != top:
                notes.append(f"Top {widened:g}%: the top {top:g}% of {len(truth)} holds fewer than {SUBSET_MIN_TOP}")
            top = widened
    top_draws = {k: v & set(rows["arch"]) for k, v in recorded_top_draws(store, space, dataset).items()}
    evaluation = evaluate_rows(rows, truth, top, drawn or None, ratios, top_draws)
    for tag, label in (("all", "All"), ("top", f"Top {top:g}%")):
        kinds = evaluation.summary[f"population_{tag}"].dropna().unique()
        cells_n = evaluation.summary[f"cells_{tag}"]
        described = "; ".join(_POPULATION.get(k, k) for k in kinds)
        notes.append(f"{label}: {described} ({cells_n.min():.0f}-{cells_n.max():.0f} cells per proxy and seed)")
    notes += [f"{BEST_FOUND_RULE}.", f"{STD_RULE}."]
    return GroupResult(space, dataset, digest, settings, metric, evaluation, failure_table(rows), notes, subset)


def evaluate_store(
    store: ResultStore,
    metric: str | None = None,
    top: float | None = None,
    ratios: Sequence[float] | None = RATIOS,
    data_dir: str | os.PathLike | None = None,
) -> tuple[list[GroupResult], list[str]]:
    """Every group of the store that has ground truth; and one line per group left out and why.

    `metric` None takes each benchmark's first metric ('test' where it has one).
    """
    results, skipped = [], []
    for group in store.groups().itertuples(index=False):
        try:
            bench = get_benchmark(group.space)
        except UnknownNameError:
            skipped.append(f"{group.space}/{group.dataset}/{group.settings}: no ground truth (space not registered)")
            continue
        if not bench.truth_available(data_dir):
            skipped.append(f"{group.space}/{group.dataset}/{group.settings}: no ground truth for this space")
            continue
        chosen = metric or bench.metrics[0]
        for subset in ["", *bench.subset_names(data_dir)]:
            where = f"{group.space}/{group.dataset}/{group.settings}" + (f" [{subset}]" if subset else "")
            try:
                results.append(
                    evaluate_group(
                        store,
                        group.space,
                        group.dataset,
                        group.settings,
                        chosen,
                        top,
                        ratios=ratios,
                        data_dir=data_dir,
                        subset=subset,
                    )
                )
            except ZeronasError as exc:
                skipped.append(f"{where}: {exc}")
    return results, skipped


def _pm(mean: float, std: float, digits: int) -> str:
    """`mean ± std`; the mean alone when the std is undefined (one seed), 'n/a' without a mean."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "n/a"
    return f"{mean:.{digits}f}" + ("" if pd.isna(std) else f" ± {std:.{digits}f}")


def _span(low: float, high: float, fmt: str) -> str:
    """'low–high', or one value when both are equal; 'n/a' when undefined."""
    if pd.isna(low) or pd.isna(high):
        return "n/a"
    low_text, high_text = format(low, fmt), format(high, fmt)
    return low_text if low_text == high_text else f"{low_text}–{high_text}"


def format_summary(result: GroupResult) -> pd.DataFrame:
    """The per-proxy summary as display strings, best SPR@All first."""
    summary = result.evaluation.summary.sort_values("spr_all", ascending=False, na_position="last")
    top = f"{result.evaluation.top:g}"
    return pd.DataFrame(
        {
            "proxy": summary["proxy"],
            "SPR@All": [_pm(m, s, 3) for m, s in zip(summary["spr_all"], summary["spr_all_std"], strict=True)],
            "KT@All": [_pm(m, s, 3) for m, s in zip(summary["kt_all"], summary["kt_all_std"], strict=True)],
            f"SPR@Top{top}%": [_pm(m, s, 3) for m, s in zip(summary["spr_top"], summary["spr_top_std"], strict=True)],
            f"KT@Top{top}%": [_pm(m, s, 3) for m, s in zip(summary["kt_top"], summary["kt_top_std"], strict=True)],
            result.unit_label("best-found"): [
                _pm(m, s, 2) for m, s in zip(summary["best_acc"], summary["best_acc_std"], strict=True)
            ],
            "cells All/Top": [
                f"{a:.0f}/{t:.0f}" for a, t in zip(summary["cells_all"], summary["cells_top"], strict=True)
            ],
            "seeds": summary["seeds"].astype(int),
            "failed/rows": [f"{f}/{r}" for f, r in zip(summary["failed"].astype(int), summary["rows"], strict=True)],
        }
    ).reset_index(drop=True)


def format_best_found(result: GroupResult) -> pd.DataFrame:
    """Best-found per proxy as display strings, highest first.

    'best-found %': the per-seed best-found (mean ground truth of the cells tied at the top proxy value),
    mean ± sample std (ddof=1) over seeds; 'min–max %': the lowest and highest ground truth among the tied
    cells of every seed; 'tied cells': how many cells tie per seed (a range when seeds differ); 'most picked':
    the most frequent `arch` over seeds, marked when it is only the first of several tied cells. The '%' of
    the ground-truth columns is the benchmark's unit (none for a task metric such as an SSIM or a loss).
    """
    best = result.evaluation.best_found
    rows, order = [], []
    for proxy, part in best.groupby("proxy", sort=False):
        picks = part.dropna(subset=["arch"])
        pick = ""
        if not picks.empty:
            arch = picks["arch"].mode().iloc[0]
            tied = int(picks.loc[picks["arch"] == arch, "tied"].max())
            pick = arch if tied == 1 else f"{arch} (first of {tied} tied)"
        rows.append(
            {
                "proxy": proxy,
                result.unit_label("best-found"): _pm(part["accuracy"].mean(), part["accuracy"].std(ddof=1), 2),
                result.unit_label("min–max"): _span(part["accuracy_min"].min(), part["accuracy_max"].max(), ".2f"),
                "tied cells": _span(part["tied"].min(), part["tied"].max(), "d"),
                "most picked": pick,
                result.unit_label("population best"): f"{part['population_best'].max():.2f}",
                result.unit_label("space optimum"): f"{result.evaluation.optimum:.2f}",
            }
        )
        order.append(part["accuracy"].mean())
    frame = pd.DataFrame(rows)
    if not rows:
        return frame
    ranked = pd.Series(order).sort_values(ascending=False, na_position="last", kind="stable").index
    return frame.loc[ranked].reset_index(drop=True)


def write_tables(
    result: GroupResult, out_dir: str | os.PathLike, figures: dict[str, bytes] | None = None
) -> list[Path]:
    """CSV and JSON tables and PNG plots of one group into `out_dir`; return the paths written."""
    ev, stem = result.evaluation, result.name
    if unsafe_name(stem):
        raise InvalidInputError(f"group name {stem!r} cannot name a file: it holds a path separator or '..'")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in (
        ("summary", ev.summary),
        ("correlations", ev.correlations),
        ("best_found", ev.best_found),
        ("ratios", ev.ratios),
        ("failures", result.failures),
    ):
        path = out / f"{stem}_{name}.csv"
        frame.to_csv(path, index=False)
        written.append(path)
    payload = {
        "space": result.space,
        "dataset": result.dataset,
        "settings_digest": result.digest,
        "settings": result.settings,
        "metric": result.metric,
        "top_percent": ev.top,
        "optimum": ev.optimum,
        "notes": result.notes,
        "summary": json.loads(ev.summary.to_json(orient="records")),
        "best_found": json.loads(ev.best_found.to_json(orient="records")),
    }
    path = out / f"{stem}_summary.json"
    path.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    written.append(path)
    for name, png in (figures if figures is not None else result.figures()).items():
        path = out / f"{stem}_{name}.png"
        path.write_bytes(png)
        written.append(path)
    return written
