"""`score()`: compute a set of proxies on one model and batch with the fewest passes.

Plan: static proxies on the pristine model; one shared real-batch pass for every proxy that needs
gradients, the Jacobian, the NTK, the ReLU kernel or Fisher values; then each proxy with its own
passes (synflow, zen, gradsign, ...) on fresh copies. The caller's model is never modified: its
parameters, buffers, `requires_grad` flags and train/eval mode are the same afterwards.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import torch
from torch import nn

from zeronas.data.batch import Batch, check_images, check_labels
from zeronas.errors import InvalidInputError, NotApplicableError, ZeronasError
from zeronas.proxies.context import ProxyContext, classifier_logits, single_value_bn
from zeronas.proxies.losses import CLASS_LOSSES
from zeronas.proxies.registry import SHARED_NEEDS, get_proxy, resolve_proxies
from zeronas.proxies.shared_pass import run_shared_pass

#: value NAS-Bench-Suite-Zero substitutes for NaN/inf scores (nan_policy="naslib")
NASLIB_NAN_VALUE = -1e8
#: largest seed: it seeds torch and is stored as an int64
_MAX_SEED = 2**63 - 1


@dataclass
class ProxyValue:
    """One proxy's outcome: the oriented value, its status and why, and the seconds it cost."""

    name: str
    value: float
    status: str = "ok"  # ok | nan | not_applicable | error
    reason: str = ""
    seconds: float = 0.0
    raw: float = math.nan

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class Scores(dict):
    """proxy name -> oriented value (NaN when not computed); `details` has status, reason, seconds."""

    def __init__(
        self, details: Mapping[str, ProxyValue], settings: Mapping[str, object], pass_seconds: Mapping[str, float]
    ):
        super().__init__({name: d.value for name, d in details.items()})
        self.details: dict[str, ProxyValue] = dict(details)
        self.settings: dict[str, object] = dict(settings)
        self.pass_seconds: dict[str, float] = dict(pass_seconds)

    @property
    def total_seconds(self) -> float:
        return sum(d.seconds for d in self.details.values())

    def failures(self) -> dict[str, str]:
        return {n: f"{d.status}: {d.reason}" for n, d in self.details.items() if not d.ok}


def _as_batch(batch: object, device: torch.device) -> tuple[Batch, bool]:
    """Validate and normalise the batch: float32 images, int64 labels or maps (float32 regression targets)."""
    x2 = y2 = None
    source, loss = "tensor", "cross_entropy"
    if isinstance(batch, Batch):
        x, y, labelled, source, x2, y2, loss = batch.x, batch.y, True, batch.source, batch.x2, batch.y2, batch.loss
    elif isinstance(batch, torch.Tensor):
        x, y, labelled = batch, None, False
    elif isinstance(batch, tuple | list) and len(batch) == 2:
        (x, y), labelled = batch, True
    else:
        raise InvalidInputError(
            f"batch must be a Batch, an image tensor or (images, labels), got {type(batch).__name__}"
        )
    check_images(x, "batch images" if labelled else "batch")
    if labelled:
        if loss == "cross_entropy":
            check_labels(y, x.shape[0])  # a Batch checked its targets when it was made
    else:
        y = torch.zeros(x.shape[0], dtype=torch.int64)
    # the Batch built below checks the second draw. Proxies work in float32 (synflow casts to float64
    # itself): other image dtypes are cast once here
    x, x2 = (None if t is None else t.to(device=device, dtype=torch.float32) for t in (x, x2))
    target_dtype = torch.int64 if loss in CLASS_LOSSES else torch.float32
    y, y2 = (None if t is None else t.to(device=device, dtype=target_dtype) for t in (y, y2))
    return Batch(x, y, source, x2, y2, loss=loss), labelled


