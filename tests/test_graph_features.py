"""Graph descriptors of NB201, TransNAS micro and NB101 cells, checked against hand-traced paths."""

from __future__ import annotations

import pytest

from zeronas.spaces import create_space
from zeronas.spaces.graph_features import dag_paths, path_descriptors


def test_nb201_cell_counts_only_live_paths(shared_dir):
    # edges: 0->1 conv3x3, 0->2 none, 1->2 conv3x3, 0->3 skip, 1->3 none, 2->3 conv1x1
    # live paths: 0->3 (skip) and 0->1->2->3 (conv3x3, conv3x3, conv1x1); 0->1->3 and 0->2->3 pass a none edge
    arch = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"
    features = create_space("nb201").graph_features(arch)
    assert features == {
        "n_skip_connect": 1, "live_skip_connect": 1, "n_none": 2, "live_none": 0,
        "n_nor_conv_3x3": 2, "live_nor_conv_3x3": 2, "n_nor_conv_1x1": 1, "live_nor_conv_1x1": 1,
        "n_avg_pool_3x3": 0, "live_avg_pool_3x3": 0,
        "paths": 2, "max_convs": 3, "min_convs": 0, "max_nor_conv_3x3": 2, "conv_free_paths": 1,
    }  # fmt: skip


def test_disconnected_cell_has_no_path(shared_dir):
    space = create_space("nb201")
    arch = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|avg_pool_3x3~2|"
    features = space.graph_features(arch)
    assert features["paths"] == 0 and features["max_convs"] == -1 and features["live_nor_conv_3x3"] == 0
    assert not space.is_connected(arch) and space.is_connected(arch.replace("none~1|+", "nor_conv_1x1~1|+"))
    assert features["n_nor_conv_3x3"] == 1 and features["n_avg_pool_3x3"] == 1


def test_tnb_micro_key_order_is_target_major():
    # '3_03_100': 0->1 conv3x3; 0->2 none, 1->2 conv3x3; 0->3 skip, 1->3 none, 2->3 none: only 0->3 lives
    features = create_space("tnb_micro").graph_features("64-41414-3_03_100")
    assert features["paths"] == 1 and features["conv_free_paths"] == 1 and features["max_convs"] == 0
    assert features["n_nor_conv_3x3"] == 2 and features["live_nor_conv_3x3"] == 0 and features["n_none"] == 3


def test_nb101_paths_through_the_vertices(shared_dir):
    matrix = [
        [0, 1, 0, 1, 0, 0, 0],
        [0, 0, 1, 1, 0, 0, 0],
        [0, 0, 0, 0, 1, 0, 1],
        [0, 0, 0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 0],
    ]
    ops = ["input", "maxpool3x3", "conv1x1-bn-relu", "conv3x3-bn-relu", "conv1x1-bn-relu", "conv3x3-bn-relu", "output"]
    assert sorted(dag_paths(matrix)) == [(1, 2), (1, 2, 4, 5), (1, 3, 4, 5), (3, 4, 5)]
    features = create_space("nb101").graph_features({"matrix": matrix, "ops": ops})
    assert features["paths"] == 4 and features["max_convs"] == 3 and features["min_convs"] == 1
    assert features["max_conv3x3-bn-relu"] == 2 and features["conv_free_paths"] == 0
    assert features["n_conv1x1-bn-relu"] == 2 and features["live_maxpool3x3"] == 1


def test_direct_edge_is_a_conv_free_path():
    # input -> output directly, and input -> conv3x3 -> output
    features = path_descriptors({1: "conv"}, dag_paths([[0, 1, 1], [0, 0, 1], [0, 0, 0]]), ["conv"], ["conv"])
    assert features["paths"] == 2 and features["conv_free_paths"] == 1 and features["max_conv"] == 1


def test_space_without_a_cell_graph_says_so(shared_dir):
    with pytest.raises(NotImplementedError, match="no graph descriptors"):
        create_space("nats_sss").graph_features("8:8:8:8:8")
