"""The mbv2 (ProxylessNAS/OFA MobileNetV2) space: keys, variation operators, build, exact analytic counts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zeronas.errors import InvalidArchError
from zeronas.modelstats import count_flops, count_macs, count_params
from zeronas.spaces import create_space, list_spaces
from zeronas.spaces.mbv2.space import STAGES, MobileNetV2Space, make_divisible


@pytest.fixture(scope="module")
def space() -> MobileNetV2Space:
    return create_space("mbv2", resolution=64)


def test_registered_and_default_key(space: MobileNetV2Space) -> None:
    assert "mbv2" in list_spaces()
    key = space.default_key()
    assert key.startswith("w1.0|k3e6,k3e6,k3e6,k3e6|")
    assert key.count("|") == len(STAGES)
    assert space.validate(" " + key + " ") == key


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("w1.0|k3e6", "needs 'w<width>' then 6"),
        ("w2.0|k3e6,k3e6|k3e6,k3e6|k3e6,k3e6|k3e6,k3e6|k3e6,k3e6|k3e6", "width 2 not in"),
        ("wx|k3e6,k3e6|k3e6,k3e6|k3e6,k3e6|k3e6,k3e6|k3e6,k3e6|k3e6", "not a number"),
        ("w1.0|k4e6,k3e6|k3e6,k3e6|k3e6,k3e6|k3e6,k3e6|k3e6,k3e6|k3e6", "kernel must be in"),
        ("w1.0|k3e5,k3e6|k3e6,k3e6|k3e6,k3e6|k3e6,k3e6|k3e6,k3e6|k3e6", "expansion in"),
        ("w1.0|k3e6|k3e6,k3e6|k3e6,k3e6|k3e6,k3e6|k3e6,k3e6|k3e6", "needs 2-4 blocks, got 1"),
        ("w1.0|k3e6,k3e6|k3e6,k3e6|k3e6,k3e6|k3e6,k3e6|k3e6,k3e6|k3e6,k3e6", "needs 1-1 blocks, got 2"),
        ("w1.0|k3e6,x|k3e6,k3e6|k3e6,k3e6|k3e6,k3e6|k3e6,k3e6|k3e6", "must read k<kernel>e<expansion>"),
    ],
)
def test_invalid_keys_give_one_line_errors(space: MobileNetV2Space, key: str, message: str) -> None:
    with pytest.raises(InvalidArchError, match=message) as info:
        space.validate(key)
    assert "\n" not in str(info.value)


def test_width_rounding_follows_torchvision() -> None:
    assert [make_divisible(c * 0.75) for c in (32, 16, 24, 96, 160, 320)] == [24, 16, 24, 72, 120, 240]
    assert make_divisible(1280 * 1.25) == 1600


def test_sampling_is_seeded_and_valid(space: MobileNetV2Space) -> None:
    a = [space.sample(np.random.default_rng(3)) for _ in range(2)]
    assert a[0] == a[1]
    keys = space.sample_many(30, np.random.default_rng(0))
    assert len(set(keys)) == 30
    assert all(space.validate(k) == k for k in keys)
    depths = {len(space.parse(k)[1][0]) for k in keys}
    assert depths == {2, 3, 4}


def test_mutate_changes_exactly_one_choice(space: MobileNetV2Space) -> None:
    rng = np.random.default_rng(1)
    for _ in range(40):
        key = space.sample(rng)
        child = space.mutate(key, rng)
        assert child != key and space.validate(child) == child
        (wa, sa), (wb, sb) = space.parse(key), space.parse(child)
        changed_stages = [i for i in range(len(sa)) if sa[i] != sb[i]]
        assert (wa != wb) + len(changed_stages) == 1
        if changed_stages:
            old, new = sa[changed_stages[0]], sb[changed_stages[0]]
            if len(old) == len(new):
                assert (
                    sum(x[0] != y[0] for x, y in zip(old, new, strict=True))
                    + sum(x[1] != y[1] for x, y in zip(old, new, strict=True))
                    == 1
                )
            else:
                common = min(len(old), len(new))
                assert old[:common] == new[:common]


def test_neighbours_and_crossover(space: MobileNetV2Space) -> None:
    rng = np.random.default_rng(2)
    key = space.sample(rng)
    near = space.neighbours(key)
    assert len(near) == len(set(near)) and key not in near
    assert all(space.validate(k) == k for k in near)
    width, stages = space.parse(key)
    expected = len(space.widths) - 1
    for (*_, lo, hi), blocks in zip(STAGES, stages, strict=True):
        expected += 4 * len(blocks) + (len(blocks) > lo) + 9 * (len(blocks) < hi)
    assert len(near) == expected
    other = space.sample(rng)
    for _ in range(10):
        child = space.crossover(key, other, rng)
        (wc, sc), (_, so) = space.parse(child), space.parse(other)
        assert wc in (width, space.parse(other)[0])
        assert all(c in (a, b) for c, a, b in zip(sc, stages, so, strict=True))


def test_encode_is_fixed_length(space: MobileNetV2Space) -> None:
    rng = np.random.default_rng(4)
    vectors = [space.encode(space.sample(rng)) for _ in range(5)]
    assert {v.shape for v in vectors} == {(1 + len(STAGES) + 2 * sum(s[3] for s in STAGES),)}
    v = space.encode(space.default_key())
    assert v[0] == 1.0 and list(v[1:7]) == [4, 4, 4, 4, 4, 1]
    assert list(v[7:9]) == [3, 6]


def test_analytic_counts_match_the_built_module(space: MobileNetV2Space) -> None:
    rng = np.random.default_rng(5)
    keys = [space.default_key(), *(space.sample(rng) for _ in range(4))]
    for key in keys:
        model = space.build(key, num_classes=100)
        shape = (1, 3, 64, 64)
        assert space.count(key, num_classes=100) == {
            "params": count_params(model),
            "flops": count_flops(model, shape),
            "macs": count_macs(model, shape),
        }, key
    assert space.analytic_cost(keys[0], "flops", num_classes=100) == count_flops(space.build(keys[0], 100), shape) / 1e6


def test_analytic_counts_at_224_and_logits_shape() -> None:
    space = create_space("mbv2")
    key = space.sample(np.random.default_rng(6))
    model = space.build(key)
    assert space.count(key)["flops"] == count_flops(model, (1, 3, 224, 224))
    assert space.count(key)["params"] == count_params(model)
    # the MobileNetV2-like reference is in the 300M-MAC class at 224
    assert 250e6 < space.count(space.default_key())["macs"] < 450e6
    with torch.no_grad():
        assert model.eval()(torch.randn(2, 3, 224, 224)).shape == (2, 1000)


def test_residuals_only_where_shapes_match(space: MobileNetV2Space) -> None:
    plan, stem, head = space.plan(space.default_key())
    assert (stem, head) == (32, 1280)
    model = space.build(space.default_key())
    blocks = [m for m in model.modules() if type(m).__name__ == "InvertedResidual"]
    assert len(blocks) == len(plan)
    for block, (c_in, c_out, stride, *_) in zip(blocks, plan, strict=True):
        assert block.residual == (stride == 1 and c_in == c_out)
    assert sum(b.residual for b in blocks) == sum(s[3] - 1 for s in STAGES)


def test_relu_activation_option() -> None:
    space = create_space("mbv2", resolution=32, activation="relu")
    model = space.build(space.default_key(), num_classes=10)
    assert any(isinstance(m, torch.nn.ReLU) for m in model.modules())
    with pytest.raises(InvalidArchError, match="activation"):
        create_space("mbv2", activation="gelu")
