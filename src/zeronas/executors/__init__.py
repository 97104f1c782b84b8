"""Executors: run one picklable function over many tasks, on local processes or on Ray.

Sweeps, a search's population and latency tables all go through this interface; the built-in
executors are registered here, in one place: `local` (processes on this machine) and `ray` (a local
Ray instance or a cluster; Ray itself is imported only when a RayBackend is created).
"""

from zeronas.executors.base import (
    Backend,
    WorkerLost,
    cpu_count,
    get_backend,
    init_worker,
    list_backends,
    register_backend,
)
from zeronas.executors.local import LocalBackend
from zeronas.executors.ray import RayBackend

__all__ = [
    "Backend",
    "LocalBackend",
    "RayBackend",
    "WorkerLost",
    "cpu_count",
    "get_backend",
    "init_worker",
    "list_backends",
    "register_backend",
]
