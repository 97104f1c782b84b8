"""The NAS-Bench-101 network, as the benchmark's model builder defines it, returning logits.

Macro skeleton: stem conv3x3-BN-ReLU (128 channels), 3 stacks of 3 cells, a 2x2 max-pool (stride 2)
before stacks 2 and 3 doubling the channels (128, 256, 512), global average pooling, a linear
classifier. Inside a cell the output channels are split among the vertices feeding the output
(the first ones in vertex order get the remainder), every other vertex takes the largest channel
count of its successors; a vertex sums its predecessors (truncated to its channels) and a 1x1
conv-BN-ReLU projection of the cell input when it reads the input; the output concatenates its
predecessors and adds a projection of the input when the input feeds it directly.

BatchNorm: NAS-Bench-101 uses TensorFlow momentum 0.997 and epsilon 1e-5, i.e. PyTorch momentum
0.003 (running = 0.997 running + 0.003 batch). Convolutions have no bias; BN is affine, so the
trainable parameters are exactly the benchmark's. Weights keep PyTorch's default initialisation
(NAS-Bench-101 trained from TensorFlow's variance-scaling init; proxies here are computed at
PyTorch's, as NAS-Bench-Suite-Zero's were).
"""

from __future__ import annotations

import torch
from torch import nn

from zeronas.spaces.layers import MaxPool2d
from zeronas.spaces.nb101.hashing import CONV1X1, CONV3X3, MAXPOOL3X3, Spec

BN_MOMENTUM = 1.0 - 0.997
BN_EPS = 1e-5
STEM_CHANNELS = 128
NUM_STACKS = 3
CELLS_PER_STACK = 3


class ConvBnReLU(nn.Sequential):
    """Conv (stride 1, 'same' padding, no bias) -> BN -> ReLU: the conv ops and the input projections."""

    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, kernel, stride=1, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, eps=BN_EPS, momentum=BN_MOMENTUM),
            nn.ReLU(inplace=False),
        )


def vertex_channels(c_in: int, c_out: int, matrix: tuple[tuple[int, ...], ...]) -> list[int]:
    """Output channels of every vertex of a pruned cell (NAS-Bench-101's channel assignment)."""
    n = len(matrix)
    channels = [0] * n
    channels[0], channels[-1] = c_in, c_out
    if n == 2:
        return channels
    fan_in = sum(matrix[v][n - 1] for v in range(1, n - 1))
    base, extra = divmod(c_out, fan_in)
    for v in range(1, n - 1):
        if matrix[v][n - 1]:
            channels[v] = base + (1 if extra > 0 else 0)
            extra -= 1
    for v in range(n - 3, 0, -1):
        if not matrix[v][n - 1]:
            channels[v] = max(channels[t] for t in range(v + 1, n - 1) if matrix[v][t])
    return channels


def count_params(spec: Spec, num_classes: int = 10) -> int:
    """Trainable parameters of the network of `spec`, counted from the definition without building it."""
    kernel = {CONV3X3: 9, CONV1X1: 1, MAXPOOL3X3: 0}
    widths = [STEM_CHANNELS * 2**stack for stack in range(NUM_STACKS)]
    total = 27 * STEM_CHANNELS + 2 * STEM_CHANNELS + widths[-1] * num_classes + num_classes
    n = spec.num_vertices
    for stack, c_out in enumerate(widths):
        for cell in range(CELLS_PER_STACK):
            c_in = widths[stack - 1] if stack > 0 and cell == 0 else c_out
            channels = vertex_channels(c_in, c_out, spec.matrix)
            for v in range(1, n):
                if v < n - 1 and kernel[spec.ops[v]]:
                    total += kernel[spec.ops[v]] * channels[v] ** 2 + 2 * channels[v]
                if spec.matrix[0][v]:
                    total += c_in * channels[v] + 2 * channels[v]
    return total


def _op(name: str, channels: int) -> nn.Module:
    if name == CONV3X3:
        return ConvBnReLU(channels, channels, 3)
    if name == CONV1X1:
        return ConvBnReLU(channels, channels, 1)
    if name == MAXPOOL3X3:
        return MaxPool2d(3, stride=1, padding=1)
    raise ValueError(f"not an NB101 vertex op: {name!r}")


class Cell(nn.Module):
    """One NAS-Bench-101 module (cell) from `c_in` to `c_out` channels."""

    def __init__(self, spec: Spec, c_in: int, c_out: int) -> None:
        super().__init__()
        self.matrix = spec.matrix
        n = spec.num_vertices
        self.channels = vertex_channels(c_in, c_out, spec.matrix)
        self.ops = nn.ModuleList(
            nn.Identity() if v in (0, n - 1) else _op(spec.ops[v], self.channels[v]) for v in range(n)
        )
        # projection of the cell input for each vertex (the output included) that reads it directly
        self.projections = nn.ModuleDict(
            {str(v): ConvBnReLU(c_in, self.channels[v], 1) for v in range(1, n) if spec.matrix[0][v]}
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = len(self.matrix)
        values: list[torch.Tensor] = [x]
        for v in range(1, n - 1):
            c = self.channels[v]
            inputs = [values[s][:, :c] for s in range(1, v) if self.matrix[s][v]]
            if self.matrix[0][v]:
                inputs.append(self.projections[str(v)](x))
            total = inputs[0]
            for extra in inputs[1:]:
                total = total + extra
            values.append(self.ops[v](total))
        outputs = [values[v] for v in range(1, n - 1) if self.matrix[v][n - 1]]
        if not outputs:
            return self.projections[str(n - 1)](x)
        out = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=1)
        if self.matrix[0][n - 1]:
            out = out + self.projections[str(n - 1)](x)
        return out


class NasBench101Network(nn.Module):
    """The NAS-Bench-101 CIFAR network of one cell spec."""

    def __init__(
        self,
        spec: Spec,
        num_classes: int = 10,
        stem_channels: int = STEM_CHANNELS,
        num_stacks: int = NUM_STACKS,
        cells_per_stack: int = CELLS_PER_STACK,
    ) -> None:
        super().__init__()
        self.stem = ConvBnReLU(3, stem_channels, 3)
        layers: list[nn.Module] = []
        c_in = stem_channels
        for stack in range(num_stacks):
            c_out = c_in
            if stack > 0:
                layers.append(MaxPool2d(2, stride=2))
                c_out = c_in * 2
            for _ in range(cells_per_stack):
                layers.append(Cell(spec, c_in, c_out))
                c_in = c_out
        self.cells = nn.Sequential(*layers)
        self.classifier = nn.Linear(c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.cells(self.stem(x))
        return self.classifier(out.mean(dim=(2, 3)))
