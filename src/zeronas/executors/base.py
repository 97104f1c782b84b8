"""The executor interface: a plain picklable function applied to many tasks, results as they finish.

`Backend` is what every executor implements (local.py, ray.py); another executor is one more class
registered with `register_backend`: it receives the same top-level function and tasks and yields
(task, result) pairs in completion order; nothing else changes.

Any caller with many independent evaluations (sweeps, a search's population, latency tables) uses
the same interface: `run` (unordered, as results finish) or `map` (in task order). A backend used as
a context manager keeps its workers (or its cluster connection) between calls and releases them on
exit; used without one, each call starts and releases its own.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from zeronas.registry import Registry

_BACKENDS: Registry[Callable[..., Backend]] = Registry("sweep backend")


class WorkerLost(Exception):
    """A worker process died while running a task (crash, out of memory); the task has no result."""


class Backend(ABC):
    """Runs `fn(task)` for every task; yields (task, result) as each finishes.

    A task whose worker process died yields (task, WorkerLost(...)) instead of a result; exceptions
    raised by `fn` itself are the function's business (sweep functions turn them into failed rows).
    """

    name: str = ""
    #: True inside `with backend:` -- workers and connections then live until `close()`
    in_session: bool = False

    @abstractmethod
    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
        """Yield (task, fn(task)) in completion order."""

    def map(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> list[Any]:
        """[fn(task) for task in tasks], computed in parallel, in the given order (a lost task's entry: WorkerLost)."""
        indexed = list(enumerate(tasks))
        results: list[Any] = [None] * len(indexed)
        for (i, _), result in self.run(functools.partial(_call_indexed, fn), indexed):
            results[i] = result
        return results

    def close(self) -> None:  # noqa: B027 -- an optional hook: most backends hold nothing between calls
        """Release what the backend keeps between calls (nothing, unless a subclass holds workers or a cluster)."""

    def __enter__(self) -> Backend:
        self.in_session = True
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.in_session = False
        self.close()


def _call_indexed(fn: Callable[[Any], Any], pair: tuple[int, Any]) -> Any:
    """fn on the task of an (index, task) pair: lets `map` restore the order (top level, so it pickles)."""
    return fn(pair[1])


def register_backend(name: str) -> Callable[[Callable[..., Backend]], Callable[..., Backend]]:
    """Decorator: register a Backend factory called as factory(workers=N, **options)."""

    def wrap(factory: Callable[..., Backend]) -> Callable[..., Backend]:
        _BACKENDS.add(name, factory)
        return factory

    return wrap


def get_backend(name: str, workers: int | None = 1, **options: Any) -> Backend:
    """Instantiate the backend registered as `name` with `workers` parallel workers and its own `options`.

    `options` are backend-specific keywords (e.g. ray: address='auto'); a backend rejects ones it does not know.
    """
    backend = _BACKENDS.get(name)(workers=workers, **options)
    backend.name = backend.name or name
    return backend


def list_backends() -> list[str]:
    """Names of the registered backends."""
    return sorted(_BACKENDS.names())


def cpu_count() -> int:
    """CPUs this process may use (its affinity where the platform tells it), at least 1."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process stays a zombie until reaped: count it as gone
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _exit_with(sweep_pid: int, period: float = 1.0) -> None:
    while True:
        time.sleep(period)
        if not _running(sweep_pid):  # the sweep process died (e.g. kill -9): do not linger as an orphan
            os._exit(1)


def zeronas_environment() -> dict[str, str]:
    """The ZERONAS_* variables of this process (data directory, store, debug): what a worker must see."""
    return {key: value for key, value in os.environ.items() if key.startswith("ZERONAS_")}


def init_worker(sweep_pid: int | None = None, environment: dict[str, str] | None = None) -> None:
    """Worker start-up: the sweep's ZERONAS_* variables, one torch thread; exit when the sweep process dies.

    The sweep process is watched by pid, not as the parent: forkserver workers are its grandchildren.
    The fork server keeps the environment of the moment it started (an earlier command's --data-dir),
    so the sweep's own ZERONAS_* variables replace it.
    """
    if environment is not None:
        for key in [k for k in os.environ if k.startswith("ZERONAS_") and k not in environment]:
            del os.environ[key]
        os.environ.update(environment)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    watched = sweep_pid if sweep_pid is not None else os.getppid()
    threading.Thread(target=_exit_with, args=(watched,), daemon=True, name="sweep-watch").start()
