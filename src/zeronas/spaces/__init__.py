"""Search spaces: registry (`register_space`, `create_space`, `list_spaces`) and implementations."""

from __future__ import annotations

from collections.abc import Callable

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
    """Instantiate the space registered under `name` (aliases such as 'nasbench201' accepted)."""
    return _SPACES.get(_ALIASES.get(name.lower(), name.lower()))(**kwargs)


def list_spaces() -> list[str]:
    """Names of the registered search spaces."""
    return sorted(_SPACES.names())


from zeronas.spaces import mobilenetv2 as _mobilenetv2  # noqa: E402,F401  (registers "mbv2")
from zeronas.spaces import nasbench201 as _nasbench201  # noqa: E402,F401  (registers "nb201")

__all__ = ["SearchSpace", "create_space", "list_spaces", "register_space"]
