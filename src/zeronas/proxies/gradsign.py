"""GradSign (docs/proxies.md §gradsign): agreement of per-sample gradient signs, one batch-1 pass per sample."""

from __future__ import annotations

import torch

from zeronas.errors import NotApplicableError
from zeronas.proxies.context import ProxyContext, check_label_range, prunable_weights, single_value_bn
from zeronas.proxies.losses import CLASS_LOSSES, check_fit, task_loss, task_output
from zeronas.proxies.registry import check_choice, register_proxy


def _check(options: dict[str, object]) -> None:
    check_choice("gradsign", options, "reduce", ("sum", "mean"))


@register_proxy("gradsign", needs=("own",), family="gradient", check=_check)
def gradsign(ctx: ProxyContext, reduce: str = "sum") -> float:
    """Σ_p |Σ_i sign(∂L_i/∂θ_p)| over Conv/Linear weights (`reduce='mean'`: AZ-NAS's mean over p).

    NaN in a gradient (a model producing NaN) gives NaN rather than a sign count of 0.
    """
    net = ctx.copy_model()
    weights = list(prunable_weights(net).values())
    if not weights:
        raise NotApplicableError("the model has no Conv/Linear weights")
    sign_sum = torch.zeros(sum(w.numel() for w in weights), dtype=torch.float64, device=ctx.x.device)
    for i in range(ctx.batch_size):
        try:
            logits = task_output(net(ctx.x[i : i + 1].clone()), 1, ctx.loss)  # a fresh input: models may write into it
        except ValueError as exc:
            if not single_value_bn(exc):
                raise
            raise NotApplicableError(f"batch-1 forward fails: {str(exc).splitlines()[0]}") from None
        if i == 0:
            if ctx.loss in CLASS_LOSSES:  # every label, before any gradient is taken
                check_label_range(ctx.y, logits.shape[1])
            check_fit(logits, ctx.y[:1], ctx.loss)
        loss = task_loss(logits, ctx.y[i : i + 1], ctx.loss)
        grads = torch.autograd.grad(loss, weights, allow_unused=True)
        flat = torch.cat(
            [(g if g is not None else torch.zeros_like(w)).flatten() for g, w in zip(grads, weights, strict=True)]
        )
        if not bool(torch.isfinite(flat).all()):
            return float("nan")
        sign_sum += torch.sign(flat).double()
    total = sign_sum.abs()
    return float(total.mean() if reduce == "mean" else total.sum())
