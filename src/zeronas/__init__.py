"""zeronas: zero-shot neural architecture search.

Few verbs: `score` a model with proxies, `create_space` / `list_spaces` for search spaces,
`load_batch` for inputs, `list_proxies` / `get_proxy` / `register_proxy` for the proxy registry.
"""

from zeronas.data import Batch, load_batch
from zeronas.errors import ZeronasError
from zeronas.proxies import ProxyContext, Scores, get_proxy, list_proxies, register_proxy, score
from zeronas.spaces import SearchSpace, create_space, list_spaces, register_space

__version__ = "0.1.0"

__all__ = [
    "Batch",
    "ProxyContext",
    "Scores",
    "SearchSpace",
    "ZeronasError",
    "__version__",
    "create_space",
    "get_proxy",
    "list_proxies",
    "list_spaces",
    "load_batch",
    "register_proxy",
    "register_space",
    "score",
]
