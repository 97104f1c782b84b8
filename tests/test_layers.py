"""Layers shared by the spaces' networks: the channels-last max-pool equals nn.MaxPool2d exactly."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from zeronas.spaces.layers import MaxPool2d


def maps_with_ties_and_nan() -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(-2, 3, (3, 5, 9, 9), generator=gen).float()  # few values: many tied maxima
    x[0, 1, 4, 4] = float("nan")
    x[2, 3, 0, 0] = float("-inf")
    return x


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kernel_size": 3, "stride": 1, "padding": 1},
        {"kernel_size": 2, "stride": 2},
        {"kernel_size": 3, "ceil_mode": True},
    ],
)
def test_no_grad_pool_equals_torch_bit_for_bit_in_the_callers_layout(kwargs):
    x = maps_with_ties_and_nan()
    with torch.no_grad():
        ours, ref = MaxPool2d(**kwargs)(x), nn.MaxPool2d(**kwargs)(x)
    assert torch.equal(ours.isnan(), ref.isnan())
    assert torch.equal(ours.nan_to_num(), ref.nan_to_num())
    assert ours.is_contiguous()


def test_pool_inside_a_graph_keeps_torchs_kernel_and_gradient():
    x = maps_with_ties_and_nan().nan_to_num().requires_grad_()
    y = x.detach().clone().requires_grad_()
    MaxPool2d(3, stride=1, padding=1)(x).square().sum().backward()
    nn.MaxPool2d(3, stride=1, padding=1)(y).square().sum().backward()
    assert torch.equal(x.grad, y.grad)


def test_indices_and_unbatched_input_fall_back_to_torch():
    x = maps_with_ties_and_nan().nan_to_num()
    with torch.no_grad():
        values, indices = MaxPool2d(2, stride=2, return_indices=True)(x)
        ref_values, ref_indices = nn.MaxPool2d(2, stride=2, return_indices=True)(x)
        assert torch.equal(values, ref_values) and torch.equal(indices, ref_indices)
        assert torch.equal(MaxPool2d(2)(x[0]), nn.MaxPool2d(2)(x[0]))
