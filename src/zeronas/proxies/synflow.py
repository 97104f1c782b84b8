"""SynFlow and FreeREA's LogSynflow (docs/proxies.md §synflow, §logsynflow): data-free path-norm saliency.

On a float64 copy with BatchNorm removed and every state tensor replaced by its absolute value,
an all-ones input of batch 1 is pushed through; R = Σ output (logits or maps) is back-propagated.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from zeronas.errors import NotApplicableError
from zeronas.proxies.context import ProxyContext, prunable_weights
from zeronas.proxies.losses import task_output
from zeronas.proxies.registry import register_proxy

_BN = (nn.modules.batchnorm._BatchNorm,)


def _bypass(module: nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor:
    """Forward hook making a BatchNorm an identity (its own output is discarded)."""
    return args[0]


def _synflow_grads(ctx: ProxyContext) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(|θ|, ∂R/∂θ) per Conv/Linear weight; computed once per context for synflow and logsynflow."""
    return ctx.memo("synflow_grads", lambda: _compute_synflow_grads(ctx))


def _compute_synflow_grads(ctx: ProxyContext) -> list[tuple[torch.Tensor, torch.Tensor]]:
    net = ctx.copy_model(dtype=torch.float64)
    norms = [m for m in net.modules() if isinstance(m, _BN)]
    for norm in norms:  # eval: a batch-1 BN on 1x1 maps (SE, split attention) would raise in train mode
        norm.eval()
    handles = [m.register_forward_hook(_bypass) for m in norms]
    with torch.no_grad():
        for tensor in net.state_dict().values():
            if tensor.is_floating_point():
                tensor.abs_()
    weights = prunable_weights(net)
    ones = torch.ones((1, *ctx.input_shape), dtype=torch.float64, device=ctx.x.device)
    try:
        total = task_output(net(ones), 1, ctx.loss).sum()
    finally:
        for handle in handles:
            handle.remove()
    if not weights:  # checked after the forward: a model that raises reports its own failure first
        raise NotApplicableError("the model has no Conv/Linear weights")
    grads = torch.autograd.grad(total, list(weights.values()), allow_unused=True)
    pairs = [(w.detach(), g) for w, g in zip(weights.values(), grads, strict=True) if g is not None]
    if not pairs:
        raise NotApplicableError("no Conv/Linear weight is on a path to the output")
    return pairs


@register_proxy("synflow", needs=("own",), family="synflow")
def synflow(ctx: ProxyContext) -> float:
    """ln of Σ|θ·∂R/∂θ| (NASLib's 'synflow', a monotone log of the raw score); 0 when R is disconnected."""
    total = sum(float((w * g).abs().sum()) for w, g in _synflow_grads(ctx))
    if total == 0.0:
        return 0.0
    return math.log(total)


@register_proxy("logsynflow", needs=("own",), family="synflow")
def logsynflow(ctx: ProxyContext) -> float:
    """FreeREA's LogSynflow: Σ|θ · ln(1 + ∂R/∂θ)|, the log taken per weight.

    In ReLU networks every gradient here is ≥ 0; where non-ReLU layers (GELU, LayerNorm, softmax)
    make one negative, the sign-symmetric log, |θ|·ln(1 + |g|), keeps the value defined and equal
    to the definition on all non-negative gradients.
    """
    return float(sum(float((w.abs() * torch.log1p(g.abs())).sum()) for w, g in _synflow_grads(ctx)))
