"""The seven TransNAS-Bench-101 tasks: what each one takes and gives, and its decoder on the shared encoder.

Classification and regression tasks pool the encoder's features and apply one linear layer; jigsaw
runs the encoder on each of its 9 tiles (one set of weights) and classifies the concatenated features
into 1,000 permutations; segmentsemantic, normal and autoencoder decode to a 256-pixel map through
(de)convolutions sized by TransNAS-Bench-101's rule (`encoder.decoder_upsamples`). The GAN
discriminator TransNAS-Bench-101 trains beside the pixel decoders is not part of the network.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from zeronas.errors import InvalidInputError, UnknownNameError
from zeronas.spaces.tnb.encoder import TransNASEncoder
from zeronas.spaces.tnb.ops import DecoderConv


@dataclass(frozen=True)
class TaskInfo:
    """One task: its input (per sample), output, loss and how its benchmark metric reads."""

    name: str
    #: classes, outputs or output channels (the width of the last layer)
    outputs: int
    #: side of the square image the network takes (jigsaw: cut into a 3 x 3 grid of tiles)
    resolution: int
    #: the per-sample input TransNAS-Bench-101 feeds (jigsaw: 9 tiles of 64 x 64)
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    #: 'ce' (class_object/class_scene with soft labels), 'pixel ce', 'mse' or 'l1'
    loss: str
    #: what the ground truth's value is
    metric: str
    higher_is_better: bool = True
    #: whether `outputs` may be changed at build time (class counts); fixed for regression and images
    variable_outputs: bool = False

    @property
    def tiles(self) -> int:
        """Tiles the encoder runs on separately (9 for jigsaw, else 0: the whole image)."""
        return self.input_shape[0] if len(self.input_shape) == 4 else 0

    @property
    def dense(self) -> bool:
        """Whether the output is a pixel map (a conv decoder) rather than a vector (a linear head)."""
        return len(self.output_shape) == 3


TASKS: tuple[TaskInfo, ...] = (
    TaskInfo("class_object", 100, 256, (3, 256, 256), (100,), "ce", "top-1 accuracy %", variable_outputs=True),
    TaskInfo("class_scene", 63, 256, (3, 256, 256), (63,), "ce", "top-1 accuracy %", variable_outputs=True),
    TaskInfo("jigsaw", 1000, 192, (9, 3, 64, 64), (1000,), "ce", "top-1 accuracy %", variable_outputs=True),
    TaskInfo("room_layout", 9, 256, (3, 256, 256), (9,), "mse", "negative L2 loss"),
    TaskInfo(
        "segmentsemantic", 17, 256, (3, 256, 256), (17, 256, 256), "pixel ce", "pixel accuracy %", variable_outputs=True
    ),
    TaskInfo("normal", 3, 256, (3, 256, 256), (3, 256, 256), "l1", "SSIM"),
    TaskInfo("autoencoder", 3, 256, (3, 256, 256), (3, 256, 256), "l1", "SSIM"),
)
TASK_NAMES = tuple(t.name for t in TASKS)
_BY_NAME = {t.name: t for t in TASKS}


def get_task(name: object) -> TaskInfo:
    """The task called `name`; a one-line error lists the seven."""
    if not isinstance(name, str) or name.strip().lower() not in _BY_NAME:
        raise UnknownNameError(f"unknown TransNAS-Bench-101 task {name!r}; tasks are {', '.join(TASK_NAMES)}")
    return _BY_NAME[name.strip().lower()]


class LinearHead(nn.Module):
    """Global average pooling then one linear layer (classification, room layout, jigsaw)."""

    def __init__(self, in_channels: int, outputs: int) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(in_channels, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.avgpool(x), 1))


class SegmentationDecoder(nn.Sequential):
    """Conv to 1024 channels, 6 - n halving convs, n halving deconvs (the last keeps its width), conv to classes."""

    def __init__(self, in_channels: int, upsamples: int, classes: int) -> None:
        _check_upsamples(upsamples)
        layers = [DecoderConv(in_channels, 1024)]
        width = 1024
        for _ in range(6 - upsamples):
            layers.append(DecoderConv(width, width // 2))
            width //= 2
        for _ in range(upsamples - 1):
            layers.append(DecoderConv(width, width // 2, upsample=True))
            width //= 2
        layers.append(DecoderConv(width, width, upsample=True))
        layers.append(DecoderConv(width, classes, norm=False, act="none"))
        super().__init__(*layers)

    @property
    def last_conv(self) -> nn.Module:
        """The conv making the class maps (its input: the features a pixel-level proxy reads)."""
        return self[-1][0]


#: (in, out) widths of the generative decoder's 14 layers after the first, and from which upsample count
#: each optional layer upsamples (0: never, 1: always)
_GENERATIVE = (
    (1024, 1024, 0),
    (1024, 512, 6),
    (512, 512, 0),
    (512, 256, 5),
    (256, 128, 0),
    (128, 64, 4),
    (64, 64, 0),
    (64, 32, 3),
    (32, 32, 0),
    (32, 16, 1),
    (16, 32, 0),
    (32, 16, 1),
)


class GenerativeDecoder(nn.Sequential):
    """The pix2pix-style decoder of normal and autoencoder: 14 conv/deconv layers, tanh output."""

    def __init__(self, in_channels: int, upsamples: int, channels: int = 3) -> None:
        _check_upsamples(upsamples)
        layers = [DecoderConv(in_channels, 1024)]
        for c_in, c_out, threshold in _GENERATIVE:
            layers.append(
                DecoderConv(c_in, c_out, upsample=threshold == 1 or (threshold > 1 and upsamples >= threshold))
            )
        layers.append(DecoderConv(16, channels, norm=False, act="tanh"))
        super().__init__(*layers)

    @property
    def last_conv(self) -> nn.Module:
        return self[-1][0]


def _check_upsamples(upsamples: int) -> None:
    if upsamples not in range(2, 7):
        raise InvalidInputError(f"a TransNAS-Bench-101 dense decoder needs 2..6 upsamplings, got {upsamples}")


def make_decoder(task: TaskInfo, in_channels: int, upsamples: int, outputs: int) -> nn.Module:
    """The decoder of `task` on `in_channels` encoder features with `outputs` classes/outputs/channels."""
    if task.name == "segmentsemantic":
        return SegmentationDecoder(in_channels, upsamples, outputs)
    if task.dense:
        return GenerativeDecoder(in_channels, upsamples, outputs)
    return LinearHead(in_channels * max(task.tiles, 1), outputs)


def to_tiles(x: torch.Tensor, tiles: int) -> torch.Tensor:
    """(B, 9, 3, t, t) tiles as given, or a (B, 3, H, W) image cut into a row-major 3 x 3 grid."""
    if x.dim() == 5 and x.shape[1] == tiles:
        return x
    side = round(tiles**0.5)
    if x.dim() != 4 or x.shape[2] % side or x.shape[3] % side:
        raise InvalidInputError(
            f"jigsaw takes (B, {tiles}, 3, t, t) tiles or (B, 3, H, W) with H and W divisible by {side}, "
            f"got shape {tuple(x.shape)}"
        )
    b, c, h, w = x.shape
    grid = x.reshape(b, c, side, h // side, side, w // side).permute(0, 2, 4, 1, 3, 5)
    return grid.reshape(b, tiles, c, h // side, w // side)


class TaskNetwork(nn.Module):
    """Encoder plus the task's decoder; jigsaw runs the encoder on each tile and concatenates the features."""

    def __init__(self, encoder: TransNASEncoder, decoder: nn.Module, task: TaskInfo) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.task = task.name
        self.tiles = task.tiles

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.tiles:
            return self.decoder(self.encoder(x))
        pieces = to_tiles(x, self.tiles)
        features = [self.encoder(pieces[:, i]) for i in range(self.tiles)]
        return self.decoder(torch.cat(features, dim=1))
