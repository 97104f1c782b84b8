"""Activation-pattern proxies: NASWOT log-determinant, linear regions (docs/proxies.md §nwot, §linear_regions)."""

from __future__ import annotations

import hashlib

import numpy as np
import torch
from torch import nn

from zeronas.errors import InvalidInputError, NotApplicableError
from zeronas.proxies.context import ProxyContext, is_relu
from zeronas.proxies.registry import check_choice, check_range, register_proxy
from zeronas.proxies.shared_pass import _agreement_kernel

_INPUTS = ("crops", "gaussian", "batch")
#: which units give the binary codes: 'auto' (ReLU-family modules when the model has any, else the sign of the
#: pre-activation of the SIGN_ACTIVATIONS), 'relu' (ReLU-family only), 'all' (both kinds together)
ACTIVATIONS = ("auto", "relu", "all")
#: ReLU-shaped activations without a ReLU in their type name, coded by the sign of their input
SIGN_ACTIVATIONS = frozenset(
    {
        "GELU",
        "GELUTanh",
        "QuickGELU",
        "SiLU",
        "Swish",
        "SwishMe",
        "Hardswish",
        "HardSwish",
        "HardSwishMe",
        "Mish",
        "MishMe",
        "HardMish",
        "HardMishMe",
        "ELU",
        "CELU",
        "SELU",
        "GammaAct",
    }
)
_NONE = "the model has no ReLU modules"


def _run_hooked(net: nn.Module, x: torch.Tensor, handles: list) -> None:
    """Run `net(x)` without gradients for its hooks, then remove them; a model failing on `x` is not applicable."""
    try:
        with torch.no_grad():
            net(x)
    except (RuntimeError, AssertionError, ValueError) as exc:
        reason = str(exc).splitlines()[0]
        raise NotApplicableError(f"the model cannot run on {tuple(x.shape[1:])} inputs: {reason}") from None
    finally:
        for h in handles:
            h.remove()


def is_sign_activation(module: nn.Module) -> bool:
    """A leaf activation of SIGN_ACTIVATIONS (GELU, SiLU/Swish, Hardswish, Mish, ELU, ...), matched on the type name."""
    return type(module).__name__ in SIGN_ACTIVATIONS and not any(True for _ in module.children())


def coded_modules(net: nn.Module, activations: str) -> list[nn.Module]:
    """The modules whose (pre-)activation signs give the codes, per the `activations` option (see ACTIVATIONS)."""
    relus = [m for m in net.modules() if is_relu(m)]
    if activations == "relu" or (activations == "auto" and relus):
        return relus
    signs = [m for m in net.modules() if is_sign_activation(m)]
    return relus + signs if activations == "all" else signs


def _check_activations(proxy: str, options: dict[str, object]) -> None:
    check_choice(proxy, options, "activations", ACTIVATIONS)


def _sign_kernel(ctx: ProxyContext, activations: str) -> torch.Tensor:
    """The NASWOT kernel summed over the input codes 1[pre-activation > 0] of `coded_modules`, in its own forward."""
    net = ctx.copy_model(dtype=ctx.x.dtype)
    modules = coded_modules(net, activations)
    if not modules:
        raise NotApplicableError(f"{_NONE} nor GELU/SiLU/Hardswish-type activation modules")
    total: torch.Tensor | None = None

    def hook(module: nn.Module, args: tuple) -> None:
        nonlocal total
        kernel, _ = _agreement_kernel(args[0].detach())
        total = kernel if total is None else total + kernel

    _run_hooked(net, ctx.x.clone(), [m.register_forward_pre_hook(hook) for m in modules])  # a fresh input
    if total is None:
        raise NotApplicableError("no coded activation module ran in the forward pass")
    return total


def _check_nwot(options: dict[str, object]) -> None:
    _check_activations("nwot", options)


def _nwot_drop(options: dict[str, object]) -> tuple[str, ...]:
    return ("relu_kernel",) if options["activations"] == "all" else ()


@register_proxy(
    "nwot",
    needs=("relu_kernel", "own"),
    family="activation",
    min_batch=2,
    check=_check_nwot,
    drop=_nwot_drop,
)
def nwot(ctx: ProxyContext, activations: str = "auto") -> float:
    """ln|det K|, K the agreement kernel of binary ReLU codes of the batch (NASWOT).

    `activations`: 'auto' codes ReLU-family modules (the shared pass's kernel) and, in a model without
    any, the sign of the pre-activation of GELU/SiLU/Hardswish-type modules (an own forward); 'relu' only
    ReLUs; 'all' both kinds together.
    """
    kernel = None if activations == "all" else ctx.relu_kernel
    if kernel is None:
        if activations == "relu":
            raise NotApplicableError(_NONE)
        kernel = _sign_kernel(ctx, activations)
    return float(torch.linalg.slogdet(kernel).logabsdet)


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
    _check_activations("linear_regions", options)


@register_proxy("linear_regions", needs=("own",), family="activation", check=_check_linear_regions)
def linear_regions(
    ctx: ProxyContext, samples: int = 1000, input: str = "crops", size: int = 3, activations: str = "auto"
) -> float:
    """Number of distinct ReLU activation patterns (linear regions) over `samples` inputs.

    Codes are sign(post-activation) of every ReLU-family module (ReLU, ReLU6, ...) with a 4-D input,
    concatenated per sample; rows are compared exactly through a 128-bit digest. `input`: 'crops'
    (random size x size patches of the real batch, as TE-NAS feeds its counter), 'gaussian'
    (N(0,1) at the batch resolution) or 'batch' (the batch itself; `samples` is then its size).
    `activations` as for nwot: in a model without ReLUs ('auto'), or with 'all', GELU/SiLU/Hardswish-type
    modules are coded too, on 4-D feature maps and 3-D token maps (B, N, C); their output is positive exactly
    where their input is, so the code is the sign of the pre-activation.
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
    modules = coded_modules(net, activations)
    if not modules:
        raise NotApplicableError(_NONE if activations == "relu" else f"{_NONE} nor GELU/SiLU/Hardswish-type ones")
    digests = [hashlib.blake2b(digest_size=16) for _ in range(x.shape[0])]
    seen = 0

    def hook(module: nn.Module, args: tuple, out: torch.Tensor) -> None:
        nonlocal seen
        if args[0].ndim != 4 and (is_relu(module) or args[0].ndim != 3):
            return
        seen += 1
        packed = np.packbits((out.detach() > 0).flatten(1).cpu().numpy(), axis=1)
        for digest, row in zip(digests, packed, strict=True):
            digest.update(row.tobytes())

    _run_hooked(net, x, [m.register_forward_hook(hook) for m in modules])
    if not seen:
        raise NotApplicableError("the model has no ReLU on 4-D feature maps (nor a coded activation on token maps)")
    return float(len({d.digest() for d in digests}))
