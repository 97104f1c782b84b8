"""The layers of TransNAS-Bench-101 networks: the four cell ops, the ResNet basic block, the decoder layers.

Cell op digits (the micro arch string `64-41414-a_bc_def`): 0 none, 1 skip_connect (identity, or a
factorized reduce when the stride or the channels change), 2 ReLU-Conv1x1-BN, 3 ReLU-Conv3x3-BN.
Every convolution of the encoder has no bias and every BN is affine with running statistics; the
ReLUs are not in-place, so forward hooks see each activation unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

#: cell op digit -> name
OP_NAMES = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3")


class ReLUConvBN(nn.Sequential):
    """ReLU -> Conv (no bias) -> BN: the conv op of the cells, the stem's second conv and the basic block's convs."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, affine=True, track_running_stats=True),
        )


class Zero(nn.Module):
    """The 'none' op: zeros of the output shape (the input times 0 when the channels are kept)."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.c_in, self.c_out, self.stride = c_in, c_out, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.c_in == self.c_out:
            return x[:, :, :: self.stride, :: self.stride].mul(0.0) if self.stride > 1 else x.mul(0.0)
        batch, _, height, width = x.shape
        s = self.stride
        return x.new_zeros(batch, self.c_out, (height + s - 1) // s, (width + s - 1) // s)


class FactorizedReduce(nn.Module):
    """The skip op across a shape change: ReLU, two 1x1 convs (the second one pixel shifted), concatenated, BN."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        if c_out % 2:
            raise ValueError(f"factorized reduce needs an even channel count, got {c_out}")
        self.relu = nn.ReLU(inplace=False)
        half = c_out // 2
        self.convs = nn.ModuleList(
            [
                nn.Conv2d(c_in, half, 1, stride=stride, bias=False),
                nn.Conv2d(c_in, c_out - half, 1, stride=stride, bias=False),
            ]
        )
        self.pad = nn.ConstantPad2d((0, 1, 0, 1), 0.0)
        self.bn = nn.BatchNorm2d(c_out, affine=True, track_running_stats=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        shifted = self.pad(x)[:, :, 1:, 1:]
        return self.bn(torch.cat([self.convs[0](x), self.convs[1](shifted)], dim=1))


def cell_op(digit: int, c_in: int, c_out: int, stride: int) -> nn.Module:
    """The module of op `digit` (0..3) on one cell edge."""
    if digit == 0:
        return Zero(c_in, c_out, stride)
    if digit == 1:
        return nn.Identity() if stride == 1 and c_in == c_out else FactorizedReduce(c_in, c_out, stride)
    if digit in (2, 3):
        return ReLUConvBN(c_in, c_out, 1 if digit == 2 else 3, stride)
    raise ValueError(f"cell op digit must be 0..3, got {digit}")


class BasicBlock(nn.Module):
    """The macro space's block: two ReLU-Conv3x3-BN plus the input (through 1x1 conv + BN when the shape changes)."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                nn.BatchNorm2d(c_out, affine=True, track_running_stats=True),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        return residual + self.conv_b(self.conv_a(x))


class DecoderConv(nn.Sequential):
    """A decoder layer: Conv3x3 (with bias) or, upsampling, ConvTranspose3x3 stride 2; then BN and activation."""

    def __init__(self, c_in: int, c_out: int, upsample: bool = False, norm: bool = True, act: str = "leaky") -> None:
        if upsample:
            conv: nn.Module = nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1)
        else:
            conv = nn.Conv2d(c_in, c_out, 3, stride=1, padding=1)
        layers = [conv]
        if norm:
            layers.append(nn.BatchNorm2d(c_out))
        if act == "leaky":
            layers.append(nn.LeakyReLU(0.2, inplace=False))
        elif act == "tanh":
            layers.append(nn.Tanh())
        elif act != "none":
            raise ValueError(f"unknown decoder activation {act!r}")
        super().__init__(*layers)
