"""Pruning-at-initialisation proxies from the shared CE-loss backward (PROXIES.md §1-4, §12).

All sum over Conv/Linear weights only (never biases), per the NASLib / zero-cost-nas definitions.
"""

from __future__ import annotations

import torch

from zeronas.errors import NotApplicableError
from zeronas.proxies.context import ProxyContext
from zeronas.proxies.registry import register_proxy


def _pairs(ctx: ProxyContext, source: str = "grads") -> list[tuple[torch.Tensor, torch.Tensor]]:
    grads = ctx.require(source)
    pairs = [(ctx.weights[n].double(), g.double()) for n, g in grads.items() if g is not None]
    if not pairs:
        raise NotApplicableError("no Conv/Linear weight receives a gradient")
    return pairs


@register_proxy("grad_norm", needs=("grads",), family="gradient")
def grad_norm(ctx: ProxyContext) -> float:
    """Sum over layers of the L2 norm of the loss gradient w.r.t. the weight."""
    return float(sum(g.norm() for _, g in _pairs(ctx)))


@register_proxy("snip", needs=("grads",), family="gradient")
def snip(ctx: ProxyContext) -> float:
    """Connection sensitivity: sum of |θ · ∂L/∂θ|."""
    return float(sum((w * g).abs().sum() for w, g in _pairs(ctx)))


@register_proxy("plain", needs=("grads",), family="gradient")
def plain(ctx: ProxyContext) -> float:
    """Signed sum of θ · ∂L/∂θ."""
    return float(sum((w * g).sum() for w, g in _pairs(ctx)))


@register_proxy("grasp", needs=("grads", "hessian"), family="gradient")
def grasp(ctx: ProxyContext) -> float:
    """Gradient signal preservation: sum of -θ · (H g), with H the loss Hessian and g its gradient."""
    ctx.require("grads")  # no weights or unusable labels: the reason the loss gradient is missing
    if ctx.hessian_error:
        raise NotApplicableError(f"Hessian-gradient product failed: {ctx.hessian_error}")
    hg = ctx.hessian_grads
    if not hg or all(h is None for h in hg.values()):
        raise NotApplicableError("the loss gradient has no curvature path to the weights")
    return float(sum((-ctx.weights[n].double() * h.double()).sum() for n, h in hg.items() if h is not None))


@register_proxy("fisher", needs=("grads", "fisher"), family="gradient")
def fisher(ctx: ProxyContext) -> float:
    """Channel Fisher information ½·mean_n(Σ_hw z·∂L/∂z)², weighted by each layer's fan-in (as NASLib)."""
    values = ctx.require("fisher")
    return float(sum(f.double().sum() * fan_in for f, fan_in in values.values()))
