"""Measured latency as a cost model, stored as rows of the result store, and resumable tables of it.

A measurement is a store row with `proxy="latency_ms:<device>-<backend>-b<batch>"` (value: median
ms), `seed` = the measurement run (0, 1, ... independent repetitions of the whole table) and
`settings` = the digest of the measurement protocol (`MeasuredLatency.settings`: backend, device
and its name, batch, threads, warm-up, repeats, resolution, library versions). The IQR of the
same timing goes in sibling rows `latency_iqr_ms:...` and `latency_min_ms:...` (the fastest
call). With `clock="thread"` (CPU time of the calling thread, robust to a loaded machine, see
`zeronas.hardware.timing`) the rows are named `cputime_ms:...`, `cputime_iqr_ms:...` and
`cputime_min_ms:...` instead. `statistic="min"` makes the cost model answer the minimum instead of
the median: on a machine shared with other jobs the noise is one-sided, and the minimum of 30
calls repeats far better than their median (see the report of `zeronas hardware measure`).
The store is optional: without one the cost model measures on every first call and keeps the
value in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from scipy.stats import spearmanr

from zeronas.data import get_dataset
from zeronas.hardware.costs import CostModel, build_for_cost, canonical_key, register_cost
from zeronas.hardware.timing import LatencyStats, check_settings, device_name, measure_latency
from zeronas.spaces import SearchSpace

if TYPE_CHECKING:
    from zeronas.executors import Backend
    from zeronas.store import ResultStore

#: the `space` column used for named (timm / torchvision) models, which have no SearchSpace
ZOO_SPACE = "zoo"


def latency_metric(device: str, backend: str, batch: int, what: str = "latency_ms") -> str:
    """Store `proxy` name of a measured latency, e.g. `latency_ms:cpu-torch-b1`."""
    return f"{what}:{device.split(':')[0]}-{backend}-b{batch}"


def space_label(space: SearchSpace | None) -> str:
    return ZOO_SPACE if space is None else space.name


STATISTICS = ("median", "min")


class MeasuredLatency(CostModel):
    """Median (or minimum) latency (ms) of the built network on this machine, measured on first use."""

    def __init__(
        self,
        backend: str = "torch",
        device: str = "cpu",
        batch: int = 1,
        warmup: int = 5,
        repeats: int = 30,
        threads: int | None = 1,
        store: ResultStore | str | os.PathLike | None = None,
        run: int = 0,
        clock: str = "wall",
        statistic: str = "median",
    ) -> None:
        from zeronas.errors import InvalidInputError

        if statistic not in STATISTICS:
            raise InvalidInputError(f"latency statistic must be one of {', '.join(STATISTICS)}, got {statistic!r}")
        check_settings(backend, device, clock, threads)
        self.backend, self.device, self.batch, self.clock = backend, device, int(batch), clock
        self.statistic = statistic
        self.unit = f"ms ({statistic} of {repeats} calls, {'thread CPU time' if clock == 'thread' else 'wall'})"
        self.warmup, self.repeats, self.threads = int(warmup), int(repeats), threads
        if isinstance(store, str | os.PathLike):  # `-o store=PATH` on the command line
            from zeronas.store import ResultStore

            store = ResultStore(store)
        self.store, self.run = store, int(run)
        self.name = self.metric
        self._cache: dict[tuple[str, str, str], float] = {}
        self._stored: dict[tuple[str, str], dict[str, float]] = {}

    def _row_name(self, part: str) -> str:
        what = "cputime" if self.clock == "thread" else "latency"
        return latency_metric(self.device, self.backend, self.batch, f"{what}{part}_ms")

    @property
    def metric(self) -> str:
        """Store name of the value this cost answers (the median row, or the min row)."""
        return self._row_name("_min" if self.statistic == "min" else "")

    @property
    def spread_metric(self) -> str:
        return self._row_name("_iqr")

    def settings(self, dataset: str) -> dict[str, object]:
        """Everything that changes a measured value besides the architecture (stored with the digest)."""
        from zeronas import __version__

        out: dict[str, object] = {
            "kind": "latency",
            "backend": self.backend,
            "device": self.device,
            "device_name": device_name(self.device),
            "batch": self.batch,
            "threads": self.threads if self.threads is not None else torch.get_num_threads(),
            "warmup": self.warmup,
            "repeats": self.repeats,
            "clock": self.clock,
            "resolution": get_dataset(dataset).resolution,
            "torch": torch.__version__,
            "version": __version__,
        }
        if self.backend == "onnxruntime":
            import onnxruntime

            out["onnxruntime"] = onnxruntime.__version__
        return out

    def protocol(self) -> dict[str, object]:
        """The constructor values that rebuild this measurement protocol elsewhere (no store, no cache)."""
        return {
            "backend": self.backend,
            "device": self.device,
            "batch": self.batch,
            "warmup": self.warmup,
            "repeats": self.repeats,
            "threads": self.threads,
            "clock": self.clock,
        }

    def digest(self, dataset: str) -> str:
        text = json.dumps(self.settings(dataset), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def measure(self, space: SearchSpace | None, key: str, dataset: str) -> LatencyStats:
        """Build and time `key` now (no cache, no store)."""
        model, shape = build_for_cost(space, key, dataset)
        return measure_latency(
            model,
            (self.batch, *shape[1:]),
            backend=self.backend,
            device=self.device,
            warmup=self.warmup,
            repeats=self.repeats,
            threads=self.threads,
            clock=self.clock,
        )

    def record(self, space: SearchSpace | None, key: str, dataset: str, stats: LatencyStats, seconds: float) -> int:
        """Write one measurement (median and IQR rows) to the store; returns rows inserted."""
        values = {"": stats.median_ms, "_iqr": stats.iqr_ms, "_min": stats.min_ms}
        return self._write(space, key, dataset, values, seconds)

    def record_failure(self, space: SearchSpace | None, key: str, dataset: str, reason: str, seconds: float) -> int:
        """Write a cell that could not be timed as NaN rows with status 'error' and `reason` (skipped on resume)."""
        values = dict.fromkeys(("", "_iqr", "_min"), float("nan"))
        return self._write(space, key, dataset, values, seconds, "error", reason)

    def _write(
        self,
        space: SearchSpace | None,
        key: str,
        dataset: str,
        values: dict[str, float],
        seconds: float,
        status: str = "ok",
        reason: str = "",
    ) -> int:
        if self.store is None:
            return 0
        from zeronas.store import ResultRow

        digest = self.digest(dataset)
        self.store.register_settings(digest, self.settings(dataset))
        common = {
            "space": space_label(space),
            "arch": canonical_key(space, key),
            "dataset": get_dataset(dataset).name,
            "seed": self.run,
            "settings": digest,
            "status": status,
            "reason": reason,
            "seconds": seconds,
        }
        return self.store.add([ResultRow(proxy=self._row_name(part), value=v, **common) for part, v in values.items()])

    def stored(self, space: SearchSpace | None, dataset: str) -> dict[str, float]:
        """arch -> mean over runs of the stored values of `metric` for this protocol (empty without a store)."""
        if self.store is None:
            return {}
        name = get_dataset(dataset).name
        cache_key = (space_label(space), name)
        if cache_key not in self._stored:
            frame = self.store.frame(
                space=space_label(space), dataset=name, settings=self.digest(name), proxies=[self.metric]
            )
            frame = frame[frame["status"] == "ok"]
            self._stored[cache_key] = frame.groupby("arch")["value"].mean().to_dict()
        return self._stored[cache_key]

    def __call__(self, space: SearchSpace | None, key: str, dataset: str) -> float:
        arch, name = canonical_key(space, key), get_dataset(dataset).name
        cache_key = (space_label(space), arch, name)
        if cache_key in self._cache:
            return self._cache[cache_key]
        value = self.stored(space, name).get(arch)
        if value is None:
            start = time.perf_counter()
            stats = self.measure(space, arch, name)
            self.record(space, arch, name, stats, time.perf_counter() - start)
            value = stats.min_ms if self.statistic == "min" else stats.median_ms
        self._cache[cache_key] = float(value)
        return float(value)


register_cost("latency")(MeasuredLatency)


@dataclass(frozen=True)
class TableProgress:
    """What `measure_cells` did: cells measured now, already stored, failed (stored as error rows), s per cell."""

    measured: int
    skipped: int
    seconds_per_cell: float
    failed: int = 0


@dataclass(frozen=True)
class MeasureTask:
    """One cell of a latency table, as plain values an executor ships to a worker (or a Ray node)."""

    space: str
    space_config: tuple[tuple[str, object], ...]
    arch: str
    dataset: str
    protocol: tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class Measurement:
    """A worker's answer: the timing (None when the cell failed, with the reason), its seconds and the device name."""

    stats: LatencyStats | None
    seconds: float
    device_name: str
    reason: str = ""


