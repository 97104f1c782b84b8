"""GradSign (PROXIES.md §14): agreement of per-sample gradient signs, one batch-1 pass per sample."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from zeronas.errors import InvalidInputError, NotApplicableError
from zeronas.proxies.context import ProxyContext, logits_of, prunable_weights
from zeronas.proxies.registry import register_proxy


@register_proxy("gradsign", needs=("own",), family="gradient")
def gradsign(ctx: ProxyContext, reduce: str = "sum") -> float:
    """Σ_p |Σ_i sign(∂L_i/∂θ_p)| over Conv/Linear weights (`reduce='mean'`: AZ-NAS's mean over p)."""
    if reduce not in ("sum", "mean"):
        raise InvalidInputError(f"gradsign reduce must be 'sum' or 'mean', got {reduce!r}")
    net = ctx.copy_model()
    weights = list(prunable_weights(net).values())
    if not weights:
        raise NotApplicableError("the model has no Conv/Linear weights")
    sign_sum = torch.zeros(sum(w.numel() for w in weights), dtype=torch.float64, device=ctx.x.device)
    for i in range(ctx.batch_size):
        try:
            loss = F.cross_entropy(logits_of(net(ctx.x[i : i + 1])), ctx.y[i : i + 1])
        except ValueError as exc:  # BatchNorm over a single value per channel
            raise NotApplicableError(f"batch-1 forward fails: {str(exc).splitlines()[0]}") from None
        grads = torch.autograd.grad(loss, weights, allow_unused=True)
        flat = torch.cat(
            [(g if g is not None else torch.zeros_like(w)).flatten() for g, w in zip(grads, weights, strict=True)]
        )
        sign_sum += torch.sign(flat).double()
    total = sign_sum.abs()
    return float(total.mean() if reduce == "mean" else total.sum())
