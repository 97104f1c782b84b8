"""Pool ensembles (az_nas, zs_ensemble): expansion, rank aggregation, derived rows, evaluation and the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import zeronas
from zeronas.cli import main
from zeronas.errors import InvalidInputError, UnknownNameError
from zeronas.evaluation.groups import evaluate_group
from zeronas.evaluation.scoring import build_seeded
from zeronas.evaluation.sweep import uniform_role
from zeronas.groundtruth.truth import ground_truth
from zeronas.proxies import (
    AZ_COMPONENTS,
    ensemble_rows,
    ensemble_scores,
    expand_ensembles,
    get_ensemble,
    list_ensembles,
    list_proxies,
    register_ensemble,
    unregister_ensemble,
)
from zeronas.store import ResultRow, ResultStore

ZS = ("synflow", "meco", "az_expressivity", "az_trainability")


def test_registered_ensembles_and_their_members() -> None:
    assert list_ensembles()[:3] == ["az_nas", "zs_ensemble", "zs_ensemble_top"]
    assert get_ensemble("az_nas").members == AZ_COMPONENTS
    assert get_ensemble("zs_ensemble").members == ZS
    assert get_ensemble("zs_ensemble_top").members == ("synflow", "zen", "meco", "az_trainability", "jacob_cov")
    assert not set(list_ensembles()) & set(list_proxies())


def test_expand_ensembles_computes_members_once_in_order() -> None:
    proxies, ensembles = expand_ensembles("params,zs_ensemble,meco,az_nas")
    assert proxies == ["params", *ZS, "az_progressivity", "az_complexity"]
    assert ensembles == ["zs_ensemble", "az_nas"]
    everything, all_ensembles = expand_ensembles("all")
    assert everything == list_proxies() and all_ensembles == list_ensembles()
    with pytest.raises(UnknownNameError, match="unknown proxy 'zs_ensembel'"):
        expand_ensembles(["zs_ensembel"])
    with pytest.raises(InvalidInputError, match="no proxy requested"):
        expand_ensembles(" , ")


def test_register_ensemble_rejects_bad_definitions() -> None:
    with pytest.raises(ValueError, match="a proxy has that name"):
        register_ensemble("meco", ("synflow", "params"), "clash")
    with pytest.raises(ValueError, match="at least two distinct"):
        register_ensemble("solo", ("synflow", "synflow"), "one member twice")
    with pytest.raises(UnknownNameError):
        register_ensemble("ghost", ("synflow", "no_such_proxy"), "unknown member")
    assert "solo" not in list_ensembles() and "ghost" not in list_ensembles()


def test_ensemble_score_is_the_log_rank_sum_over_the_pool() -> None:
    """Hand-worked: M = 4 cells, ranks ascending (ties averaged); NaN ranks last."""
    values = pd.DataFrame(
        {
            "synflow": [1.0, 3.0, 2.0, 4.0],
            "meco": [4.0, 3.0, 2.0, 1.0],
            "az_expressivity": [1.0, 1.0, 3.0, 2.0],
            "az_trainability": [math.nan, 2.0, 3.0, 1.0],
            "params": [9.0, 9.0, 9.0, 9.0],  # not a member: ignored
        },
        index=list("abcd"),
    )
    ranks = {"a": (1, 4, 1.5, 1), "b": (3, 3, 1.5, 3), "c": (2, 2, 4, 4), "d": (4, 1, 3, 2)}
    expected = pd.Series({k: sum(math.log(r / 4) for r in v) for k, v in ranks.items()})
    got = ensemble_scores("zs_ensemble", values)
    assert got.name == "zs_ensemble"
    np.testing.assert_allclose(got.to_numpy(), expected[got.index].to_numpy(), rtol=1e-12)
    assert got.idxmax() == "c"
    with pytest.raises(InvalidInputError, match="needs member value\\(s\\) az_trainability"):
        ensemble_scores("zs_ensemble", values.drop(columns="az_trainability"))


def _rows(values: dict[str, dict[str, float]], seed: int = 0, failed: tuple[str, str] | None = None) -> pd.DataFrame:
    records = []
    for proxy, by_arch in values.items():
        for arch, value in by_arch.items():
            bad = failed == (arch, proxy)
            value, status, reason = (-1e8, "error", "boom") if bad else (value, "ok", "")
            records.append({"arch": arch, "proxy": proxy, "seed": seed, "value": value, "status": status,
                            "reason": reason, "seconds": 0.5})  # fmt: skip
    return pd.DataFrame(records)


def test_ensemble_rows_pool_only_complete_cells_and_rank_failures_last() -> None:
    values = {p: {"a": 1.0 + i, "b": 2.0, "c": 3.0 - i} for i, p in enumerate(ZS)}
    values["meco"].pop("c")  # cell c lacks a member row: not in the pool
    rows = _rows(values, failed=("a", "synflow"))  # a sentinel value of a failed row must rank last, not count
    derived = ensemble_rows(rows, ["zs_ensemble"])
    assert sorted(derived["arch"]) == ["a", "b"] and set(derived["proxy"]) == {"zs_ensemble"}
    table = pd.DataFrame({p: {a: v for a, v in values[p].items() if a in "ab"} for p in ZS})
    table.loc["a", "synflow"] = math.nan
    expected = ensemble_scores("zs_ensemble", table)
    np.testing.assert_allclose(derived.set_index("arch")["value"][expected.index], expected.to_numpy())
    assert (derived["seconds"] == 2.0).all() and "pool of 2 cells" in derived["reason"].iloc[0]
    assert ensemble_rows(rows).empty is False and set(ensemble_rows(rows)["proxy"]) == {"zs_ensemble"}
    assert ensemble_rows(rows[rows["proxy"] != "meco"]).empty  # no ensemble has all its members
    with pytest.raises(UnknownNameError, match="unknown ensemble 'nope'"):
        ensemble_rows(rows, ["nope"])


def test_evaluate_group_reports_ensembles_next_to_their_members(tmp_path: Path, shared_dir: Path) -> None:
    truth = ground_truth("nb201", "cifar10", "test")
    cells = list(np.random.default_rng(3).choice(truth.index.to_numpy(), 40, replace=False))
    store = ResultStore(tmp_path / "s.sqlite")
    store.register_settings("dg", {"batch_size": 64})
    store.mark_cells("nb201", "cifar10", uniform_role(40, 0), cells)
    noise = np.random.default_rng(0)
    rows = [ResultRow("nb201", a, "cifar10", p, 0, "dg", float(truth[a] + noise.normal(0, 3)), "ok")
            for a in cells for p in ZS]  # fmt: skip
    store.add(rows)
    result = evaluate_group(store, "nb201", "cifar10", "dg", proxies=["zs_ensemble"])
    summary = result.evaluation.summary.set_index("proxy")
    assert set(summary.index) == {*ZS, "zs_ensemble"}
    assert summary.loc["zs_ensemble", "cells_all"] == 40
    members = summary.loc[list(ZS), "spr_all"]
    assert summary.loc["zs_ensemble", "spr_all"] > members.max()  # four noisy views of the truth beat each one
    assert any("zs_ensemble: ranked over the pool" in n for n in result.notes)
    everything = evaluate_group(store, "nb201", "cifar10", "dg").evaluation.summary
    assert "zs_ensemble" in set(everything["proxy"]) and "az_nas" not in set(everything["proxy"])


def test_ensemble_of_real_scores_matches_aggregating_the_members(shared_dir: Path) -> None:
    space = zeronas.create_space("nb201")
    keys = space.sample_many(4, np.random.default_rng(11))
    batch = zeronas.load_batch("cifar10", 16, 0)
    table = pd.DataFrame(
        {k: dict(zeronas.score(build_seeded(space, k, 10, 0), batch, list(ZS), seed=0)) for k in keys}
    ).T
    assert np.isfinite(table.to_numpy()).sum() >= 12
    scores = ensemble_scores("zs_ensemble", table)
    ranks = table.fillna(-np.inf).rank(method="average")
    np.testing.assert_allclose(scores.to_numpy(), np.log(ranks / 4).sum(axis=1).to_numpy(), rtol=1e-12)


def test_evaluate_cli_accepts_an_ensemble_name(tmp_path: Path, capsys: pytest.CaptureFixture[str], shared_dir) -> None:
    store = tmp_path / "e.sqlite"
    args = ["evaluate", "--space", "nb201", "-d", "cifar10", "-p", "zs_ensemble", "--seeds", "0", "--sample", "5"]
    main([*args, "--workers", "1", "--batch-size", "8", "--store", str(store), "--out", str(tmp_path / "o")])
    text = capsys.readouterr().out
    assert "20 row(s) written" in text and "zs_ensemble" in text
    assert set(ResultStore(store).frame()["proxy"]) == set(ZS)  # members are stored; the ensemble is derived
    with pytest.raises(SystemExit) as code:
        main(["evaluate", "-p", "zs_ensembel", "--store", str(store)])
    assert code.value.code == 2 and "unknown proxy 'zs_ensembel'" in capsys.readouterr().err


def test_proxies_listing_shows_ensembles_with_members(capsys: pytest.CaptureFixture[str]) -> None:
    main(["proxies", "--json"])
    records = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert records["zs_ensemble"]["family"] == "ensemble" and records["zs_ensemble"]["members"] == list(ZS)
    assert records["az_nas"]["members"] == list(AZ_COMPONENTS) and "members" not in records["meco"]


def test_scoring_one_network_with_an_ensemble_says_it_needs_a_pool(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as code:
        main(["score", "--arch", "433000", "--proxies", "zs_ensemble"])
    err = capsys.readouterr().err
    assert code.value.code == 2 and "'zs_ensemble' is a pool ensemble" in err and len(err.strip().splitlines()) == 1


@pytest.fixture
def cheap_ensemble():
    register_ensemble("cheap_pair", ("params", "flops"), "test ensemble of two static counts")
    yield "cheap_pair"
    unregister_ensemble("cheap_pair")


def test_search_with_an_ensemble_picks_the_best_over_the_final_pool(cheap_ensemble: str, shared_dir: Path) -> None:
    from zeronas.search import search
    from zeronas.search.objective import EnsembleObjective

    result = search("nb201", "cifar10", cheap_ensemble, "evolution", evaluations=24, seed=3, population=8,
                    tournament=4, report_costs=())  # fmt: skip
    assert result.objective == cheap_ensemble
    space = zeronas.create_space("nb201")
    objective = EnsembleObjective(space, "cifar10", cheap_ensemble, seed=3)
    pool = list(dict.fromkeys([*objective.reference_keys(), *result.history["arch"]]))
    table = pd.DataFrame.from_dict({k: objective.values(k) for k in pool}, orient="index")
    final = ensemble_scores(cheap_ensemble, table)
    assert result.best_arch == final[list(result.history["arch"].unique())].idxmax()
    assert len(result.history) == 24 and result.stats["proxy_computations"] == len(pool)  # 32 reference cells too
    with pytest.raises(InvalidInputError, match="on its own"):
        search("nb201", "cifar10", f"{cheap_ensemble},params", "random", evaluations=2)
