"""ZiCo (docs/proxies.md §zico): gradient mean over standard deviation across two mini-batches."""

from __future__ import annotations

import torch

from zeronas.errors import NotApplicableError
from zeronas.proxies.context import ProxyContext, prunable_weights
from zeronas.proxies.losses import check_fit, task_loss, task_output
from zeronas.proxies.registry import register_proxy


def _loss_grads(ctx: ProxyContext, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor | None]:
    net = ctx.copy_model()
    weights = prunable_weights(net)
    logits = task_output(net(x.clone()), x.shape[0], ctx.loss)  # a fresh input: models may write into it
    if not weights:
        raise NotApplicableError("the model has no Conv/Linear weights")
    check_fit(logits, y, ctx.loss)
    loss = task_loss(logits, y, ctx.loss)
    grads = torch.autograd.grad(loss, list(weights.values()), allow_unused=True)
    return {n: (g.detach() if g is not None else None) for n, g in zip(weights, grads, strict=True)}


@register_proxy("zico", needs=("grads", "own"), family="gradient")
def zico(ctx: ProxyContext) -> float:
    """Σ_layers ln Σ_i mean|g_i| / std(g_i) over two batches (batch 1 is the shared pass, batch 2 the second draw)."""
    if ctx.x2 is not None and ctx.y2 is not None:
        first = ctx.require("grads")
        second = _loss_grads(ctx, ctx.x2, ctx.y2)
    else:
        half = ctx.batch_size // 2
        if half < 2:
            raise NotApplicableError("needs two mini-batches (give a second draw or a batch of ≥ 4)")
        first = _loss_grads(ctx, ctx.x[:half], ctx.y[:half])
        second = _loss_grads(ctx, ctx.x[half:], ctx.y[half:])
    total = 0.0
    for name, g1 in first.items():
        g2 = second[name]
        if g1 is None or g2 is None:
            continue
        stack = torch.stack([g1.double().flatten(), g2.double().flatten()])
        if not bool(torch.isfinite(stack).all()):
            return float("nan")  # NaN/inf gradients: no ratio to take
        std = stack.std(0, unbiased=False)
        mean_abs = stack.abs().mean(0)
        keep = std != 0
        s = float((mean_abs[keep] / std[keep]).sum())
        if s > 0:
            total += float(torch.log(torch.tensor(s, dtype=torch.float64)))
    return total
