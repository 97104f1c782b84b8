"""DARTS's `NetworkCIFAR` as NAS-Bench-301 trained it, returning the main head's logits.

Stem conv3x3 (3C channels) + BN, `layers` cells with reductions (doubling the channels) at
layers//3 and 2*layers//3, each cell preprocessing its inputs c_{k-2} (FactorizedReduce after a
reduction, else ReLU-conv1x1-BN) and c_{k-1} (ReLU-conv1x1-BN), summing two op outputs per
intermediate node and concatenating the 4 intermediate nodes; then global average pooling and a
linear classifier. NAS-Bench-301 trained with an auxiliary tower and drop path: both shape only
the training loss, so the network built here has neither (its forward is the evaluation forward).
Modules are created in DARTS's order so that default initialisation draws the same random stream.
"""

from __future__ import annotations

import torch
from torch import nn

from zeronas.spaces.nb301.ops import OP_NAMES, OPS, FactorizedReduce, ReLUConvBN

#: one cell: 8 (input node, op index) pairs, two per intermediate node
Cell = tuple[tuple[int, int], ...]
STEPS = 4
STEM_MULTIPLIER = 3


class DartsCell(nn.Module):
    """A normal or reduction cell; in a reduction cell the ops reading c_{k-2} or c_{k-1} stride 2."""

    def __init__(
        self, cell: Cell, c_prev_prev: int, c_prev: int, c: int, reduction: bool, reduction_prev: bool
    ) -> None:
        super().__init__()
        if reduction_prev:
            self.preprocess0: nn.Module = FactorizedReduce(c_prev_prev, c)
        else:
            self.preprocess0 = ReLUConvBN(c_prev_prev, c, 1, 1, 0)
        self.preprocess1 = ReLUConvBN(c_prev, c, 1, 1, 0)
        self.inputs = tuple(node for node, _ in cell)
        self.ops = nn.ModuleList(OPS[OP_NAMES[op]](c, 2 if reduction and node < 2 else 1) for node, op in cell)
        self.multiplier = STEPS

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for step in range(STEPS):
            a, b = 2 * step, 2 * step + 1
            states.append(self.ops[a](states[self.inputs[a]]) + self.ops[b](states[self.inputs[b]]))
        return torch.cat(states[2:], dim=1)


class DartsNetwork(nn.Module):
    """The NAS-Bench-301 CIFAR network of a (normal, reduction) cell pair."""

    def __init__(
        self, normal: Cell, reduce: Cell, num_classes: int = 10, init_channels: int = 32, layers: int = 8
    ) -> None:
        super().__init__()
        c_curr = STEM_MULTIPLIER * init_channels
        self.stem = nn.Sequential(nn.Conv2d(3, c_curr, 3, padding=1, bias=False), nn.BatchNorm2d(c_curr))
        c_prev_prev, c_prev, c_curr = c_curr, c_curr, init_channels
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3)
            if reduction:
                c_curr *= 2
            cell = DartsCell(reduce if reduction else normal, c_prev_prev, c_prev, c_curr, reduction, reduction_prev)
            self.cells.append(cell)
            reduction_prev = reduction
            c_prev_prev, c_prev = c_prev, cell.multiplier * c_curr
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(self.global_pooling(s1).flatten(1))
