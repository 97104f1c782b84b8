"""Cost predictors: cell graph encoding, LUT / MLP / GCN on device tables, few-shot transfer, predicted costs."""

from __future__ import annotations

import numpy as np
import pytest

from zeronas.config import find_data_dir
from zeronas.hardware.predictors import (
    FewShotTransfer,
    GCNPredictor,
    LookupTablePredictor,
    MLPPredictor,
    cell_graph,
    predictor_metrics,
)

needs_data = pytest.mark.skipif(find_data_dir() is None, reason="needs the zeronas data directory (../shared)")


@pytest.fixture(scope="module")
def space():
    from zeronas.spaces import create_space

    return create_space("nb201")


@pytest.fixture(scope="module")
def split():
    """A seeded split of the NB201 table: 300 training and 1,000 held-out cells."""
    from zeronas.hardware.tables import nb201_latency_table

    table = nb201_latency_table()
    order = np.random.default_rng(0).permutation(len(table))
    archs = table.index.to_numpy()
    return table, list(archs[order[:300]]), list(archs[order[300:1300]])


def test_metrics_by_hand():
    m = predictor_metrics(np.array([10.0, 20.0, 40.0]), np.array([11.0, 19.0, 30.0]))
    assert m["rmse"] == pytest.approx(np.sqrt((1 + 1 + 100) / 3))
    assert m["within10"] == pytest.approx(2 / 3)  # 10 % and 5 % off are within, 25 % is not
    assert m["spearman"] == pytest.approx(1.0)


def test_cell_graph(space):
    adj, feats = cell_graph(space, "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|")
    # op nodes 1..6 are edges (0,1),(0,2),(0,3),(1,2),(1,3),(2,3); node 0 input, node 7 output
    assert adj[1, 0] == adj[2, 0] == adj[3, 0] == 1  # edges leaving the input read it
    assert adj[4, 1] == adj[5, 1] == 1  # edges leaving node 1 read the op on (0,1)
    assert list(np.flatnonzero(adj[6])) == [2, 4]  # edge (2,3) reads the ops entering node 2
    assert list(np.flatnonzero(adj[7])) == [3, 5, 6]  # the output sums the ops entering node 3
    assert adj.sum() == 3 + 1 + 1 + 2 + 3  # nothing else
    # features: [input, output, skip, none, conv3, conv1, pool]
    assert list(feats.argmax(1)) == [0, 4, 3, 6, 2, 5, 3, 1]


@needs_data
def test_lut_is_exact_on_an_additive_device(space, split):
    table, train, test = split
    y = table["eyeriss"]  # HW-NAS-Bench's Eyeriss numbers are a sum of per-layer costs
    lut = LookupTablePredictor().fit(space, train[:100], y[train[:100]].to_numpy())
    m = predictor_metrics(y[test].to_numpy(), lut.predict(space, test))
    assert m["rmse"] < 0.01 and m["within10"] == 1.0


@needs_data
def test_mlp_ranks_held_out_raspi4_cells(space, split):
    table, train, test = split
    y = table["raspi4"]
    mlp = MLPPredictor(epochs=80).fit(space, train, y[train].to_numpy())
    m = predictor_metrics(y[test].to_numpy(), mlp.predict(space, test))
    assert m["spearman"] > 0.85


@needs_data
def test_gcn_ranks_held_out_gpu_cells(space, split):
    table, train, test = split
    y = table["titan_rtx_1"]
    gcn = GCNPredictor(epochs=60).fit(space, train, y[train].to_numpy())
    m = predictor_metrics(y[test].to_numpy(), gcn.predict(space, test))
    assert m["spearman"] > 0.9 and m["within10"] > 0.7


@needs_data
def test_few_shot_transfer_to_a_left_out_device(space, split):
    table, _, test = split
    sources = {d: table[d] for d in ("1080ti_1", "2080ti_1", "titanx_1", "gold_6226", "silver_4114")}
    helper = FewShotTransfer(shots=10, cells_per_device=400, epochs=40).pretrain(space, sources)
    target = table["titan_rtx_1"]
    helper.adapt(space, target[helper.anchors])
    held_out = [a for a in test if a not in set(helper.anchors)]
    transferred = predictor_metrics(target[held_out].to_numpy(), helper.predict(space, held_out))
    scratch = MLPPredictor(epochs=80).fit(space, helper.anchors, target[helper.anchors].to_numpy())
    alone = predictor_metrics(target[held_out].to_numpy(), scratch.predict(space, held_out))
    assert transferred["spearman"] > 0.85
    assert transferred["rmse"] < alone["rmse"]


@needs_data
def test_predicted_cost_model_against_the_table(space, split):
    from zeronas.hardware import get_cost

    _, _, test = split
    cost = get_cost("predicted_latency", target="nb201_latency", device="pixel3", model="lut", n_train=100)
    truth = cost.truth.many(space, test, "cifar10")
    predicted = cost.many(space, test, "cifar10")
    assert predictor_metrics(truth, predicted)["spearman"] > 0.85
    assert cost(space, test[0], "cifar10") == pytest.approx(predicted[0])
    assert len(cost.train_keys[("nb201", "cifar10")]) == 100
