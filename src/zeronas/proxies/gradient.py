"""Pruning-at-initialisation proxies from the shared task-loss backward (PROXIES.md §1-4, §12).

All sum over Conv/Linear weights only (never biases), per the NASLib / zero-cost-nas definitions.
"""

from __future__ import annotations

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

from zeronas.errors import NotApplicableError
from zeronas.proxies.context import ProxyContext, prunable_layers
from zeronas.proxies.losses import task_loss, task_output
from zeronas.proxies.registry import check_choice, register_proxy

#: GraSP's Hessian-gradient product: the exact double backward, or a forward finite difference
HVP_CHOICES = ("exact", "finite_difference")
#: finite-difference step as a fraction of the global Conv/Linear weight norm (see `_finite_difference_hg`)
FD_RELATIVE_STEP = 3e-6


def _pairs(ctx: ProxyContext, source: str = "grads") -> list[tuple[torch.Tensor, torch.Tensor]]:
    grads = ctx.require(source)
    pairs = [(ctx.weights[n].double(), g.double()) for n, g in grads.items() if g is not None]
    if not pairs:
        raise NotApplicableError("no Conv/Linear weight receives a gradient")
    return pairs


@register_proxy("grad_norm", needs=("grads",), family="gradient")
def grad_norm(ctx: ProxyContext) -> float:
    """Sum over layers of the L2 norm of the loss gradient w.r.t. the weight."""
    return float(sum(g.norm() for _, g in _pairs(ctx)))


@register_proxy("snip", needs=("grads",), family="gradient")
def snip(ctx: ProxyContext) -> float:
    """Connection sensitivity: sum of |θ · ∂L/∂θ|."""
    return float(sum((w * g).abs().sum() for w, g in _pairs(ctx)))


@register_proxy("plain", needs=("grads",), family="gradient")
def plain(ctx: ProxyContext) -> float:
    """Signed sum of θ · ∂L/∂θ."""
    return float(sum((w * g).sum() for w, g in _pairs(ctx)))


class _FrozenGates:
    """Forward hooks replaying each ReLU / LeakyReLU call's slopes recorded at θ (y = slope · x).

    Within a step ReLUs would switch sides; each switch is a jump in the gradient that a difference
    quotient turns into O(1/ε), so without freezing the quotient never converges to the exact
    (almost-everywhere) H g. Frozen, the network at θ computes the same values and gradients.
    """

    def __init__(self, net: torch.nn.Module) -> None:
        self.recording = True
        self.slopes: dict[tuple[int, int], torch.Tensor] = {}
        self.calls: dict[int, int] = {}
        kinds = (torch.nn.ReLU, torch.nn.LeakyReLU)
        self.handles = [m.register_forward_hook(self._hook) for m in net.modules() if isinstance(m, kinds)]

    def _hook(self, module: torch.nn.Module, args: tuple, out: torch.Tensor) -> torch.Tensor | None:
        call = self.calls.get(id(module), 0)  # a module may run several times per forward
        self.calls[id(module)] = call + 1
        if self.recording:
            inp = args[0].detach()
            low = getattr(module, "negative_slope", 0.0)
            positive = inp > 0  # a 0/1 mask is enough for ReLU (multiplied with type promotion)
            self.slopes[(id(module), call)] = positive if low == 0.0 else torch.where(positive, 1.0, low).to(inp.dtype)
            return None
        return args[0] * self.slopes[(id(module), call)]

    def replay(self) -> None:
        self.recording = False
        self.calls = {}

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def _loss_grads(ctx: ProxyContext, net: torch.nn.Module, weights: list[torch.Tensor]) -> tuple:
    """Task-loss gradients of `weights` on the batch, with the shared pass's attention kernels."""
    with sdpa_kernel([SDPBackend.MATH]):
        output = task_output(net(ctx.x.detach().clone()), ctx.batch_size, ctx.loss)
    return torch.autograd.grad(task_loss(output, ctx.y, ctx.loss), weights, allow_unused=True)


