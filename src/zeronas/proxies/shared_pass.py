"""The shared real-batch pass: one forward, then only the backward passes the requested proxies need.

Every artifact is computed on one prepared copy of the model, in this order so that a single
autograd graph serves all of them: task-loss weight gradients (the batch's loss, `losses.task_loss`;
with Fisher hooks live, and with `create_graph` when GraSP's Hessian-gradient product is wanted), the
input Jacobian of the summed output (logits or maps), the per-sample NTK gradients. Each step records
its wall time so the engine can attribute cost to the proxies that asked for it.

GraSP's exact H g (the double backward of <stopgrad(g), g>, the cheapest exact formulation measured
in benchmarks/grasp.py) is left on the retained graph (`ProxyContext.defer`): GraSP runs it, or
drops it when its finite-difference option is chosen, and the context runs it before the working
copy is handed out again.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import torch
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel

from zeronas.errors import InvalidInputError, NotApplicableError, ZeronasError
from zeronas.proxies.context import ProxyContext, is_relu, prunable_layers
from zeronas.proxies.losses import check_fit, task_loss, task_output
from zeronas.proxies.ntk_gram import ntk_gram

#: float32 holds integer sums of 0/1 codes exactly up to 2**24 units
_EXACT_FLOAT32_UNITS = 1 << 24
#: narrower ReLU inputs take the float path (cheap there, and clear of the int8 kernel's k=1 bug)
_INT8_MIN_UNITS = 64


def _code_gram(flat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """c cᵀ and the row sums of the 0/1 codes c = 1[flat > 0], exact integers.

    On CPU the codes go through an int8 matmul with int32 accumulation (exact below 2**31 units),
    measured 11x faster than float32 for 64 x 16,384 codes; elsewhere, for narrow inputs (torch
    2.14's CPU `_int_mm` returns garbage for a single unit), or where that kernel is missing,
    float32 (float64 past 2**24 units).
    """
    units = flat.shape[1]
    if flat.device.type == "cpu" and _INT8_MIN_UNITS <= units < (1 << 31):
        c = torch.gt(flat, 0, out=torch.empty(flat.shape, dtype=torch.int8))
        try:
            gram = torch._int_mm(c, c.T)
            return gram, torch.diagonal(gram)  # Σ c² = Σ c: no slow int8 reduction
        except (RuntimeError, AttributeError):
            pass
    exact = torch.float32 if units <= _EXACT_FLOAT32_UNITS else torch.float64
    c = torch.gt(flat, 0, out=torch.empty(flat.shape, dtype=exact, device=flat.device))
    return c @ c.T, c.sum(1)


def _agreement_kernel(inp: torch.Tensor) -> tuple[torch.Tensor, int]:
    """NASWOT kernel of one ReLU input and its unit count.

    Σ over units of [c_a c_b + (1-c_a)(1-c_b)] = N + 2 c cᵀ - r 1ᵀ - 1 rᵀ with c = 1[inp > 0]; the
    unit order does not matter, so a channels-last input is read in its memory order (no copy).
    The kernel is returned in float64.
    """
    if inp.ndim == 4 and not inp.is_contiguous() and inp.is_contiguous(memory_format=torch.channels_last):
        inp = inp.permute(0, 2, 3, 1)
    flat = inp.reshape(inp.shape[0], -1)
    units = flat.shape[1]
    gram, rows = _code_gram(flat)
    rows = rows.to(torch.float64)
    kernel = gram.to(torch.float64) * 2.0
    return kernel - rows[:, None] - rows[None, :] + float(units), units


class _Hooks:
    """Forward hooks for the NASWOT kernel and Fisher values; Fisher is recorded only when armed."""

    #: ReLU inputs whose kernels are kept for reuse (the tensors are held, so their ids stay unique)
    _RECENT = 8

    def __init__(self, net: nn.Module, ctx: ProxyContext, relu: bool, fisher: bool) -> None:
        self.ctx = ctx
        self._recent: list[tuple] = []
        self.armed = False
        self.handles: list[torch.utils.hooks.RemovableHandle] = []
        if relu:
            for module in net.modules():
                if is_relu(module):
                    self.handles.append(module.register_forward_pre_hook(self._relu_hook))
        if fisher:
            for name, module in prunable_layers(net):
                self.handles.append(module.register_forward_hook(self._fisher_hook(name, module)))

    def _relu_hook(self, module: nn.Module, args: tuple) -> None:
        inp = args[0]
        # ReLUs fed by the same tensor (a DAG node read by several edges) have the same kernel
        hit = next((e for e in self._recent if e[0] is inp and e[1] == inp._version), None)
        if hit is None:
            hit = (inp, inp._version, *_agreement_kernel(inp.detach()))
            self._recent = [hit, *self._recent[: self._RECENT - 1]]
        kernel, units = hit[2], hit[3]
        ctx = self.ctx
        ctx.relu_kernel = kernel.clone() if ctx.relu_kernel is None else ctx.relu_kernel + kernel
        ctx.relu_units += units

    def _fisher_hook(self, name: str, module: nn.Module) -> Callable:
        conv = isinstance(module, nn.modules.conv._ConvNd)
        fan_in = int(module.weight.shape[1:].numel())

        def forward_hook(mod: nn.Module, args: tuple, out: torch.Tensor) -> None:
            if not (isinstance(out, torch.Tensor) and out.requires_grad):
                return
            act = out.detach()

            def grad_hook(grad: torch.Tensor) -> None:
                if not self.armed:
                    return
                prod = act * grad.detach()
                if conv:
                    per_channel = prod.flatten(2).sum(-1)
                else:
                    per_channel = prod.reshape(prod.shape[0], -1, prod.shape[-1]).sum(1)
                value = 0.5 * per_channel.pow(2).mean(0)
                old = self.ctx.fisher.get(name)
                self.ctx.fisher[name] = (value if old is None else old[0] + value, fan_in)

            out.register_hook(grad_hook)

        return forward_hook

    def remove(self) -> None:
        self._recent = []
        for handle in self.handles:
            handle.remove()


def _hessian_grads(layers: list, weights: list[torch.Tensor], grads: tuple) -> dict[str, torch.Tensor | None]:
    """H g for the task loss: the gradient of z = <stopgrad(g), g> w.r.t. the weights."""
    used = [g for g in grads if g is not None]
    z = sum((g.detach() * g).sum() for g in used) if used else None
    if z is None or not z.requires_grad:
        return {name: None for name, _ in layers}
    hg = torch.autograd.grad(z, weights, allow_unused=True)
    return {name: (h.detach() if h is not None else None) for (name, _), h in zip(layers, hg, strict=True)}


def _deferred_hessian(ctx: ProxyContext, layers: list, weights: list[torch.Tensor], grads: tuple) -> Callable[[], None]:
    """The exact H g on the retained graph, filling `ctx.hessian_grads` (or `hessian_error`) when run."""

    def work() -> None:
        try:
            ctx.hessian_grads = _hessian_grads(layers, weights, grads)
        except RuntimeError as exc:  # an op without double backward fails GraSP alone
            ctx.hessian_error = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"

    return work


def _gradient_problem(ctx: ProxyContext, output: torch.Tensor, weights: list[torch.Tensor]) -> ZeronasError | None:
    """Why no task-loss gradient can be taken (no Conv/Linear weights, targets that do not fit), or None."""
    if not weights:
        return NotApplicableError("the model has no Conv/Linear weights")
    try:
        check_fit(output, ctx.y, ctx.loss)
    except InvalidInputError as exc:
        return exc
    return None


def run_shared_pass(ctx: ProxyContext, needs: set[str]) -> dict[str, float]:
    """Fill `ctx` with the artifacts in `needs`; return seconds spent per artifact ('forward' too)."""
    seconds: dict[str, float] = {}
    net = ctx.copy_model(dtype=ctx.x.dtype)
    hooks = _Hooks(net, ctx, relu="relu_kernel" in needs, fisher="fisher" in needs)
    want_grads = bool(needs & {"grads", "fisher", "hessian"})
    try:
        start = time.perf_counter()
        x = ctx.x.detach().clone().requires_grad_("jacobian" in needs)
        backward = want_grads or bool(needs & {"jacobian", "ntk"})
        # fused attention kernels have no double backward; GraSP's Hessian product needs one
        with (
            sdpa_kernel([SDPBackend.MATH]) if "hessian" in needs else contextlib.nullcontext(),
            torch.set_grad_enabled(backward),  # a forward-only pass (NASWOT) records no graph
        ):
            # the Jacobian leaf stays untouched by a model that writes into its input
            logits = task_output(net(x.clone() if x.requires_grad else x), ctx.batch_size, ctx.loss)
        ctx.logits = logits.detach()
        ctx.num_classes = int(logits.shape[1])
        layers = prunable_layers(net)
        weights = [m.weight for _, m in layers]
        ctx.weights = {name: m.weight.detach().clone() for name, m in layers}
        seconds["forward"] = time.perf_counter() - start
        problem = _gradient_problem(ctx, logits, weights) if want_grads else None
        if problem is not None:  # the loss-gradient artifacts fail; Jacobian, NTK and ReLU codes go on
            ctx.missing.update(dict.fromkeys(("grads", "fisher", "hessian_grads"), problem))
        # the loss gradient comes last: with GraSP its create_graph backward doubles the retained graph,
        # which then never coexists with the NTK's per-sample rows (same values in any order)
        loss_steps = ("grads", "hessian") if "hessian" in needs else ("grads",)
        pending = [n for n in ("jacobian", "ntk") if n in needs]
        pending += [n for n in loss_steps if want_grads and problem is None]

        if "jacobian" in needs:
            start = time.perf_counter()
            pending.remove("jacobian")
            jac = None
            if logits.requires_grad:
                (jac,) = torch.autograd.grad(
                    logits, x, torch.ones_like(logits), retain_graph=bool(pending), allow_unused=True
                )
            if jac is None:
                ctx.missing["jacobian"] = NotApplicableError("the output does not depend on the input")
            else:
                ctx.jacobian = jac.detach().reshape(jac.shape[0], -1)
            seconds["jacobian"] = time.perf_counter() - start
        if "ntk" in needs:
            start = time.perf_counter()
            pending.remove("ntk")
            params = [p for name, p in net.named_parameters() if "weight" in name]
            if params:
                ctx.ntk_gram = ntk_gram(logits.flatten(1), params, retain=bool(pending))
            else:
                ctx.missing["ntk_gram"] = NotApplicableError("the model has no weight parameters")
            seconds["ntk"] = time.perf_counter() - start
        grads: tuple = ()
        if "grads" in pending:
            start = time.perf_counter()
            pending.remove("grads")
            loss = task_loss(logits, ctx.y, ctx.loss)
            hooks.armed = True
            grads = torch.autograd.grad(
                loss, weights, allow_unused=True, retain_graph=bool(pending), create_graph="hessian" in needs
            )
            hooks.armed = False
            ctx.grads = {
                name: (g.detach() if g is not None else None) for (name, _), g in zip(layers, grads, strict=True)
            }
            seconds["grads"] = time.perf_counter() - start
        if "hessian" in pending:  # timed with GraSP, which runs it (the steps above kept the graph)
            ctx.defer(_deferred_hessian(ctx, layers, weights, grads))
    finally:
        hooks.remove()
    return seconds
