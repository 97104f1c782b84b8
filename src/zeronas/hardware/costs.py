"""One interface for every hardware cost: `cost(space, key, dataset) -> float` in a stated unit.

Cost models are registered by name (timm-style): `register_cost("params")` on a factory returning a
`CostModel`; `get_cost("flops")` builds one; `list_costs()` lists them. Counted costs build the
network once per (space, key, dataset) and cache the number. `space` may be None for named models
(`timm:resnet18`, `torchvision:mobilenet_v2`), which are built at the data set's resolution.

Counted costs here: params, FLOPs, MACs and peak activation memory (`zeronas.hardware.memory`).
Measured, tabulated and predicted costs live in their own modules and register on import of
`zeronas.hardware`.
"""

from __future__ import annotations

import functools
import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable

import numpy as np
from torch import nn

from zeronas.data import get_dataset
from zeronas.hardware.memory import peak_activation_memory
from zeronas.modelstats import count_flops, count_macs, count_params
from zeronas.registry import Registry
from zeronas.spaces import SearchSpace
from zeronas.spaces.zoo import build_named_model


class CostModel(ABC):
    """A cost of an architecture; lower is cheaper."""

    name: str = ""
    unit: str = ""

    @abstractmethod
    def __call__(self, space: SearchSpace | None, key: str, dataset: str) -> float:
        """Cost of `key` of `space` when built for `dataset` (space None: `key` names a timm/torchvision model)."""

    def many(self, space: SearchSpace | None, keys: list[str], dataset: str) -> np.ndarray:
        """Costs of several keys (tables override this with one vectorised lookup)."""
        return np.array([self(space, key, dataset) for key in keys], dtype=float)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, unit={self.unit!r})"


_COSTS: Registry[Callable[..., CostModel]] = Registry("cost model")


def register_cost(name: str) -> Callable[[Callable[..., CostModel]], Callable[..., CostModel]]:
    """Decorator: register a CostModel factory (class or function) under `name`."""

    def wrap(factory: Callable[..., CostModel]) -> Callable[..., CostModel]:
        _COSTS.add(name, factory)
        return factory

    return wrap


def get_cost(name: str, **kwargs: object) -> CostModel:
    """Instantiate the cost model registered as `name`."""
    model = _COSTS.get(name)(**kwargs)
    model.name = model.name or name
    return model


def list_costs() -> list[str]:
    """Names of registered cost models."""
    return sorted(_COSTS.names())


def cost_options(name: str) -> list[str]:
    """Keyword options that `get_cost(name, ...)` accepts (e.g. device, framework, store)."""
    factory = _COSTS.get(name)
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in inspect.signature(factory).parameters.values() if p.kind in kinds]


def cost_summary(name: str) -> str:
    """First line of the docstring of the factory of `name`."""
    doc = (_COSTS.get(name).__doc__ or "").strip().splitlines()
    return doc[0] if doc else ""


def build_for_cost(space: SearchSpace | None, key: str, dataset: str) -> tuple[nn.Module, tuple[int, ...]]:
    """The network of `key` for `dataset` and its batch-1 input shape (space None: a named model)."""
    info = get_dataset(dataset)
    if space is None:
        model = build_named_model(key, num_classes=info.num_classes)
    else:
        model = space.for_dataset(info.name).build(space.validate(key), num_classes=info.num_classes)
    return model, (1, 3, info.resolution, info.resolution)


def canonical_key(space: SearchSpace | None, key: str) -> str:
    """`space.validate(key)`, or the model spec itself for named models."""
    return key if space is None else space.validate(key)


@functools.lru_cache(maxsize=65536)
def _counted(space: SearchSpace | None, key: str, dataset: str, what: str) -> float:
    model, shape = build_for_cost(space, key, dataset)
    if what == "params":
        return count_params(model) / 1e6
    if what == "flops":
        return count_flops(model, shape) / 1e6
    if what == "peak_memory":
        return peak_activation_memory(model, shape) / 1e6
    return count_macs(model, shape) / 1e6


class CountedCost(CostModel):
    """A cost counted on the built network at batch 1 and the data set's resolution."""

    def __init__(self, what: str, unit: str) -> None:
        self.name, self.unit, self._what = what, unit, what

    def __call__(self, space: SearchSpace | None, key: str, dataset: str) -> float:
        return _counted(space, canonical_key(space, key), get_dataset(dataset).name, self._what)


@register_cost("params")
def params_cost() -> CountedCost:
    """Parameters (M) of the built network."""
    return CountedCost("params", "M parameters")


@register_cost("flops")
def flops_cost() -> CountedCost:
    """FLOPs (M) of one batch-1 forward, tensorwatch convention (as NAS-Bench-Suite-Zero)."""
    return CountedCost("flops", "MFLOPs (tensorwatch convention)")


@register_cost("macs")
def macs_cost() -> CountedCost:
    """Multiply-accumulates (M) of one batch-1 forward, every aten matmul/conv counted."""
    return CountedCost("macs", "M multiply-accumulates")


@register_cost("peak_memory")
def peak_memory_cost() -> CountedCost:
    """Peak live activation memory (MB) of one batch-1 inference forward (zeronas.hardware.memory)."""
    return CountedCost("peak_memory", "MB peak live activations, batch 1 (10^6 bytes)")
