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

# isort: split
# the post-survey proxies register after the survey's, so that 'all' keeps listing those first, in their order
from zeronas.proxies import aznas, genas, isometry, meco, swap  # noqa: F401
from zeronas.proxies.aznas import AZ_COMPONENTS, az_nas_aggregate
from zeronas.proxies.context import ProxyContext
from zeronas.proxies.engine import ProxyValue, Scores, score
from zeronas.proxies.ensemble import (
    EnsembleSpec,
    ensemble_rows,
    ensemble_scores,
    expand_ensembles,
    get_ensemble,
    is_ensemble,
    list_ensembles,
    register_ensemble,
    unregister_ensemble,
)
from zeronas.proxies.registry import ProxySpec, get_proxy, list_proxies, register_proxy, resolve_proxies

__all__ = [
    "AZ_COMPONENTS",
    "EnsembleSpec",
    "ProxyContext",
    "ProxySpec",
    "ProxyValue",
    "Scores",
    "az_nas_aggregate",
    "ensemble_rows",
    "ensemble_scores",
    "expand_ensembles",
    "get_ensemble",
    "is_ensemble",
    "list_ensembles",
    "register_ensemble",
    "get_proxy",
    "list_proxies",
    "register_proxy",
    "resolve_proxies",
    "unregister_ensemble",
    "score",
]
