"""MobileNetV2 / ProxylessNAS-style space: inverted-residual stages with searchable kernel, expansion, depth, width.

Macro layout (ProxylessNAS / OFA-MobileNetV2): stem conv3x3/2 with 32 channels, a fixed MB1 3x3 block
with 16 channels, six searchable stages of 24, 32, 64, 96, 160, 320 channels with strides 2, 2, 2, 1, 2, 1
(depth 2-4, the last stage 1 block), then a 1x1 conv to 1280 channels, global average pooling and a
linear classifier. Each searchable block picks a kernel in {3, 5, 7} and an expansion in {3, 4, 6}; a
global width multiplier scales every channel count (rounded to multiples of 8 as in torchvision; the
1280-channel head never shrinks). Input 224x224 unless the space is created with another resolution.

Canonical key: ``w1.0|k3e6,k5e3|k3e3,k5e6,k7e4|...`` -- the width, then one '|'-separated group per
stage listing its blocks as ``k<kernel>e<expansion>``; the depth is the number of blocks.

`count(key)` gives exact #params, FLOPs (tensorwatch convention, as `zeronas.modelstats.count_flops`) and
MACs (as `count_macs`) in closed form, so budget checks never build a model.
"""

from __future__ import annotations

import math
import re

import numpy as np
import torch
from torch import nn

from zeronas.errors import InvalidArchError, InvalidInputError
from zeronas.spaces.base import SearchSpace, check_count, check_num_classes

STEM_CHANNELS = 32
FIRST_CHANNELS = 16
HEAD_CHANNELS = 1280
#: (base channels, stride of the first block, min depth, max depth) of each searchable stage
STAGES = ((24, 2, 2, 4), (32, 2, 2, 4), (64, 2, 2, 4), (96, 1, 2, 4), (160, 2, 2, 4), (320, 1, 1, 1))
KERNELS = (3, 5, 7)
EXPANSIONS = (3, 4, 6)
WIDTHS = (0.75, 1.0, 1.25)
_BLOCK = re.compile(r"^k(\d+)e(\d+)$")
_ACTIVATIONS = {"relu6": nn.ReLU6, "relu": nn.ReLU}


