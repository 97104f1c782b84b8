"""Reports read the store: numbers, settings, embedded plots; and a tiny `zeronas evaluate` + `zeronas report` run."""

from __future__ import annotations

import base64
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from zeronas.cli import main
from zeronas.config import find_data_dir
from zeronas.evaluation import plots
from zeronas.evaluation.groups import GroupResult, evaluate_group, format_best_found, format_summary
from zeronas.evaluation.metrics import evaluate_rows
from zeronas.evaluation.report import markdown_table, render_markdown, write_report
from zeronas.evaluation.sweep import top_role, uniform_role
from zeronas.spaces import get_benchmark
from zeronas.store import ResultRow, ResultStore

DATA = find_data_dir()
pytestmark = pytest.mark.skipif(
    DATA is None or not (DATA / "benchmarks" / "nasbench201.csv").exists(),
    reason="the zeronas data directory (../shared with benchmarks/nasbench201.csv) is not available",
)
SETTINGS = {"batch_size": 64, "resolution": 32, "source": "cifar100_sample_960.npz", "options": {}, "version": "t"}


def _truth() -> pd.Series:
    from zeronas.groundtruth.truth import ground_truth

    return ground_truth("nb201", "cifar100")


def _stored_rows(store: ResultStore) -> list[str]:
    """A store as a sweep leaves it: 40 uniform cells + the top 0.1% set, 2 seeds, 3 made-up proxies."""
    truth = _truth()
    rng = np.random.default_rng(0)
    uniform = list(rng.choice(truth.index.to_numpy(), 40, replace=False))
    top = list(truth.nlargest(16).index)
    cells = list(dict.fromkeys(uniform + top))
    rows = []
    for seed in (0, 1):
        noise = np.random.default_rng(seed).normal(0, 5, len(cells))
        for arch, eps in zip(cells, noise, strict=True):
            rows.append(ResultRow("nb201", arch, "cifar100", "oracle", seed, "dg1", float(truth[arch]), "ok"))
            rows.append(ResultRow("nb201", arch, "cifar100", "noisy", seed, "dg1", float(truth[arch] + eps), "ok"))
            failed = arch == cells[0]
            value = math.nan if failed else -float(truth[arch])
            rows.append(ResultRow("nb201", arch, "cifar100", "inverse", seed, "dg1", value, "error" if failed else "ok",
                                  "RuntimeError: boom" if failed else ""))  # fmt: skip
    store.register_settings("dg1", SETTINGS)
    store.mark_cells("nb201", "cifar100", "uniform", uniform)
    store.mark_cells("nb201", "cifar100", top_role(0.1), top)
    store.add(rows)
    store.add([ResultRow("other", "x", "cifar100", "oracle", 0, "dg2", 1.0, "ok")])  # a space without ground truth
    return uniform


def test_group_numbers_come_from_the_stored_rows(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "s.sqlite")
    uniform = _stored_rows(store)
    result = evaluate_group(store, "nb201", "cifar100", "dg1", top=0.1)
    assert evaluate_group(store, "nb201", "cifar100", "dg1", proxies=["oracle"], ratios=None).evaluation.top == 0.1
    partial = evaluate_group(store, "nb201", "cifar100", "dg1", cells=uniform, ratios=None)
    assert partial.evaluation.top == 5.0  # the top set is not fully scored among these cells: the survey's 5%
    summary = result.evaluation.summary.set_index("proxy")
    assert summary.loc["oracle", "spr_all"] == pytest.approx(1.0) and summary.loc["oracle", "kt_top"] == 1.0
    assert summary.loc["inverse", "spr_all"] == pytest.approx(-1.0) and summary.loc["inverse", "failed"] == 2
    assert summary.loc["oracle", "population_all"] == "uniform" and summary.loc["oracle", "cells_all"] == 40
    assert summary.loc["oracle", "population_top"] == "complete" and summary.loc["oracle", "cells_top"] == 16
    truth = _truth()
    assert summary.loc["oracle", "best_acc"] == pytest.approx(truth[uniform].max())  # the uniform sample's best
    assert summary.loc["oracle", "optimum"] == pytest.approx(73.5133, abs=1e-3)
    rows = store.frame(settings="dg1")
    direct = evaluate_rows(rows, truth, top=0.1, uniform=set(uniform)).summary.set_index("proxy")
    pd.testing.assert_series_equal(summary["spr_all"], direct["spr_all"])
    assert result.settings == SETTINGS and result.failures.iloc[0]["reason"] == "RuntimeError: boom"


