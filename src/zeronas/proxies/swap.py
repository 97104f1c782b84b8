"""SWAP and regularised SWAP (docs/proxies.md §swap, §reg_swap): distinct sample-wise activation patterns.

Per repeat, the working copy is re-initialised with N(0, 1) weights (as for Zen) and the first `samples`
real images go through it once, without gradients. The post-activation signs of every `nn.ReLU` whose
input is a 4-D feature map, concatenated per sample, form A (samples x units); SWAP counts the distinct
columns of A, i.e. the distinct patterns one unit shows across the samples.
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import nn

from zeronas.errors import InvalidInputError, NotApplicableError
from zeronas.modelstats import count_params
from zeronas.proxies.context import ProxyContext
from zeronas.proxies.registry import check_range, register_proxy
from zeronas.proxies.zen import gaussian_init

#: column patterns of at most this many samples are packed into one int64 per unit
_PACKED_SAMPLES = 62
#: packed patterns of at most this many samples are counted in a presence table of 2**samples flags
_TABLE_SAMPLES = 20


def pack_columns(signs: torch.Tensor) -> torch.Tensor:
    """One int64 per column of a samples x units 0/1 matrix (samples <= 62), sample s as bit s."""
    packed = torch.zeros(signs.shape[1], dtype=torch.int64, device=signs.device)
    for s in range(signs.shape[0]):
        packed |= signs[s].to(torch.int64) << s
    return packed


def count_packed(packed: list[torch.Tensor], samples: int) -> int:
    """Number of distinct codes in the union of `packed` (codes of `samples` bits each).

    Up to 2**20 possible codes a presence table counts them in one linear pass per tensor; beyond,
    `torch.unique` sorts their concatenation. Both are exact.
    """
    if samples <= _TABLE_SAMPLES:
        present = torch.zeros(2**samples, dtype=torch.bool, device=packed[0].device)
        for codes in packed:
            present[codes] = True
        return int(present.sum())
    return int(torch.unique(torch.cat(packed)).numel())


def distinct_columns(codes: torch.Tensor) -> int:
    """Number of distinct columns of a samples x units 0/1 matrix (`torch.unique` of its transpose, by rows)."""
    if codes.shape[0] <= _PACKED_SAMPLES:
        return count_packed([pack_columns(codes)], codes.shape[0])
    return int(torch.unique(codes.T, dim=0).shape[0])


def _distinct_patterns(net: nn.Module, x: torch.Tensor) -> int:
    """Distinct columns of the 0/1 sign matrix (samples x units) of the outputs of every nn.ReLU with a
    4-D input, in one forward; up to 62 samples each map is packed as it is produced, so the matrix is never built."""
    samples = x.shape[0]
    packed = samples <= _PACKED_SAMPLES
    maps: list[torch.Tensor] = []

    def hook(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
        if args and isinstance(args[0], torch.Tensor) and args[0].ndim == 4:
            signs = (output.detach() > 0).flatten(1)
            maps.append(pack_columns(signs) if packed else signs)

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.ReLU)]
    if not handles:
        raise NotApplicableError("the model has no nn.ReLU module (SWAP codes ReLU outputs)")
    try:
        with torch.no_grad():
            net(x)
    finally:
        for handle in handles:
            handle.remove()
    if not maps:
        raise NotApplicableError("no nn.ReLU ran on a 4-D feature map")
    if packed:
        return count_packed(maps, samples)
    return distinct_columns(torch.cat(maps, dim=1))


def swap_mean(ctx: ProxyContext, repeats: int, samples: int) -> float:
    """Mean over `repeats` N(0, 1) re-initialisations of the distinct-column count; shared by swap and reg_swap."""

    def compute() -> float:
        x = ctx.x[:samples]
        counts = []
        for r in range(repeats):
            net = ctx.copy_model()
            torch.manual_seed(int(ctx.generator(f"swap-init-{r}").initial_seed()))
            gaussian_init(net)
            counts.append(_distinct_patterns(net, x.clone()))  # a fresh input: the model may write into it
        return float(sum(counts) / len(counts))

    return ctx.memo(f"swap:{repeats}:{samples}", compute)


def _check_swap(options: dict[str, object], proxy: str = "swap") -> None:
    check_range(proxy, options, "repeats", 1)
    check_range(proxy, options, "samples", 1)


@register_proxy("swap", needs=("own",), family="swap", check=_check_swap)
def swap(ctx: ProxyContext, repeats: int = 32, samples: int = 16) -> float:
    """Mean number of distinct per-unit ReLU patterns over `samples` real images, N(0, 1) weights (SWAP-Score).

    Peng et al., ICLR 2024: the more distinct activation patterns the units of an untrained network
    show across a batch, the more expressive the network. Uses the first `samples` images of the batch
    (all of them when the batch is smaller), averaged over `repeats` re-initialisations.
    """
    return swap_mean(ctx, repeats, samples)


def _check_reg_swap(options: dict[str, object]) -> None:
    _check_swap(options, "reg_swap")
    for key in ("mu", "sigma"):
        value = options[key]
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise InvalidInputError(f"option {key!r} of proxy 'reg_swap' must be a finite number, got {value!r}")
    if options["sigma"] is not None and not options["sigma"] > 0:
        raise InvalidInputError(f"option 'sigma' of proxy 'reg_swap' must be > 0, got {options['sigma']!r}")


@register_proxy("reg_swap", needs=("own",), family="swap", check=_check_reg_swap)
def reg_swap(
    ctx: ProxyContext, repeats: int = 32, samples: int = 16, mu: float | None = None, sigma: float | None = None
) -> float:
    """SWAP x exp(-(P - mu)^2 / sigma), P the parameter count in thousands: SWAP steered towards a model size.

    `mu` and `sigma` (in thousands of parameters) have no default in the SWAP code: both must be given.
    """
    if mu is None or sigma is None:
        raise NotApplicableError("needs options mu and sigma (thousands of parameters; no defaults)")
    size = count_params(ctx.model) / 1e3
    return swap_mean(ctx, repeats, samples) * math.exp(-((size - float(mu)) ** 2) / float(sigma))
