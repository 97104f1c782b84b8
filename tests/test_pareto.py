"""Pareto fronts, hypervolume, IGD and budgeted picks on a hand-made example, plus small real runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zeronas.config import find_data_dir
from zeronas.hardware.tables import TableCost
from zeronas.pareto.front import (
    Normaliser,
    budget_picks,
    budgets_from_quantiles,
    front_summary,
    hypervolume,
    igd,
    non_dominated,
    pareto_front,
)
from zeronas.pareto.study import run_pareto

# five cells: C is dominated by B, E by D; the front is A, B, D
CELLS = pd.DataFrame(
    {
        "cost": [1.0, 2.0, 3.0, 4.0, 4.0],
        "accuracy": [50.0, 70.0, 60.0, 90.0, 80.0],
        "p": [1.0, 2.0, 5.0, 3.0, 4.0],
    },
    index=["A", "B", "C", "D", "E"],
)


def test_front_is_the_non_dominated_cells_by_cost():
    front = pareto_front(CELLS["cost"].to_numpy(), CELLS["accuracy"].to_numpy())
    assert list(CELLS.index[front]) == ["A", "B", "D"]
    assert list(non_dominated(np.array([[0, 1], [0.5, 0.5], [1, 0], [0.6, 0.6]]))) == [0, 1, 2]


def test_nan_cells_are_ignored_by_the_front():
    front = pareto_front(np.array([1.0, np.nan, 3.0]), np.array([10.0, 99.0, 20.0]))
    assert list(front) == [0, 2]


def test_normalisation_and_hypervolume_by_hand():
    norm = Normaliser.fit(CELLS["cost"], CELLS["accuracy"])
    pts = norm(CELLS["cost"], CELLS["accuracy"])
    np.testing.assert_allclose(pts[[0, 1, 3]], [[0, 1], [1 / 3, 0.5], [1, 0]])
    # rectangles up to (1.1, 1.1): 1.1*0.1 + (1.1-1/3)*0.5 + 0.1*0.5
    assert hypervolume(pts[[0, 1, 3]]) == pytest.approx(0.11 + (1.1 - 1 / 3) * 0.5 + 0.05)
    assert hypervolume(pts) == pytest.approx(hypervolume(pts[[0, 1, 3]]))  # dominated points add nothing
    assert hypervolume(np.empty((0, 2))) == 0.0


def test_igd_by_hand():
    norm = Normaliser.fit(CELLS["cost"], CELLS["accuracy"])
    pts = norm(CELLS["cost"], CELLS["accuracy"])
    true_front, approx = pts[[0, 1, 3]], pts[[1, 4]]  # {B, E}; E = (1, 0.25)
    expected = (np.sqrt(1 / 9 + 0.25) + 0.0 + 0.25) / 3
    assert igd(approx, true_front) == pytest.approx(expected)
    assert igd(true_front, true_front) == pytest.approx(0.0)


def test_budget_picks_and_accuracy_lost():
    picks = budget_picks(CELLS, ["p"], [1.5, 3.0, 4.0])
    assert list(picks["pick"]) == ["A", "C", "C"]
    assert list(picks["best"]) == ["A", "B", "D"]
    assert list(picks["acc_lost"]) == [0.0, 10.0, 30.0]
    assert list(picks["within_budget"]) == [1, 3, 5]


def test_ties_go_to_the_cheaper_cell_and_empty_budgets_pick_nothing():
    cells = pd.DataFrame({"cost": [2.0, 1.0, 3.0], "accuracy": [1.0, 2.0, 3.0], "p": [5.0, 5.0, np.nan]})
    picks = budget_picks(cells, ["p"], [0.5, 2.0, 3.0])
    assert pd.isna(picks["pick"].iloc[0]) and np.isnan(picks["acc_lost"].iloc[0])
    assert picks["pick"].iloc[1] == 1  # equal value 5.0: the cost-1 cell
    assert picks["failed"].iloc[2] == 1  # the NaN proxy value is counted, not picked


def test_front_summary_hypervolume_ratio_by_hand():
    picks = budget_picks(CELLS, ["p"], [1.5, 3.0, 4.0])
    summary = front_summary(CELLS, picks, ["p"]).iloc[0]
    hv_true = 0.11 + (1.1 - 1 / 3) * 0.5 + 0.05
    hv_picks = 0.11 + (1.1 - 2 / 3) * 0.25  # picks A (0, 1) and C (2/3, 0.75)
    assert summary["hv_ratio_picks"] == pytest.approx(hv_picks / hv_true)
    assert summary["mean_acc_lost"] == pytest.approx(40 / 3)
    # proxy-optimal front in (cost, -p): A (1, -1), B (2, -2), C (3, -5); D and E are dominated by C
    assert summary["front_size"] == 3


def test_a_perfect_proxy_recovers_the_true_front():
    cells = CELLS.assign(oracle=CELLS["accuracy"])
    picks = budget_picks(cells, ["oracle"], [1.0, 2.0, 4.0])
    summary = front_summary(cells, picks, ["oracle"]).iloc[0]
    assert summary["hv_ratio_picks"] == pytest.approx(1.0)
    assert summary["igd_picks"] == pytest.approx(0.0)
    assert summary["max_acc_lost"] == 0.0


def test_budget_quantiles():
    assert budgets_from_quantiles(np.arange(1.0, 6.0), [0.5, 1.0]) == [3.0, 5.0]


def test_run_pareto_with_predicted_cost_reports_violations(tmp_path):
    from zeronas.pareto.plot import plot_pareto

    truth = TableCost(CELLS["cost"], "truth", "ms", None)
    predicted = TableCost(CELLS["cost"].replace({2.0: 3.5}), "pred", "ms", None)  # B looks too expensive
    proxies = CELLS[["p"]]
    result = run_pareto(
        None, list(CELLS.index), "cifar10", predicted, proxies, CELLS["accuracy"], [3.0], true_cost=truth
    )
    oracle = result.predicted.iloc[0]
    assert oracle["best"] == "B" and oracle["pick"] == "C"  # under the predicted cost B seems out of budget
    assert oracle["acc_lost"] == pytest.approx(10.0)
    path = plot_pareto(result, tmp_path / "front.png")
    assert path.stat().st_size > 1000
    from zeronas.pareto.study import save_result

    written = save_result(result, tmp_path / "with", "run")
    assert pd.read_csv(written["cells"], index_col="arch").index.tolist() == list(CELLS.index)
    lean = save_result(result, tmp_path / "lean", "run", cells=False)
    assert "cells" not in lean and sorted(p.name for p in (tmp_path / "lean").iterdir()) == [
        "run.json",
        "run_picks.csv",
        "run_summary.csv",
    ]


@pytest.mark.skipif(find_data_dir() is None, reason="needs the zeronas data directory (../shared)")
def test_small_nb201_run_with_the_raspi4_table():
    from zeronas.evaluation.scoring import ScoreSettings
    from zeronas.hardware import get_cost
    from zeronas.pareto.study import accuracy_series, gather_proxies, space_scorer
    from zeronas.spaces import create_space

    space = create_space("nb201")
    keys = space.sample_many(8, np.random.default_rng(0))
    settings = ScoreSettings(batch_size=8)
    table = gather_proxies(
        "nb201", keys, "cifar10", ["params"], [0], space_scorer(space, "cifar10", ["params"], settings), "x"
    )
    cost = get_cost("nb201_latency", device="raspi4")
    result = run_pareto(space, keys, "cifar10", cost, table, accuracy_series("cifar10"), quantiles=[1.0])
    relaxed = result.picks.iloc[0]
    acc = accuracy_series("cifar10").reindex(keys)
    assert relaxed["best_acc"] == pytest.approx(acc.max())
    assert relaxed["pick"] == table["params"].idxmax()


@pytest.mark.skipif(find_data_dir() is None, reason="needs the zeronas data directory (../shared)")
def test_timm_space_on_three_small_models():
    from zeronas.hardware import get_cost
    from zeronas.pareto.study import gather_proxies
    from zeronas.pareto.timm_zoo import (
        timm_accuracy,
        timm_candidates,
        timm_in1k_models,
        timm_scorer,
        timm_settings,
    )

    cost = get_cost("timm_latency", table="cpu-i9_10940x")
    wanted = ["regnetx_002", "tf_mobilenetv3_small_100", "dla46_c", "vit_small_patch16_224"]  # the ViT is in21k
    models = timm_candidates(cost, wanted)
    assert models == wanted[:3]
    assert timm_candidates(cost, wanted, max_params=2.6) == ["tf_mobilenetv3_small_100", "dla46_c"]  # 2.54, 1.30 M
    settings = timm_settings(batch_size=4, resolution=32)
    table = gather_proxies("zoo", models, "imagenet", ["params"], [0], timm_scorer(["params"], settings), "x")
    result = run_pareto(None, models, "imagenet", cost, table, timm_accuracy(), quantiles=[1.0])
    pick = result.picks.iloc[0]
    assert pick["best"] == "regnetx_002"  # 68.75 % top-1, the best of the three
    # the params proxy, computed on the built models, matches timm's published counts (M)
    published = timm_in1k_models().loc[models, "param_count"]
    np.testing.assert_allclose(table["params"].to_numpy(), published.to_numpy(), rtol=0.01)
    assert pick["pick"] == published.idxmax() == "regnetx_002"  # 2.68 M > 2.54 M > 1.30 M
    assert pick["acc_lost"] == 0.0
    assert result.cells.loc["dla46_c", "cost"] == pytest.approx(cost(None, "dla46_c", "imagenet"))


@pytest.mark.skipif(find_data_dir() is None, reason="needs the zeronas data directory (../shared)")
def test_timm_zoo_pareto_goes_on_past_a_model_that_cannot_run(tmp_path):
    """crossvit_9_240 cannot take 64 px inputs (its 12 and 16 px patch grids disagree): error rows, no stop."""
    from zeronas.evaluation.scoring import ScoreSettings
    from zeronas.hardware import get_cost
    from zeronas.pareto.study import accuracy_series, gather_proxies, space_scorer
    from zeronas.spaces import create_space
    from zeronas.store import ResultStore

    space = create_space("timm_zoo").for_dataset("imagenet64")
    keys = ["regnetx_002", "crossvit_9_240", "tf_mobilenetv3_small_100"]
    store = ResultStore(tmp_path / "s.sqlite")
    scorer = space_scorer(space, "imagenet64", ["params"], ScoreSettings(batch_size=2))
    table = gather_proxies("timm_zoo", keys, "imagenet64", ["params"], [0], scorer, "x", store)
    assert np.isnan(table.loc["crossvit_9_240", "params"]) and table["params"].notna().sum() == 2
    failed = store.frame(space="timm_zoo").set_index("arch").loc["crossvit_9_240"]
    assert failed["status"] == "error" and "cannot run on 64x64 inputs" in failed["reason"]
    cost = get_cost("timm_latency", table="cpu-i9_10940x")
    result = run_pareto(
        space, keys, "imagenet64", cost, table, accuracy_series("imagenet64", space="timm_zoo"), quantiles=[1.0]
    )
    assert result.picks.iloc[0]["pick"] == "regnetx_002"  # 2.68 M > 2.54 M parameters
    assert any("1 candidates failed to score (no proxy value: crossvit_9_240)" in note for note in result.notes)
