"""The search-space protocol: canonical keys, sampling, variation operators, encoding, building.

A space knows nothing about proxies or benchmarks. Keys are canonical strings; every method that
takes a key validates it (through `validate`) and raises `InvalidArchError` with one line naming
what is wrong.
"""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterator

import numpy as np
from torch import nn

from zeronas.errors import InvalidInputError


def check_count(value: object, what: str, minimum: int = 0) -> int:
    """`value` as an int >= `minimum`; anything else (bools, floats, strings) gives a one-line error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidInputError(f"{what} must be an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise InvalidInputError(f"{what} must be >= {minimum}, got {value}")
    return int(value)


def check_num_classes(num_classes: object, default: int) -> int:
    """The class count for `build`: `default` when None, else a positive integer."""
    return default if num_classes is None else check_count(num_classes, "num_classes", 1)


class SearchSpace(ABC):
    """Base class of every search space."""

    #: registry name, e.g. "nb201"
    name: str = ""
    #: default input resolution and number of classes for `build`
    resolution: int = 32
    num_classes: int = 10

    @abstractmethod
    def validate(self, key: str) -> str:
        """Return the canonical form of `key`, or raise InvalidArchError naming the problem."""

    @abstractmethod
    def sample(self, rng: np.random.Generator) -> str:
        """Draw one architecture key uniformly (or from the space's natural prior)."""

    @abstractmethod
    def mutate(self, key: str, rng: np.random.Generator) -> str:
        """Return a different key one random local change away from `key`."""

    @abstractmethod
    def crossover(self, a: str, b: str, rng: np.random.Generator) -> str:
        """Return a child key mixing the choices of `a` and `b`."""

    @abstractmethod
    def neighbours(self, key: str) -> list[str]:
        """All keys one local change away from `key`."""

    @abstractmethod
    def build(self, key: str, num_classes: int | None = None, **kwargs: object) -> nn.Module:
        """Build the PyTorch network of `key`, mapping an image batch to logits."""

    @abstractmethod
    def encode(self, key: str) -> np.ndarray:
        """A fixed-length float vector describing `key` (for predictors and NSGA-II)."""

    def graph_features(self, key: str) -> dict[str, float]:
        """Named descriptors of `key`'s cell graph for predictors (`zeronas.spaces.graph_features`).

        Spaces without a cell graph have none: NotImplementedError, which a predictor takes as "encoding only".
        """
        raise NotImplementedError(f"space {self.name!r} has no graph descriptors")

    def config(self) -> dict[str, object]:
        """The constructor keywords that rebuild this space: `create_space(space.name, **space.config())`.

        Lets another process (a sweep worker, a Ray node) rebuild the same space from picklable values.
        """
        return {name: value for name, value in vars(self).items() if not name.startswith("_")}

    def for_dataset(self, dataset: str) -> SearchSpace:
        """The space whose `build` makes networks for `dataset` (a multi-task benchmark's task); self by default."""
        return self

    @property
    def size(self) -> int | None:
        """Number of architectures when finite and enumerable, else None."""
        return None

    def enumerate(self) -> Iterator[str]:
        """Yield every key of a finite space in a fixed order."""
        raise NotImplementedError(f"space {self.name!r} cannot be enumerated")

    def sample_many(self, n: int, rng: np.random.Generator, unique: bool = True) -> list[str]:
        """Draw `n` keys; with `unique`, without repetition.

        More distinct keys than a finite space holds is an error raised at once (the draw would
        never end); `n` equal to the size returns the whole space in enumeration order.
        """
        n = check_count(n, "the number of architectures to sample")
        if not isinstance(rng, np.random.Generator):
            raise InvalidInputError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        if not unique:
            return [self.sample(rng) for _ in range(n)]
        if self.size is not None and n > self.size:
            raise InvalidInputError(
                f"cannot sample {n:,} distinct architectures: space {self.name!r} has {self.size:,}"
            )
        if self.size is not None and n == self.size:
            return list(self.enumerate())
        seen: dict[str, None] = {}
        while len(seen) < n:
            seen.setdefault(self.sample(rng), None)
        return list(seen)