def test_each_proxy_is_evaluated_on_its_own_uniform_draw(tmp_path: Path) -> None:
    """One store, two sweeps: 'narrow' over 20 uniform cells + the top set, 'wide' over 60 uniform cells."""
    truth = _truth()
    draw = list(np.random.default_rng(1).choice(truth.index.to_numpy(), 60, replace=False))
    top = [a for a in truth.nlargest(16).index if a not in draw]
    store = ResultStore(tmp_path / "s.sqlite")
    store.register_settings("dg1", SETTINGS)
    store.mark_cells("nb201", "cifar100", uniform_role(60, 0), draw)
    store.mark_cells("nb201", "cifar100", uniform_role(20, 0), draw[:20])
    store.mark_cells("nb201", "cifar100", top_role(0.1), top)
    rows = [ResultRow("nb201", a, "cifar100", "narrow", s, "dg1", float(truth[a]), "ok") for a in draw[:20] + top
            for s in (0, 1)]  # fmt: skip
    rows += [ResultRow("nb201", a, "cifar100", "wide", 0, "dg1", float(truth[a]), "ok") for a in draw]
    store.add(rows)
    summary = evaluate_group(store, "nb201", "cifar100", "dg1", top=0.1).evaluation.summary.set_index("proxy")
    assert summary.loc["narrow", "cells_all"] == 20 and summary.loc["narrow", "population_all"] == "uniform"
    assert summary.loc["narrow", "best_acc"] == pytest.approx(truth[draw[:20]].max())  # not a top cell's accuracy
    assert summary.loc["wide", "cells_all"] == 60 and summary.loc["wide", "population_all"] == "uniform"
    assert summary.loc["wide", "best_acc"] == pytest.approx(truth[draw].max())


def test_report_html_and_markdown(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "s.sqlite")
    _stored_rows(store)
    files = write_report(store, tmp_path / "out")  # Top-k defaults to the recorded, fully scored top 0.1% set
    assert files.results[0].evaluation.top == 0.1
    assert len(files.results) == 1 and any("other" in s and "no ground truth" in s for s in files.skipped)
    html = files.html.read_text()
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 3 and all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    assert 'src="http' not in html and "<link" not in html  # self-contained
    assert "cifar100_sample_960.npz" in html and "dg1" in html
    display = format_summary(files.results[0]).set_index("proxy")
    assert display.loc["oracle", "SPR@All"] == "1.000 ± 0.000" and display.loc["inverse", "failed/rows"] == "2/112"
    for cell in (display.loc["noisy", "SPR@All"], display.loc["inverse", "KT@All"], "RuntimeError: boom"):
        assert cell in html
    markdown = files.markdown.read_text()
    assert (
        "| oracle | 1.000 ± 0.000 |" in markdown and "![correlations](nb201_cifar100_dg1_correlations.png)" in markdown
    )
    names = {p.name for p in files.tables}
    for suffix in ("summary.csv", "summary.json", "best_found.csv", "ratios.csv", "correlations.png", "ratios.png"):
        assert f"nb201_cifar100_dg1_{suffix}" in names
    ratios = pd.read_csv(tmp_path / "out" / "nb201_cifar100_dg1_ratios.csv")
    assert sorted(ratios["percent"].unique()) == list(np.arange(5.0, 101.0, 5.0))
    assert markdown_table(pd.DataFrame({"a": ["x|y"]})) == "| a |\n|---|\n| x\\|y |"


