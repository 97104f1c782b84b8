"""NAS-Bench-301: the DARTS cell space (a normal and a reduction cell), about 1.08e18 architectures.

Canonical key: NASLib's compact encoding, the form of NAS-Bench-Suite-Zero's zc_nasbench301.json
keys, as Python prints the tuple: ``(((0, 3), (1, 3), ...), ((0, 0), (1, 0), ...))`` -- normal
cell then reduction cell, 8 (input node, op index) pairs each, each node's two pairs by ascending
input node (see `keys`). Also accepted: the same tuple (or list) as a value, and a DARTS genotype,
as text ``Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=range(2, 6), reduce=[...],
reduce_concat=range(2, 6))`` or as an object with those fields. Op indices: 0 max_pool_3x3,
1 avg_pool_3x3, 2 skip_connect, 3 sep_conv_3x3, 4 sep_conv_5x5, 5 dil_conv_3x3, 6 dil_conv_5x5
(NAS-Bench-301 has no 'none' op). A cell has 180 input choices x 7^8 op choices, so the space
holds (180 * 7^8)^2 ~ 1.08e18 keys and is not enumerated.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from zeronas.errors import InvalidArchError, InvalidInputError
from zeronas.spaces.base import SearchSpace, check_count, check_num_classes
from zeronas.spaces.nb301.keys import PAIRS, Arch, compact_string, genotype_string, parse_key
from zeronas.spaces.nb301.model import STEPS, DartsNetwork
from zeronas.spaces.nb301.ops import OP_NAMES

NUM_OPS = len(OP_NAMES)
#: (input node, intermediate node) of every possible edge of a cell, node-major: 2 + 3 + 4 + 5 = 14
EDGES = tuple((source, step) for step in range(STEPS) for source in range(step + 2))
_EDGE_INDEX = {edge: i for i, edge in enumerate(EDGES)}


def _with(arch: Arch, cell: int, position: int, pair: tuple[int, int]) -> str:
    """The canonical key of `arch` with one pair replaced."""
    cells = [list(c) for c in arch]
    cells[cell][position] = pair
    return compact_string(parse_key(cells))


class NasBench301Space(SearchSpace):
    """The DARTS / NAS-Bench-301 cell space on CIFAR-10 (32 initial channels, 8 cells by default)."""

    name = "nb301"

    resolution = 32
    num_classes = 10

    def __init__(self, init_channels: int = 32, layers: int = 8) -> None:
        self.init_channels = check_count(init_channels, "nb301 init_channels", 2)
        if self.init_channels % 2:
            raise InvalidInputError(
                f"nb301 init_channels must be even (FactorizedReduce halves it), got {init_channels}"
            )
        self.layers = check_count(layers, "nb301 layers", 1)

    # --- keys ---------------------------------------------------------------------------------
    def arch(self, key: object) -> Arch:
        """The canonical (normal, reduction) cells of any accepted key form."""
        return parse_key(key)

    def validate(self, key: object) -> str:
        return compact_string(parse_key(key))

    def genotype(self, key: object) -> str:
        """The DARTS genotype text of `key` (pairs in canonical order, concat written range(2, 6))."""
        return genotype_string(parse_key(key))

    # --- sampling and variation ---------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> str:
        """Each node of each cell: two distinct inputs and two ops, uniformly (as NASLib samples); uniform over keys."""
        cells = []
        for _ in range(2):
            cell = []
            for step in range(STEPS):
                inputs = rng.choice(step + 2, size=2, replace=False)
                ops = rng.integers(NUM_OPS, size=2)
                cell += [(int(inputs[0]), int(ops[0])), (int(inputs[1]), int(ops[1]))]
            cells.append(cell)
        return compact_string(parse_key(cells))

    def _input_options(self, cell: tuple[tuple[int, int], ...], position: int) -> list[int]:
        """Inputs pair `position` may move to: earlier nodes other than its own and its sibling's."""
        sibling = cell[position ^ 1][0]
        return [n for n in range(position // 2 + 2) if n not in (cell[position][0], sibling)]

    def neighbours(self, key: object) -> list[str]:
        """Every key one op change (8 x 6 per cell) or one input change (12 per cell) away: 120 keys."""
        arch = parse_key(key)
        out = []
        for c, cell in enumerate(arch):
            for position, (node, op) in enumerate(cell):
                out += [_with(arch, c, position, (node, other)) for other in range(NUM_OPS) if other != op]
                out += [_with(arch, c, position, (n, op)) for n in self._input_options(cell, position)]
        return out

    def mutate(self, key: object, rng: np.random.Generator) -> str:
        """NASLib's mutation: a random cell and pair, then a new op or (when there is one) a new input node."""
        arch = parse_key(key)
        c, position = int(rng.integers(2)), int(rng.integers(PAIRS))
        node, op = arch[c][position]
        options = self._input_options(arch[c], position)
        if options and rng.random() < 0.5:
            return _with(arch, c, position, (options[int(rng.integers(len(options)))], op))
        return _with(arch, c, position, (node, int((op + rng.integers(1, NUM_OPS)) % NUM_OPS)))

    def crossover(self, a: object, b: object, rng: np.random.Generator) -> str:
        """Uniform crossover of whole nodes: each node of each cell takes both its inputs and ops from one parent."""
        arch_a, arch_b = parse_key(a), parse_key(b)
        take_a = rng.random((2, STEPS)) < 0.5
        cells = [
            [pair for step in range(STEPS) for pair in (pa if take_a[c, step] else pb)[2 * step : 2 * step + 2]]
            for c, (pa, pb) in enumerate(zip(arch_a, arch_b, strict=True))
        ]
        return compact_string(parse_key(cells))

    def encode(self, key: object) -> np.ndarray:
        """Per cell, a one-hot op (7) on each of the 14 possible edges, zeros where absent: 196 floats."""
        vec = np.zeros((2, len(EDGES), NUM_OPS), dtype=np.float32)
        for c, cell in enumerate(parse_key(key)):
            for position, (node, op) in enumerate(cell):
                vec[c, _EDGE_INDEX[(node, position // 2)], op] = 1.0
        return vec.ravel()

    # --- models and costs ---------------------------------------------------------------------
    def build(self, key: object, num_classes: int | None = None, **kwargs: object) -> nn.Module:
        if kwargs:
            raise InvalidInputError(f"unexpected options for nb301 build: {', '.join(kwargs)}")
        normal, reduce = parse_key(key)
        return DartsNetwork(
            normal,
            reduce,
            num_classes=check_num_classes(num_classes, self.num_classes),
            init_channels=self.init_channels,
            layers=self.layers,
        )

    def analytic_cost(
        self, key: object, what: str, num_classes: int | None = None, resolution: int | None = None
    ) -> float:
        """'params' (M), 'flops' (MFLOPs) or 'macs' (M) of `key`, exact, summed from a calibrated edge table."""
        from zeronas.modelstats import COUNTED
        from zeronas.spaces.nb301.costs import cost_table

        if what not in COUNTED:
            raise InvalidArchError(f"nb301 has no analytic cost {what!r}; choose params, flops or macs")
        classes = check_num_classes(num_classes, self.num_classes)
        size = check_count(resolution, "resolution", 8) if resolution is not None else self.resolution
        base, table = cost_table(self.init_channels, self.layers, classes, size, what)
        total = base
        for c, cell in enumerate(parse_key(key)):
            for node, op in cell:
                total += table[c][node >= 2][op]
        return total / 1e6
