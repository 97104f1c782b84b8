"""Exact params/FLOPs/MACs without building each candidate: the budget check of every search step.

A space with an `analytic_cost(key, what, num_classes)` method (mbv2) answers directly. NB201 costs
are exactly additive over the cell edges -- every edge holds one independent module on a fixed-shape
input, and 'none' costs nothing -- so its table is calibrated once per (space configuration, data set)
from 1 + 6x4 counted networks and then summed per key. Values are in the units of the registered cost
models of `zeronas.hardware` (M parameters, MFLOPs, M MACs).
"""

from __future__ import annotations

import functools

from zeronas.data import get_dataset
from zeronas.modelstats import count_flops, count_macs, count_params
from zeronas.spaces import SearchSpace
from zeronas.spaces.nb201.model import OP_NAMES
from zeronas.spaces.nb201.space import NUM_EDGES, NUM_OPS, NasBench201Space

COUNTED = ("params", "flops", "macs")
_NONE = OP_NAMES.index("none")


def _count(model: object, what: str, resolution: int) -> int:
    shape = (1, 3, resolution, resolution)
    if what == "params":
        return count_params(model)
    if what == "flops":
        return count_flops(model, shape)
    return count_macs(model, shape)


@functools.lru_cache(maxsize=32)
def nb201_cost_table(
    channels: int, cells_per_stage: int, num_classes: int, resolution: int, what: str
) -> tuple[int, tuple[tuple[int, ...], ...]]:
    """Raw counts: (the all-'none' network, per edge and op the extra count of that op on that edge)."""
    space = NasBench201Space(channels=channels, cells_per_stage=cells_per_stage)

    def cost(ops: tuple[int, ...]) -> int:
        return _count(space.build(ops, num_classes=num_classes), what, resolution)

    base_ops = (_NONE,) * NUM_EDGES
    base = cost(base_ops)
    table = []
    for edge in range(NUM_EDGES):
        row = []
        for op in range(NUM_OPS):
            ops = base_ops[:edge] + (op,) + base_ops[edge + 1 :]
            row.append(0 if op == _NONE else cost(ops) - base)
        table.append(tuple(row))
    return base, tuple(table)


def analytic_cost(space: SearchSpace, key: str, what: str, dataset: str) -> float | None:
    """Exact `what` ('params', 'flops', 'macs') of `key` for `dataset`, or None when no counter applies."""
    if what not in COUNTED:
        return None
    info = get_dataset(dataset)
    method = getattr(space, "analytic_cost", None)
    if callable(method):
        return float(method(key, what, num_classes=info.num_classes))
    if isinstance(space, NasBench201Space):
        base, table = nb201_cost_table(space.channels, space.cells_per_stage, info.num_classes, info.resolution, what)
        return (base + sum(table[edge][op] for edge, op in enumerate(space.ops(key)))) / 1e6
    return None
