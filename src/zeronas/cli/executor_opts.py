"""The executor options shared by `evaluate`, `search` and `hardware measure`: --backend, --workers, --ray-address."""

from __future__ import annotations

from typing import Annotated

import typer

from zeronas.errors import InvalidInputError
from zeronas.executors import Backend, cpu_count, get_backend, list_backends

#: workers on this machine: more processes than this per CPU only thrash (and each holds ~0.6 GB)
MAX_WORKERS_PER_CPU = 4
#: tasks at once on a cluster (--ray-address)
MAX_CLUSTER_WORKERS = 65536

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


def check_workers(workers: int | None, cluster: bool = False) -> None:
    """One-line error for a worker count this machine (or a cluster) cannot run."""
    if workers is None:
        return
    if workers < 1:
        raise InvalidInputError(f"--workers must be at least 1, got {workers}")
    limit = MAX_CLUSTER_WORKERS if cluster else MAX_WORKERS_PER_CPU * cpu_count()
    if workers > limit:
        where = "a cluster" if cluster else f"this machine ({cpu_count()} CPUs, at most {MAX_WORKERS_PER_CPU} per CPU)"
        raise InvalidInputError(f"--workers {workers:,} is more than {where} can run: at most {limit:,}")


def make_backend(backend: str | None, workers: int | None, ray_address: str | None, default_workers: int) -> Backend:
    """The named executor, validated at the edge; on a cluster `workers` caps the tasks at once (default: its CPUs)."""
    if backend not in list_backends():
        raise InvalidInputError(f"unknown --backend {backend!r}; available: {', '.join(list_backends())}")
    if ray_address and backend != "ray":
        raise InvalidInputError("--ray-address needs --backend ray")
    check_workers(workers, cluster=bool(ray_address))
    if ray_address:
        return get_backend(backend, workers, address=ray_address)
    return get_backend(backend, workers or default_workers)
