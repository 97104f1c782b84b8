"""The executor options shared by `evaluate`, `search` and `hardware measure`: --backend, --workers, --ray-address."""

from __future__ import annotations

from typing import Annotated

import typer

from zeronas.errors import InvalidInputError
from zeronas.evaluation.backends import Backend, get_backend, list_backends

BackendOption = Annotated[
    str | None,
    typer.Option("--backend", help=f"Executor: {', '.join(list_backends())}.", show_default=False),
]
WorkersOption = Annotated[int | None, typer.Option("--workers", "-j", min=1, help="Parallel workers.")]
RayAddressOption = Annotated[
    str | None,
    typer.Option(
        "--ray-address",
        help="With --backend ray: join this Ray cluster ('auto', HOST:PORT) instead of starting a local Ray.",
    ),
]


def make_backend(backend: str | None, workers: int | None, ray_address: str | None, default_workers: int) -> Backend:
    """The named executor, validated at the edge; on a cluster `workers` caps the tasks at once (default: its CPUs)."""
    if backend not in list_backends():
        raise InvalidInputError(f"unknown --backend {backend!r}; available: {', '.join(list_backends())}")
    if ray_address and backend != "ray":
        raise InvalidInputError("--ray-address needs --backend ray")
    if ray_address:
        return get_backend(backend, workers, address=ray_address)
    return get_backend(backend, workers or default_workers)