def measure_task(task: MeasureTask) -> Measurement:
    """Build and time one cell where this runs (a top-level function, so any executor can run it)."""
    from zeronas.spaces import create_space

    cost = MeasuredLatency(**dict(task.protocol))
    start = time.perf_counter()
    try:
        stats = cost.measure(create_space(task.space, **dict(task.space_config)), task.arch, task.dataset)
    except Exception as exc:  # a cell that cannot be built or run becomes an error row, not a lost table
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return Measurement(None, time.perf_counter() - start, device_name(cost.device), f"{type(exc).__name__}: {text}")
    return Measurement(stats, time.perf_counter() - start, device_name(cost.device))


def measure_cells(
    space: SearchSpace,
    keys: Iterable[str],
    dataset: str,
    cost: MeasuredLatency,
    on_cell: Callable[[str, float | None], None] | None = None,
    executor: Backend | None = None,
) -> TableProgress:
    """Measure every key not yet stored for `cost.run` (resumable: stored cells are skipped).

    Each cell is written to the store as soon as it is measured, so an interrupted table resumes
    where it stopped. `on_cell(arch, median_ms; None if skipped; NaN if failed)` reports progress.
    `executor` (a sweep backend; default: this process, one cell at a time) times cells on its
    workers -- on a Ray cluster, one worker per node keeps timings apart; every worker must report
    the device the protocol names, else the table stops with a one-line error (rows so far are kept).
    """
    from zeronas.errors import InvalidInputError, ZeronasError
    from zeronas.executors import WorkerLost, get_backend

    if cost.store is None:
        raise InvalidInputError("a measured latency table needs a result store (--store PATH)")
    name = get_dataset(dataset).name
    done = cost.store.done(space.name, name, cost.digest(name))
    pending: dict[str, None] = {}
    skipped = 0
    for key in keys:
        arch = space.validate(key)
        if (arch, cost.metric, cost.run) in done:
            skipped += 1
            if on_cell:
                on_cell(arch, None)
        else:
            pending[arch] = None
    config, protocol = tuple(sorted(space.config().items())), tuple(sorted(cost.protocol().items()))
    tasks = [MeasureTask(space.name, config, arch, name, protocol) for arch in pending]
    expected = cost.settings(name)["device_name"]
    measured = failed = 0
    spent = 0.0
    for task, result in (executor or get_backend("local", workers=1)).run(measure_task, tasks):
        if isinstance(result, WorkerLost):
            result = Measurement(None, 0.0, expected, str(result))
        if result.device_name != expected:
            raise ZeronasError(
                f"a worker timed {task.arch} on {result.device_name!r}, but this table's protocol is for "
                f"{expected!r}: run one table per machine type ({measured} cells measured so far are stored)"
            )
        if result.stats is None:
            cost.record_failure(space, task.arch, name, result.reason, result.seconds)
            failed += 1
        else:
            cost.record(space, task.arch, name, result.stats, result.seconds)
            measured += 1
            spent += result.seconds
        if on_cell:
            on_cell(task.arch, result.stats.median_ms if result.stats else float("nan"))
    return TableProgress(measured, skipped, spent / measured if measured else float("nan"), failed)


