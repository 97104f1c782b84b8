"""Latency predictors on NAS-Bench-201: LUT, MLP and GCN from N cells, and few-shot transfer to a new device.

For each device: train on N = 50 / 200 / 1,000 random cells, evaluate on held-out cells (RMSE in
ms, Spearman rho, share within +-10 %). Devices: HW-NAS-Bench's raspi4 and pixel3, HELP's
titan_rtx_1 (GPU, batch 1), the Raspberry Pi 5 (LiteRT) table, and this machine's CPU from the
cells measured into a result store (`zeronas hardware measure ... --store PATH`; then N is capped
by the measured cells; their value is the minimum of 30 calls in thread CPU time, the statistic that
repeats on a loaded machine). Transfer: an MLP with a hardware embedding (HELP-style, see
`zeronas.hardware.predictors.transfer`) pretrained on the NB201 device tables outside the target's
family and adapted with 5 / 10 / 20 measurements of the left-out device, against an MLP and a LUT
trained on the same shots; mean +- std over three seeds (the seed draws the shots). For this CPU the
shots are measured on the spot (and stored).

Usage: python benchmarks/predictors.py [--store /tmp/hw/latency.sqlite] [--out runs/predictors.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from zeronas.hardware.predictors import (
    FewShotTransfer,
    LookupTablePredictor,
    MLPPredictor,
    make_predictor,
    measure_op_table,
    predictor_metrics,
)
from zeronas.hardware.tables import edge_series, nb201_latency_table
from zeronas.spaces import create_space

SURVEY_TABLE_III = "survey Table III, RMSE on Snapdragon-888 GPU: BRP-NAS 4.6 ms, HELP 0.12 ms, nn-Meter 1.2 ms"
TABLE_DEVICES = ("raspi4", "pixel3", "titan_rtx_1")


def device_tables(store_path: str | None) -> dict[str, pd.Series]:
    """device -> (arch -> latency ms) for the devices of the study."""
    table = nb201_latency_table()
    out = {d: table[d] for d in TABLE_DEVICES}
    out["pi5_litert"] = edge_series("pi5", "litert", "cifar100", "lat_ms_median")
    if store_path:
        out["this_cpu"] = measured_series(store_path)
    return out


MEASURED = "cputime_min_ms:cpu-torch-b1"


def measured_series(store_path: str) -> pd.Series:
    """Mean over runs of this machine's stored MEASURED rows (the most populated protocol).

    The minimum over 30 calls of the calling thread's CPU time: on this shared 2-core machine it is
    the statistic that repeats (Spearman 0.975 between two runs, vs 0.87 for the median).
    """
    from zeronas.store import ResultStore

    frame = ResultStore(store_path).frame(space="nb201", dataset="cifar100", proxies=[MEASURED])
    frame = frame[frame["status"] == "ok"]
    digest = frame["settings"].value_counts().index[0]
    return frame[frame["settings"] == digest].groupby("arch")["value"].mean()


def fit_and_score(space, model: str, train: list[str], test: list[str], y: pd.Series, seed: int) -> dict:
    start = time.perf_counter()
    predictor = make_predictor(model, seed).fit(space, train, y[train].to_numpy())
    metrics = predictor_metrics(y[test].to_numpy(), predictor.predict(space, test))
    return {**metrics, "fit_s": time.perf_counter() - start}


def sample_sizes(space, y: pd.Series, sizes: tuple[int, ...], n_test: int, seed: int) -> list[dict]:
    rows = []
    archs = y.dropna().index.to_numpy()
    order = np.random.default_rng(seed).permutation(len(archs))
    n_test = min(n_test, len(archs) // 3)
    test = list(archs[order[:n_test]])
    pool = archs[order[n_test:]]
    for n in sizes:
        if n > len(pool):
            continue
        for model in ("lut", "mlp", "gcn"):
            rows.append({"n_train": n, "model": model, **fit_and_score(space, model, list(pool[:n]), test, y, seed)})
    return rows


def op_table_rows(space, y: pd.Series) -> list[dict]:
    """The LUT measured op by op on this CPU (no training cells), scored on every measured cell."""
    start = time.perf_counter()
    table = measure_op_table(space, "cifar100", clock="thread", statistic="min")
    keys = list(y.index)
    return [
        {
            "n_train": 0,
            "model": "lut-measured",
            **predictor_metrics(y.to_numpy(), table.predict(space, keys)),
            "fit_s": time.perf_counter() - start,
        }
    ]


def transfer_rows(space, target: str, tables: dict[str, pd.Series], shots_list, seeds, store_path) -> list[dict]:
    """Pretrain on every NB201 table column except the target's family, adapt with k shots, per seed.

    The seed draws the anchors (the shots), the pretraining cells and the held-out cells.
    """
    full = nb201_latency_table()
    family = target.rsplit("_", 1)[0] if target[-1].isdigit() else target
    sources = {c: full[c] for c in full.columns if c != "nb201_index" and not c.startswith(family)}
    y = tables[target]
    rows = []
    for seed in seeds:
        for shots in shots_list:
            helper = FewShotTransfer(shots=shots, cells_per_device=1000, epochs=40, seed=seed)
            helper.pretrain(space, sources)
            anchor_latency = anchors_on(space, target, helper.anchors, y, store_path)
            helper.adapt(space, anchor_latency)
            test = [a for a in y.index if a not in set(helper.anchors)]
            rng = np.random.default_rng(seed)
            test = list(rng.choice(test, size=min(2000, len(test)), replace=False))
            truth = y[test].to_numpy()
            result = {"target": target, "shots": shots, "seed": seed, "sources": len(sources)}
            rows.append({**result, "method": "transfer", **predictor_metrics(truth, helper.predict(space, test))})
            shots_y = anchor_latency.to_numpy()
            for name, model in (("scratch-mlp", MLPPredictor(seed=seed)), ("scratch-lut", LookupTablePredictor())):
                model.fit(space, helper.anchors, shots_y)
                rows.append({**result, "method": name, **predictor_metrics(truth, model.predict(space, test))})
    return rows


def mean_std(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean +- std over seeds of rmse, spearman and within10."""
    grouped = frame.groupby(keys, sort=False)[["rmse", "spearman", "within10"]]
    mean, std = grouped.mean(), grouped.std().fillna(0.0)
    out = mean.copy().astype(object)
    for column in mean.columns:
        out[column] = [f"{m:.3f} +- {s:.3f}" for m, s in zip(mean[column], std[column], strict=True)]
    return out.reset_index()