def _finite_difference_hg(ctx: ProxyContext) -> dict[str, torch.Tensor | None]:
    """H g ≈ (∇L(θ + ε v) − g) |g| / ε with v = g/|g|, on the working copy, ReLU slopes frozen at θ.

    g is the shared pass's gradient, so one extra forward+backward (and a no-grad forward to record
    the ReLU slopes) replaces the double backward. ε = FD_RELATIVE_STEP · |θ| (global norm, float32):
    a step relative to the weights is invariant to the init's scale. Larger steps lose to truncation
    (BatchNorm and weight products curve fast in some cells: at 1e-5 one of 100 NB201 cells changed
    sign, Spearman 0.95), smaller ones to float32 rounding (1e-6: median error 3%); 3e-6 gave
    Spearman 0.9996 with exact GraSP on 100 cells (median error 1.4%), and central differences
    (0.9998) were not worth a second pass. Kinks other than ReLU / LeakyReLU modules (max-pool,
    functional ReLUs, ReLU6) are not frozen and bias the value; non-deterministic GPU kernels add
    their run-to-run noise times 1/ε.
    """
    grads = ctx.require("grads")
    net = ctx.copy_model(dtype=ctx.x.dtype)
    layers = [(n, m.weight) for n, m in prunable_layers(net) if grads.get(n) is not None]
    weights = [w for _, w in layers]
    direction = [grads[n] for n, _ in layers]
    g_norm = float(torch.linalg.vector_norm(torch.stack([d.double().norm() for d in direction])))
    if g_norm == 0.0:  # H · 0 = 0
        return {n: torch.zeros_like(w) for n, w in layers}
    w_norm = float(torch.linalg.vector_norm(torch.stack([ctx.weights[n].double().norm() for n, _ in layers])))
    step = FD_RELATIVE_STEP * (w_norm or 1.0)
    gates = _FrozenGates(net)
    try:
        with torch.no_grad(), sdpa_kernel([SDPBackend.MATH]):
            net(ctx.x.detach().clone())
            gates.replay()
            torch._foreach_add_(weights, direction, alpha=step / g_norm)
        plus = _loss_grads(ctx, net, weights)
    finally:  # the working copy is never left perturbed or hooked
        gates.remove()
        with torch.no_grad():
            torch._foreach_copy_(weights, [ctx.weights[n] for n, _ in layers])
    scale = g_norm / step
    return {n: None if p is None else (p - g) * scale for (n, _), p, g in zip(layers, plus, direction, strict=True)}


def _check_grasp(options: dict[str, object]) -> None:
    check_choice("grasp", options, "hvp", HVP_CHOICES)


@register_proxy(
    "grasp",
    needs=("grads", "hessian"),
    family="gradient",
    check=_check_grasp,
    drop=lambda options: ("hessian",) if options["hvp"] == "finite_difference" else (),
)
def grasp(ctx: ProxyContext, hvp: str = "exact") -> float:
    """Gradient signal preservation: sum of -θ · (H g), with H the loss Hessian and g its gradient.

    `hvp="exact"` takes H g by double backward on the shared pass's graph; "finite_difference"
    drops that work and differences the gradient one small step along g instead (cheaper, approximate).
    """
    ctx.require("grads")  # no weights or unusable labels: the reason the loss gradient is missing
    if hvp == "finite_difference":
        ctx.defer(None)  # another consumer of the graph may have asked for the Hessian work: not needed here
        hg = _finite_difference_hg(ctx)
    else:
        ctx.settle()
        if ctx.hessian_error:
            raise NotApplicableError(f"Hessian-gradient product failed: {ctx.hessian_error}")
        hg = ctx.hessian_grads
    if not hg or all(h is None for h in hg.values()):
        raise NotApplicableError("the loss gradient has no curvature path to the weights")
    return float(sum((-ctx.weights[n].double() * h.double()).sum() for n, h in hg.items() if h is not None))


@register_proxy("fisher", needs=("grads", "fisher"), family="gradient")
def fisher(ctx: ProxyContext) -> float:
    """Channel Fisher information ½·mean_n(Σ_hw z·∂L/∂z)², weighted by each layer's fan-in (as NASLib)."""
    values = ctx.require("fisher")
    return float(sum(f.double().sum() * fan_in for f, fan_in in values.values()))
