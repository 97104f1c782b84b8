"""Condition number of the empirical NTK at initialisation (TE-NAS; docs/proxies.md §ntk_cond)."""

from __future__ import annotations

import torch

from zeronas.proxies.context import ProxyContext
from zeronas.proxies.registry import register_proxy

#: smallest eigenvalue kept, relative to the largest (a singular NTK gives a huge, finite κ)
_REL_FLOOR = 1e-30


@register_proxy("ntk_cond", higher_is_better=False, needs=("ntk",), family="ntk", min_batch=2)
def ntk_cond(ctx: ProxyContext) -> float:
    """κ = λ_max / λ_min of Θ = G Gᵀ over all 'weight' parameters (lower is better; returned as -κ)."""
    gram = ctx.require("ntk_gram")
    if not bool(torch.isfinite(gram).all()):
        return float("nan")  # NaN/inf gradients (a model producing non-finite outputs)
    eig = torch.linalg.eigvalsh(gram)
    top = float(eig[-1])
    if not top > 0:
        return float("nan")  # Θ = 0: no gradient reaches the weights
    return top / max(float(eig[0]), top * _REL_FLOOR)
