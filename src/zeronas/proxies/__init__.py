"""Zero-shot proxies: the registry, the engine (`score`) and one module per proxy family."""

from zeronas.proxies import (  # noqa: F401  (importing registers the built-in proxies)
    activation,
    gradient,
    gradsign,
    jacobian,
    ntk,
    static,
    synflow,
    topology,
    zen,
    zico,
)
from zeronas.proxies.context import ProxyContext
from zeronas.proxies.engine import ProxyValue, Scores, score
from zeronas.proxies.registry import ProxySpec, get_proxy, list_proxies, register_proxy, resolve_proxies

__all__ = [
    "ProxyContext",
    "ProxySpec",
    "ProxyValue",
    "Scores",
    "get_proxy",
    "list_proxies",
    "register_proxy",
    "resolve_proxies",
    "score",
]