@dataclass(frozen=True)
class Repeatability:
    """Agreement of two independent measurement runs over the cells both contain."""

    cells: int
    spearman: float
    median_ratio: float
    ratio_q05: float
    ratio_q95: float


def repeatability(
    store: ResultStore, space: str, dataset: str, cost: MeasuredLatency, runs: tuple[int, int] = (0, 1)
) -> Repeatability:
    """Spearman rho and ratio spread between runs `runs[0]` and `runs[1]` of the same protocol."""
    name = get_dataset(dataset).name
    frame = store.frame(space=space, dataset=name, settings=cost.digest(name), proxies=[cost.metric], seeds=list(runs))
    wide = frame[frame["status"] == "ok"].pivot_table(index="arch", columns="seed", values="value")
    wide = wide.reindex(columns=list(runs)).dropna()
    if len(wide) < 3:
        return Repeatability(len(wide), float("nan"), float("nan"), float("nan"), float("nan"))
    a, b = wide[runs[0]].to_numpy(), wide[runs[1]].to_numpy()
    ratio = a / b
    rho = float(spearmanr(a, b).statistic)
    q05, q50, q95 = np.quantile(ratio, [0.05, 0.5, 0.95])
    return Repeatability(len(wide), rho, float(q50), float(q05), float(q95))