def plot_transfer(transfer: pd.DataFrame, path: Path) -> Path:
    """The transfer curve: Spearman and RMSE against the number of shots, per target and method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    targets = list(dict.fromkeys(transfer["target"]))
    fig, axes = plt.subplots(2, len(targets), figsize=(3.4 * len(targets), 5.6), squeeze=False, sharex=True)
    grouped = transfer.groupby(["target", "method", "shots"])[["spearman", "rmse"]]
    mean, std = grouped.mean(), grouped.std().fillna(0.0)
    for j, target in enumerate(targets):
        for method in dict.fromkeys(transfer["method"]):
            m, s = mean.loc[(target, method)], std.loc[(target, method)]
            for i, metric in enumerate(("spearman", "rmse")):
                axes[i][j].errorbar(m.index, m[metric], yerr=s[metric], marker="o", capsize=3, label=method)
        axes[0][j].set_title(target, fontsize=10)
        axes[1][j].set_xlabel("shots (measured cells)")
        axes[1][j].set_yscale("log")
    axes[0][0].set_ylabel("Spearman rho (held-out cells)")
    axes[1][0].set_ylabel("RMSE (ms)")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def anchors_on(space, target: str, anchors: list[str], y: pd.Series, store_path) -> pd.Series:
    """Latency of the anchors on the target: from its table, or measured now on this CPU (and stored)."""
    if target != "this_cpu":
        return y[anchors]
    from zeronas.hardware.measured_latency import MeasuredLatency
    from zeronas.store import ResultStore

    cost = MeasuredLatency(store=ResultStore(store_path), clock="thread", statistic="min")
    return pd.Series([cost(space, a, "cifar100") for a in anchors], index=anchors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="result store with this CPU's measured NB201 latency")
    parser.add_argument("--out", default="runs/predictors.json")
    parser.add_argument("--test", type=int, default=2000, help="held-out cells per device")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--transfer-seeds", default="0,1,2", help="seeds of the transfer runs (anchors)")
    args = parser.parse_args()
    space = create_space("nb201")
    seeds = [int(v) for v in args.transfer_seeds.split(",")]
    tables = device_tables(args.store)
    accuracy_rows = []
    for device, y in tables.items():
        for row in sample_sizes(space, y, (50, 200, 1000), args.test, args.seed):
            accuracy_rows.append({"device": device, **row})
        if device == "this_cpu":
            accuracy_rows += [{"device": device, **r} for r in op_table_rows(space, y)]
    fits = pd.DataFrame(accuracy_rows)
    transfer = pd.DataFrame(
        [
            r
            for t in ("raspi4", "titan_rtx_1", "pi5_litert", *(("this_cpu",) if args.store else ()))
            for r in transfer_rows(space, t, tables, (5, 10, 20), seeds, args.store)
        ]
    )
    pd.set_option("display.width", 160)
    cols = ["device", "n_train", "model", "rmse", "spearman", "within10", "n", "fit_s"]
    print(fits[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print()
    print(f"transfer, mean +- std over seeds {seeds}:")
    print(mean_std(transfer, ["target", "shots", "method"]).to_string(index=False))
    print(f"\n{SURVEY_TABLE_III}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "fits": fits.to_dict(orient="records"),
                "transfer": transfer.to_dict(orient="records"),
                "survey": SURVEY_TABLE_III,
                "device_cells": {d: int(len(y)) for d, y in tables.items()},
            },
            indent=1,
        )
    )
    print(f"saved {out} and {plot_transfer(transfer, out.with_suffix('.png'))}")


if __name__ == "__main__":
    main()
