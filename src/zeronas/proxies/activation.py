"""Activation-pattern proxies: NASWOT's log-determinant (§8) and the number of linear regions (§9)."""

from __future__ import annotations

import hashlib

import numpy as np
import torch
from torch import nn

from zeronas.errors import InvalidInputError, NotApplicableError
from zeronas.proxies.context import ProxyContext
from zeronas.proxies.registry import register_proxy


@register_proxy("nwot", needs=("relu_kernel",), family="activation")
def nwot(ctx: ProxyContext) -> float:
    """ln|det K|, K the agreement kernel of binary ReLU codes of the batch (NASWOT)."""
    if ctx.relu_kernel is None:
        raise NotApplicableError("the model has no ReLU modules")
    return float(torch.linalg.slogdet(ctx.relu_kernel).logabsdet)


@register_proxy("linear_regions", needs=("own",), family="activation")
def linear_regions(ctx: ProxyContext, samples: int = 512, input: str = "gaussian") -> float:
    """Number of distinct activation patterns (linear regions) over `samples` inputs.

    Codes are sign(post-ReLU) of every ReLU with a 4-D input, concatenated per sample; rows are
    compared exactly through a 128-bit digest. `input`: 'gaussian' (N(0,1), TE-NAS/Zen style)
    or 'batch' (the real batch, so `samples` is the batch size).
    """
    if input not in ("gaussian", "batch"):
        raise InvalidInputError(f"linear_regions input must be 'gaussian' or 'batch', got {input!r}")
    net = ctx.copy_model()
    x = ctx.randn("linear_regions", samples, *ctx.input_shape) if input == "gaussian" else ctx.x
    digests = [hashlib.blake2b(digest_size=16) for _ in range(x.shape[0])]
    seen = 0

    def hook(module: nn.Module, args: tuple, out: torch.Tensor) -> None:
        nonlocal seen
        if args[0].ndim != 4:
            return
        seen += 1
        packed = np.packbits((out.detach() > 0).flatten(1).cpu().numpy(), axis=1)
        for digest, row in zip(digests, packed, strict=True):
            digest.update(row.tobytes())

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.no_grad():
            net(x)
    finally:
        for h in handles:
            h.remove()
    if not seen:
        raise NotApplicableError("the model has no ReLU on 4-D feature maps")
    return float(len({d.digest() for d in digests}))
