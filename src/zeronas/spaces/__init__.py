"""Search spaces and benchmarks: registries (`register_space`, `create_space`, `get_benchmark`) and built-ins.

Each built-in benchmark is a folder (`nb201/`, `nb101/`, `nats_sss/`, `nb301/`, `tnb/`, `mbv2/`) exporting
`SPACE` (its SearchSpace class) and `BENCHMARK` (its data sets, ground truth and defaults), or `SPACES`
and `BENCHMARKS` for several; `BUILTINS` below is the one place that registers them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from zeronas.errors import InvalidInputError
from zeronas.registry import Registry
from zeronas.spaces.base import SearchSpace
from zeronas.spaces.benchmark import Benchmark, DataImporter, list_benchmarks, register_benchmark
from zeronas.spaces.benchmark import get_benchmark as _get_benchmark

#: the benchmark commands use when none is named
DEFAULT_SPACE = "nb201"
_SPACES: Registry[Callable[..., SearchSpace]] = Registry("search space")
_ALIASES = {
    "nasbench201": "nb201",
    "nats-tss": "nb201",
    "nats_tss": "nb201",
    "transnas101_micro": "tnb_micro",
    "transnas101_macro": "tnb_macro",
}


def register_space(name: str) -> Callable[[type[SearchSpace]], type[SearchSpace]]:
    """Class decorator: register a SearchSpace subclass under `name`."""

    def wrap(cls: type[SearchSpace]) -> type[SearchSpace]:
        cls.name = name
        _SPACES.add(name, cls)
        return cls

    return wrap


def canonical_space_name(name: str) -> str:
    """`name` lower-cased, with aliases such as 'nasbench201' resolved."""
    if not isinstance(name, str):
        raise InvalidInputError(f"search space name must be a string, got {type(name).__name__} {name!r}")
    key = name.strip().lower()
    return _ALIASES.get(key, key)


def create_space(name: str, **kwargs: object) -> SearchSpace:
    """Instantiate the space registered under `name` (aliases such as 'nasbench201' accepted).

    Keyword arguments the space's constructor does not take give a one-line error naming those it does.
    """
    cls = _SPACES.get(canonical_space_name(name))
    accepted = [p for p in inspect.signature(cls).parameters if p not in ("self", "args", "kwargs")]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise InvalidInputError(
            f"unknown option(s) {', '.join(unknown)} for search space {cls.name!r} (known: {', '.join(accepted)})"
        )
    return cls(**kwargs)


def list_spaces() -> list[str]:
    """Names of the registered search spaces."""
    return sorted(_SPACES.names())


def get_benchmark(name: str) -> Benchmark:
    """The benchmark of space `name`; a space registered without one gets a benchmark with no ground truth."""
    key = canonical_space_name(name)
    if key in _SPACES and key not in list_benchmarks():
        return Benchmark(name=key, description=f"search space {key}")
    return _get_benchmark(key)


#: the built-in benchmarks: each a package of `zeronas.spaces` exporting SPACE and BENCHMARK
#: (or SPACES and BENCHMARKS, pairwise, when one folder holds several, as TransNAS-Bench-101's micro and macro)
BUILTINS = ("nb201", "nb101", "mbv2", "nats_sss", "nb301", "tnb", "timm_zoo")


def _register_builtins() -> None:
    """Register every built-in benchmark's space and benchmark facts."""
    import importlib

    for name in BUILTINS:
        package = importlib.import_module(f"zeronas.spaces.{name}")
        pairs = zip(package.SPACES, package.BENCHMARKS, strict=True) if hasattr(package, "SPACES") else []
        for space, benchmark in pairs or [(package.SPACE, package.BENCHMARK)]:
            register_space(benchmark.name)(space)
            register_benchmark(benchmark)


_register_builtins()

__all__ = [
    "DEFAULT_SPACE",
    "Benchmark",
    "DataImporter",
    "SearchSpace",
    "canonical_space_name",
    "create_space",
    "get_benchmark",
    "list_benchmarks",
    "list_spaces",
    "register_benchmark",
    "register_space",
]
