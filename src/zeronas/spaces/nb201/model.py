"""The exact AutoDL / NAS-Bench-201 network (`TinyNetwork` with `InferCell`s), returning logits.

Macro skeleton: stem conv3x3+BN, 3 stages of N cells (C, 2C, 4C) separated by ResNet reduction
blocks, then BN-ReLU-GAP-Linear. Modules are created in AutoDL's order so that default
initialisation consumes the random stream the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

OP_NAMES = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")


class ReLUConvBN(nn.Sequential):
    """ReLU -> Conv (no bias) -> BN, the 'nor_conv' op and the reduction block's branch layers."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out, affine=True, track_running_stats=True),
        )


class Zero(nn.Module):
    """The 'none' op: the input times zero, kept in the graph (it passes zero gradients)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


class AvgPool3x3(nn.AvgPool2d):
    """AvgPool2d(3, stride 1, padding 1, count_include_pad=False), computed as a separable box sum.

    The same average over each pixel's valid 3x3 neighbourhood (equal up to float rounding, ~1e-7),
    about 5x faster than PyTorch's CPU kernel, which dominated the cost of pooling-heavy cells.
    """

    def __init__(self) -> None:
        super().__init__(3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        padded = F.pad(x, (1, 1, 1, 1))
        rows = padded[..., 0:height, :] + padded[..., 1 : height + 1, :] + padded[..., 2 : height + 2, :]
        total = rows[..., 0:width] + rows[..., 1 : width + 1] + rows[..., 2 : width + 2]
        return total / _neighbour_count(height, width, x.dtype, x.device)


@functools.lru_cache(maxsize=32)
def _neighbour_count(height: int, width: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """How many in-image pixels each 3x3 window covers (the count_include_pad=False divisor).

    Built outside inference mode: a cached inference tensor, first made under `torch.inference_mode`
    (latency measurement), could not be saved for backward by later gradient proxies.
    """

    def counts(n: int) -> torch.Tensor:
        c = torch.full((n,), 3.0, dtype=dtype, device=device)
        c[0] -= 1
        c[-1] -= 1  # a single row or column loses both neighbours
        return c

    with torch.inference_mode(False):
        return counts(height)[:, None] * counts(width)[None, :]


def make_op(name: str, channels: int) -> nn.Module:
    """Build one NB201 cell operation on `channels` channels (stride 1)."""
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1, 1)
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1, 0)
    if name == "avg_pool_3x3":
        return AvgPool3x3()
    raise ValueError(f"unknown NB201 op {name!r}")


class ResNetBasicBlock(nn.Module):
    """Reduction block: ReLUConvBN(stride 2) -> ReLUConvBN, plus AvgPool2d(2)+Conv1x1 shortcut."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class GenotypeCell(nn.Module):
    """A DAG cell: `genotype[j-1]` lists (op, source) for the incoming edges of node j; node j sums its edges.

    `edge(op, source)` makes each edge's module, in genotype order (which fixes the layer names and the
    order in which seeded weights are drawn); the cell returns its last node.
    """

    def __init__(
        self, genotype: tuple[tuple[tuple[str, int], ...], ...], edge: Callable[[str, int], nn.Module]
    ) -> None:
        super().__init__()
        self.layers = nn.ModuleList()
        self.node_inputs: list[list[int]] = []
        self.node_ops: list[list[int]] = []
        for incoming in genotype:
            ops, sources = [], []
            for op_name, source in incoming:
                ops.append(len(self.layers))
                sources.append(source)
                self.layers.append(edge(op_name, source))
            self.node_ops.append(ops)
            self.node_inputs.append(sources)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for ops, sources in zip(self.node_ops, self.node_inputs, strict=True):
            total = self.layers[ops[0]](nodes[sources[0]])
            for op, src in zip(ops[1:], sources[1:], strict=True):
                total = total + self.layers[op](nodes[src])
            nodes.append(total)
        return nodes[-1]


class InferCell(GenotypeCell):
    """The NB201 cell: every edge keeps `channels`."""

    def __init__(self, genotype: tuple[tuple[tuple[str, int], ...], ...], channels: int) -> None:
        super().__init__(genotype, lambda op_name, source: make_op(op_name, channels))


class CellStack(nn.Module):
    """AutoDL's macro network: stem conv+BN, cells (a ResNet basic block where a stage begins), BN+ReLU, pool, linear.

    `make_cell(c_in, c_out)` builds each non-reduction cell; modules are made in the order of the
    original code (stem, cells, last activation, classifier), so seeded weights are the same.
    """

    def __init__(
        self,
        stem_channels: int,
        widths: list[int],
        reductions: list[bool],
        num_classes: int,
        make_cell: Callable[[int, int], nn.Module],
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, stem_channels, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(stem_channels)
        )
        self.cells = nn.ModuleList()
        c_prev = stem_channels
        for width, reduction in zip(widths, reductions, strict=True):
            self.cells.append(ResNetBasicBlock(c_prev, width) if reduction else make_cell(c_prev, width))
            c_prev = width
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Feature map before global average pooling."""
        x = self.stem(x)
        for cell in self.cells:
            x = cell(x)
        return self.lastact(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.global_pooling(self.forward_features(x)).flatten(1)
        return self.classifier(pooled)


class TinyNetwork(CellStack):
    """The NAS-Bench-201 macro network; `forward` returns logits only."""

    def __init__(
        self,
        genotype: tuple[tuple[tuple[str, int], ...], ...],
        num_classes: int,
        channels: int = 16,
        cells_per_stage: int = 5,
    ) -> None:
        widths = (
            [channels] * cells_per_stage
            + [channels * 2]
            + [channels * 2] * cells_per_stage
            + [channels * 4]
            + [channels * 4] * cells_per_stage
        )
        reductions = [False] * cells_per_stage + [True] + [False] * cells_per_stage + [True]
        reductions += [False] * cells_per_stage
        super().__init__(channels, widths, reductions, num_classes, lambda c_in, c_out: InferCell(genotype, c_out))
