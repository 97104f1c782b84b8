"""Jacobian isometry (docs/proxies.md §jacobian_isometry): how evenly the input-output Jacobian spreads its spectrum.

J is the Jacobian of the batch's output (logits or maps, flattened) with respect to the batch's images
(flattened), in proxy mode: train-mode BatchNorm couples the samples, so J is the Jacobian of the map the
network computes on the whole batch. With σ_1 ... σ_n its singular values (n = min of the two sizes,
zeros included) and A = J Jᵀ:

    jacobian_isometry = -ln( mean σ⁴ / (mean σ²)² ) = -ln( n · tr(A²) / tr(A)² )

0 when every singular value is equal (J is a scaled isometry), down to -ln n when one direction
dominates. It does not change when J is scaled, so it rates the shape of the spectrum, not the gain.
tr(A) and tr(A²) are Hutchinson estimates over `probes` seeded Rademacher vectors v:
tr(A) ≈ mean ‖Jᵀv‖², tr(A²) ≈ mean ‖J Jᵀ v‖², the second through a double backward (J w = ∂⟨Jᵀv, w⟩/∂v).
Both estimates are exact for a diagonal A; the squared norms are summed in float64.
"""

from __future__ import annotations

import math

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

from zeronas.errors import NotApplicableError
from zeronas.proxies.context import ProxyContext
from zeronas.proxies.losses import task_output
from zeronas.proxies.registry import check_range, register_proxy


def _rademacher(ctx: ProxyContext, tag: str, like: torch.Tensor) -> torch.Tensor:
    gen = ctx.generator(tag)
    signs = torch.randint(0, 2, like.shape, generator=gen, device=gen.device)
    return (signs.to(like.dtype) * 2 - 1).to(like.device)


def _check(options: dict[str, object]) -> None:
    check_range("jacobian_isometry", options, "probes", 1)


@register_proxy("jacobian_isometry", needs=("own",), family="jacobian", check=_check)
def jacobian_isometry(ctx: ProxyContext, probes: int = 4) -> float:
    """-ln(mean σ⁴ / (mean σ²)²) over the singular values σ of the input-output Jacobian (Hutchinson, seeded).

    Dynamical isometry: networks whose input-output Jacobian has evenly spread singular values propagate
    signals and gradients well at initialisation. Scale-free, 0 for a (scaled) isometry, negative otherwise.
    """
    net = ctx.copy_model()
    x = ctx.x.detach().clone().requires_grad_(True)
    with sdpa_kernel([SDPBackend.MATH]):  # fused attention kernels have no double backward
        out = task_output(net(x.clone()), ctx.batch_size, ctx.loss)  # the leaf stays untouched by the model
        if not out.requires_grad:
            raise NotApplicableError("the output does not depend on the input")
        trace = trace_sq = 0.0
        for j in range(probes):
            v = _rademacher(ctx, f"jacobian_isometry-{j}", out).requires_grad_(True)
            (jt_v,) = torch.autograd.grad(out, x, v, retain_graph=True, create_graph=True, allow_unused=True)
            if jt_v is None:
                raise NotApplicableError("the output does not depend on the input")
            a_v = None
            if jt_v.requires_grad:
                (a_v,) = torch.autograd.grad(jt_v, v, jt_v.detach(), retain_graph=True, allow_unused=True)
            trace += float(jt_v.detach().to(torch.float64).square().sum())
            if a_v is not None:
                trace_sq += float(a_v.detach().to(torch.float64).square().sum())
            del v, jt_v, a_v  # this probe's double-backward graph goes before the next one is built
    n = min(out.numel(), x.numel())
    mean_trace, mean_trace_sq = trace / probes, trace_sq / probes
    if not (mean_trace > 0 and mean_trace_sq > 0 and math.isfinite(mean_trace) and math.isfinite(mean_trace_sq)):
        return math.nan  # a zero or non-finite Jacobian has no spectrum shape
    return -math.log(n * mean_trace_sq / mean_trace**2)
