"""The training-free ensembles `zs_ensemble` and `zs_ensemble_top`: design records, cost, results on every benchmark.

Parts, each writing JSON (and the table a markdown file) under benchmarks/results/ensemble/:

  design      On the NB201 CIFAR-10 store only (500 uniform cells, sample seed 0): each candidate member's
              Spearman, then every subset of 2-5 candidates under three aggregations (AZ-NAS's Σ ln(rank/M),
              the mean percentile rank, the mean z-score of log-scaled values), best first. This is the only
              data the choice of `zs_ensemble` saw.
  design-top  The search ensemble `zs_ensemble_top`, again on NB201 CIFAR-10 only: the 500 uniform cells plus
              every top-5% cell; each 2-5 subset's SPR@All, SPR@Top5% and its 10 favourites' accuracy, and
              the two finalists that the CIFAR-10 search (`search --ensemble`) decided between.
  cost        Seconds of the members in one engine call (`zeronas.score`, model copy included) over one plain
              forward+backward (CE loss, train mode), on the NB201 cells with the smallest / median / largest
              FLOPs of a seeded sample of 300, measured in the same run.
  table       `evaluate_group` on each given store (space:dataset:path), restricted to the cells with every
              member value of both ensembles: SPR/KT @All and @Top5%, best-found, for #Params, #FLOPs, nwot,
              every member, az_nas and both ensembles (their pool: all those cells).
  search      Zero-shot search: regularised evolution maximising an ensemble (`EnsembleObjective`: each
              candidate ranked over the 32 reference cells and every candidate so far; the answer is the best
              over the final pool), 5 seeds, proxy seed 0 (values shared across seeds through the store);
              the test accuracy of each answer.

    python benchmarks/ensemble.py design --store C10.sqlite
    python benchmarks/ensemble.py design-top --store C10.sqlite
    python benchmarks/ensemble.py cost [--threads 1]
    python benchmarks/ensemble.py table nb201:cifar10:C10.sqlite nb201:cifar100:C100.sqlite ...
    python benchmarks/ensemble.py table timm_zoo:imagenet64:ZOO.sqlite --name table_timm_zoo64
    python benchmarks/ensemble.py search --ensemble zs_ensemble_top --dataset cifar100 --store C100.sqlite
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd
import torch
from proxies import fwd_bwd_seconds, machine, nb201_cells, timed_score

import zeronas
from zeronas.errors import ZeronasError
from zeronas.evaluation.fewshot import proxy_table
from zeronas.evaluation.groups import evaluate_group
from zeronas.evaluation.metrics import rank_correlation, top_set
from zeronas.evaluation.report import markdown_table
from zeronas.evaluation.scoring import build_seeded
from zeronas.evaluation.sweep import recorded_draws, recorded_top_draws, recorded_tops
from zeronas.groundtruth.truth import ground_truth
from zeronas.proxies import AZ_COMPONENTS, az_nas_aggregate, get_ensemble, register_ensemble
from zeronas.spaces import get_benchmark
from zeronas.store import ResultStore

OUT = Path("benchmarks/results/ensemble")
ENSEMBLE = "zs_ensemble"
#: the ensemble designed for search (the top of the space), `design-top`'s choice
SEARCH_ENSEMBLE = "zs_ensemble_top"
#: the candidates the design compared (all cheap enough to fit 3x one forward+backward together)
CANDIDATES = (
    "nwot", "synflow", "zen", "params", "flops", "meco", "meco_opt", "az_expressivity", "az_progressivity",
    "az_trainability", "jacob_cov", "zico", "snip", "grad_norm", "l2_norm", "linear_regions",
)  # fmt: skip
#: proxies of the results table besides the ensembles' members
BASELINES = ("params", "flops", "nwot")
#: the search's default budget; result files of other budgets carry it in their name
DEFAULT_EVALUATIONS = 300


def subsets(candidates: list[str]) -> itertools.chain:
    """Every subset of 2-5 candidates (the ensembles' designs compare these), in itertools' order."""
    return itertools.chain.from_iterable(itertools.combinations(candidates, size) for size in range(2, 6))


def fail(message: str) -> NoReturn:
    """A bad input of this script: one line on stderr, exit code 2."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def swept_cells(store: ResultStore, space: str, dataset: str) -> set[str]:
    """The cells of the recorded sweeps (uniform draws, top sets and draws of them), not those a search added."""
    cells = set().union(*recorded_draws(store, space, dataset), *recorded_top_draws(store, space, dataset).values())
    truth = ground_truth(space, dataset, first_metric(space))
    for percent in recorded_tops(store, space, dataset):
        cells |= set(top_set(truth, percent))
    return cells


def first_metric(space: str) -> str:
    """The benchmark's default ground truth: 'test' on NB201/NB101, 'top1' on the timm zoo."""
    return get_benchmark(space).metrics[0]


def group_digest(store: ResultStore, space: str, dataset: str) -> str:
    """The settings digest of the store's largest group for (space, dataset) (the sweep's, not a side run's)."""
    groups = store.groups()
    group = groups[(groups["space"] == space) & (groups["dataset"] == dataset)]
    if group.empty:
        fail(f"{store.path}: no stored rows for {space}/{dataset}")
    return str(group.sort_values("rows", ascending=False)["settings"].iloc[0])


def store_table(store: ResultStore, space: str, dataset: str) -> pd.DataFrame:
    """Oriented values of one store's single settings group for (space, dataset), seed 0, on its swept cells."""
    rows = store.frame(space=space, dataset=dataset, settings=group_digest(store, space, dataset), seeds=[0])
    return proxy_table(rows[rows["arch"].isin(swept_cells(store, space, dataset))])


def _log_scaled(values: pd.DataFrame) -> pd.DataFrame:
    """synflow spans orders of magnitude: its log; every other value as is."""
    scaled = values.copy()
    if "synflow" in scaled:
        scaled["synflow"] = np.log(scaled["synflow"].clip(lower=1e-300))
    return scaled.replace([np.inf, -np.inf], np.nan)


def _zscores(values: pd.DataFrame) -> pd.DataFrame:
    return (values - values.mean()) / values.std()


AGGREGATIONS = {
    "log_rank_sum": lambda v: az_nas_aggregate(v),
    "mean_rank": lambda v: v.rank(pct=True).fillna(0).mean(axis=1),
    "mean_zscore": lambda v: _zscores(_log_scaled(v)).fillna(-5).mean(axis=1),
}


def design(args: argparse.Namespace) -> None:
    values = store_table(ResultStore(args.store), "nb201", "cifar10")
    truth = ground_truth("nb201", "cifar10", "test").reindex(values.index)
    top = truth >= truth.quantile(0.95)
    candidates = [c for c in CANDIDATES if c in values.columns]

    def spr(x: pd.Series) -> float:
        return round(rank_correlation(x, truth)[0], 4)

    def spr_top(x: pd.Series) -> float:
        return round(rank_correlation(x[top], truth[top])[0], 4)

    singles = {c: {"spr_all": spr(values[c]), "spr_top5_of_pool": spr_top(values[c])} for c in candidates}
    combos = []
    for members in subsets(candidates):
        for name, aggregate in AGGREGATIONS.items():
            score = aggregate(values[list(members)])
            combos.append({"members": list(members), "aggregation": name, "spr_all": spr(score),
                           "spr_top5_of_pool": spr_top(score)})  # fmt: skip
    combos.sort(key=lambda c: -c["spr_all"])
    chosen = list(get_ensemble(ENSEMBLE).members)
    chosen_rows = [c for c in combos if c["members"] == chosen]
    report = {
        "machine": machine(),
        "measured": args.date,
        "command": f"python benchmarks/ensemble.py design --store {args.store}",
        "data": f"NB201 CIFAR-10, {len(values)} cells of the store (uniform draw, sample seed 0), seed 0",
        "singles": singles,
        "combinations": len(combos),
        "best": combos[:40],
        "chosen": {
            "members": chosen,
            "aggregation": "log_rank_sum",
            "rows": chosen_rows,
            "rank_among_combinations": 1
            + [c["members"] == chosen and c["aggregation"] == "log_rank_sum" for c in combos].index(True),
        },  # fmt: skip
        "az_nas": {"spr_all": spr(az_nas_aggregate(values[list(AZ_COMPONENTS)]))},
    }
    for name, row in singles.items():
        print(f"{name:18s} {row['spr_all']:.3f}")
    for row in combos[:15]:
        print(f"{row['spr_all']:.3f} top {row['spr_top5_of_pool']:.3f} {row['aggregation']:12s} {row['members']}")
    chosen_rank = report["chosen"]["rank_among_combinations"]
    print("chosen:", report["chosen"]["members"], "rank", chosen_rank, "of", len(combos))
    _write(report, "design_cifar10.json")


def design_top(args: argparse.Namespace) -> None:
    """The search ensemble's design: every 2-5 subset of the candidates (log-rank sum) judged where a search looks.

    Data: NB201 CIFAR-10 only, the 500 uniform cells of sample seed 0 and every cell of the top 5%. Per subset:
    SPR@All over the uniform cells (ranked among them), SPR@Top5% over the top cells and the mean test
    accuracy of its 10 favourites (both ranked over uniform + top, a pool rich in good cells like a search's).
    Two finalists, each the rule's best among the subsets with SPR@All >= .92: the highest SPR@Top5%, and the
    smallest subset within 0.05 % of the best favourites' accuracy; the 5-seed CIFAR-10 search decides.
    """
    store = ResultStore(args.store)
    values = store_table(store, "nb201", "cifar10")
    truth = ground_truth("nb201", "cifar10", "test")
    uniform = sorted(store.cells("nb201", "cifar10", "uniform:500:0") & set(values.index))
    wanted = top_set(truth, 5.0)
    top = [key for key in wanted if key in values.index]
    if not uniform or len(top) < len(wanted):
        fail(f"{args.store}: design-top needs the 500-cell uniform draw and every top-5% cell of NB201 CIFAR-10 "
             f"(has {len(uniform)} uniform, {len(top)} of {len(wanted)} top)")  # fmt: skip
    candidates = [c for c in CANDIDATES if c in values.columns and values.loc[top, c].notna().all()]

    def judge(members: tuple[str, ...]) -> dict:
        table = values[list(members)]
        pool = az_nas_aggregate(table)
        return {
            "members": list(members),
            "spr_all": round(rank_correlation(az_nas_aggregate(table.loc[uniform]), truth[uniform])[0], 4),
            "spr_top5": round(rank_correlation(pool[top], truth[top])[0], 4),
            "favourites_acc": round(float(truth[pool.nlargest(10).index].mean()), 4),
        }

    combos = [judge(m) for m in subsets(candidates)]
    eligible = [c for c in combos if c["spr_all"] >= 0.92]
    by_top = max(eligible, key=lambda c: c["spr_top5"])
    best_fav = max(c["favourites_acc"] for c in eligible)
    near_best = [c for c in eligible if c["favourites_acc"] >= best_fav - 0.05]
    by_fav = min(near_best, key=lambda c: (len(c["members"]), -c["favourites_acc"]))
    report = {
        "machine": machine(),
        "measured": args.date,
        "command": f"python benchmarks/ensemble.py design-top --store {args.store}",
        "data": f"NB201 CIFAR-10 seed 0: {len(uniform)} uniform cells (sample seed 0) + {len(top)} top-5% cells",
        "candidates": candidates,
        "combinations": len(combos),
        "finalists": {"best_spr_top5": by_top, "best_favourites": by_fav},
        "zs_ensemble": judge(get_ensemble(ENSEMBLE).members),
        "best_by_spr_top5": sorted(eligible, key=lambda c: -c["spr_top5"])[:20],
        "best_by_favourites": sorted(eligible, key=lambda c: -c["favourites_acc"])[:20],
    }
    for label, row in [*report["finalists"].items(), (ENSEMBLE, report["zs_ensemble"])]:
        print(f"{label:15s} {row}")
    _write(report, "design_top_cifar10.json")


def cost(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    space = zeronas.create_space("nb201")
    batch = zeronas.load_batch("cifar10", args.batch_size, 0)
    sets = {name: list(get_ensemble(name).members) for name in (ENSEMBLE, SEARCH_ENSEMBLE, "az_nas")}
    sets["meco"] = ["meco"]
    results = []
    for name, key in nb201_cells("cifar10").items():
        model = build_seeded(space, key, 10, 0)
        timed_score(model, batch, sets[ENSEMBLE])  # warm-up
        baseline = fwd_bwd_seconds(model, batch, args.repeats)
        seconds = {
            k: statistics.median(timed_score(model, batch, v) for _ in range(args.repeats)) for k, v in sets.items()
        }
        ratios = {k: round(v / baseline, 3) for k, v in seconds.items()}
        results.append({"model": name, "arch": key, "fwd_bwd_s": baseline, "seconds": seconds, "over_fwd_bwd": ratios})
        print(f"{name:13s} fwd+bwd {baseline:.3f} s  " + "  ".join(f"{k} {r:.2f}x" for k, r in ratios.items()))
    command = f"python benchmarks/ensemble.py cost --threads {args.threads} --repeats {args.repeats}"
    report = {"machine": machine(), "measured": args.date, "batch_size": args.batch_size, "repeats": args.repeats,
              "command": command, "results": results}  # fmt: skip
    _write(report, "cost.json")


def table(args: argparse.Namespace) -> None:
    members = list(dict.fromkeys([*get_ensemble(ENSEMBLE).members, *get_ensemble(SEARCH_ENSEMBLE).members]))
    proxies = [*BASELINES, *members, *AZ_COMPONENTS, "az_nas", ENSEMBLE, SEARCH_ENSEMBLE]
    records = []
    for entry in args.stores:
        space, dataset, path = entry.split(":", 2)
        store = ResultStore(Path(path))
        digest = group_digest(store, space, dataset)
        start = time.perf_counter()
        stored = store.frame(space=space, dataset=dataset, settings=digest, proxies=members, seeds=[0])
        counts = stored.groupby("arch")["proxy"].nunique()
        cells = set(counts.index[counts == len(members)]) & swept_cells(store, space, dataset)
        result = evaluate_group(
            store, space, dataset, digest, first_metric(space), proxies=proxies, seeds=[0], top=5.0, cells=cells
        )
        summary = result.evaluation.summary.set_index("proxy")
        for proxy in [p for p in dict.fromkeys(proxies) if p in summary.index]:
            row = summary.loc[proxy]
            records.append({"benchmark": f"{space}/{dataset}", "proxy": proxy, "cells_all": int(row["cells_all"]),
                            "spr_all": row["spr_all"], "kt_all": row["kt_all"], "cells_top": int(row["cells_top"]),
                            "spr_top": row["spr_top"], "best_found": row["best_acc"],
                            "optimum": row["optimum"]})  # fmt: skip
        print(f"{space}/{dataset}: {time.perf_counter() - start:.1f} s")
    frame = pd.DataFrame(records)
    print(frame.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    command = "python benchmarks/ensemble.py table " + " ".join(args.stores)
    command += "" if args.name == "table" else f" --name {args.name}"
    report = {"machine": machine(), "measured": args.date, "command": command, "rows": records}
    _write(report, f"{args.name}.json")
    wide = frame.pivot_table(index="proxy", columns="benchmark", values=["spr_all", "spr_top"], sort=False)
    wide.columns = [f"{metric.replace('spr_', 'SPR@')} {bench}" for metric, bench in wide.columns]
    (OUT / f"{args.name}.md").write_text(markdown_table(wide.round(3).reset_index()) + "\n")


def search_runs(args: argparse.Namespace) -> None:
    from zeronas.search import search

    torch.set_num_threads(args.threads)
    if args.members:  # a design finalist that is not registered: search with it under a scratch name
        args.ensemble = "candidate_" + "+".join(args.members)
        try:
            register_ensemble(args.ensemble, args.members, "design candidate (benchmarks/ensemble.py design-top)")
        except (ZeronasError, ValueError) as exc:
            fail(f"--members: {exc}")
    truth = ground_truth("nb201", args.dataset, "test")
    store = ResultStore(args.store) if args.store else None
    runs = []
    for seed in args.seeds:
        start = time.perf_counter()
        result = search("nb201", args.dataset, args.ensemble, "evolution", evaluations=args.evaluations, seed=seed,
                        proxy_seed=0, store=store, report_costs=(), population=args.population,
                        tournament=args.tournament)  # fmt: skip
        seconds = time.perf_counter() - start
        runs.append({"seed": seed, "arch": result.best_arch, "test_accuracy": float(truth[result.best_arch]),
                     "seconds": seconds, "proxy_computations": result.stats["proxy_computations"],
                     "reused": result.stats["reused"]})  # fmt: skip
        print(f"seed {seed}: {truth[result.best_arch]:.2f} % in {seconds:.0f} s ({result.best_arch})", flush=True)
    accuracies = [r["test_accuracy"] for r in runs]
    report = {
        "machine": machine(),
        "measured": args.date,
        "command": f"python benchmarks/ensemble.py search {_objective_flag(args)} --dataset {args.dataset} "
        f"--evaluations {args.evaluations} --seeds {','.join(map(str, args.seeds))} "
        f"--population {args.population} --tournament {args.tournament}",
        "algorithm": f"regularised evolution; objective {args.ensemble} ranked over the 32 reference cells + "
        "all evaluated",
        "evaluations": args.evaluations,
        "reference_cells": 32,
        "runs": runs,
        "mean": statistics.mean(accuracies),
        "std": statistics.stdev(accuracies) if len(accuracies) > 1 else None,
        "optimum": float(truth.max()),
        "note": "seconds include computing proxy values not already in the store (shared across seeds: proxy seed 0)",
    }
    print(f"{args.dataset}: {report['mean']:.2f} ± {report['std'] or 0:.2f} (optimum {report['optimum']:.2f})")
    prefix = "search" if args.ensemble == ENSEMBLE else f"search_{args.ensemble}"
    suffix = "" if args.evaluations == DEFAULT_EVALUATIONS else f"_{args.evaluations}"
    _write(report, f"{prefix}_{args.dataset}{suffix}.json")


def _objective_flag(args: argparse.Namespace) -> str:
    return f"--members {','.join(args.members)}" if args.members else f"--ensemble {args.ensemble}"


def _write(report: dict, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / name).write_text(json.dumps(report, indent=1, default=float) + "\n")
    print(f"saved {OUT / name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", default=time.strftime("%Y-%m-%d"))
    sub = parser.add_subparsers(dest="part", required=True)
    p = sub.add_parser("design")
    p.add_argument("--store", type=Path, required=True, help="Store with the NB201 CIFAR-10 candidate values.")
    p = sub.add_parser("design-top")
    p.add_argument("--store", type=Path, required=True, help="Store with NB201 CIFAR-10 uniform and top-5% cells.")
    p = sub.add_parser("cost")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--repeats", type=int, default=3)
    p = sub.add_parser("table")
    p.add_argument("stores", nargs="+", help="space:dataset:store.sqlite")
    p.add_argument("--name", default="table", help="Output file name (without .json / .md).")
    p = sub.add_parser("search")
    objective = p.add_mutually_exclusive_group()
    objective.add_argument("--ensemble", default=ENSEMBLE, choices=[ENSEMBLE, SEARCH_ENSEMBLE])
    objective.add_argument("--members", type=lambda t: t.split(","), default=None,
                   help="Search with the log-rank sum of these proxies instead (a design finalist).")  # fmt: skip
    p.add_argument("--dataset", default="cifar10")
    p.add_argument("--seeds", type=lambda t: [int(x) for x in t.split(",")], default=[0, 1, 2, 3, 4])
    p.add_argument("--evaluations", type=int, default=DEFAULT_EVALUATIONS)
    p.add_argument("--population", type=int, default=32)
    p.add_argument("--tournament", type=int, default=8)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--store", type=Path, default=None, help="Store to read and keep member values in.")
    args = parser.parse_args()
    {"design": design, "design-top": design_top, "cost": cost, "table": table, "search": search_runs}[args.part](args)


if __name__ == "__main__":
    main()
