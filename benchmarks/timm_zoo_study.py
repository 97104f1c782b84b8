"""The timm ImageNet zoo study (survey §4.2-4.3, Fig 11-12, 15, 17): proxies against top-1 at two resolutions.

Reads the stores that `zeronas evaluate --space timm_zoo` filled at 64 px (`imagenet64`) and at 224 px
(`imagenet`), evaluates every proxy on the whole zoo and on each subset of the benchmark (CNNs, ViTs, the
ResNet/WRN and MobileNetV2 families; Top-k% widens to 20% where 5% holds under 10 models), puts the two
resolutions side by side (and their difference), adds the scoring cost per model from the stored rows, and
writes JSON plus a Markdown table per subset.

    python benchmarks/timm_zoo_study.py --store64 S64.sqlite --store224 S224.sqlite [--proxies P,Q] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
from proxies import machine

from zeronas.errors import ZeronasError
from zeronas.evaluation.groups import evaluate_group
from zeronas.evaluation.report import markdown_table
from zeronas.spaces import get_benchmark
from zeronas.store import ResultStore

SPACE = "timm_zoo"
DEFAULT_OUT = Path("benchmarks/results/timm_zoo_study")
COLUMNS = ("spr_all", "kt_all", "spr_top", "kt_top", "best_acc", "cells_all", "cells_top")


def group_digest(store: ResultStore, dataset: str) -> str:
    """The settings digest of the store's one timm_zoo group on `dataset`."""
    groups = store.groups()
    chosen = groups[(groups["space"] == SPACE) & (groups["dataset"] == dataset)]
    if len(chosen) != 1:
        raise SystemExit(f"{store.path}: expected one {SPACE}/{dataset} group, found {len(chosen)}")
    return str(chosen["settings"].iloc[0])


def scoring_cost(store: ResultStore, dataset: str, digest: str, proxies: list[str] | None) -> dict[str, object]:
    """Seconds of proxy computation per model (the engine's timings summed over the model's rows), and counts."""
    rows = store.frame(space=SPACE, dataset=dataset, settings=digest, proxies=proxies)
    per_model = rows.groupby("arch")["seconds"].sum()
    ok_models = rows[rows["status"] == "ok"].groupby("arch").size().index
    return {
        "models_stored": int(per_model.size),
        "models_with_a_value": int(len(ok_models)),
        "seconds_per_model_mean": round(float(per_model.mean()), 2),
        "seconds_per_model_median": round(float(per_model.median()), 2),
        "seconds_per_model_max": round(float(per_model.max()), 1),
        "proxies": sorted(rows["proxy"].unique()),
    }


def subset_table(
    store: ResultStore, dataset: str, digest: str, subset: str, proxies: list[str] | None
) -> tuple[pd.DataFrame, dict]:
    """Per-proxy SPR/KT @All/@Top, best-found and cell counts on one subset ('' = the whole zoo)."""
    result = evaluate_group(store, SPACE, dataset, digest, "top1", proxies=proxies, ratios=None, subset=subset)
    summary = result.evaluation.summary.set_index("proxy")[list(COLUMNS)]
    facts = {
        "top_percent": result.evaluation.top,
        "optimum": result.evaluation.optimum,
        "population_best": float(result.evaluation.best_found["population_best"].max()),
        "notes": result.notes,
    }
    return summary, facts


def side_by_side(low: pd.DataFrame, high: pd.DataFrame | None) -> pd.DataFrame:
    """One row per proxy: 64 px figures, 224 px figures where scored, and the SPR@All difference."""
    table = low.add_suffix("_64")
    if high is not None:
        table = table.join(high.add_suffix("_224"), how="outer")
        table["spr_all_224_minus_64"] = table["spr_all_224"] - table["spr_all_64"]
    return table.sort_values("spr_all_64", ascending=False, na_position="last")


