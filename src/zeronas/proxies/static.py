"""Proxies that need no data: parameter count, FLOPs, weight norm (docs/proxies.md §params, §flops, §l2_norm)."""

from __future__ import annotations

import torch

from zeronas.modelstats import count_flops, count_params
from zeronas.proxies.context import ProxyContext, prunable_weights
from zeronas.proxies.registry import register_proxy


@register_proxy("params", needs=("static",), family="static")
def params(ctx: ProxyContext) -> float:
    """Number of parameters in millions (weights, biases and norm affine terms)."""
    return count_params(ctx.model) / 1e6


@register_proxy("flops", needs=("static",), family="static")
def flops(ctx: ProxyContext) -> float:
    """MFLOPs of one batch-1 forward at the batch's resolution (tensorwatch convention, as NAS-Bench-Suite-Zero)."""
    return count_flops(ctx.model, (1, *ctx.input_shape)) / 1e6


@register_proxy("l2_norm", needs=("static",), family="static")
def l2_norm(ctx: ProxyContext) -> float:
    """Sum over Conv/Linear layers of the Frobenius norm of the weight."""
    with torch.no_grad():
        return float(sum(w.detach().double().norm() for w in prunable_weights(ctx.model).values()))
