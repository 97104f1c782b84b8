"""Executors that run sweep tasks: a plain picklable function applied to many tasks, results as they finish.

`local` runs worker processes on this machine (stdlib ProcessPoolExecutor with the 'forkserver'
context where the platform has it, else 'spawn'; torch limited to one thread per worker; a worker
exits when the sweep process dies), or in this process when workers <= 1. `ray` (ray_backend.py)
runs the same function on a local Ray instance or a Ray cluster. Another executor is one more class
registered with `register_backend`: it receives the same top-level function and tasks and yields
(task, result) pairs in completion order; nothing else changes.

Any caller with many independent evaluations (sweeps, a search's population, latency tables) uses
the same interface: `run` (unordered, as results finish) or `map` (in task order). A backend used as
a context manager keeps its workers (or its cluster connection) between calls and releases them on
exit; used without one, each call starts and releases its own.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import TracebackType
from typing import Any

from zeronas.registry import Registry

_BACKENDS: Registry[Callable[..., Backend]] = Registry("sweep backend")
#: modules the forkserver imports before forking workers (so each worker starts without importing torch)
PRELOAD = ("zeronas.evaluation.sweep",)


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


def init_worker(sweep_pid: int | None = None) -> None:
    """Worker start-up: one torch thread (workers run side by side); exit when the sweep process dies.

    The sweep process is watched by pid, not as the parent: forkserver workers are its grandchildren.
    """
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    watched = sweep_pid if sweep_pid is not None else os.getppid()
    threading.Thread(target=_exit_with, args=(watched,), daemon=True, name="sweep-watch").start()


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop the pool's worker processes now rather than after their current task (stdlib keeps them private)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            process.terminate()


@register_backend("local")
class LocalBackend(Backend):
    """Processes on this machine; a crashed worker's task is retried alone once before it is reported lost."""

    def __init__(self, workers: int | None = 1, context: str | None = None) -> None:
        self.workers = max(1, int(workers if workers is not None else cpu_count()))
        self.context = context or ("forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn")

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
        if self.workers <= 1:
            for task in tasks:
                yield task, fn(task)
            return
        yield from self._run_pool(fn, list(tasks))

    def _pool(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context(self.context)
        if self.context == "forkserver":  # the server imports torch and zeronas once; workers fork from it
            context.set_forkserver_preload(list(PRELOAD))
        return ProcessPoolExecutor(
            max_workers=self.workers, mp_context=context, initializer=init_worker, initargs=(os.getpid(),)
        )

    def _run_pool(self, fn: Callable[[Any], Any], tasks: list[Any]) -> Iterator[tuple[Any, Any]]:
        queue = list(reversed(tasks))  # pop() from the end keeps the given order
        suspects: list[Any] = []  # tasks in flight when a worker died: rerun one at a time
        pool = self._pool()
        running: dict[Future, Any] = {}
        finished_all = False
        try:
            while queue or suspects or running:
                limit = 1 if suspects else 2 * self.workers
                while len(running) < limit and (suspects or queue):
                    task = suspects.pop() if suspects else queue.pop()
                    running[pool.submit(fn, task)] = task
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                broken = False
                for future in finished:
                    task = running.pop(future)
                    try:
                        yield task, future.result()
                    except BrokenProcessPool as exc:
                        broken = True
                        if limit == 1:  # it ran alone: this task killed its worker
                            yield task, WorkerLost(f"worker process died ({exc or 'crash or out of memory'})")
                        else:
                            suspects.append(task)
                if broken:
                    suspects.extend(running.values())
                    running.clear()
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = self._pool()
            finished_all = True
        finally:
            if not finished_all:  # interrupted (Ctrl-C, an error, the consumer stopped): in-flight work is lost anyway
                _terminate(pool)
            pool.shutdown(wait=finished_all, cancel_futures=True)


# registers "ray"; the module imports Ray only when a RayBackend is created
from zeronas.evaluation import ray_backend as _ray_backend  # noqa: E402, F401
