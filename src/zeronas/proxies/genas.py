"""GeNAS flatness (docs/proxies.md §genas_flatness): how steeply the loss rises under growing Gaussian weight noise.

GeNAS (Jeong et al., IJCAI 2023) scores subnets of a trained supernet by the flatness of their loss
surface. The network's BatchNorm statistics are recalibrated on the data, the network is switched to
eval mode, and cumulative Gaussian noise is added to every parameter: at level t the increment has
standard deviation σ_t − σ_{t−1} (σ_0 = 0). With L_t the mean task loss on the batch at level t,

    P = |L_1 / σ_1| + Σ_{t≥1} |(L_{t+1} − L_t) / (σ_{t+1} − σ_t)|,    genas_flatness = 1 / (P + 1e-5)

(the unperturbed loss counts as 0, as in the GeNAS code). The definition is meant for trained weights;
at initialisation it is computed the same way, but the flat-minimum reading does not hold there.
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import nn

from zeronas.errors import InvalidInputError
from zeronas.proxies.context import ProxyContext
from zeronas.proxies.losses import check_fit, task_loss, task_output
from zeronas.proxies.registry import register_proxy

#: the noise levels of the GeNAS README (its code's default is 0.01 ... 0.05)
DEFAULT_SIGMAS = (0.001, 0.003, 0.006)


def _check(options: dict[str, object]) -> None:
    sigmas = options["sigmas"]
    bad = not sigmas or not all(
        isinstance(s, numbers.Real) and not isinstance(s, bool) and math.isfinite(s) and s > 0 for s in sigmas
    )
    if bad or any(b <= a for a, b in zip(sigmas, sigmas[1:], strict=False)):
        raise InvalidInputError(
            f"option 'sigmas' of proxy 'genas_flatness' must be increasing positive numbers, got {list(sigmas)!r}"
        )


def recalibrate_batchnorm(net: nn.Module, x: torch.Tensor) -> None:
    """Reset every BatchNorm's running statistics and set them to the statistics of batch `x`.

    GeNAS resets running mean 0 / variance 1 and averages train-mode forwards over about 850 images;
    with one batch that average is the batch's own statistics (cumulative averaging, `momentum=None`).
    """
    norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    momenta = [m.momentum for m in norms]
    try:
        for m in norms:
            m.reset_running_stats()
            m.momentum = None
        net.train()
        with torch.no_grad():
            net(x.clone())  # a fresh input: the model may write into it
    finally:
        for m, momentum in zip(norms, momenta, strict=True):
            m.momentum = momentum


@register_proxy("genas_flatness", needs=("own",), family="genas", check=_check)
def genas_flatness(ctx: ProxyContext, sigmas: tuple[float, ...] = DEFAULT_SIGMAS) -> float:
    """1 / (P + 1e-5), P the loss's rise per unit of cumulative Gaussian weight noise (GeNAS; for trained weights).

    Flat minima generalise: a network whose loss barely moves when its weights are perturbed scores high.
    """
    levels = [float(s) for s in sigmas]
    net = ctx.copy_model()
    recalibrate_batchnorm(net, ctx.x)
    net.eval()
    params = list(net.parameters())
    losses: list[float] = []
    previous = 0.0
    with torch.no_grad():
        for t, sigma in enumerate(levels):
            gen = ctx.generator(f"genas_flatness-{t}")
            for p in params:
                noise = torch.randn(p.shape, generator=gen, dtype=p.dtype, device=gen.device)
                p.add_(noise.to(p.device), alpha=sigma - previous)
            previous = sigma
            out = task_output(net(ctx.x.clone()), ctx.batch_size, ctx.loss)
            check_fit(out, ctx.y, ctx.loss)
            losses.append(float(task_loss(out, ctx.y, ctx.loss)))
    if not all(math.isfinite(v) for v in losses):
        return math.nan
    poor = abs(losses[0] / levels[0]) + sum(
        abs((losses[t + 1] - losses[t]) / (levels[t + 1] - levels[t])) for t in range(len(levels) - 1)
    )
    return 1.0 / (poor + 1e-5)
