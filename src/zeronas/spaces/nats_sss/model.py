"""The NATS-Bench size-space network (AutoDL's `DynamicShapeTinyNet`), returning logits.

One fixed cell, the best NB201 cell on CIFAR-100, at five widths: stem conv3x3+BN to c0, a cell
c0 -> c0, a ResNet reduction block c0 -> c1, a cell c1 -> c2, a reduction block c2 -> c3, a cell
c3 -> c4, then BN-ReLU-GAP-Linear. A cell whose input and output widths differ widens on the
edges leaving its input node: a conv edge maps c_in to c_out itself, a skip edge becomes a 1x1
conv + BN projection. Modules are created in AutoDL's order, so default initialisation consumes
the random stream the same way.
"""

from __future__ import annotations

import torch
from torch import nn

from zeronas.spaces.nb201.model import AvgPool3x3, CellStack, GenotypeCell, ReLUConvBN, make_op

#: the cell every size-space network uses, as an NB201 arch string
CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
#: the same cell as an AutoDL genotype: per target node, its (op name, source) edges
GENOTYPE: tuple[tuple[tuple[str, int], ...], ...] = (
    (("nor_conv_3x3", 0),),
    (("nor_conv_3x3", 0), ("nor_conv_3x3", 1)),
    (("skip_connect", 0), ("nor_conv_3x3", 1), ("nor_conv_3x3", 2)),
)


class ChannelProjection(nn.Module):
    """The skip edge between different widths: Conv1x1 (no bias) -> BN, no activation (stride 1)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 1, stride=1, padding=0, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


class ZeroResize(nn.Module):
    """The 'none' edge between different widths: zeros with `c_out` channels."""

    def __init__(self, c_out: int) -> None:
        super().__init__()
        self.c_out = c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.new_zeros((x.shape[0], self.c_out, *x.shape[2:]))


def make_edge(name: str, c_in: int, c_out: int) -> nn.Module:
    """One NB201 op mapping `c_in` to `c_out` channels at stride 1 (NB201's own op when they agree)."""
    if c_in == c_out:
        return make_op(name, c_out)
    if name == "nor_conv_3x3":
        return ReLUConvBN(c_in, c_out, 3, 1, 1)
    if name == "nor_conv_1x1":
        return ReLUConvBN(c_in, c_out, 1, 1, 0)
    if name == "skip_connect":
        return ChannelProjection(c_in, c_out)
    if name == "avg_pool_3x3":
        return nn.Sequential(ReLUConvBN(c_in, c_out, 1, 1, 0), AvgPool3x3())
    if name == "none":
        return ZeroResize(c_out)
    raise ValueError(f"unknown NB201 op {name!r}")


class ShapeCell(GenotypeCell):
    """A 4-node NB201 cell from `c_in` to `c_out` channels: edges from node 0 widen, the others keep c_out."""

    def __init__(self, genotype: tuple[tuple[tuple[str, int], ...], ...], c_in: int, c_out: int) -> None:
        super().__init__(genotype, lambda op_name, source: make_edge(op_name, c_in if source == 0 else c_out, c_out))


class SizeNetwork(CellStack):
    """The NATS-Bench size-space macro network for channels (c0, ..., c4); `forward` returns logits."""

    def __init__(
        self,
        channels: tuple[int, ...],
        num_classes: int,
        genotype: tuple[tuple[tuple[str, int], ...], ...] = GENOTYPE,
    ) -> None:
        if len(channels) % 3 != 2:
            raise ValueError(f"a size-space network needs 3N + 2 widths, got {len(channels)}")
        per_stage = len(channels) // 3
        reductions = ([False] * per_stage + [True]) * 2 + [False] * per_stage
        super().__init__(
            channels[0],
            list(channels),
            reductions,
            num_classes,
            lambda c_in, c_out: ShapeCell(genotype, c_in, c_out),
        )
        self.channels = tuple(channels)
