"""The `ray` backend: the same top-level function and tasks as `local`, on a local Ray instance or a Ray cluster.

Without an address it starts a new private single-node Ray bound to 127.0.0.1 (address='local', so
never one named by $RAY_ADDRESS or left by `ray start`; num_cpus = workers, no dashboard, no usage
report, worker output not forwarded) and shuts it down after the call, or at the end of a
`with backend:` session; with `address` ('auto', 'HOST:PORT', 'ray://HOST:PORT') it joins that cluster
and only disconnects at the end. A Ray instance this process already had is used and left running.

Each task is one Ray task needing `cpus_per_task` CPUs; Ray reuses worker processes between tasks,
so per-process caches (the scoring batch) survive, and each worker limits torch to `cpus_per_task`
threads. The driver keeps at most 2 x workers tasks submitted, collects them with `ray.wait` as
they finish and yields (task, result) in completion order, as the local backend does. A task whose
worker process dies (crash, out of memory, node lost) is retried by Ray `max_retries` times (once by
default, as the local backend does) and then yields `WorkerLost`; an exception raised by the function
itself propagates. When the caller stops early (Ctrl-C, an error), the tasks in flight end with the
driver's job when it shuts down or disconnects; inside a session that goes on, the next call cancels them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import ModuleType
from typing import Any

from zeronas.errors import InvalidInputError, ZeronasError
from zeronas.executors.base import Backend, WorkerLost, cpu_count, register_backend

#: Ray errors that mean the task's worker (or its node) is gone, not that the function raised
LOST_ERRORS = ("WorkerCrashedError", "OutOfMemoryError", "NodeDiedError", "ObjectLostError")

_threads: int | None = None  # torch threads set in this Ray worker process


def _call(fn: Callable[[Any], Any], task: Any, threads: int) -> Any:
    """Run in a Ray worker: limit torch to `threads` threads (once per process), then fn(task)."""
    global _threads
    if _threads != threads:
        import torch

        torch.set_num_threads(threads)
        _threads = threads
    return fn(task)


def import_ray() -> ModuleType:
    """The `ray` module, or a one-line ZeronasError saying how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise ZeronasError(
            f"--backend ray needs Ray, which is not importable ({exc}); install it with: pip install ray "
            "(the zeronas 'ray' extra)"
        ) from None
    return ray


@contextlib.contextmanager
def _single_node(ray: ModuleType, local: bool) -> Iterator[None]:
    """While starting a private instance, let Ray treat this node as a single-node setup: it then advertises
    and binds 127.0.0.1 instead of the routable address (Ray's own switch, RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER,
    read once at import; set here for the start only, so a later cluster join in this process is unaffected).
    """
    constants = getattr(getattr(ray, "_private", None), "ray_constants", None)
    if not local or constants is None or not hasattr(constants, "ENABLE_RAY_CLUSTER"):
        yield
        return
    before = constants.ENABLE_RAY_CLUSTER
    constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        constants.ENABLE_RAY_CLUSTER = before


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail in seconds, with one line, when a HOST:PORT cluster address does not answer (Ray retries for minutes)."""
    host, sep, port = address.rpartition(":")
    if address == "auto" or "://" in address or not sep or not port.isdigit():
        return  # 'auto' and ray:// addresses are resolved by Ray itself
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ZeronasError(f"could not join the Ray cluster at {address}: {exc.strerror or exc}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


@register_backend("ray")
class RayBackend(Backend):
    """Ray tasks on a local Ray instance (started on demand) or on the cluster at `address`."""

    def __init__(
        self,
        workers: int | None = None,
        address: str | None = None,
        cpus_per_task: float = 1.0,
        max_retries: int = 1,
        init_options: Mapping[str, Any] | None = None,
    ) -> None:
        """`workers`: CPUs of the local instance, or the tasks kept running on a cluster (default: its CPUs)."""
        if workers is not None and workers < 1:
            raise InvalidInputError(f"the ray backend needs workers >= 1, got {workers}")
        if cpus_per_task <= 0 or max_retries < 0:
            raise InvalidInputError("the ray backend needs cpus_per_task > 0 and max_retries >= 0")
        self.ray = import_ray()
        self.workers = workers
        self.address = address
        self.cpus_per_task = float(cpus_per_task)
        self.max_retries = int(max_retries)
        self.init_options = dict(init_options or {})
        self._started = False  # this backend called ray.init, so it calls ray.shutdown
        self._abandoned: list[Any] = []  # tasks still running when a call was interrupted
        self._remote: Any = None
        self._window = 2
        self._lost = tuple(getattr(self.ray.exceptions, name) for name in LOST_ERRORS)

    def open(self) -> None:
        """Start the local Ray instance or join the cluster, unless already done (called by `run`)."""
        if self._remote is not None:
            return
        ray = self.ray
        if not ray.is_initialized():
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report over the network
            quiet = {"log_to_driver": False, "logging_level": logging.ERROR, "include_dashboard": False}
            if self.address:
                _check_reachable(self.address)
                options = {"address": self.address, **quiet, **self.init_options}
                what = f"join the Ray cluster at {self.address}"
            else:
                cpus = self.workers or cpu_count()
                options = {"address": "local", "num_cpus": cpus, **quiet, **self.init_options}
                what = "start a local Ray instance"
            try:
                with _single_node(ray, local=not self.address):
                    ray.init(**options)
            except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
                raise ZeronasError(f"could not {what}: {_first_line(exc)}") from None
            self._started = True
        concurrency = self.workers or max(1, int(ray.cluster_resources().get("CPU", 1) // self.cpus_per_task))
        self._window = 2 * concurrency
        self._remote = ray.remote(_call).options(num_cpus=self.cpus_per_task, max_retries=self.max_retries)

    def close(self) -> None:
        """Shut down the Ray instance this backend started, or disconnect from the cluster it joined.

        Either ends this driver's job, and Ray then stops the tasks it still owns. No cancellation first:
        Ray (2.60) can abort the driver when a cancellation meets the shutdown right after it.
        """
        self._remote, self._abandoned = None, []
        if self._started:
            self._started = False
            self.ray.shutdown()

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
        queue = list(reversed(list(tasks)))  # pop() from the end keeps the given order
        if not queue:  # nothing to do: do not start (or join) Ray for it
            return
        ray = self.ray
        self.open()
        self._cancel_abandoned()
        threads = max(1, int(self.cpus_per_task))
        running: dict[Any, Any] = {}
        finished_all = False
        try:
            while queue or running:
                while queue and len(running) < self._window:
                    task = queue.pop()
                    running[self._remote.remote(fn, task, threads)] = task
                ready, _ = ray.wait(list(running), num_returns=1)
                for ref in ready:
                    yield running.pop(ref), self._result(ref)
            finished_all = True
        finally:
            if not finished_all:  # interrupted: a disconnect tears these down with the job; else the next call does
                self._abandoned = list(running)
            if not self.in_session:
                self.close()

    def _cancel_abandoned(self) -> None:
        """Cancel what an interrupted call left running, before new work competes with it (same session)."""
        abandoned, self._abandoned = self._abandoned, []
        for ref in abandoned:
            try:
                self.ray.cancel(ref)
            except Exception:  # already finished or its worker already gone
                continue

    def _result(self, ref: Any) -> Any:
        try:
            return self.ray.get(ref)
        except self._lost as exc:
            return WorkerLost(f"worker process died ({_first_line(exc)})")
