"""`score()`: compute a set of proxies on one model and batch with the fewest passes.

Plan: static proxies on the pristine model; one shared real-batch pass for every proxy that needs
gradients, the Jacobian, the NTK, the ReLU kernel or Fisher values; then each proxy with its own
passes (synflow, zen, gradsign, ...) on fresh copies. The caller's model is never modified: its
parameters, buffers, `requires_grad` flags and train/eval mode are the same afterwards.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import torch
from torch import nn

from zeronas.data.batch import Batch, check_images
from zeronas.errors import InvalidInputError, NotApplicableError, ZeronasError
from zeronas.proxies.context import ProxyContext, logits_of
from zeronas.proxies.registry import SHARED_NEEDS, get_proxy, resolve_proxies
from zeronas.proxies.shared_pass import run_shared_pass

#: value NAS-Bench-Suite-Zero substitutes for NaN/inf scores (nan_policy="naslib")
NASLIB_NAN_VALUE = -1e8


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


def _as_batch(batch: Batch | torch.Tensor | tuple, device: torch.device) -> tuple[Batch, bool]:
    if isinstance(batch, Batch):
        out, labelled = batch, True
    elif isinstance(batch, torch.Tensor):
        check_images(batch, "batch")
        out, labelled = Batch(batch, torch.zeros(batch.shape[0], dtype=torch.int64)), False
    elif isinstance(batch, tuple | list) and len(batch) == 2:
        x, y = batch
        check_images(x, "batch images")
        if not isinstance(y, torch.Tensor):
            raise InvalidInputError(f"labels must be a torch.Tensor, got {type(y).__name__}")
        out, labelled = Batch(x, y.long()), True
    else:
        raise InvalidInputError(
            f"batch must be a Batch, an image tensor or (images, labels), got {type(batch).__name__}"
        )
    if out.x.device != device:
        out = Batch(
            out.x.to(device),
            out.y.to(device),
            out.source,
            None if out.x2 is None else out.x2.to(device),
            None if out.y2 is None else out.y2.to(device),
        )
    return out, labelled


def _model_device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _draw_labels(ctx: ProxyContext) -> None:
    """When the caller gave no labels: learn the output size and draw uniform labels (seeded)."""
    net = ctx.copy_model().eval()
    with torch.no_grad():
        classes = int(logits_of(net(ctx.x[:1])).shape[-1])
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


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text if isinstance(exc, ZeronasError) else f"{type(exc).__name__}: {text}"


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
    (images, labels) pair. `seed` fixes every random draw the proxies make (Gaussian inputs,
    re-initialisations). `options`: per-proxy keyword options, e.g. {"zen": {"repeat": 4}}.
    `nan_policy`: 'nan' keeps failures as NaN with a reason; 'naslib' substitutes -1e8 as
    NAS-Bench-Suite-Zero does. `inplace=True` lets the engine use `model` itself as its working
    copy (for a throwaway model: saves a deep copy; the model is left in an unspecified state).
    Returns `Scores` (a dict of oriented values; `.details` per proxy).
    """
    if not isinstance(model, nn.Module):
        raise InvalidInputError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if nan_policy not in ("nan", "naslib"):
        raise InvalidInputError(f"nan_policy must be 'nan' or 'naslib', got {nan_policy!r}")
    names = resolve_proxies(proxies)
    specs = {n: get_proxy(n) for n in names}
    options = dict(options or {})
    unknown = set(options) - set(names)
    if unknown:
        raise InvalidInputError(f"options given for proxies not requested: {', '.join(sorted(unknown))}")
    merged = {n: specs[n].check_options(dict(options.get(n, {}))) for n in names}
    data, labelled = _as_batch(batch, _model_device(model))
    ctx = ProxyContext(
        model=model, x=data.x, y=data.y, seed=seed, x2=data.x2, y2=data.y2, labels_given=labelled, inplace=inplace
    )

    details: dict[str, ProxyValue] = {}
    pass_seconds: dict[str, float] = {}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if not labelled:
            _draw_labels(ctx)
        needs = set().union(*(specs[n].needs for n in names)) & SHARED_NEEDS
        shared_error: BaseException | None = None
        if needs:
            try:
                pass_seconds = run_shared_pass(ctx, needs)
            except Exception as exc:  # the model itself failed; proxies that need the pass fail with it
                shared_error = exc
        consumers = {
            art: [n for n in names if art in specs[n].needs or (art == "forward" and specs[n].needs & SHARED_NEEDS)]
            for art in pass_seconds
        }
        for name in sorted(names, key=lambda n: "static" not in specs[n].needs):  # pristine weights first
            spec = specs[name]
            shared_cost = sum(sec / len(consumers[a]) for a, sec in pass_seconds.items() if name in consumers[a])
            if shared_error is not None and spec.needs & SHARED_NEEDS:
                status = "not_applicable" if isinstance(shared_error, NotApplicableError) else "error"
                details[name] = ProxyValue(name, math.nan, status, f"shared pass failed: {_describe(shared_error)}")
                continue
            start = time.perf_counter()
            try:
                raw = spec.fn(ctx, **merged[name])
            except NotApplicableError as exc:
                details[name] = ProxyValue(
                    name, math.nan, "not_applicable", _describe(exc), time.perf_counter() - start
                )
                continue
            except Exception as exc:
                details[name] = ProxyValue(name, math.nan, "error", _describe(exc), time.perf_counter() - start)
                continue
            details[name] = _finish(
                name, raw, spec.higher_is_better, nan_policy, time.perf_counter() - start + shared_cost
            )
    settings = {
        "seed": seed,
        "batch_size": ctx.batch_size,
        "input_shape": list(ctx.input_shape),
        "labels": "given" if labelled else "drawn uniformly",
        "source": data.source,
        "options": {n: merged[n] for n in names if merged[n]},
        "nan_policy": nan_policy,
    }
    return Scores({n: details[n] for n in names}, settings, pass_seconds)
