"""Fidelity to the reference implementations.

NAS-Bench-Suite-Zero (`reference_zc`) computed every (cell, proxy) with its own random batch of 32
and its own initialisation; we reproduce that protocol with a different seed per cell, batch 32.
For proxies whose value is dominated by architecture (grad_norm, snip, fisher, jacob_cov, synflow,
nwot, l2_norm) our ranking must agree with the reference (Spearman ρ ≥ 0.90) and rank accuracy as
well as it (ρ with val_accuracy within a tolerance). GraSP, EPE-NAS and plain are dominated by the
batch and init draw: two runs of our own implementation with different per-cell draws agree only to
ρ ≈ 0.61-0.88 (grasp), 0.21-0.35 (epe_nas) and 0.03-0.20 (plain) on 40-60-cell C100 samples (a batch
fixed across cells: 0.72, 0.56, 0.10), so the reference cannot be matched beyond that noise; for them we
require agreement at the level of that self-agreement, and that they rank accuracy as well as the
reference does.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from zeronas.evaluation.scoring import ScoreSettings, score_arch
from zeronas.spaces import create_space

ZC_PROXIES = {  # our name -> (reference name, min ρ with reference or None, max |Δρ with accuracy|)
    "grad_norm": ("grad_norm", 0.90, 0.10),
    "snip": ("snip", 0.90, 0.10),
    "fisher": ("fisher", 0.90, 0.10),
    "jacob_cov": ("jacov", 0.85, 0.10),  # 0.90 over all cells (slow test); 40-cell samples scatter lower
    "synflow": ("synflow", 0.90, 0.10),
    "nwot": ("nwot", 0.90, 0.10),
    "l2_norm": ("l2_norm", 0.90, 0.10),
    "grasp": ("grasp", 0.65, 0.20),  # all 725 C100 cells: 0.698 (40-60-cell samples: 0.79-0.86)
    "epe_nas": ("epe_nas", None, 0.40),  # all cells: C100 0.274, IN16 0.081 (self-agreement 0.2-0.35)
    "plain": ("plain", None, 0.40),  # self-agreement ≈ 0.2: no floor on ρ with the reference
}
SPACE = create_space("nb201")


def zc_table(shared_dir, dataset: str, cells: int | None) -> pd.DataFrame:
    reference = json.loads((shared_dir / "benchmarks" / "reference_zc" / f"nasbench201__{dataset}.json").read_text())
    keys = list(reference)
    if cells is not None:
        keys = keys[:: max(1, len(keys) // cells)][:cells]
    settings = ScoreSettings(batch_size=32)
    rows = []
    for position, key in enumerate(keys):
        scores = score_arch(SPACE, key, dataset, list(ZC_PROXIES), seed=position, settings=settings)
        row = {"arch": key, "val_accuracy": reference[key]["val_accuracy"]}
        for ours, (theirs, _, _) in ZC_PROXIES.items():
            row[ours] = scores[ours]
            row[f"ref_{ours}"] = reference[key].get(theirs, {}).get("score", np.nan)  # one C10 cell lacks synflow
        rows.append(row)
    return pd.DataFrame(rows)


def rho(a: pd.Series, b: pd.Series) -> float:
    frame = pd.concat([a, b], axis=1).replace([np.inf, -np.inf], np.nan).dropna()
    frame = frame[(frame.iloc[:, 0] > -1e7) & (frame.iloc[:, 1] > -1e7)]  # NASLib's -1e8 failure marker
    return float(spearmanr(frame.iloc[:, 0], frame.iloc[:, 1])[0])


def check_zc(
    table: pd.DataFrame, tolerance_scale: float = 1.0, floors: dict[str, float] | None = None
) -> dict[str, tuple[float, float, float]]:
    summary = {}
    for name in ZC_PROXIES:
        ours_ref = rho(table[name], table[f"ref_{name}"])
        ours_acc = rho(table[name], table["val_accuracy"])
        ref_acc = rho(table[f"ref_{name}"], table["val_accuracy"])
        summary[name] = (ours_ref, ours_acc, ref_acc)
    print({k: tuple(round(v, 3) for v in vals) for k, vals in summary.items()})  # the whole table, even on failure
    problems = []
    for name, (ours_ref, ours_acc, ref_acc) in summary.items():
        _, min_rho, max_gap = ZC_PROXIES[name]
        min_rho = (floors or {}).get(name, min_rho)
        if min_rho is not None and not ours_ref >= min_rho:
            problems.append(f"{name}: rho with the reference {ours_ref:.3f} < {min_rho}")
        if not abs(ours_acc - ref_acc) <= max_gap * tolerance_scale:
            problems.append(f"{name}: rho with accuracy {ours_acc:.3f} vs reference {ref_acc:.3f}")
        if np.sign(ours_acc) != np.sign(ref_acc):  # same direction w.r.t. accuracy
            problems.append(f"{name}: opposite direction w.r.t. accuracy")
    assert not problems, problems
    return summary


def test_reference_zc_cifar100_sample(shared_dir):
    check_zc(zc_table(shared_dir, "cifar100", 40))


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["cifar10", "cifar100", "ImageNet16-120"])
def test_reference_zc_all_cells(shared_dir, dataset):
    summary = check_zc(zc_table(shared_dir, dataset, None), tolerance_scale=0.5, floors={"jacob_cov": 0.90})
    print(dataset, {k: tuple(round(v, 3) for v in vals) for k, vals in summary.items()})


FULL_PROXIES = {
    "synflow": "synflow",
    "logsynflow": "logsynflow",
    "nwot": "naswot",
    "zen": None,
    "linear_regions": "nregions",
}
# The reference's region counts (~450 of 1,000 samples, fractional) come from TE-NAS's own counter setting;
# ours counts the full network on 1,000 crops of the batch, which nearly saturates (~980 of 1,000), so only
# the ordering of the few unsaturated cells carries over (40-cell C10 sample: ρ ≈ 0.69).
FULL_FLOORS = {"linear_regions": 0.45}  # 300 cells: C10 0.499, C100 0.593


def full_table(shared_dir, dataset: str, cells: int) -> pd.DataFrame:
    truth = pd.read_csv(shared_dir / "benchmarks" / "nasbench201.csv").set_index("nb201_index")
    reference = pd.read_csv(shared_dir / "benchmarks" / "reference_full" / f"nasbench201__{dataset}.csv")
    reference = reference.set_index("nb201_index")
    column = {"cifar10": "cifar10", "cifar100": "cifar100", "ImageNet16-120": "imagenet16_120"}[dataset]
    indices = np.random.default_rng(0).choice(len(truth), cells, replace=False)
    settings = ScoreSettings(batch_size=64)
    rows = []
    for index in indices:
        scores = score_arch(SPACE, truth.arch_str[index], dataset, list(FULL_PROXIES), seed=0, settings=settings)
        row = {name: scores[name] for name in FULL_PROXIES}
        row.update({f"ref_{n}": reference.loc[index, r] for n, r in FULL_PROXIES.items() if r})
        row["ref_zen"] = truth.loc[index, f"ref_zen_{column}"]
        row["accuracy"] = truth.loc[index, f"{column}_test_acc"]
        rows.append(row)
    return pd.DataFrame(rows)


def check_full(table: pd.DataFrame) -> dict[str, float]:
    present = [name for name in FULL_PROXIES if table[f"ref_{name}"].notna().any()]  # no nregions for IN16
    summary = {name: rho(table[name], table[f"ref_{name}"]) for name in present}
    print(summary)
    for name, value in summary.items():
        assert value >= FULL_FLOORS.get(name, 0.9), (name, summary)
    return summary


def test_reference_full_cifar10_sample(shared_dir):
    check_full(full_table(shared_dir, "cifar10", 40))


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["cifar10", "cifar100", "ImageNet16-120"])
def test_reference_full_300_cells(shared_dir, dataset):
    print(dataset, check_full(full_table(shared_dir, dataset, 300)))
