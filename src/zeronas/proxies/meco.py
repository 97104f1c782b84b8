"""MeCo and MeCo-opt (docs/proxies.md §meco, §meco_opt): minimum eigenvalues of feature-map correlation matrices.

One forward of a single real image (the batch's first) with a forward hook on every module, the model
and its containers included. Each module's output is read at its first-indexed element (sample 0 of a
tensor, the first tensor of a tuple), reshaped to rows x columns (channels x positions for a feature
map), and contributes the smallest eigenvalue of the correlation matrix of its rows.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from zeronas.errors import NotApplicableError
from zeronas.proxies.context import ProxyContext
from zeronas.proxies.registry import check_range, register_proxy


def _first_element(output: object) -> torch.Tensor | None:
    """output[0]: sample 0 of a tensor, the first element of a tuple or list; None when that is no float tensor."""
    tensor = isinstance(output, torch.Tensor) and output.ndim > 0
    if not (tensor or (isinstance(output, list | tuple) and output)):
        return None
    first = output[0]  # type: ignore[index]
    if not isinstance(first, torch.Tensor) or first.ndim == 0 or not first.is_floating_point():
        return None
    return first


def min_correlation_eigenvalue(rows: torch.Tensor) -> float:
    """Smallest eigenvalue of the row-by-row correlation matrix, NaN/inf entries (constant rows) set to 0.

    Computed in float64 with `eigvalsh` on the symmetrised matrix: the same values as the real parts of
    a general eigendecomposition of the (symmetric) correlation matrix.
    """
    corr = torch.corrcoef(rows.detach().to(torch.float64))
    corr = torch.where(torch.isfinite(corr), corr, torch.zeros_like(corr))
    return float(torch.linalg.eigvalsh((corr + corr.T) / 2)[0])


def meco_sum(ctx: ProxyContext, channels: int | None, proxy: str) -> float:
    """Σ over hooked module outputs of the min correlation eigenvalue (over `channels` random rows, scaled)."""
    net = ctx.copy_model()
    gen = ctx.generator(proxy) if channels is not None else None
    terms: list[float] = []
    skipped = 0

    def hook(module: nn.Module, args: tuple, output: object) -> None:
        nonlocal skipped
        first = _first_element(output)
        if first is None or first.shape[0] < 2 or first[0].numel() < 2:
            skipped += 1
            return
        rows = first.reshape(first.shape[0], -1)
        scale = 1.0
        if channels is not None and rows.shape[0] > channels:
            pick = torch.randperm(rows.shape[0], generator=gen, device=gen.device)[:channels]
            scale = rows.shape[0] / channels
            rows = rows[pick.to(rows.device)]
        value = min_correlation_eigenvalue(rows) * scale
        if math.isfinite(value):
            terms.append(value)

    handles = [m.register_forward_hook(hook) for m in net.modules()]
    try:
        with torch.no_grad():
            net(ctx.x[:1].clone())  # a fresh input: the model may write into it
    finally:
        for handle in handles:
            handle.remove()
    if not terms:
        raise NotApplicableError("no module output has at least 2 rows and 2 columns (e.g. channels x positions)")
    if skipped:
        ctx.notes[proxy] = f"{skipped} of {skipped + len(terms)} module outputs skipped (fewer than 2 rows or columns)"
    return float(sum(terms))


@register_proxy("meco", needs=("own",), family="meco")
def meco(ctx: ProxyContext) -> float:
    """Σ over every module's output of the min eigenvalue of its channel correlation matrix, on one real image.

    MeCo (Jiang et al., NeurIPS 2023): a network whose feature maps keep their channels decorrelated
    (no near-duplicate channels) predicts higher accuracy.
    """
    return meco_sum(ctx, None, "meco")


def _check_opt(options: dict[str, object]) -> None:
    check_range("meco_opt", options, "channels", 2)


@register_proxy("meco_opt", needs=("own",), family="meco", check=_check_opt)
def meco_opt(ctx: ProxyContext, channels: int = 8) -> float:
    """MeCo on `channels` randomly drawn rows of each output (seeded), each term scaled by rows / `channels`.

    The cheap variant of MeCo: the correlation matrices shrink to channels x channels.
    """
    return meco_sum(ctx, channels, "meco_opt")