def make_divisible(value: float, divisor: int = 8) -> int:
    """torchvision's channel rounding: nearest multiple of `divisor`, never below 90% of `value`."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def _width_text(width: float) -> str:
    text = f"{width:g}"
    return text if "." in text else text + ".0"


def _check_widths(widths: object) -> tuple[float, ...]:
    """A non-empty tuple of distinct, positive, finite width multipliers."""
    try:
        values = tuple(float(w) for w in widths)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise InvalidInputError(f"mbv2 widths must be a sequence of numbers, got {widths!r}") from None
    if not values or not all(math.isfinite(w) and w > 0 for w in values) or len(set(values)) != len(values):
        raise InvalidInputError(f"mbv2 widths must be distinct positive numbers, got {widths!r}")
    return values


Block = tuple[int, int]  # (kernel, expansion)
Arch = tuple[float, tuple[tuple[Block, ...], ...]]


class InvertedResidual(nn.Module):
    """MBConv: 1x1 expand (unless expansion 1) -> kxk depthwise (stride) -> 1x1 project, residual when shapes match."""

    def __init__(self, c_in: int, c_out: int, stride: int, kernel: int, expansion: int, act: type[nn.Module]) -> None:
        super().__init__()
        hidden = c_in * expansion
        layers: list[nn.Module] = []
        if expansion != 1:
            layers += [nn.Conv2d(c_in, hidden, 1, bias=False), nn.BatchNorm2d(hidden), act()]
        layers += [
            nn.Conv2d(hidden, hidden, kernel, stride, kernel // 2, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            act(),
            nn.Conv2d(hidden, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        ]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        return x + out if self.residual else out


class MobileNetV2Net(nn.Module):
    """The network of one key: stem, fixed MB1 block, searchable stages, 1x1 head conv, GAP, classifier."""

    def __init__(self, plan: list[tuple[int, int, int, int, int]], stem: int, head: int, num_classes: int, act: str):
        super().__init__()
        act_cls = _ACTIVATIONS[act]
        layers: list[nn.Module] = [nn.Conv2d(3, stem, 3, 2, 1, bias=False), nn.BatchNorm2d(stem), act_cls()]
        for c_in, c_out, stride, kernel, expansion in plan:
            layers.append(InvertedResidual(c_in, c_out, stride, kernel, expansion, act_cls))
        last = plan[-1][1]
        layers += [nn.Conv2d(last, head, 1, bias=False), nn.BatchNorm2d(head), act_cls()]
        self.features = nn.Sequential(*layers)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(head, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.global_pooling(self.features(x)).flatten(1))


class MobileNetV2Space(SearchSpace):
    """ProxylessNAS/OFA-style MobileNetV2 space with exact analytic params/FLOPs/MACs."""

    name = "mbv2"

    resolution = 224
    num_classes = 1000

    def __init__(
        self,
        resolution: int = 224,
        num_classes: int = 1000,
        widths: tuple[float, ...] = WIDTHS,
        activation: str = "relu6",
    ) -> None:
        if activation not in _ACTIVATIONS:
            raise InvalidArchError(f"mbv2 activation must be one of {', '.join(_ACTIVATIONS)}, got {activation!r}")
        self.resolution = check_count(resolution, "mbv2 resolution", 32)
        self.num_classes = check_count(num_classes, "mbv2 num_classes", 1)
        self.widths, self.activation = _check_widths(widths), activation

    # --- keys ---------------------------------------------------------------------------------
    def parse(self, key: str) -> Arch:
        """Key -> (width, per-stage tuple of (kernel, expansion)); InvalidArchError names the defect."""
        if not isinstance(key, str):
            raise InvalidArchError(f"mbv2 key must be a string, got {type(key).__name__}")
        groups = key.strip().split("|")
        if len(groups) != len(STAGES) + 1 or not groups[0].startswith("w"):
            raise InvalidArchError(
                f"mbv2 key needs 'w<width>' then {len(STAGES)} '|'-separated stages, e.g. "
                f"{self.default_key()!r}; got {key!r}"
            )
        try:
            width = float(groups[0][1:])
        except ValueError:
            raise InvalidArchError(f"mbv2 width {groups[0]!r} is not a number") from None
        match = [w for w in self.widths if math.isclose(w, width)]
        if not match:
            raise InvalidArchError(f"mbv2 width {width:g} not in {', '.join(map(_width_text, self.widths))}")
        stages = []
        for i, (text, (base, _, lo, hi)) in enumerate(zip(groups[1:], STAGES, strict=True)):
            blocks = []
            for item in text.split(","):
                m = _BLOCK.match(item.strip())
                if not m:
                    raise InvalidArchError(f"mbv2 stage {i + 1} block {item!r} must read k<kernel>e<expansion>")
                kernel, expansion = int(m.group(1)), int(m.group(2))
                if kernel not in KERNELS or expansion not in EXPANSIONS:
                    raise InvalidArchError(
                        f"mbv2 block {item.strip()!r}: kernel must be in {KERNELS}, expansion in {EXPANSIONS}"
                    )
                blocks.append((kernel, expansion))
            if not lo <= len(blocks) <= hi:
                raise InvalidArchError(f"mbv2 stage {i + 1} ({base} ch) needs {lo}-{hi} blocks, got {len(blocks)}")
            stages.append(tuple(blocks))
        return match[0], tuple(stages)

    @staticmethod
    def format(arch: Arch) -> str:
        """(width, stages) -> canonical key."""
        width, stages = arch
        body = "|".join(",".join(f"k{k}e{e}" for k, e in blocks) for blocks in stages)
        return f"w{_width_text(width)}|{body}"

    def validate(self, key: str) -> str:
        return self.format(self.parse(key))

    def default_key(self) -> str:
        """MobileNetV2-like reference: width 1.0, k3e6 blocks, the maximum depth of each stage."""
        return self.format((1.0, tuple(((3, 6),) * hi for *_, hi in STAGES)))

    # --- variation ----------------------------------------------------------------------------
    def _random_block(self, rng: np.random.Generator) -> Block:
        return int(rng.choice(KERNELS)), int(rng.choice(EXPANSIONS))

    def sample(self, rng: np.random.Generator) -> str:
        width = float(self.widths[int(rng.integers(len(self.widths)))])
        stages = []
        for *_, lo, hi in STAGES:
            depth = int(rng.integers(lo, hi + 1))
            stages.append(tuple(self._random_block(rng) for _ in range(depth)))
        return self.format((width, tuple(stages)))

    def mutate(self, key: str, rng: np.random.Generator) -> str:
        """One random change: the width, one stage's depth, or one block's kernel or expansion."""
        width, stages = self.parse(key)
        sites: list[tuple[str, int, int]] = [("width", 0, 0)] if len(self.widths) > 1 else []
        sites += [("depth", s, 0) for s, (*_, lo, hi) in enumerate(STAGES) if hi > lo]
        sites += [(what, s, b) for s, blocks in enumerate(stages) for b in range(len(blocks)) for what in "ke"]
        what, s, b = sites[int(rng.integers(len(sites)))]
        new = [list(blocks) for blocks in stages]
        if what == "width":
            width = float(rng.choice([w for w in self.widths if w != width]))
        elif what == "depth":
            lo, hi = STAGES[s][2], STAGES[s][3]
            depth = int(rng.choice([d for d in range(lo, hi + 1) if d != len(new[s])]))
            while len(new[s]) < depth:
                new[s].append(self._random_block(rng))
            del new[s][depth:]
        elif what == "k":
            kernel, expansion = new[s][b]
            new[s][b] = (int(rng.choice([k for k in KERNELS if k != kernel])), expansion)
        else:
            kernel, expansion = new[s][b]
            new[s][b] = (kernel, int(rng.choice([e for e in EXPANSIONS if e != expansion])))
        return self.format((width, tuple(tuple(blocks) for blocks in new)))

    def crossover(self, a: str, b: str, rng: np.random.Generator) -> str:
        """Width and each whole stage taken from either parent with probability 1/2."""
        (wa, sa), (wb, sb) = self.parse(a), self.parse(b)
        width = wa if rng.random() < 0.5 else wb
        stages = tuple(x if rng.random() < 0.5 else y for x, y in zip(sa, sb, strict=True))
        return self.format((width, stages))

    def neighbours(self, key: str) -> list[str]:
        """Other widths; each block's other kernels and expansions; each stage one block shorter or longer."""
        width, stages = self.parse(key)
        out = [self.format((w, stages)) for w in self.widths if w != width]
        for s, blocks in enumerate(stages):
            lo, hi = STAGES[s][2], STAGES[s][3]
            variants: list[tuple[Block, ...]] = []
            for b, (kernel, expansion) in enumerate(blocks):
                variants += [blocks[:b] + ((k, expansion),) + blocks[b + 1 :] for k in KERNELS if k != kernel]
                variants += [blocks[:b] + ((kernel, e),) + blocks[b + 1 :] for e in EXPANSIONS if e != expansion]
            if len(blocks) > lo:
                variants.append(blocks[:-1])
            if len(blocks) < hi:
                variants += [blocks + ((k, e),) for k in KERNELS for e in EXPANSIONS]
            out += [self.format((width, stages[:s] + (v,) + stages[s + 1 :])) for v in variants]
        return out

    def encode(self, key: str) -> np.ndarray:
        """[width, depth of each stage, (kernel, expansion) of every block slot (0, 0 when absent)]."""
        width, stages = self.parse(key)
        slots = []
        for blocks, (*_, hi) in zip(stages, STAGES, strict=True):
            slots += [v for block in blocks for v in block] + [0, 0] * (hi - len(blocks))
        return np.array([width, *(len(b) for b in stages), *slots], dtype=np.float32)

    def cardinality(self) -> int:
        """Number of distinct architectures (too many to enumerate)."""
        per_block = len(KERNELS) * len(EXPANSIONS)
        return len(self.widths) * math.prod(sum(per_block**d for d in range(lo, hi + 1)) for *_, lo, hi in STAGES)

    # --- models and exact counts -------------------------------------------------------------
    def plan(self, key: str) -> tuple[list[tuple[int, int, int, int, int]], int, int]:
        """Per block (c_in, c_out, stride, kernel, expansion), the stem and the head channels."""
        width, stages = self.parse(key)
        stem = make_divisible(STEM_CHANNELS * width)
        plan = [(stem, make_divisible(FIRST_CHANNELS * width), 1, 3, 1)]
        for blocks, (base, stride, *_) in zip(stages, STAGES, strict=True):
            c_out = make_divisible(base * width)
            for i, (kernel, expansion) in enumerate(blocks):
                plan.append((plan[-1][1], c_out, stride if i == 0 else 1, kernel, expansion))
        return plan, stem, make_divisible(HEAD_CHANNELS * max(1.0, width))

    def build(self, key: str, num_classes: int | None = None, **kwargs: object) -> nn.Module:
        if kwargs:
            raise InvalidInputError(f"unexpected options for mbv2 build: {', '.join(kwargs)}")
        classes = check_num_classes(num_classes, self.num_classes)
        plan, stem, head = self.plan(key)
        return MobileNetV2Net(plan, stem, head, classes, self.activation)

    def count(self, key: str, num_classes: int | None = None, resolution: int | None = None) -> dict[str, int]:
        """Exact {'params', 'flops', 'macs'} of `build(key)` at batch 1, without building it.

        FLOPs follow `count_flops` (tensorwatch: conv k*k*C_in*C_out/groups per output position, 2 per
        element for affine BN, 1 for the activation, (H+1)(W+1) per channel for global pooling, in*out
        for the classifier); MACs follow `count_macs` (convolutions and the classifier only).
        """
        plan, stem, head = self.plan(key)
        classes = num_classes or self.num_classes
        size = resolution or self.resolution
        total = {"params": 0, "flops": 0, "macs": 0}

        def conv(c_in: int, c_out: int, kernel: int, stride: int, groups: int) -> None:
            nonlocal size
            size = (size + 2 * (kernel // 2) - kernel) // stride + 1
            macs = kernel * kernel * (c_in // groups) * c_out * size * size
            total["params"] += c_out * (c_in // groups) * kernel * kernel
            total["flops"] += macs
            total["macs"] += macs
            total["params"] += 2 * c_out  # the BN after every conv
            total["flops"] += 2 * c_out * size * size

        def act(channels: int) -> None:
            total["flops"] += channels * size * size

        conv(3, stem, 3, 2, 1)
        act(stem)
        for c_in, c_out, stride, kernel, expansion in plan:
            hidden = c_in * expansion
            if expansion != 1:
                conv(c_in, hidden, 1, 1, 1)
                act(hidden)
            conv(hidden, hidden, kernel, stride, hidden)
            act(hidden)
            conv(hidden, c_out, 1, 1, 1)
        conv(plan[-1][1], head, 1, 1, 1)
        act(head)
        total["flops"] += (size + 1) * (size + 1) * head
        total["params"] += head * classes + classes
        total["flops"] += head * classes
        total["macs"] += head * classes
        return total

    def analytic_cost(
        self, key: str, what: str, num_classes: int | None = None, resolution: int | None = None
    ) -> float:
        """'params' (M), 'flops' (MFLOPs, tensorwatch) or 'macs' (M), in the units of `zeronas.hardware` costs.

        The space is built for one resolution (its own); `resolution` is accepted for the common protocol.
        """
        counts = self.count(key, num_classes)
        if what not in counts:
            raise InvalidArchError(f"mbv2 has no analytic cost {what!r}; choose params, flops or macs")
        return counts[what] / 1e6
