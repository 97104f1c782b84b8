"""TE-NAS pruning on the NB201 supernet."""

from __future__ import annotations

import pytest
import torch

from zeronas.errors import InvalidArchError, InvalidInputError
from zeronas.search import search
from zeronas.search.pruning import SupernetScorer, _planned, single_channel_crops
from zeronas.spaces import create_space
from zeronas.spaces.nb201.model import OP_NAMES
from zeronas.spaces.nb201.space import EDGES, NasBench201Space
from zeronas.spaces.nb201.supernet import (
    build_supernet,
    check_op_sets,
    full_op_sets,
    op_sets_key,
    op_sets_to_arch,
)


def test_op_sets() -> None:
    assert op_sets_key(full_op_sets(False)) == "-".join(["0234"] * 6)
    assert op_sets_to_arch([(2,), (2,), (4,), (0,), (2,), (1,)]) == (
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|none~2|"
    )
    with pytest.raises(InvalidArchError, match="no active op"):
        check_op_sets([(0,), (), (1,), (1,), (1,), (1,)])
    with pytest.raises(InvalidArchError, match="still have several ops"):
        op_sets_to_arch(full_op_sets())
    assert _planned(full_op_sets(False), 1) == 25 + 19 + 13


def test_single_op_supernet_is_the_nb201_network() -> None:
    """With one op per edge and the same weights, the supernet computes exactly the NB201 TinyNetwork."""
    space: NasBench201Space = create_space("nb201", cells_per_stage=1, channels=8)
    ops = (2, 3, 4, 0, 2, 3)
    tiny = space.build(ops, num_classes=10).eval()
    net = build_supernet([(o,) for o in ops], num_classes=10, channels=8, cells_per_stage=1, seed=0).eval()
    own = dict(net.named_parameters()) | dict(net.named_buffers())
    source = dict(tiny.named_parameters()) | dict(tiny.named_buffers())
    order = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]  # InferCell's layer order (target-major)
    with torch.no_grad():
        for name, tensor in source.items():
            parts = name.split(".")
            if parts[0] == "cells" and parts[2] == "layers":
                edge = EDGES.index(order[int(parts[3])])
                parts = ["cells", parts[1], "edges", str(edge), "ops", str(ops[edge]), *parts[4:]]
            own[".".join(parts)].copy_(tensor)
        x = torch.randn(2, 3, 32, 32)
        assert torch.allclose(net(x), tiny(x), atol=1e-6)


def test_same_seed_same_shared_weights() -> None:
    a = build_supernet(full_op_sets(), channels=4, cells_per_stage=1, seed=5)
    b = build_supernet([(0,), (1, 2), (3,), (4,), (0, 1), (2,)], channels=4, cells_per_stage=1, seed=5)
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        assert na == nb and torch.equal(pa, pb)


def test_tenas_pruning_tiny_returns_a_single_op_cell() -> None:
    result = search(
        "nb201",
        "cifar10",
        "params",
        "prune",
        evaluations=1,
        seed=0,
        channels=4,
        cells_per_stage=1,
        batch_size=8,
        lr_samples=32,
    )
    key = result.best_arch
    space = create_space("nb201")
    assert space.validate(key) == key
    assert "none" not in key  # TE-NAS removes 'none' before pruning
    rounds = result.extra["rounds"]
    assert rounds["round"].nunique() == 3
    assert rounds["removed"].eq(True).sum() == 3 * 6
    assert result.extra["supernet_evaluations"] == 57
    assert rounds["change_ntk_cond"].notna().all() and rounds["change_linear_regions"].notna().all()
    # what survives on each edge is the one op never removed there
    for edge, (s, t) in enumerate(EDGES):
        removed = set(rounds[(rounds["edge"] == f"{s + 1}->{t + 1}") & rounds["removed"].eq(True)]["op"])
        survivor = OP_NAMES[space.ops(key)[edge]]
        assert survivor not in removed and len(removed) == 3
    assert result.history["arch"].tolist() == [key]


def test_pruning_refuses_other_spaces_and_budgets() -> None:
    with pytest.raises(InvalidInputError, match="nb201 space only"):
        search("mbv2", "imagenet", "params", "prune")
    with pytest.raises(InvalidInputError, match="takes no budget"):
        search("nb201", "cifar10", "params", "prune", budgets=["flops<=100M"])


def test_regions_are_counted_on_the_thin_network_and_do_not_saturate() -> None:
    images = torch.randn(8, 3, 16, 16)
    crops = single_channel_crops(images, 50, 3, seed=1)
    assert crops.shape == (50, 1, 3, 3)
    assert torch.equal(crops, single_channel_crops(images, 50, 3, seed=1))
    assert any(
        torch.equal(crops[0, 0], images[i, c, y : y + 3, x : x + 3])
        for i in range(8)
        for c in range(3)
        for y in range(14)
        for x in range(14)
    )  # a real patch of one channel
    scorer = SupernetScorer("cifar10", ["linear_regions"], 0, 8, 1, 32, {"linear_regions": {"samples": 500}})
    full = full_op_sets(include_none=False)
    origin = scorer(full, 0)["linear_regions"]
    pruned = {scorer(full[:1] + ((full[1][0],),) + full[2:], 0)["linear_regions"]}
    pruned |= {scorer(((op,),) + full[1:], 0)["linear_regions"] for op in full[0]}
    assert 50 < origin < 490  # far from the 500-sample ceiling the wide supernet hits
    assert len(pruned | {origin}) > 2  # removing ops changes the count
