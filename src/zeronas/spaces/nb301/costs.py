"""Exact params/FLOPs/MACs of NB301 cells without building each one.

The cost of a DARTS network is additive over the cell edges: an edge's op sees a fixed input shape
determined by its cell kind and whether it reads a cell input (strided in a reduction cell) or an
intermediate node, the node sums and concatenations count nothing, and the stem, preprocessing and
classifier do not depend on the key. A table is calibrated once per (channels, layers, classes,
resolution) from 27 counted networks around a base key, then summed per key.
"""

from __future__ import annotations

import functools

from zeronas.modelstats import count
from zeronas.spaces.nb301.keys import compact_string
from zeronas.spaces.nb301.model import STEPS
from zeronas.spaces.nb301.ops import OP_NAMES

_SKIP = OP_NAMES.index("skip_connect")
#: every node reads c_{k-2} and c_{k-1} through skip_connect, in both cells
_BASE_CELL = tuple(pair for _ in range(STEPS) for pair in ((0, _SKIP), (1, _SKIP)))


@functools.lru_cache(maxsize=32)
def cost_table(
    init_channels: int, layers: int, num_classes: int, resolution: int, what: str
) -> tuple[int, tuple[tuple[tuple[int, ...], ...], ...]]:
    """Raw counts: (the base key's network, [cell][reads an intermediate node][op] the change from its skip edge).

    An entry is the cost of that op on that kind of edge minus a cell-input skip_connect edge of
    the same cell, so a key costs the base plus one entry per edge (each cell has 8 edges, as the base).
    """
    from zeronas.spaces.nb301.space import NasBench301Space

    space = NasBench301Space(init_channels=init_channels, layers=layers)

    def cost(cells: list[list[tuple[int, int]]]) -> int:
        model = space.build(compact_string((tuple(cells[0]), tuple(cells[1]))), num_classes)
        return count(model, what, (1, 3, resolution, resolution))

    base = cost([list(_BASE_CELL), list(_BASE_CELL)])
    table = []
    for c in range(2):
        rows = []
        # position 0 reads c_{k-2}; position 2 (node 3) reads node 2 instead of c_{k-2}
        for position, node in ((0, 0), (2, 2)):
            row = []
            for op in range(len(OP_NAMES)):
                if node == 0 and op == _SKIP:
                    row.append(0)
                    continue
                cells = [list(_BASE_CELL), list(_BASE_CELL)]
                cells[c][position] = (node, op)
                row.append(cost(cells) - base)
            rows.append(tuple(row))
        table.append(tuple(rows))
    return base, tuple(table)
