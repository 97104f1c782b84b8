"""The proxy registry, modelled on timm's model registry.

A proxy is a plain function `fn(ctx, **options) -> float` registered with its name, the direction
of its raw definition (`higher_is_better`), and what it needs from the engine. The engine orients
every value so that a larger returned number predicts higher accuracy (lower-is-better proxies
are negated) and records the orientation.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from zeronas.errors import InvalidInputError, UnknownNameError
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
    #: smallest batch the definition makes sense for (a B x B kernel or correlation needs 2)
    min_batch: int = 1
    #: `check(options)` raises InvalidInputError for values out of range (after the type checks)
    check: Callable[[dict[str, object]], None] | None = None
    #: `drop(options)` -> the needs these options make unnecessary (GraSP's finite difference: no Hessian)
    drop: Callable[[dict[str, object]], Iterable[str]] | None = None

    def needs_with(self, options: dict[str, object]) -> frozenset[str]:
        """What the engine must provide for a call with these (merged) options."""
        return self.needs - frozenset(self.drop(options)) if self.drop else self.needs

    @property
    def orientation(self) -> str:
        return "as is" if self.higher_is_better else "negated (raw value: lower is better)"

    def check_options(self, options: dict[str, object]) -> dict[str, object]:
        """Merge `options` over the defaults; unknown keys, wrong types or ranges give a one-line error."""
        unknown = set(options) - set(self.defaults)
        if unknown:
            known = ", ".join(sorted(self.defaults)) or "none"
            raise InvalidInputError(
                f"unknown option(s) {', '.join(sorted(map(str, unknown)))} for proxy {self.name!r} (known: {known})"
            )
        for key, value in options.items():
            _check_type(self.name, key, value, self.defaults[key])
        merged = {**self.defaults, **options}
        if self.check is not None:
            self.check(merged)
        return merged


def _check_type(proxy: str, key: str, value: object, default: object) -> None:
    """`value` must have the type of the option's default (ints for ints, finite numbers for floats)."""
    if default is None:
        return
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    elif isinstance(default, tuple):  # a sequence option: a tuple or list (JSON) of numbers, checked by `check`
        ok = isinstance(value, tuple | list)
    else:
        ok = isinstance(value, type(default))
    if not ok:
        want = {float: "a finite number", tuple: "a list"}.get(type(default), type(default).__name__)
        raise InvalidInputError(f"option {key!r} of proxy {proxy!r} must be {want}, got {value!r}")


def check_range(proxy: str, options: dict[str, object], key: str, low: float, high: float | None = None) -> None:
    """Raise a one-line InvalidInputError unless low <= options[key] (<= high)."""
    value = options[key]
    if value < low or (high is not None and value > high):  # type: ignore[operator]
        bound = f">= {low:g}" if high is None else f"in {low:g}..{high:g}"
        raise InvalidInputError(f"option {key!r} of proxy {proxy!r} must be {bound}, got {value!r}")


def check_choice(proxy: str, options: dict[str, object], key: str, choices: tuple[str, ...]) -> None:
    """Raise a one-line InvalidInputError unless options[key] is one of `choices`."""
    if options[key] not in choices:
        raise InvalidInputError(
            f"option {key!r} of proxy {proxy!r} must be one of {', '.join(choices)}, got {options[key]!r}"
        )


_PROXIES: Registry[ProxySpec] = Registry("proxy")


def register_proxy(
    name: str,
    *,
    higher_is_better: bool = True,
    needs: Iterable[str] = ("own",),
    description: str | None = None,
    family: str = "other",
    min_batch: int = 1,
    check: Callable[[dict[str, object]], None] | None = None,
    drop: Callable[[dict[str, object]], Iterable[str]] | None = None,
) -> Callable[[Callable[..., float]], Callable[..., float]]:
    """Decorator registering `fn(ctx, **options) -> float` as proxy `name`.

    Keyword arguments of `fn` after the context become the proxy's options, with their defaults;
    values must have the default's type, and `check(options)` may reject ranges at the call's edge.
    Batches smaller than `min_batch` make the proxy not applicable; `drop(options)` names needs that
    some option values make unnecessary, so the shared pass skips that work.
    """
    needs_set = frozenset(needs)
    bad = needs_set - NEEDS
    if bad:
        raise ValueError(f"proxy {name!r}: unknown needs {sorted(bad)}; valid: {sorted(NEEDS)}")

    def wrap(fn: Callable[..., float]) -> Callable[..., float]:
        params = list(inspect.signature(fn).parameters.values())[1:]
        defaults = {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}
        doc = description or (inspect.getdoc(fn) or name).splitlines()[0]
        spec = ProxySpec(name, fn, higher_is_better, needs_set, doc, family, defaults, min_batch, check, drop)
        _PROXIES.add(name, spec)
        return fn

    return wrap


def get_proxy(name: str) -> ProxySpec:
    """The spec of a registered proxy; unknown names give a one-line error with suggestions."""
    if not isinstance(name, str):
        raise InvalidInputError(f"proxy names must be strings, got {type(name).__name__} {name!r}")
    if name not in _PROXIES:
        from zeronas.proxies.ensemble import is_ensemble  # the ensemble registry builds on this one

        if is_ensemble(name):
            raise InvalidInputError(
                f"{name!r} is a pool ensemble, not a per-network proxy: it ranks its members over a pool of cells "
                "(zeronas evaluate -p NAME, or zeronas.proxies.ensemble_scores)"
            )
        same = [n for n in _PROXIES.names() if n.lower() == name.lower()]
        if same:
            raise UnknownNameError(f"unknown proxy {name!r}; did you mean {same[0]}? (names are lower-case)")
    return _PROXIES.get(name)


def list_proxies(family: str | None = None) -> list[str]:
    """Names of registered proxies (optionally of one family), in registration order."""
    return [n for n in _PROXIES.names() if family is None or _PROXIES.get(n).family == family]


def resolve_proxies(proxies: str | Iterable[str]) -> list[str]:
    """'all', a comma-separated string, or a list of names -> validated unique names in order."""
    if isinstance(proxies, str):
        proxies = list_proxies() if proxies.strip() == "all" else [p.strip() for p in proxies.split(",")]
    elif not isinstance(proxies, Iterable):
        raise InvalidInputError(
            f"proxies must be 'all', a comma-separated string or a list of names, got {type(proxies).__name__}"
        )
    names: list[str] = []
    for name in proxies:
        if name == "":
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
