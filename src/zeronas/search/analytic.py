"""Exact params/FLOPs/MACs without building each candidate: the budget check of every search step.

A space with an `analytic_cost(key, what, num_classes=, resolution=)` method (nb201: an edge table
calibrated once; mbv2: closed form) answers directly, in the units of the registered cost models of
`zeronas.hardware` (M parameters, MFLOPs, M MACs); others are counted on the built network.
"""

from __future__ import annotations

from zeronas.data import get_dataset
from zeronas.modelstats import COUNTED
from zeronas.spaces import SearchSpace


def analytic_cost(space: SearchSpace, key: str, what: str, dataset: str) -> float | None:
    """Exact `what` ('params', 'flops', 'macs') of `key` for `dataset`, or None when no counter applies."""
    if what not in COUNTED:
        return None
    info = get_dataset(dataset)
    method = getattr(space.for_dataset(info.name), "analytic_cost", None)
    if not callable(method):
        return None
    return float(method(key, what, num_classes=info.num_classes, resolution=info.resolution))
