"""The TransNAS-Bench-101 encoder: a stem, then one stage of two cells or blocks per macro digit.

Macro digits: 1 keep the channels and the resolution, 2 double the channels, 3 halve the resolution,
4 both. The first cell (or block) of a stage makes the change; the second keeps the shape. The micro
space fixes the skeleton to `41414` (64 -> 512 channels, 1/32 of the input side) and varies the cell;
the macro space uses ResNet basic blocks and varies the skeleton.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from zeronas.spaces.tnb.ops import BasicBlock, ReLUConvBN, cell_op

#: the input side TransNAS-Bench-101 assumes when it sizes the dense decoders, and their output side
SIZING_INPUT = 224
TARGET_SIDE = 256
#: blocks per stage
BLOCKS_PER_STAGE = 2
#: the source nodes summed into micro-cell nodes 1, 2 and 3; the six op digits of a key follow this order
MICRO_SOURCES = ((0,), (0, 1), (0, 1, 2))
#: the (source, target) node pair of each op digit of a micro key (string order a_bc_def)
MICRO_EDGE_NODES = tuple((source, target) for target, sources in enumerate(MICRO_SOURCES, 1) for source in sources)


class MicroCell(nn.Module):
    """Four nodes, six edges: node j sums op(node i) over i < j; the edges out of node 0 carry the shape change.

    `ops` are the six digits (a, b, c, d, e, f) of `a_bc_def`: edges 0->1; 0->2, 1->2; 0->3, 1->3, 2->3.
    """

    def __init__(self, ops: Sequence[int], c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.sources = MICRO_SOURCES
        edges = []
        position = 0
        for sources in self.sources:
            for source in sources:
                first = source == 0
                edges.append(cell_op(ops[position], c_in if first else c_out, c_out, stride if first else 1))
                position += 1
        self.edges = nn.ModuleList(edges)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        position = 0
        for sources in self.sources:
            total = None
            for source in sources:
                out = self.edges[position](nodes[source])
                total = out if total is None else total + out
                position += 1
            nodes.append(total)
        return nodes[-1]


def stage_plan(macro: str, base_channels: int) -> list[tuple[int, int, int]]:
    """(c_in, c_out, stride) of the first block of each stage of skeleton `macro`."""
    plan, channels = [], base_channels
    for digit in macro:
        d = int(digit)
        target = channels * 2 if d in (2, 4) else channels
        plan.append((channels, target, 2 if d in (3, 4) else 1))
        channels = target
    return plan


def decoder_upsamples(macro: str) -> int:
    """How many x2 upsamplings TransNAS-Bench-101 gives a dense decoder after skeleton `macro`.

    It sizes the decoder from the feature side of a 224-pixel input (224 / 4, floored at every halving)
    against the 256-pixel target: floor(log2(256 / side)), i.e. 2 + the number of halving stages.
    """
    side = SIZING_INPUT // 4
    for _, _, stride in stage_plan(macro, 1):
        side //= stride
    return int(math.log2(TARGET_SIDE / side))


class TransNASEncoder(nn.Module):
    """Stem (Conv3x3 s2 -> BN -> ReLU-Conv3x3 s2-BN) then the stages; output: the last feature map.

    `cell` None builds basic blocks (the macro space), else micro cells of those six op digits.
    """

    def __init__(self, macro: str, cell: Sequence[int] | None = None, base_channels: int = 64) -> None:
        super().__init__()
        half = base_channels // 2
        self.stem = nn.Sequential(
            nn.Conv2d(3, half, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(half, affine=True, track_running_stats=True),
            ReLUConvBN(half, base_channels, 3, 2),
        )
        stages = []
        for c_in, c_out, stride in stage_plan(macro, base_channels):
            blocks = []
            for b in range(BLOCKS_PER_STAGE):
                args = (c_in, c_out, stride) if b == 0 else (c_out, c_out, 1)
                blocks.append(BasicBlock(*args) if cell is None else MicroCell(cell, *args))
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.out_channels = stage_plan(macro, base_channels)[-1][1]
        self.reduction = 4 * math.prod(stride for _, _, stride in stage_plan(macro, 1))
        self._init_weights()

    def _init_weights(self) -> None:
        """TransNAS-Bench-101's init: Kaiming normal (fan-out, ReLU) convs, BN weight 1 and bias 0."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d | nn.GroupNorm):
                nn.init.constant_(m.weight, 1.0)
                nn.init.constant_(m.bias, 0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(self.stem(x))