def _check_seed(seed: object) -> int:
    """The seed as a Python int in 0..2**63-1 (it seeds torch and is stored as int64)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise InvalidInputError(f"seed must be an integer, got {type(seed).__name__} {seed!r}")
    if not 0 <= int(seed) <= _MAX_SEED:
        raise InvalidInputError(f"seed must be in 0..2**63-1, got {seed}")
    return int(seed)


def _check_options(options: object, names: list[str]) -> dict[str, dict[str, object]]:
    """Per-proxy options checked against each proxy's declared options (names, types, ranges)."""
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        raise InvalidInputError(f"options must map proxy names to {{option: value}}, got {type(options).__name__}")
    unknown = set(options) - set(names)
    if unknown:
        raise InvalidInputError(f"options given for proxies not requested: {', '.join(sorted(map(str, unknown)))}")
    for name, given in options.items():
        if not isinstance(given, Mapping):
            raise InvalidInputError(f"options of proxy {name!r} must be a dict, got {type(given).__name__}")
    return {n: get_proxy(n).check_options(dict(options.get(n, {}))) for n in names}


def _model_device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _draw_labels(ctx: ProxyContext) -> None:
    """When the caller gave no labels: learn the output size and draw uniform labels (seeded).

    A model that cannot classify one input keeps the all-zero labels: the proxies that run it then
    report its failure themselves.
    """
    net = ctx.copy_model().eval()
    try:
        with torch.no_grad():
            classes = int(classifier_logits(net(ctx.x[:1].clone()), 1).shape[-1])
    except Exception:  # reported by every proxy that runs the model
        return
    gen = ctx.generator("labels")
    ctx.y = torch.randint(0, classes, (ctx.batch_size,), generator=gen).to(ctx.x.device)
    if ctx.x2 is not None:
        ctx.y2 = torch.randint(0, classes, (ctx.x2.shape[0],), generator=gen).to(ctx.x.device)


def _finish(name: str, raw: float, higher_is_better: bool, nan_policy: str, seconds: float) -> ProxyValue:
    raw = float(raw)
    value = raw if higher_is_better else -raw
    if math.isfinite(value):
        return ProxyValue(name, value, seconds=seconds, raw=raw)
    reason = f"non-finite value ({raw})"
    if nan_policy == "naslib":
        return ProxyValue(name, NASLIB_NAN_VALUE, "nan", reason + f", replaced by {NASLIB_NAN_VALUE:g}", seconds, raw)
    return ProxyValue(name, math.nan, "nan", reason, seconds, raw)


def _noted(value: ProxyValue, ctx: ProxyContext) -> ProxyValue:
    """`value` with the note its proxy left on the context (how an ok value was obtained) in its reason."""
    note = ctx.notes.get(value.name)
    if not note:
        return value
    return replace(value, reason=f"{value.reason}; {note}" if value.reason else note)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = text if isinstance(exc, ZeronasError) else f"{type(exc).__name__}: {text}"
    if single_value_bn(exc):
        return f"train-mode BatchNorm sees one value per channel (batch of 1 on 1x1 maps): {text}"
    return text


def _charge(details: dict[str, ProxyValue], names: list[str], seconds: float) -> None:
    """Add `seconds` (deferred shared-pass work another proxy's call triggered) to the proxies that consume it."""
    takers = [n for n in names if n in details]
    for name in takers:
        details[name] = replace(details[name], seconds=details[name].seconds + seconds / len(takers))


def _failure(name: str, exc: BaseException, seconds: float = 0.0, prefix: str = "") -> ProxyValue:
    """A proxy that could not be computed: not_applicable when the model cannot support it, else error."""
    applicable = not (isinstance(exc, NotApplicableError) or single_value_bn(exc))
    status = "error" if applicable else "not_applicable"
    return ProxyValue(name, math.nan, status, prefix + _describe(exc), seconds)


