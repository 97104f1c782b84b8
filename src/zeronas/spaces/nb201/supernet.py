"""The NAS-Bench-201 supernet for TE-NAS-style pruning: every cell edge averages a set of active ops.

Same macro skeleton as `TinyNetwork` (stem, 3 stages of N cells, ResNet reduction blocks, BN-ReLU-GAP-
Linear). Each of the 6 edges holds all 5 NB201 ops and outputs the mean of its active ones -- the
DARTS softmax of equal architecture weights with pruned ops at -inf, as in TE-NAS. Every op module is
always created, whatever is active, so two supernets built under the same torch seed have identical
weights for their shared ops (TE-NAS copies the weights of the unpruned supernet for the same reason).

An op set ("mask") is 6 tuples of op indices (NAS-Bench-Suite-Zero order: 0 skip_connect, 1 none,
2 nor_conv_3x3, 3 nor_conv_1x1, 4 avg_pool_3x3) over the edges (1,2),(1,3),(1,4),(2,3),(2,4),(3,4).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from zeronas.errors import InvalidArchError
from zeronas.spaces.nb201.model import OP_NAMES, ResNetBasicBlock, make_op
from zeronas.spaces.nb201.space import EDGES, NUM_EDGES, NUM_OPS, ops_to_string

OpSets = tuple[tuple[int, ...], ...]


def full_op_sets(include_none: bool = True) -> OpSets:
    """Every op on every edge (optionally without 'none', which TE-NAS removes before pruning)."""
    ops = tuple(i for i in range(NUM_OPS) if include_none or OP_NAMES[i] != "none")
    return (ops,) * NUM_EDGES


def check_op_sets(op_sets: Sequence[Sequence[int]]) -> OpSets:
    """Canonical (sorted, de-duplicated) op sets; InvalidArchError on a wrong shape or an empty edge."""
    if len(op_sets) != NUM_EDGES:
        raise InvalidArchError(f"a supernet needs op sets for {NUM_EDGES} edges, got {len(op_sets)}")
    out = []
    for edge, ops in enumerate(op_sets):
        clean = tuple(sorted({int(o) for o in ops}))
        if not clean:
            raise InvalidArchError(f"supernet edge {EDGES[edge]} has no active op")
        if clean[0] < 0 or clean[-1] >= NUM_OPS:
            raise InvalidArchError(f"supernet edge {EDGES[edge]} op indices must be in 0..{NUM_OPS - 1}, got {clean}")
        out.append(clean)
    return tuple(out)


def op_sets_key(op_sets: Sequence[Sequence[int]]) -> str:
    """A readable key of op sets, e.g. '0234-0234-0234-0234-0234-0234'."""
    return "-".join("".join(str(o) for o in ops) for ops in check_op_sets(op_sets))


def op_sets_to_arch(op_sets: Sequence[Sequence[int]]) -> str:
    """The NB201 arch string of op sets with a single op per edge."""
    sets = check_op_sets(op_sets)
    if any(len(ops) != 1 for ops in sets):
        raise InvalidArchError(f"op sets {op_sets_key(sets)} still have several ops on an edge")
    return ops_to_string(tuple(ops[0] for ops in sets))


class MixedEdge(nn.Module):
    """All NB201 ops on one edge; the output is the mean of the active ones."""

    def __init__(self, channels: int, active: tuple[int, ...]) -> None:
        super().__init__()
        self.ops = nn.ModuleList(make_op(name, channels) for name in OP_NAMES)
        self.active = active

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        total = self.ops[self.active[0]](x)
        for index in self.active[1:]:
            total = total + self.ops[index](x)
        return total / len(self.active)


class SuperCell(nn.Module):
    """The 4-node NB201 cell with a MixedEdge on each of its 6 edges."""

    def __init__(self, channels: int, op_sets: OpSets) -> None:
        super().__init__()
        self.edges = nn.ModuleList(MixedEdge(channels, ops) for ops in op_sets)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for target in range(1, 4):
            total = None
            for index, (source, t) in enumerate(EDGES):
                if t == target:
                    out = self.edges[index](nodes[source])
                    total = out if total is None else total + out
            nodes.append(total)
        return nodes[-1]


class SuperNetwork(nn.Module):
    """NB201 macro network whose cells are SuperCells with the given op sets; returns logits."""

    def __init__(
        self,
        op_sets: Sequence[Sequence[int]],
        num_classes: int = 10,
        channels: int = 16,
        cells_per_stage: int = 5,
        stem: bool = True,
    ) -> None:
        super().__init__()
        self.op_sets = check_op_sets(op_sets)
        self.stem = (
            nn.Sequential(nn.Conv2d(3, channels, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(channels))
            if stem
            else nn.Identity()  # TE-NAS's region counter: inputs already have `channels` channels
        )
        self.cells = nn.ModuleList()
        c_prev = channels
        for stage in range(3):
            width = channels * 2**stage
            if stage:
                self.cells.append(ResNetBasicBlock(c_prev, width))
            self.cells.extend(SuperCell(width, self.op_sets) for _ in range(cells_per_stage))
            c_prev = width
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for cell in self.cells:
            x = cell(x)
        return self.classifier(self.global_pooling(self.lastact(x)).flatten(1))


def build_supernet(
    op_sets: Sequence[Sequence[int]],
    num_classes: int = 10,
    channels: int = 16,
    cells_per_stage: int = 5,
    seed: int | None = None,
    stem: bool = True,
) -> SuperNetwork:
    """Build a supernet; with `seed`, its weights depend on the seed only (not on the op sets).

    `stem=False` drops the 3-channel stem: the first cell reads `channels`-channel inputs directly.
    """
    if seed is None:
        return SuperNetwork(op_sets, num_classes, channels, cells_per_stage, stem)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return SuperNetwork(op_sets, num_classes, channels, cells_per_stage, stem)
