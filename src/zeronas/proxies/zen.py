"""Zen-score (docs/proxies.md §zen), NASLib's variant: residual links kept, features before global pooling.

Networks with a pixel output (a dense decoder, no global pooling) are read at the input of their last
conv, as NASLib does for TransNAS-Bench-101's dense tasks.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from zeronas.errors import InvalidInputError, NotApplicableError
from zeronas.proxies.context import ProxyContext
from zeronas.proxies.registry import check_range, register_proxy

_BN2D = nn.BatchNorm2d


def gaussian_init(net: nn.Module) -> None:
    """Conv/Linear weights ~ N(0, 1), biases 0, norm γ = 1, β = 0, fresh running statistics."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.modules.conv._ConvNd | nn.Linear):
                nn.init.normal_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.modules.batchnorm._NormBase | nn.GroupNorm | nn.LayerNorm):
                if getattr(m, "weight", None) is not None:
                    nn.init.ones_(m.weight)
                if getattr(m, "bias", None) is not None:
                    nn.init.zeros_(m.bias)
                if isinstance(m, nn.modules.batchnorm._NormBase) and m.track_running_stats:
                    m.reset_running_stats()


def _feature_module(net: nn.Module, dense: bool = False) -> nn.Module:
    """The module whose input is the pre-GAP feature map: the last AdaptiveAvgPool2d, else the last Linear.

    `dense` (a loss other than class cross entropy): without global pooling, the last conv instead.
    """
    pools = [m for m in net.modules() if isinstance(m, nn.AdaptiveAvgPool2d)]
    if pools:
        return pools[-1]
    convs = [m for m in net.modules() if isinstance(m, nn.modules.conv._ConvNd)]
    if dense and convs:
        return convs[-1]
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    if linears:
        return linears[-1]
    raise NotApplicableError("no global pooling or classifier layer to read features from")


def _collect_input(store: list[torch.Tensor]):
    def hook(module: nn.Module, args: tuple) -> None:
        store.append(args[0].detach())

    return hook


def _check(options: dict[str, object]) -> None:
    check_range("zen", options, "repeat", 1)
    if not options["mixup_gamma"] > 0:
        raise InvalidInputError(f"option 'mixup_gamma' of proxy 'zen' must be > 0, got {options['mixup_gamma']!r}")


@register_proxy("zen", needs=("own",), family="zen", check=_check)
def zen(ctx: ProxyContext, repeat: int = 1, mixup_gamma: float = 1e-2) -> float:
    """ln E|φ(x) - φ(x + αε)| + Σ_BN ln sqrt(mean running_var), on a N(0,1)-initialised copy."""
    values = []
    for r in range(repeat):
        net = ctx.copy_model()
        torch.manual_seed(int(ctx.generator(f"zen-init-{r}").initial_seed()))
        gaussian_init(net)
        features: list[torch.Tensor] = []
        dense = ctx.loss != "cross_entropy"
        handle = _feature_module(net, dense).register_forward_pre_hook(_collect_input(features))
        x = ctx.randn(f"zen-x-{r}", *ctx.x.shape)
        eps = ctx.randn(f"zen-eps-{r}", *ctx.x.shape)
        perturbed = x + mixup_gamma * eps  # formed before the first pass: a model may write into its input
        try:
            with torch.no_grad():
                net(x)
                net(perturbed)
        finally:
            handle.remove()
        delta = (features[0] - features[1]).abs().flatten(1).sum(1).mean().item()
        if delta <= 0:
            return float("-inf")
        bn_term = 0.0
        for m in net.modules():
            if isinstance(m, _BN2D) and m.running_var is not None:
                bn_term += math.log(math.sqrt(float(m.running_var.mean())))
        values.append(math.log(delta) + bn_term)
    return float(sum(values) / len(values))