def score(
    model: nn.Module,
    batch: Batch | torch.Tensor | tuple[torch.Tensor, torch.Tensor],
    proxies: str | Iterable[str] = "all",
    *,
    seed: int = 0,
    options: Mapping[str, Mapping[str, object]] | None = None,
    nan_policy: str = "nan",
    inplace: bool = False,
) -> Scores:
    """Score `model` at its current weights with the requested proxies on one batch.

    `proxies`: 'all', a comma-separated string or a list of registered names. `batch`: a `Batch`
    (see `zeronas.data.load_batch`), an image tensor (labels then drawn uniformly, seeded) or an
    (images, labels) pair with integer labels; images are cast to float32 and never written to.
    `seed` (an int in 0..2**63-1) fixes every random draw the proxies make (Gaussian inputs,
    re-initialisations). `options`: per-proxy keyword options, e.g. {"zen": {"repeat": 4}}, checked
    for name, type and range here. Proxies whose definition needs more samples than the batch has
    (nwot, jacob_cov, epe_nas, ntk_cond need 2) are reported not_applicable.
    `nan_policy`: 'nan' keeps failures as NaN with a reason; 'naslib' substitutes -1e8 as
    NAS-Bench-Suite-Zero does. `inplace=True` lets the engine use `model` itself as its working
    copy (for a throwaway model: saves a deep copy; the model is left in an unspecified state).
    Returns `Scores` (a dict of oriented values; `.details` per proxy).
    """
    if not isinstance(model, nn.Module):
        raise InvalidInputError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(nan_policy, str) or nan_policy not in ("nan", "naslib"):
        raise InvalidInputError(f"nan_policy must be 'nan' or 'naslib', got {nan_policy!r}")
    seed = _check_seed(seed)
    names = resolve_proxies(proxies)
    specs = {n: get_proxy(n) for n in names}
    merged = _check_options(options, names)
    data, labelled = _as_batch(batch, _model_device(model))
    ctx = ProxyContext(
        model=model,
        x=data.x,
        y=data.y,
        seed=seed,
        x2=data.x2,
        y2=data.y2,
        labels_given=labelled,
        inplace=inplace,
        loss=data.loss,
    )
    needs_of = {n: specs[n].needs_with(merged[n]) for n in names}
    too_small = {n for n in names if ctx.batch_size < specs[n].min_batch}
    active = [n for n in names if n not in too_small]
    ctx.requested = frozenset(active)

    details: dict[str, ProxyValue] = {}
    pass_seconds: dict[str, float] = {}
    orphaned = 0.0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if not labelled:
            _draw_labels(ctx)
        needs = set().union(*(needs_of[n] for n in active)) & SHARED_NEEDS
        shared_error: BaseException | None = None
        if needs:
            try:
                pass_seconds = run_shared_pass(ctx, needs)
            except Exception as exc:  # the model itself failed; proxies that need the pass fail with it
                shared_error = exc
        consumers = {
            art: [n for n in active if art in needs_of[n] or (art == "forward" and needs_of[n] & SHARED_NEEDS)]
            for art in pass_seconds
        }
        for name in sorted(names, key=lambda n: "static" not in needs_of[n]):  # pristine weights first
            spec = specs[name]
            if name in too_small:
                reason = f"needs a batch of at least {spec.min_batch} samples, got {ctx.batch_size}"
                details[name] = ProxyValue(name, math.nan, "not_applicable", reason)
                continue
            shared_cost = sum(sec / len(consumers[a]) for a, sec in pass_seconds.items() if name in consumers[a])
            if shared_error is not None and needs_of[name] & SHARED_NEEDS:
                details[name] = _failure(name, shared_error, prefix="shared pass failed: ")
                continue
            start, deferred_before = time.perf_counter(), ctx.deferred_seconds
            try:
                raw = spec.fn(ctx, **merged[name])
            except Exception as exc:
                details[name] = _failure(name, exc, time.perf_counter() - start)
                continue
            elapsed = time.perf_counter() - start
            if "hessian" not in needs_of[name]:  # deferred work for GraSP that restoring the copy triggered
                triggered = ctx.deferred_seconds - deferred_before
                elapsed, orphaned = elapsed - triggered, orphaned + triggered
            details[name] = _noted(_finish(name, raw, spec.higher_is_better, nan_policy, elapsed + shared_cost), ctx)
        _charge(details, [n for n in active if "hessian" in needs_of[n]], orphaned)
    settings = {
        "seed": seed,
        "batch_size": ctx.batch_size,
        "input_shape": list(ctx.input_shape),
        "labels": "given" if labelled else "drawn uniformly",
        "loss": data.loss,
        "source": data.source,
        "options": {n: merged[n] for n in names if merged[n]},
        "nan_policy": nan_policy,
    }
    return Scores({n: details[n] for n in names}, settings, pass_seconds)