def display(table: pd.DataFrame, top: dict[str, float]) -> pd.DataFrame:
    """Markdown-ready strings: SPR/KT @All and @Top and best-found per resolution."""
    frame = pd.DataFrame({"proxy": table.index})
    for size in ("64", "224"):
        if f"spr_all_{size}" not in table:
            continue
        k = f"{top[size]:g}"
        for column, label in (
            ("spr_all", "SPR@All"),
            ("kt_all", "KT@All"),
            ("spr_top", f"SPR@Top{k}%"),
            ("kt_top", f"KT@Top{k}%"),
        ):
            frame[f"{label} {size}px"] = [f"{v:.3f}" if pd.notna(v) else "n/a" for v in table[f"{column}_{size}"]]
        frame[f"best-found {size}px"] = [f"{v:.2f}" if pd.notna(v) else "n/a" for v in table[f"best_acc_{size}"]]
    return frame


def overview(tables: dict[str, pd.DataFrame], column: str) -> pd.DataFrame:
    """One row per proxy, one column per (subset, resolution): `column` (e.g. spr_all) as 3-decimal strings."""
    parts = {}
    for name, table in tables.items():
        for size in ("64", "224"):
            if f"{column}_{size}" in table:
                parts[f"{name} {size}px"] = table[f"{column}_{size}"]
    frame = pd.DataFrame(parts)
    frame = frame.sort_values(next(iter(parts)), ascending=False, na_position="last")
    shown = frame.map(lambda v: "n/a" if pd.isna(v) else f"{v:.3f}" if column != "best_acc" else f"{v:.2f}")
    return shown.reset_index(names="proxy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store64", type=Path, required=True)
    parser.add_argument("--store224", type=Path)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--proxies", help="comma-separated proxies to report (default: every proxy stored)")
    args = parser.parse_args()
    proxies = args.proxies.split(",") if args.proxies else None
    stores = {"64": (ResultStore(args.store64), "imagenet64")}
    if args.store224:
        stores["224"] = (ResultStore(args.store224), "imagenet")
    digests = {size: group_digest(store, dataset) for size, (store, dataset) in stores.items()}
    report: dict[str, object] = {
        "machine": machine(),
        "settings": {size: stores[size][0].settings(digests[size]) for size in stores},
        "cost": {
            size: scoring_cost(store, dataset, digests[size], proxies) for size, (store, dataset) in stores.items()
        },
        "subsets": {},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    lines, by_subset = [], {}
    for subset in ["", *get_benchmark(SPACE).subset_names()]:
        tables, facts = {}, {}
        try:
            for size, (store, dataset) in stores.items():
                tables[size], facts[size] = subset_table(store, dataset, digests[size], subset, proxies)
        except ZeronasError as exc:
            print(f"subset {subset or 'all'} left out: {exc}")
            continue
        table = side_by_side(tables["64"], tables.get("224"))
        name = subset or "all"
        by_subset[name] = table
        report["subsets"][name] = {
            "facts": facts,
            "claim": get_benchmark(SPACE).survey_claim(subset),
            "proxies": json.loads(table.to_json(orient="index")),
        }
        top = {size: float(f["top_percent"]) for size, f in facts.items()}
        optimum = facts["64"]["optimum"]
        lines += [f"### {name} (optimum top-1 {optimum:.2f}%)", "", markdown_table(display(table, top)), ""]
        print(lines[-4], "\n", lines[-2], "\n", flush=True)
    for column, title in (
        ("spr_all", "SPR@All"),
        ("spr_top", "SPR@Top (5%; 20% where 5% < 10 models)"),
        ("best_acc", "best-found top-1 %"),
    ):
        lines += [f"### Overview: {title}", "", markdown_table(overview(by_subset, column)), ""]
        print(lines[-4], "\n", lines[-2], "\n", flush=True)
    (args.out / "timm_zoo_study.json").write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    (args.out / "timm_zoo_study.md").write_text("\n".join(lines), encoding="utf-8")
    print(json.dumps(report["cost"], indent=2))


if __name__ == "__main__":
    main()
