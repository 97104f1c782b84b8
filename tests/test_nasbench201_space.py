"""NAS-Bench-201 keys, enumeration, variation operators and the exact network."""

from __future__ import annotations

import json

import numpy as np
import pytest

from zeronas.errors import InvalidArchError
from zeronas.modelstats import count_flops, count_params
from zeronas.spaces import create_space
from zeronas.spaces.nb201.space import ops_to_string, string_to_ops

SPACE = create_space("nb201")
INDEX0 = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"


def test_key_forms_agree():
    assert SPACE.validate("433000") == INDEX0
    assert SPACE.validate("(4, 3, 3, 0, 0, 0)") == INDEX0
    assert SPACE.validate(INDEX0) == INDEX0
    assert SPACE.op_string(INDEX0) == "433000"
    # PROXIES.md §24 worked example
    assert SPACE.validate("(4, 3, 3, 3, 2, 3)") == (
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_3x3~1|nor_conv_1x1~2|"
    )


def test_official_index_through_table(shared_dir):
    assert SPACE.validate("index:0") == INDEX0
    assert SPACE.index_of(INDEX0) == 0
    with pytest.raises(InvalidArchError, match="out of range"):
        SPACE.validate("index:15625")


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("|nor_conv_3x3~0|+|none~0|", "3 '\\+'-separated"),
        ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown NB201 op 'conv'"),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "must read 'op~0'"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", "node 2 needs 2"),
        ("4330005", "malformed NB201 key"),
        ("533000", "malformed NB201 key"),
    ],
)
def test_malformed_keys_name_the_problem(key, message):
    with pytest.raises(InvalidArchError, match=message) as info:
        SPACE.validate(key)
    assert "\n" not in str(info.value)


def test_enumeration_and_round_trip():
    keys = list(SPACE.enumerate())
    assert len(keys) == SPACE.size == 15625
    assert len(set(keys)) == 15625
    for key in keys[::97]:
        assert ops_to_string(string_to_ops(key)) == key


def test_variation_operators():
    rng = np.random.default_rng(0)
    for _ in range(50):
        key = SPACE.sample(rng)
        child = SPACE.mutate(key, rng)
        diff = sum(a != b for a, b in zip(SPACE.ops(key), SPACE.ops(child), strict=True))
        assert diff == 1
        other = SPACE.sample(rng)
        cross = SPACE.crossover(key, other, rng)
        assert all(c in (a, b) for a, b, c in zip(SPACE.ops(key), SPACE.ops(other), SPACE.ops(cross), strict=True))
    neighbours = SPACE.neighbours(INDEX0)
    assert len(neighbours) == len(set(neighbours)) == 24
    vec = SPACE.encode(INDEX0)
    assert vec.shape == (30,) and vec.sum() == 6 and vec.reshape(6, 5)[0, 4] == 1
    assert len(set(SPACE.sample_many(100, np.random.default_rng(1)))) == 100


def test_connectivity():
    assert SPACE.is_connected(INDEX0)
    assert not SPACE.is_connected("111111")
    assert not SPACE.is_connected("111000")  # nothing leaves the input node
    assert SPACE.is_connected("011111") is False  # only 0->1 is live, node 1 never reaches 3
    assert SPACE.is_connected("111110") is False  # 2->3 is live but nothing reaches node 2
    assert SPACE.is_connected("112111") is True  # 0->3 conv
    assert SPACE.is_connected("011101") is True  # 0->1 skip, 1->3 skip


DATASETS = [("cifar10", 10, 32), ("cifar100", 100, 32), ("ImageNet16-120", 120, 16)]


def check_params_and_flops(shared_dir, dataset: str, classes: int, resolution: int, every: int) -> None:
    """#params and #FLOPs of reference cells equal NAS-Bench-Suite-Zero's (in M, to 1e-4)."""
    reference = json.loads((shared_dir / "benchmarks" / "reference_zc" / f"nasbench201__{dataset}.json").read_text())
    assert len(reference) > 700
    for tuple_key, entry in list(reference.items())[::every]:
        model = SPACE.build(SPACE.validate(tuple_key), num_classes=classes)
        assert count_params(model) / 1e6 == pytest.approx(entry["params"]["score"], abs=1e-4), tuple_key
        flops = count_flops(model, (1, 3, resolution, resolution)) / 1e6
        assert flops == pytest.approx(entry["flops"]["score"], abs=1e-4), tuple_key


@pytest.mark.parametrize(("dataset", "classes", "resolution"), DATASETS)
def test_params_and_flops_equal_reference_sample(shared_dir, dataset, classes, resolution):
    check_params_and_flops(shared_dir, dataset, classes, resolution, every=12)


@pytest.mark.slow
@pytest.mark.parametrize(("dataset", "classes", "resolution"), DATASETS)
def test_params_and_flops_equal_reference_all_cells(shared_dir, dataset, classes, resolution):
    check_params_and_flops(shared_dir, dataset, classes, resolution, every=1)
