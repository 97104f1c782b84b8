"""Exact params/FLOPs/MACs of NB201 cells without building each one.

NB201 costs are exactly additive over the cell edges -- every edge holds one independent module on a
fixed-shape input, and 'none' costs nothing -- so a table is calibrated once per (space configuration,
classes, resolution) from 1 + 6x4 counted networks and then summed per key.
"""

from __future__ import annotations

import functools

from zeronas.modelstats import count
from zeronas.spaces.nb201.model import OP_NAMES
from zeronas.spaces.nb201.space import NUM_EDGES, NasBench201Space

_NONE = OP_NAMES.index("none")


@functools.lru_cache(maxsize=32)
def cost_table(
    channels: int, cells_per_stage: int, num_classes: int, resolution: int, what: str
) -> tuple[int, tuple[tuple[int, ...], ...]]:
    """Raw counts: (the all-'none' network, per edge and op the extra count of that op on that edge)."""
    space = NasBench201Space(channels=channels, cells_per_stage=cells_per_stage)

    def cost(ops: tuple[int, ...]) -> int:
        return count(space.build(ops, num_classes=num_classes), what, (1, 3, resolution, resolution))

    base_ops = (_NONE,) * NUM_EDGES
    base = cost(base_ops)
    table = []
    for edge in range(NUM_EDGES):
        row = []
        for op in range(len(OP_NAMES)):
            ops = base_ops[:edge] + (op,) + base_ops[edge + 1 :]
            row.append(0 if op == _NONE else cost(ops) - base)
        table.append(tuple(row))
    return base, tuple(table)
