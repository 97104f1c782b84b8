"""Metrics on hand-made tables whose SPR / KT / top-k / best-found values are worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from zeronas.errors import InvalidInputError
from zeronas.evaluation.metrics import (
    best_found_table,
    correlation_table,
    evaluate_rows,
    population,
    rank_correlation,
    ratio_sweep,
    top_set,
    top_tied,
)

#: a "whole space" of 20 cells whose ground truth is its number: a19 is the best
ARCHS = [f"a{i:02d}" for i in range(20)]
TRUTH = pd.Series({a: float(i) for i, a in enumerate(ARCHS)})


def rows_of(proxy: str, seed: int, values: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"arch": list(values), "proxy": proxy, "seed": seed, "value": list(values.values())})


def test_top_set_uses_whole_space_and_keeps_boundary_ties() -> None:
    assert list(top_set(TRUTH, 5)) == ["a19"]  # ceil(5% of 20) = 1
    assert set(top_set(TRUTH, 20)) == {"a16", "a17", "a18", "a19"}
    assert len(top_set(TRUTH, 12.5)) == 3  # ceil(2.5)
    assert len(top_set(TRUTH, 100)) == 20
    tied = pd.Series({"x": 3.0, "y": 2.0, "z": 2.0, "w": 1.0})
    assert set(top_set(tied, 25)) == {"x"}
    assert set(top_set(tied, 50)) == {"x", "y", "z"}  # y and z tie at the edge: both in
    with pytest.raises(InvalidInputError):
        top_set(TRUTH, 0)


def test_monotone_and_reversed_proxies() -> None:
    up = rows_of("up", 0, {a: 2.0 * i + 1 for i, a in enumerate(ARCHS)})
    down = rows_of("down", 0, {a: -(i**2) for i, a in enumerate(ARCHS)})
    table = correlation_table(pd.concat([up, down]), TRUTH, percents=(100,))
    got = table.set_index("proxy")
    assert got.loc["up", "spr"] == pytest.approx(1.0) and got.loc["up", "kt"] == pytest.approx(1.0)
    assert got.loc["down", "spr"] == pytest.approx(-1.0) and got.loc["down", "kt"] == pytest.approx(-1.0)
    assert (got["population"] == "complete").all() and (got["used"] == 20).all()


def test_kendall_and_spearman_on_four_items_by_hand() -> None:
    # top 20% = a16..a19 (truth 16 < 17 < 18 < 19); proxy 1, 3, 2, 4 swaps a17/a18.
    # KT: pairs (16,17)C (16,18)C (16,19)C (17,18)D (17,19)C (18,19)C -> (5 - 1) / 6 = 2/3
    # SPR: rank differences 0, 1, -1, 0 -> 1 - 6 * 2 / (4 * (16 - 1)) = 0.8
    values = {a: float(i) - 100 for i, a in enumerate(ARCHS)}
    values.update({"a16": 1.0, "a17": 3.0, "a18": 2.0, "a19": 4.0})
    table = correlation_table(rows_of("p", 0, values), TRUTH, percents=(20,))
    row = table.iloc[0]
    assert row["cells"] == 4 and row["top_size"] == 4 and row["population"] == "complete"
    assert row["kt"] == pytest.approx(2 / 3)
    assert row["spr"] == pytest.approx(0.8)


def test_failures_are_excluded_and_counted() -> None:
    values = {a: float(i) for i, a in enumerate(ARCHS)}
    values["a03"] = math.nan
    values["a10"] = math.nan
    row = correlation_table(rows_of("p", 0, values), TRUTH, percents=(100,)).iloc[0]
    assert row["cells"] == 20 and row["failed"] == 2 and row["used"] == 18
    assert row["spr"] == pytest.approx(1.0)
    spr, kt, n = rank_correlation(pd.Series({"a": 1.0, "b": 1.0, "c": 1.0}), TRUTH.rename(lambda k: k))
    assert n == 0 and math.isnan(spr) and math.isnan(kt)  # no common archs
    const = rank_correlation(pd.Series(5.0, index=ARCHS), TRUTH)
    assert math.isnan(const[0]) and const[2] == 20  # a constant proxy has no rank correlation


def test_population_rules_complete_uniform_scored() -> None:
    uniform = {f"a{i:02d}" for i in range(10)}
    scored = pd.Index(sorted(uniform | {"a16", "a17", "a18", "a19"}))
    cells, rule = population(scored, top_set(TRUTH, 100), uniform)
    assert rule == "uniform" and set(cells) == uniform  # the added top cells would bias 'All'
    cells, rule = population(scored, top_set(TRUTH, 20), uniform)
    assert rule == "complete" and set(cells) == {"a16", "a17", "a18", "a19"}
    cells, rule = population(scored, top_set(TRUTH, 25), uniform)  # a15 missing, no uniform cell in the set
    assert rule == "uniform" and len(cells) == 0
    cells, rule = population(scored, top_set(TRUTH, 100), None)
    assert rule == "scored" and len(cells) == 14

    values = {a: float(i) for i, a in enumerate(ARCHS) if a in scored}
    values.update({"a00": 50.0})  # a wrong uniform cell: lowers 'All' SPR, invisible to Top 20%
    table = correlation_table(rows_of("p", 0, values), TRUTH, (100, 20, 25), uniform).set_index("percent")
    # All over the 10 uniform cells: a00 ranks first instead of last -> rank diffs 9, -1 x 9 -> sum d^2 = 90
    assert table.loc[100.0, "cells"] == 10
    assert table.loc[100.0, "spr"] == pytest.approx(1 - 6 * 90 / (10 * 99))
    assert table.loc[20.0, "spr"] == pytest.approx(1.0)
    assert table.loc[25.0, "cells"] == 0 and math.isnan(table.loc[25.0, "spr"])


def test_top_tied_is_exact_equality_and_skips_failures() -> None:
    values = pd.Series({a: float(i) / 100 for i, a in enumerate(ARCHS)})
    values[["a07", "a03", "a05"]] = 10.0
    values["a09"] = np.nextafter(10.0, 0.0)  # one ulp below the top: not tied
    values["a19"] = math.nan  # failures never win
    values["a18"] = math.inf  # nor do non-finite values
    assert top_tied(values) == ["a03", "a05", "a07"]
    assert top_tied(pd.Series({"a": math.nan, "b": -math.inf})) == []


def test_best_found_averages_the_cells_tied_at_the_top() -> None:
    truth = pd.Series({"x1": 70.0, "x2": 71.0, "x3": 75.0, "x4": 80.0, "x5": 60.0})
    values = {"x1": 5.0, "x2": 5.0, "x3": 5.0, "x4": 4.0, "x5": 1.0}  # three cells tie at the top
    best = best_found_table(rows_of("p", 0, values), truth).iloc[0]
    assert best["accuracy"] == pytest.approx(72.0)  # (70 + 71 + 75) / 3, not one tied cell's 70, 71 or 75
    assert best["accuracy_min"] == 70.0 and best["accuracy_max"] == 75.0 and best["tied"] == 3
    assert best["arch"] == "x1" and best["value"] == 5.0  # the first tied cell in arch-key order
    assert best["population_best"] == 80.0 and best["optimum"] == 80.0

    single = best_found_table(rows_of("p", 0, {**values, "x3": 6.0}), truth).iloc[0]
    assert (single["arch"], single["accuracy"], single["tied"]) == ("x3", 75.0, 1)
    assert single["accuracy_min"] == single["accuracy_max"] == 75.0

    failed = best_found_table(rows_of("p", 0, {"x1": math.nan}), truth).iloc[0]
    assert failed["tied"] == 0 and failed["arch"] is None and math.isnan(failed["accuracy"])


def test_best_found_mean_std_over_seeds_and_optimum() -> None:
    seed0 = {a: -float(i) for i, a in enumerate(ARCHS)}
    seed0.update({"a03": 10.0, "a07": 10.0})  # tie: the mean of accuracies 3 and 7
    seed1 = {a: float(i) for i, a in enumerate(ARCHS)}  # monotone: a19 alone (accuracy 19)
    rows = pd.concat([rows_of("p", 0, seed0), rows_of("p", 1, seed1)])
    best = best_found_table(rows, TRUTH).set_index("seed")
    assert best.loc[0, "arch"] == "a03" and best.loc[0, "accuracy"] == 5.0 and best.loc[0, "tied"] == 2
    assert best.loc[0, "accuracy_min"] == 3.0 and best.loc[0, "accuracy_max"] == 7.0
    assert best.loc[1, "arch"] == "a19" and best.loc[1, "accuracy"] == 19.0 and best.loc[1, "tied"] == 1
    assert (best["optimum"] == 19.0).all()

    ev = evaluate_rows(rows, TRUTH, top=20, ratios=(20, 100))
    summary = ev.summary.set_index("proxy")
    assert summary.loc["p", "best_acc"] == pytest.approx(12.0)  # mean of 5 and 19
    assert summary.loc["p", "best_acc_std"] == pytest.approx(14 / math.sqrt(2))  # sample std (ddof=1), not 7.0
    assert summary.loc["p", "best_min"] == 3.0 and summary.loc["p", "best_max"] == 19.0
    assert summary.loc["p", "best_tied"] == 2
    assert summary.loc["p", "optimum"] == 19.0 and summary.loc["p", "seeds"] == 2
    assert summary.loc["p", "rows"] == 40 and summary.loc["p", "failed"] == 0
    one = evaluate_rows(rows_of("p", 0, seed1), TRUTH, top=20, ratios=None).summary.iloc[0]
    assert one["best_acc"] == 19.0 and math.isnan(one["best_acc_std"])  # one seed: no sample std


def test_summary_mean_std_over_seeds_and_ratio_sweep() -> None:
    up = rows_of("p", 0, {a: float(i) for i, a in enumerate(ARCHS)})
    down = rows_of("p", 1, {a: -float(i) for i, a in enumerate(ARCHS)})
    nan_row = rows_of("q", 0, {a: (math.nan if a == "a19" else float(i)) for i, a in enumerate(ARCHS)})
    ev = evaluate_rows(pd.concat([up, down, nan_row]), TRUTH, top=20, ratios=(10, 50, 100))
    s = ev.summary.set_index("proxy")
    assert s.loc["p", "spr_all"] == pytest.approx(0.0)
    assert s.loc["p", "spr_all_std"] == pytest.approx(math.sqrt(2))  # sample std of 1 and -1 (ddof=1)
    assert s.loc["p", "kt_top"] == pytest.approx(0.0) and s.loc["p", "cells_top"] == 4
    assert s.loc["q", "failed"] == 1 and s.loc["q", "spr_all"] == pytest.approx(1.0)
    assert s.loc["q", "best_acc"] == 18.0  # a19 failed: the best finite value is a18
    ratios = ev.ratios.set_index(["proxy", "percent"])
    assert set(ratios.index.get_level_values("percent")) == {10.0, 50.0, 100.0}
    assert ratios.loc[("p", 100.0), "spr_std"] == pytest.approx(math.sqrt(2))
    assert ratios.loc[("q", 10.0), "failed"] == 1 and ratios.loc[("q", 10.0), "cells"] == 2
    assert math.isnan(ratios.loc[("q", 10.0), "spr"])  # only one finite value left among a18, a19
    sweep = ratio_sweep(up, TRUTH, percents=(50,))
    assert sweep.iloc[0]["spr"] == pytest.approx(1.0) and sweep.iloc[0]["cells"] == 10


def test_naslib_substituted_failures_are_counted_but_ranked() -> None:
    rows = rows_of("p", 0, {a: float(i) for i, a in enumerate(ARCHS)}).assign(status="ok")
    rows.loc[rows["arch"] == "a19", ["value", "status"]] = (-1e8, "nan")  # NASLib's substitute for a NaN
    ev = evaluate_rows(rows, TRUTH, top=20, ratios=None)
    s = ev.summary.iloc[0]
    assert s["failed"] == 1 and s["kt_top"] == pytest.approx(0.0)  # a19 ranked last among a16..a19: 3C, 3D


def test_rows_from_several_settings_are_refused() -> None:
    rows = pd.concat([rows_of("p", 0, {"a00": 1.0}), rows_of("p", 0, {"a00": 2.0})])
    with pytest.raises(InvalidInputError, match="one settings"):
        correlation_table(rows, TRUTH)
    assert np.isfinite(TRUTH).all()


def test_two_cells_give_no_correlation() -> None:
    values = pd.Series([1.0, 2.0], index=["a", "b"])
    truth = pd.Series([10.0, 20.0], index=["a", "b"])
    spr, kt, n = rank_correlation(values, truth)
    assert n == 2 and math.isnan(spr) and math.isnan(kt)
