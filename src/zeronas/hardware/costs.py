"""One interface for every hardware cost: `cost(space, key, dataset) -> float` in a stated unit.

Cost models are registered by name (timm-style): `register_cost("params")` on a factory returning a
`CostModel`; `get_cost("flops")` builds one; `list_costs()` lists them. Counted costs build the
network once per (space, key, dataset) and cache the number.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable

from zeronas.data import get_dataset
from zeronas.modelstats import count_flops, count_macs, count_params
from zeronas.registry import Registry
from zeronas.spaces import SearchSpace


class CostModel(ABC):
    """A cost of an architecture; lower is cheaper."""

    name: str = ""
    unit: str = ""

    @abstractmethod
    def __call__(self, space: SearchSpace, key: str, dataset: str) -> float:
        """Cost of `key` of `space` when built for `dataset`."""

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


@functools.lru_cache(maxsize=65536)
def _counted(space: SearchSpace, key: str, dataset: str, what: str) -> float:
    info = get_dataset(dataset)
    model = space.build(key, num_classes=info.num_classes)
    shape = (1, 3, info.resolution, info.resolution)
    if what == "params":
        return count_params(model) / 1e6
    if what == "flops":
        return count_flops(model, shape) / 1e6
    return count_macs(model, shape) / 1e6


class CountedCost(CostModel):
    """A cost counted on the built network at batch 1 and the data set's resolution."""

    def __init__(self, what: str, unit: str) -> None:
        self.name, self.unit, self._what = what, unit, what

    def __call__(self, space: SearchSpace, key: str, dataset: str) -> float:
        return _counted(space, space.validate(key), get_dataset(dataset).name, self._what)


register_cost("params")(lambda: CountedCost("params", "M parameters"))
register_cost("flops")(lambda: CountedCost("flops", "MFLOPs (tensorwatch convention)"))
register_cost("macs")(lambda: CountedCost("macs", "M multiply-accumulates"))
