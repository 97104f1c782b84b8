"""The `local` executor: worker processes on this machine, or this process when workers <= 1.

Stdlib ProcessPoolExecutor with the 'forkserver' context where the platform has it (else 'spawn');
the forkserver imports the module of the function to run once, so each worker forks with torch and
zeronas already imported; torch is limited to one thread per worker, and a worker exits when the
process that started the pool dies.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from zeronas.executors.base import Backend, WorkerLost, cpu_count, init_worker, register_backend, zeronas_environment


def _modules_of(fn: Callable[[Any], Any]) -> list[str]:
    """Modules defining `fn` (and, through `functools.partial`, the callables it wraps): the forkserver preload."""
    parts = [fn, getattr(fn, "func", None), *getattr(fn, "args", ())]
    return sorted({m for p in parts if callable(p) and isinstance(m := getattr(p, "__module__", None), str)})


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

    def _pool(self, fn: Callable[[Any], Any]) -> ProcessPoolExecutor:
        context = multiprocessing.get_context(self.context)
        if self.context == "forkserver":  # the server imports fn's module once; workers fork from it
            context.set_forkserver_preload(_modules_of(fn))
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=init_worker,
            initargs=(os.getpid(), zeronas_environment()),
        )

    def _run_pool(self, fn: Callable[[Any], Any], tasks: list[Any]) -> Iterator[tuple[Any, Any]]:
        queue = list(reversed(tasks))  # pop() from the end keeps the given order
        suspects: list[Any] = []  # tasks in flight when a worker died: rerun one at a time
        pool = self._pool(fn)
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
                    except BrokenProcessPool:
                        broken = True
                        if limit == 1:  # it ran alone: this task killed its worker
                            yield task, WorkerLost("worker process died running it alone (out of memory or a crash)")
                        else:
                            suspects.append(task)
                if broken:
                    suspects.extend(running.values())
                    running.clear()
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = self._pool(fn)
            finished_all = True
        finally:
            if not finished_all:  # interrupted (Ctrl-C, an error, the consumer stopped): in-flight work is lost anyway
                _terminate(pool)
            pool.shutdown(wait=finished_all, cancel_futures=True)
