"""Search spaces: registry (`register_space`, `create_space`, `list_spaces`) and implementations."""

from __future__ import annotations

import inspect
from collections.abc import Callable

from zeronas.errors import InvalidInputError
from zeronas.registry import Registry
from zeronas.spaces.base import SearchSpace

_SPACES: Registry[Callable[..., SearchSpace]] = Registry("search space")
_ALIASES = {"nasbench201": "nb201", "nats-tss": "nb201", "nats_tss": "nb201"}


def register_space(name: str) -> Callable[[type[SearchSpace]], type[SearchSpace]]:
    """Class decorator: register a SearchSpace subclass under `name`."""

    def wrap(cls: type[SearchSpace]) -> type[SearchSpace]:
        cls.name = name
        _SPACES.add(name, cls)
        return cls

    return wrap


def create_space(name: str, **kwargs: object) -> SearchSpace:
    """Instantiate the space registered under `name` (aliases such as 'nasbench201' accepted).

    Keyword arguments the space's constructor does not take give a one-line error naming those it does.
    """
    if not isinstance(name, str):
        raise InvalidInputError(f"search space name must be a string, got {type(name).__name__} {name!r}")
    key = name.strip().lower()
    cls = _SPACES.get(_ALIASES.get(key, key))
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


from zeronas.spaces import mobilenetv2 as _mobilenetv2  # noqa: E402,F401  (registers "mbv2")
from zeronas.spaces import nasbench201 as _nasbench201  # noqa: E402,F401  (registers "nb201")

__all__ = ["SearchSpace", "create_space", "list_spaces", "register_space"]
