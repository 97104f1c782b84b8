"""The proxy registry, modelled on timm's model registry.

A proxy is a plain function `fn(ctx, **options) -> float` registered with its name, the direction
of its raw definition (`higher_is_better`), and what it needs from the engine. The engine orients
every value so that a larger returned number predicts higher accuracy (lower-is-better proxies
are negated) and records the orientation.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from zeronas.errors import InvalidInputError
from zeronas.registry import Registry

#: what a proxy may ask of the engine
#:  - "static":   nothing but the pristine model (no pass on data)
#:  - "forward":  the shared real-batch forward (logits)
#:  - "grads":    CE-loss gradients of Conv/Linear weights from the shared pass
#:  - "fisher":   per-channel Fisher values from activations x their gradients, shared pass
#:  - "relu_kernel": the NASWOT agreement kernel of ReLU-input codes, shared forward
#:  - "jacobian": input Jacobian of the summed logits, shared forward + one backward
#:  - "ntk":      the empirical NTK Gram matrix of the summed logits, shared forward
#:  - "hessian":  Hessian-gradient product H g of the CE loss (GraSP), shared forward
#:  - "own":      the proxy runs its own passes on copies the context hands out
NEEDS = frozenset({"static", "forward", "grads", "fisher", "relu_kernel", "jacobian", "ntk", "hessian", "own"})
SHARED_NEEDS = NEEDS - {"static", "own"}


@dataclass(frozen=True)
class ProxySpec:
    """A registered proxy and what the engine needs to know to run it."""

    name: str
    fn: Callable[..., float]
    higher_is_better: bool
    needs: frozenset[str]
    description: str
    family: str
    defaults: dict[str, object] = field(default_factory=dict)

    @property
    def orientation(self) -> str:
        return "as is" if self.higher_is_better else "negated (raw value: lower is better)"

    def check_options(self, options: dict[str, object]) -> dict[str, object]:
        """Merge `options` over the defaults; unknown keys give a one-line error."""
        unknown = set(options) - set(self.defaults)
        if unknown:
            known = ", ".join(sorted(self.defaults)) or "none"
            raise InvalidInputError(
                f"unknown option(s) {', '.join(sorted(unknown))} for proxy {self.name!r} (known: {known})"
            )
        return {**self.defaults, **options}


_PROXIES: Registry[ProxySpec] = Registry("proxy")


def register_proxy(
    name: str,
    *,
    higher_is_better: bool = True,
    needs: Iterable[str] = ("own",),
    description: str | None = None,
    family: str = "other",
) -> Callable[[Callable[..., float]], Callable[..., float]]:
    """Decorator registering `fn(ctx, **options) -> float` as proxy `name`.

    Keyword arguments of `fn` after the context become the proxy's options, with their defaults.
    """
    needs_set = frozenset(needs)
    bad = needs_set - NEEDS
    if bad:
        raise ValueError(f"proxy {name!r}: unknown needs {sorted(bad)}; valid: {sorted(NEEDS)}")

    def wrap(fn: Callable[..., float]) -> Callable[..., float]:
        params = list(inspect.signature(fn).parameters.values())[1:]
        defaults = {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}
        doc = description or (inspect.getdoc(fn) or name).splitlines()[0]
        _PROXIES.add(name, ProxySpec(name, fn, higher_is_better, needs_set, doc, family, defaults))
        return fn

    return wrap


def get_proxy(name: str) -> ProxySpec:
    """The spec of a registered proxy; unknown names give a one-line error with suggestions."""
    return _PROXIES.get(name)


def list_proxies(family: str | None = None) -> list[str]:
    """Names of registered proxies (optionally of one family), in registration order."""
    return [n for n in _PROXIES.names() if family is None or _PROXIES.get(n).family == family]


def resolve_proxies(proxies: str | Iterable[str]) -> list[str]:
    """'all', a comma-separated string, or a list of names -> validated unique names in order."""
    if isinstance(proxies, str):
        proxies = list_proxies() if proxies.strip() == "all" else [p.strip() for p in proxies.split(",")]
    names: list[str] = []
    for name in proxies:
        if not name:
            continue
        get_proxy(name)
        if name not in names:
            names.append(name)
    if not names:
        raise InvalidInputError("no proxy requested")
    return names


def unregister_proxy(name: str) -> None:
    """Remove a proxy (for tests and for users replacing a built-in definition)."""
    _PROXIES.remove(name)