def test_best_found_table_reports_tied_cells_and_sample_std() -> None:
    truth = pd.Series({"x1": 70.0, "x2": 71.0, "x3": 75.0, "x4": 80.0, "x5": 60.0})
    tie = {"x1": 5.0, "x2": 5.0, "x3": 5.0, "x4": 4.0, "x5": 1.0}  # seed 0: x1-x3 tie, mean 72
    alone = {"x1": 1.0, "x2": 2.0, "x3": 3.0, "x4": 9.0, "x5": 0.0}  # seed 1: x4 alone, 80
    rows = pd.concat(
        pd.DataFrame({"arch": list(v), "proxy": "p", "seed": seed, "value": list(v.values())})
        for seed, v in ((0, tie), (1, alone))
    )
    evaluation = evaluate_rows(rows, truth, top=40, ratios=None)
    result = GroupResult("nb201", "cifar100", "dg", {}, "test", evaluation, pd.DataFrame())
    row = format_best_found(result).iloc[0]
    assert row["best-found %"] == "76.00 ± 5.66"  # mean of 72 and 80, sample std 8 / sqrt(2) (ddof=0 gives 4.00)
    assert row["min–max %"] == "70.00–80.00" and row["tied cells"] == "1–3"
    assert row["most picked"] == "x1 (first of 3 tied)" and row["space optimum %"] == "80.00"
    assert format_summary(result).iloc[0]["best-found %"] == "76.00 ± 5.66"
    markdown = render_markdown([result], [], "mem")
    assert "| p | 76.00 ± 5.66 | 70.00–80.00 | 1–3 |" in markdown and "sample std (ddof=1)" in markdown
    assert result.figures()["best_found"].startswith(b"\x89PNG")
    single = evaluate_rows(rows[rows["seed"] == 0], truth, top=40, ratios=None)
    one = GroupResult("nb201", "cifar100", "dg", {}, "test", single, pd.DataFrame())
    assert format_best_found(one).iloc[0]["best-found %"] == "72.00"  # one seed: no std shown


def test_evaluate_then_report_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZERONAS_DATA_DIR", str(DATA))  # --data-dir below sets it for the process: restore afterwards
    store, out = tmp_path / "x.sqlite", tmp_path / "xout"
    args = ["evaluate", "--space", "nb201", "--dataset", "cifar100", "--proxies", "params,flops", "--seeds", "0-1"]
    args += ["--sample", "6", "--include-top", "0.02", "--workers", "1", "--batch-size", "8", "--store", str(store)]
    main([*args, "--out", str(out)])
    text = capsys.readouterr().out
    assert "40 row(s) written, 0 failed" in text and "best-found" in text and "optimum 73.51%" in text
    frame = ResultStore(store).frame()
    assert len(frame) == (6 + 4) * 2 * 2  # ceil(0.02% of 15,625) = 4 top cells
    main([*args, "--out", str(out)])
    assert "nothing to compute" in capsys.readouterr().out
    main(["report", "--store", str(store), "--out", str(out)])
    text = capsys.readouterr().out
    assert "report.html" in text.replace("\n", "") and (out / "report.html").exists() and (out / "report.md").exists()
    with pytest.raises(SystemExit) as code:
        main(["report", "--store", str(tmp_path / "missing.sqlite"), "--out", str(out)])
    assert code.value.code == 2 and "zeronas evaluate" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*args, "--out", str(out), "--option", "zen.repeat=2"])
    assert "not requested" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    fresh = ["--store", str(tmp_path / "never.sqlite"), "--data-dir", str(tmp_path / "empty")]
    with pytest.raises(SystemExit) as code:
        main(["evaluate", "--sample", "3", "--proxies", "params", *fresh])
    error = capsys.readouterr().err
    assert code.value.code == 2 and "benchmarks/nasbench201.csv" in error and "zeronas data import" in error
    assert not (tmp_path / "never.sqlite").exists()  # nothing is scored without ground truth


