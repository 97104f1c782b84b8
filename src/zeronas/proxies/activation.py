"""Activation-pattern proxies: NASWOT log-determinant, linear regions (docs/proxies.md §nwot, §linear_regions)."""

from __future__ import annotations

import hashlib

import numpy as np
import torch
from torch import nn

from zeronas.errors import InvalidInputError, NotApplicableError
from zeronas.proxies.context import ProxyContext, is_relu
from zeronas.proxies.registry import check_choice, check_range, register_proxy

_INPUTS = ("crops", "gaussian", "batch")


@register_proxy("nwot", needs=("relu_kernel",), family="activation", min_batch=2)
def nwot(ctx: ProxyContext) -> float:
    """ln|det K|, K the agreement kernel of binary ReLU codes of the batch (NASWOT)."""
    if ctx.relu_kernel is None:
        raise NotApplicableError("the model has no ReLU modules")
    return float(torch.linalg.slogdet(ctx.relu_kernel).logabsdet)


def random_crops(
    images: torch.Tensor,
    samples: int,
    size: int,
    generator: torch.Generator,
    one_channel: bool = False,
    name: str = "crop",
) -> torch.Tensor:
    """`samples` random size x size patches of `images` (N, C, H, W), on CPU: (samples, C, size, size).

    With `one_channel`, each patch keeps one random channel: (samples, 1, size, size), the single-channel
    crops TE-NAS feeds its thin region-counting network. Draw order: image, [channel], top, left.
    """
    count, channels, height, width = images.shape
    if size > min(height, width):
        raise InvalidInputError(f"{name} size {size} exceeds the {height}x{width} images")
    image = torch.randint(0, count, (samples,), generator=generator)
    if one_channel:
        channel = torch.randint(0, channels, (samples, 1), generator=generator)
    else:
        channel = torch.arange(channels)[None, :]
    top = torch.randint(0, height - size + 1, (samples,), generator=generator)
    left = torch.randint(0, width - size + 1, (samples,), generator=generator)
    rows = torch.arange(size)
    ys = (top[:, None] + rows[None, :])[:, None, :, None]
    xs = (left[:, None] + rows[None, :])[:, None, None, :]
    return images.cpu()[image[:, None, None, None], channel[:, :, None, None], ys, xs]


def _crops(ctx: ProxyContext, samples: int, size: int) -> torch.Tensor:
    """`samples` random size x size patches of the batch images (TE-NAS's linear-region inputs)."""
    height, width = ctx.input_shape[-2:]
    if size > min(height, width):
        raise NotApplicableError(f"the {height}x{width} images are smaller than the {size}x{size} crops")
    gen = ctx.generator("linear_regions")
    return random_crops(ctx.x, samples, size, gen, name="linear_regions crop").to(ctx.x.device)


def _check_linear_regions(options: dict[str, object]) -> None:
    check_range("linear_regions", options, "samples", 1)
    check_range("linear_regions", options, "size", 1)
    check_choice("linear_regions", options, "input", _INPUTS)


@register_proxy("linear_regions", needs=("own",), family="activation", check=_check_linear_regions)
def linear_regions(ctx: ProxyContext, samples: int = 1000, input: str = "crops", size: int = 3) -> float:
    """Number of distinct ReLU activation patterns (linear regions) over `samples` inputs.

    Codes are sign(post-activation) of every ReLU-family module (ReLU, ReLU6, ...) with a 4-D input,
    concatenated per sample; rows are compared exactly through a 128-bit digest. `input`: 'crops'
    (random size x size patches of the real batch, as TE-NAS feeds its counter), 'gaussian'
    (N(0,1) at the batch resolution) or 'batch' (the batch itself; `samples` is then its size).
    """
    if input == "crops":
        x = _crops(ctx, samples, size)
    elif input == "gaussian":
        x = ctx.randn("linear_regions", samples, *ctx.input_shape)
    elif input == "batch":
        x = ctx.x.clone()  # the model may write into its input
    else:
        raise InvalidInputError(f"linear_regions input must be 'crops', 'gaussian' or 'batch', got {input!r}")
    net = ctx.copy_model()
    relus = [m for m in net.modules() if is_relu(m)]
    if not relus:
        raise NotApplicableError("the model has no ReLU modules")
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

    handles = [m.register_forward_hook(hook) for m in relus]
    try:
        with torch.no_grad():
            net(x)
    except (RuntimeError, AssertionError, ValueError) as exc:
        reason = str(exc).splitlines()[0]
        raise NotApplicableError(f"the model cannot run on {tuple(x.shape[1:])} inputs: {reason}") from None
    finally:
        for h in handles:
            h.remove()
    if not seen:
        raise NotApplicableError("the model has no ReLU on 4-D feature maps")
    return float(len({d.digest() for d in digests}))
