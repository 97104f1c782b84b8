"""Few-shot accuracy prediction: features from stored rows, the XGBoost predictor, `zeronas predict`, fewshot search."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from zeronas.errors import InvalidInputError
from zeronas.evaluation.fewshot import (
    FewShotPredictor,
    complete_cells,
    feature_table,
    fewshot_curve,
    is_proxy_column,
    proxy_table,
    summarise_curve,
)
from zeronas.groundtruth.truth import ground_truth
from zeronas.spaces import create_space

pytest.importorskip("xgboost")

EXPORT = Path(__file__).parents[1] / "benchmarks" / "results" / "store" / "nb201_cifar10_p16_sample500_seed0.csv.gz"


@pytest.fixture(scope="module")
def cifar10_rows() -> pd.DataFrame:
    """16 proxies on the 500 uniformly drawn NB201 cells of the checked-in CIFAR-10 sweep (seed 0)."""
    return pd.read_csv(EXPORT)


def _rows(records: list[tuple[str, str, int, float, str]]) -> pd.DataFrame:
    return pd.DataFrame(records, columns=["arch", "proxy", "seed", "value", "status"])


def test_proxy_table_means_seeds_and_keeps_failed_cells_as_nan():
    rows = _rows(
        [
            ("a", "p", 0, 1.0, "ok"),
            ("a", "p", 1, 3.0, "ok"),
            ("a", "q", 0, 5.0, "ok"),
            ("b", "p", 0, float("nan"), "error"),
            ("b", "q", 0, 7.0, "ok"),
            ("b", "q", 1, 99.0, "nonfinite"),  # a failed seed does not enter the mean
        ]
    )
    table = proxy_table(rows, ["q", "p"])
    assert list(table.columns) == ["q", "p"]
    assert table.loc["a", "p"] == 2.0 and table.loc["a", "q"] == 5.0
    assert np.isnan(table.loc["b", "p"]) and table.loc["b", "q"] == 7.0
    assert complete_cells(rows, ["p", "q"]) == {"a", "b"}
    assert complete_cells(rows[rows["proxy"] == "p"], ["p", "q"]) == set()
    with pytest.raises(InvalidInputError, match="proxy r"):
        proxy_table(rows, ["r"])


def test_feature_table_appends_the_space_encoding():
    space = create_space("nb201")
    key = space.sample(np.random.default_rng(0))
    features = feature_table(pd.DataFrame({"p": [1.0]}, index=[key]), space)
    graph = space.graph_features(key)
    assert list(features.columns[:1]) == ["p"] and features.shape == (1, 1 + 30 + len(graph))
    assert np.array_equal(features.iloc[0, 1:31].to_numpy(), space.encode(key))
    assert features.iloc[0, 31:].to_dict() == {f"graph_{name}": value for name, value in graph.items()}
    # a space without a cell graph (a timm-like zoo): proxies and encoding only
    assert not [c for c in feature_table(pd.DataFrame({"p": [1.0]}, index=["7"]), _NoGraph()).columns if "graph" in c]


def test_feature_table_adds_the_ensembles_whose_members_are_all_there():
    members = ["synflow", "meco", "az_expressivity", "az_trainability"]  # zs_ensemble's; no other is complete
    values = pd.DataFrame({m: [3.0, 1.0, 2.0] for m in members}, index=["a", "b", "c"]).assign(params=[1.0, 2.0, 3.0])
    values.loc["b", "meco"] = 2.0  # b ties c on meco below a: both rank 1.5 of 3
    features = feature_table(values)
    assert list(features.columns) == [*values.columns, "ens_zs_ensemble"] and not is_proxy_column("ens_zs_ensemble")
    expected = [0.0, 3 * math.log(1 / 3) + math.log(1.5 / 3), 3 * math.log(2 / 3) + math.log(1.5 / 3)]
    assert features["ens_zs_ensemble"].to_numpy() == pytest.approx(expected, abs=1e-12)
    assert list(feature_table(values, ensembles=False).columns) == list(values.columns)


class _NoGraph:
    name = "nograph"

    def encode(self, key: str) -> np.ndarray:
        return np.array([float(key)])

    def graph_features(self, key: str) -> dict[str, float]:
        raise NotImplementedError("no graph")


def test_predictor_ranks_held_out_nb201_cells(cifar10_rows, shared_dir):
    """100 labelled cells of the checked-in sweep rank the other 400 at Spearman ~0.95 (measured .948/.960).

    The earlier model (raw target, depth 3, one-hot only) measured .936 on average here: the bar of .94 fails
    if the log-error target or the graph descriptors stop doing their part."""
    values = proxy_table(cifar10_rows)
    features = feature_table(values, create_space("nb201"))
    truth = ground_truth("nb201", "cifar10", "test")
    curve = fewshot_curve(features, truth, labels=[100], draws=2)
    assert len(curve) == 2 and (curve["held_out"] == 400).all()
    assert curve["spearman"].min() > 0.94
    assert curve["proxy_spearman"].max() < curve["spearman"].min()  # beats the best single proxy chosen on the labels
    assert (curve["pick"] > 92.0).all() and (curve["oracle"] == truth.reindex(values.index).max()).all()
    summary = summarise_curve(curve)
    assert summary.loc[0, "labels"] == 100 and summary.loc[0, "draws"] == 2
    # labels that do not belong to their cells: nothing left to learn
    shuffled = pd.Series(truth.reindex(values.index).sample(frac=1.0, random_state=0).to_numpy(), index=values.index)
    assert abs(fewshot_curve(features, shuffled, labels=[100], draws=1)["spearman"].iloc[0]) < 0.2


def test_predictor_refuses_bad_labels():
    features = pd.DataFrame({"p": np.arange(10.0)}, index=[f"c{i}" for i in range(10)])
    with pytest.raises(InvalidInputError, match="not fitted"):
        FewShotPredictor().predict(features)
    with pytest.raises(InvalidInputError, match="non-finite"):
        FewShotPredictor().fit(features, pd.Series([1.0, float("nan")], index=["c0", "c1"]))
    with pytest.raises(InvalidInputError, match="no features"):
        FewShotPredictor().fit(features, pd.Series([1.0, 2.0], index=["c0", "zz"]))
    with pytest.raises(InvalidInputError, match="fewer than 3"):
        fewshot_curve(features, pd.Series(np.arange(10.0), index=features.index), labels=[8])
    with pytest.raises(InvalidInputError, match="at least 2"):
        fewshot_curve(features, pd.Series(np.arange(10.0), index=features.index), labels=[1])
    with pytest.raises(InvalidInputError, match="unknown few-shot target 'rank'"):
        FewShotPredictor(target="rank")
    with pytest.raises(InvalidInputError, match=r"accuracy 120.0 > 100: the log-error target needs accuracies in %"):
        FewShotPredictor().fit(features, pd.Series([50.0, 120.0], index=["c0", "c1"]))
    labels = pd.Series(np.arange(10.0), index=features.index)
    fitted = FewShotPredictor(rounds=20).fit(features, labels)
    assert fitted.predict(features).corr(labels, method="spearman") > 0.9
    # a metric that is not a percentage is fitted raw; larger than 100 is then fine
    raw = FewShotPredictor(rounds=20, target="raw").fit(features, labels * 1000)
    assert raw.predict(features).corr(labels, method="spearman") > 0.9


def test_log_error_target_predicts_on_the_accuracy_scale():
    """Fitted on -ln(101 - acc), predictions map back to % (a constant label comes back as itself)."""
    features = pd.DataFrame({"p": np.arange(8.0)}, index=[f"c{i}" for i in range(8)])
    constant = FewShotPredictor(rounds=50).fit(features, pd.Series(93.5, index=features.index))
    assert np.allclose(constant.predict(features), 93.5, atol=1e-3)
    spread = pd.Series(np.linspace(10.0, 94.0, 8), index=features.index)
    predicted = FewShotPredictor(rounds=300, params={"eta": 0.3}).fit(features, spread).predict(features)
    assert predicted.between(10.0 - 1e-3, 94.0 + 1e-3).all() and abs(predicted.iloc[-1] - 94.0) < 1.0


@pytest.fixture(scope="module")
def cifar10_store(tmp_path_factory, cifar10_rows) -> Path:
    from zeronas.store import ResultStore
    from zeronas.store.transfer import import_rows

    path = tmp_path_factory.mktemp("predict") / "store.sqlite"
    store = ResultStore(path)
    import_rows(store, EXPORT)
    return path


def test_predict_command_curve_and_user_labels(cli, cifar10_store, tmp_path, shared_dir):
    result = cli(
        "predict",
        "--store",
        cifar10_store,
        "--labels",
        "10,50",
        "--draws",
        "2",
        "-p",
        "nwot,synflow,params",
        "--out",
        tmp_path,
    )
    assert result.code == 0, result.err
    assert "3 proxies: nwot, synflow, params" in result.out
    assert (
        "features: 3 proxies, 0 ensembles of them, 30 encoding columns, 15 graph descriptors; target: log error"
        in " ".join(result.out.split())
    )
    summary = pd.read_csv(tmp_path / "predict_nb201_cifar10_summary.csv")
    assert list(summary["labels"]) == [10, 50] and (summary["draws"] == 2).all()
    assert summary["spearman_mean"].iloc[1] > 0.8
    # the user's own trained cells: fit on 60 of them, rank the other 440 stored cells
    truth = ground_truth("nb201", "cifar10", "test")
    cells = list(np.random.default_rng(0).permutation(sorted(pd.read_csv(EXPORT)["arch"].unique())))
    pd.DataFrame({"arch": cells[:60], "accuracy": truth[cells[:60]].to_numpy()}).to_csv(
        tmp_path / "mine.csv", index=False
    )
    result = cli("predict", "--store", cifar10_store, "--train", tmp_path / "mine.csv", "--out", tmp_path)
    assert result.code == 0, result.err
    ranked = pd.read_csv(tmp_path / "predict_nb201_cifar10.csv")
    assert len(ranked) == 440 and not set(ranked["arch"]) & set(cells[:60])
    assert ranked["predicted"].is_monotonic_decreasing
    assert ranked["predicted"].corr(truth.reindex(ranked["arch"]).reset_index(drop=True), method="spearman") > 0.8


def test_predict_command_bad_input(cli, cifar10_store, tmp_path, shared_dir):
    cli("predict", "--store", tmp_path / "none.sqlite").assert_clean_error("does not exist")
    cli("predict", "--store", cifar10_store, "--labels", "10,x").assert_clean_error("--labels", "'x'")
    cli("predict", "--store", cifar10_store, "--labels", "499").assert_clean_error("fewer than 3")
    cli("predict", "--store", cifar10_store, "-p", "meco").assert_clean_error("meco")
    cli("predict", "--store", cifar10_store, "-d", "cifar100").assert_clean_error("no proxy values", "cifar100")
    (tmp_path / "bad.csv").write_text("arch,accuracy\n|nor_conv_3x3~0|+|,91.0\n")
    cli("predict", "--store", cifar10_store, "--train", tmp_path / "bad.csv").assert_clean_error()
    (tmp_path / "nan.csv").write_text("arch,accuracy\nx,high\n")
    cli("predict", "--store", cifar10_store, "--train", tmp_path / "nan.csv").assert_clean_error("line 2", "'high'")


def test_fewshot_search_trains_the_predicted_best(shared_dir):
    from zeronas.search import search

    result = search("nb201", "cifar10", "params,flops", "fewshot", evaluations=60, seed=3, labels=12, rounds=2)
    trained = result.extra["trained"]
    truth = ground_truth("nb201", "cifar10", "test")
    assert len(trained) == 12 == len(set(trained)) and set(trained) <= set(result.history["arch"])
    assert result.best_arch == max(trained, key=lambda key: truth[key])
    assert result.stats["unique"] == 60
    with pytest.raises(InvalidInputError, match="initial"):
        search("nb201", "cifar10", "params", "fewshot", evaluations=20, labels=5, initial=9)