def test_a_top_draw_is_planned_recorded_and_evaluated_on_its_own_cells(tmp_path: Path) -> None:
    from zeronas.evaluation.sweep import plan_sweep, recorded_top_draws, top_role

    whole = plan_sweep("nb201", "cifar100", 30, include_top=5, sample_seed=2)
    plan = plan_sweep("nb201", "cifar100", 30, include_top=5, sample_seed=2, top_sample=50)
    assert plan.uniform == whole.uniform and len(whole.top) == 782  # the uniform draw does not move
    assert len(plan.top) == 50 == len(set(plan.top)) and set(plan.top) < set(whole.top)
    assert plan_sweep("nb201", "cifar100", 30, include_top=5, sample_seed=2, top_sample=50).top == plan.top
    assert plan_sweep("nb201", "cifar100", 30, include_top=5, sample_seed=3, top_sample=50).top != plan.top
    assert plan_sweep("nb201", "cifar100", 0, include_top=0.1, top_sample=500).top_sample == 0  # set smaller: whole
    store = ResultStore(tmp_path / "s.sqlite")
    truth = _truth()
    store.register_settings("dg1", SETTINGS)
    store.mark_cells("nb201", "cifar100", "uniform:30:2", plan.uniform)
    store.mark_cells("nb201", "cifar100", top_role(5, 50, 2), plan.top)
    assert top_role(5, 50, 2) == "top:5:50:2" and recorded_top_draws(store, "nb201", "cifar100") == {5.0: set(plan.top)}
    rows = [ResultRow("nb201", a, "cifar100", "oracle", 0, "dg1", float(truth[a]), "ok") for a in plan.cells]
    rows += [ResultRow("nb201", a, "cifar100", "flat", 0, "dg1", float(i % 7), "ok") for i, a in enumerate(plan.cells)]
    store.add(rows)
    result = evaluate_group(store, "nb201", "cifar100", "dg1", ratios=None)
    summary = result.evaluation.summary.set_index("proxy")
    assert result.evaluation.top == 5.0
    assert summary.loc["oracle", "population_top"] == "top draw" and summary.loc["oracle", "cells_top"] == 50
    assert summary.loc["oracle", "spr_top"] == pytest.approx(1.0) and summary.loc["flat", "spr_top"] < 0.5
    assert any("a uniform draw of cells from the top set" in note for note in result.notes)


def test_subset_top_widens_to_twenty_percent_when_five_holds_under_ten() -> None:
    from zeronas.evaluation.groups import subset_top

    assert subset_top(302, 5.0) == 5.0  # ceil(15.1) = 16 CNNs
    assert subset_top(200, 5.0) == 5.0  # exactly 10
    assert subset_top(199, 5.0) == 5.0 and subset_top(180, 5.0) == 20.0  # ceil(9.95) = 10; ceil(9) = 9
    assert subset_top(76, 5.0) == 20.0 and subset_top(4, 5.0) == 20.0
    assert subset_top(76, 30.0) == 30.0


def test_best_found_of_a_task_metric_has_no_percent_and_a_negative_axis() -> None:
    """A negative loss (room_layout) is a metric, not a percentage: no '%' anywhere, the axis spans its values."""
    truth = pd.Series({"a": -0.74, "b": -0.70, "c": -0.66, "d": -0.69})
    rows = pd.DataFrame({"arch": list(truth.index), "proxy": "p", "seed": 0, "value": [1.0, 2.0, 3.0, 0.0]})
    evaluation = evaluate_rows(rows, truth, top=50, ratios=None)
    result = GroupResult("tnb_micro", "room_layout", "dg", {}, "val", evaluation, pd.DataFrame())
    row = format_best_found(result).iloc[0]
    assert row["best-found"] == "-0.66" and row["space optimum"] == "-0.66" and "best-found %" not in row
    assert result.unit == "" and "best-found" in format_summary(result).columns and "(val metric)" in result.title
    assert "| proxy | best-found | min–max | tied cells |" in render_markdown([result], [], "mem")
    figure = plots.best_found_bars(evaluation.summary, evaluation.optimum, unit="")
    left, right = figure.axes[0].get_xlim()
    assert left < -0.66 < right and right < 0 and "%" not in figure.axes[0].get_xlabel()
    assert get_benchmark("tnb_micro").truth_unit == "" and get_benchmark("nb201").truth_unit == "%"


def test_correlation_bars_of_undefined_correlations_keep_their_layout():
    """A group too small for any correlation (1-2 models) draws "n/a" labels only: the axes keep their size."""
    nan = math.nan
    columns = [f"{m}_{t}{s}" for m in ("spr", "kt") for t in ("all", "top") for s in ("", "_std")]
    summary = pd.DataFrame([["params", *[nan] * len(columns)]], columns=["proxy", *columns])
    fig = plots.correlation_bars(summary, 5.0, "timm_zoo [vit] / imagenet64")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns when constrained layout collapses the axes
        assert plots.png_bytes(fig).startswith(b"\x89PNG")
    assert [ax.get_xlim() for ax in fig.axes] == [(-0.6, 0.6)] * 2
