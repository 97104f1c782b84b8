"""Sweeps: score many (cell, seed) pairs of a space with proxies into the result store, resumably.

A sweep is planned (which cells: a seeded uniform sample plus, optionally, the whole top-k% set by
ground truth), reduced to the (cell, seed) tasks whose rows are missing from the store, and run on a
backend. `compute_task` is a plain top-level function, so any executor can run it; the parent writes
each finished task's rows in one store transaction, so `kill -9` loses only the tasks in flight.
A model that raises becomes failed rows (NaN, status 'error', the reason), never a crashed sweep.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from zeronas.data import get_dataset
from zeronas.data.batch import MAX_SEED
from zeronas.errors import InvalidInputError
from zeronas.evaluation.metrics import top_set
from zeronas.evaluation.scoring import ScoreSettings, cached_batch, score_arch
from zeronas.executors import Backend, WorkerLost, get_backend
from zeronas.groundtruth.truth import ground_truth
from zeronas.spaces import SearchSpace, create_space, get_benchmark
from zeronas.store import ResultRow, ResultStore

#: cell roles recorded in the store: drawn uniformly, or added as the top K% set (role "top:K"), or a
#: uniform draw of N cells from that set on a space too large to score it whole ("top:K:N:S")
UNIFORM, TOP = "uniform", "top:"


def top_role(percent: float, size: int = 0, sample_seed: int = 0) -> str:
    """The store role of the top `percent`% cells a sweep added: the whole set, or a draw of `size` of them."""
    return f"{TOP}{percent:g}" + (f":{size}:{sample_seed}" if size else "")


def uniform_role(size: int, sample_seed: int) -> str:
    """The role of one uniform draw, 'uniform:N:S' (N cells, sample seed S): draws of one seed are nested."""
    return f"{UNIFORM}:{size}:{sample_seed}"


def recorded_draws(store: ResultStore, space: str, dataset: str) -> list[set[str]]:
    """Every uniform draw sweeps recorded for (space, dataset); the older role 'uniform' is the union of draws."""
    roles = [r for r in store.roles(space, dataset) if r == UNIFORM or r.startswith(UNIFORM + ":")]
    return [store.cells(space, dataset, role) for role in roles]


def recorded_tops(store: ResultStore, space: str, dataset: str) -> list[float]:
    """The K of every whole top-K% set sweeps added for (space, dataset), ascending."""
    roles = [role[len(TOP) :] for role in store.roles(space, dataset) if role.startswith(TOP)]
    return sorted(float(role) for role in roles if ":" not in role)


def recorded_top_draws(store: ResultStore, space: str, dataset: str) -> dict[float, set[str]]:
    """K -> the cells of every uniform draw from the top-K% set recorded for (space, dataset) (their union)."""
    draws: dict[float, set[str]] = {}
    for role in store.roles(space, dataset):
        if role.startswith(TOP) and role.count(":") == 3:
            percent = float(role[len(TOP) :].split(":")[0])
            draws.setdefault(percent, set()).update(store.cells(space, dataset, role))
    return draws


#: one sweep takes at most MAX_SEEDS seeds, each in 0 .. MAX_SEED (numpy SeedSequence entropy)
MAX_SEEDS = 1000


def _check_seed_count(text: object, count: int) -> None:
    if count > MAX_SEEDS:
        raise InvalidInputError(f"--seeds {text!r} names {count:,} seeds; a sweep takes at most {MAX_SEEDS:,}")


def parse_seeds(text: str | int | Iterable[int]) -> list[int]:
    """'0-4' -> [0..4]; '0,2,7' -> [0, 2, 7]; '3' -> [3]; ranges and lists may mix ('0-2,5').

    Each seed lies in 0 .. MAX_SEED (2**32 - 1) and a sweep takes at most MAX_SEEDS: one-line errors otherwise.
    """
    if isinstance(text, bool):
        raise InvalidInputError(f"--seeds must be integers, got {text!r}")
    if isinstance(text, int):
        text = str(text)
    seeds: set[int] = set()
    if isinstance(text, str):
        for part in text.replace(" ", "").split(","):
            low, dash, high = part.partition("-")
            try:
                first, last = (int(low), int(high)) if dash else (int(part), int(part)) if part else (0, -1)
            except ValueError:
                raise InvalidInputError(f"--seeds {text!r} must read like '0-4', '0,1,2' or '3'") from None
            if dash and last < first:
                raise InvalidInputError(f"--seeds {text!r}: the range {part!r} runs backwards")
            _check_seed_count(text, last - first + 1 + len(seeds))
            seeds.update(range(first, last + 1))
    else:
        items = list(text)
        if any(isinstance(s, bool) or not isinstance(s, int | np.integer) for s in items):
            raise InvalidInputError(f"--seeds must be integers, got {items!r}")
        seeds = {int(s) for s in items}
    _check_seed_count(text, len(seeds))
    if not seeds or min(seeds) < 0 or max(seeds) > MAX_SEED:
        raise InvalidInputError(f"--seeds {text!r} must name at least one seed, each in 0 .. {MAX_SEED}")
    return sorted(seeds)


def check_sample(space: SearchSpace, sample: int, option: str = "--sample") -> None:
    """One-line error naming `option` when a finite space has fewer cells than asked for."""
    if space.size is not None and sample > space.size:
        raise InvalidInputError(
            f"{option} {sample:,} exceeds the {space.size:,} cells of {space.name}; "
            f"{option} {space.size} takes the whole space"
        )


@dataclass(frozen=True)
class SweepPlan:
    """The cells of a sweep: a uniform sample and the top set added on purpose (may overlap)."""

    space: str
    dataset: str
    uniform: tuple[str, ...]
    top: tuple[str, ...] = ()
    sample_seed: int = 0
    include_top: float = 0.0
    #: cells drawn uniformly from the top set (0: the whole set was added)
    top_sample: int = 0

    @property
    def cells(self) -> list[str]:
        """Uniform cells first, then top cells not already drawn."""
        return list(dict.fromkeys(self.uniform + self.top))


def _labelled_cells(space: str, dataset: str, metric: str, data_dir: str | None) -> tuple[str, ...] | None:
    """The cells an imported ground-truth table labels, for a benchmark whose truth covers only those; else None.

    A benchmark with its own reader labels the whole space, so cells are drawn from the space; one whose
    ground truth is a table the user imported (NAS-Bench-301's Suite-Zero cells) is sampled from that table,
    since a random key of a 10^18-cell space is almost never in it.
    """
    if get_benchmark(space).truth is not None:
        return None
    return tuple(sorted(ground_truth(space, dataset, metric, data_dir).index))


def _draw(cells: tuple[str, ...], sample: int, seed: int) -> tuple[str, ...]:
    """A seeded uniform draw of `sample` of `cells` without repetition (one-line error when too many)."""
    if sample > len(cells):
        raise InvalidInputError(f"--sample {sample:,} is more than the {len(cells):,} cells the ground truth labels")
    picked = np.random.default_rng(seed).choice(len(cells), size=sample, replace=False)
    return tuple(cells[i] for i in picked)


def plan_sweep(
    space: str,
    dataset: str,
    sample: int,
    include_top: float = 0.0,
    sample_seed: int = 0,
    metric: str = "test",
    data_dir: str | None = None,
    top_sample: int = 0,
) -> SweepPlan:
    """Draw `sample` cells uniformly (seeded, without repetition) and add the top `include_top`% by ground truth.

    With `top_sample` N, the top set is not added whole but as a seeded uniform draw of N of its cells
    (the protocol on a space whose top 5% alone is too large to score, such as NAS-Bench-101's 21,181).
    """
    if top_sample < 0:
        raise InvalidInputError(f"--top-sample must be >= 0, got {top_sample}")
    if sample < 0:
        raise InvalidInputError(f"--sample must be >= 0, got {sample}")
    dataset = get_dataset(dataset).name
    search_space = create_space(space)
    labelled = _labelled_cells(space, dataset, metric, data_dir)
    if labelled is None:
        check_sample(search_space, sample)
        uniform = tuple(search_space.sample_many(sample, np.random.default_rng(sample_seed))) if sample else ()
    else:
        uniform = _draw(labelled, sample, sample_seed)
    top: tuple[str, ...] = ()
    if include_top:
        truth = ground_truth(space, dataset, metric, data_dir)
        top = tuple(top_set(truth, include_top))
        if top_sample and top_sample < len(top):
            rng = np.random.default_rng([sample_seed, 5])  # a stream of its own: the uniform draw is unchanged
            top = tuple(top[i] for i in sorted(rng.choice(len(top), size=top_sample, replace=False)))
        else:
            top_sample = 0
    elif top_sample:
        raise InvalidInputError("--top-sample needs --include-top K")
    if not uniform and not top:
        raise InvalidInputError("the sweep has no cells: give --sample N and/or --include-top K")
    return SweepPlan(space, dataset, uniform, top, sample_seed, float(include_top), top_sample)


@dataclass(frozen=True)
class CellTask:
    """One unit of work: the missing proxies of one (cell, seed); `space_config` rebuilds a configured space."""

    space: str
    arch: str
    dataset: str
    seed: int
    proxies: tuple[str, ...]
    settings: ScoreSettings
    digest: str
    space_config: tuple[tuple[str, object], ...] = ()


def _rows(task: CellTask, values: dict[str, tuple[float, str, str, float]]) -> list[ResultRow]:
    return [
        ResultRow(task.space, task.arch, task.dataset, name, task.seed, task.digest, value, status, reason, seconds)
        for name, (value, status, reason, seconds) in values.items()
    ]


def failed_rows(task: CellTask, reason: str, status: str = "error") -> list[ResultRow]:
    """Every proxy of `task` as a failed (NaN) row carrying `reason`."""
    return _rows(task, {name: (math.nan, status, reason, 0.0) for name in task.proxies})


def compute_task(task: CellTask) -> list[ResultRow]:
    """Build the cell (seeded), score its proxies on the seeded batch, and return one row per proxy.

    Never raises for a failing model: the failure becomes NaN rows with status 'error' and the reason.
    """
    try:
        space = create_space(task.space, **dict(task.space_config))
        scores = score_arch(space, task.arch, task.dataset, task.proxies, seed=task.seed, settings=task.settings)
    except Exception as exc:
        where = traceback.extract_tb(exc.__traceback__)[-1]
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return failed_rows(task, f"{type(exc).__name__}: {text} (at {where.name}:{where.lineno})")
    return _rows(task, {n: (d.value, d.status, d.reason, d.seconds) for n, d in scores.details.items()})


def pin_source(settings: ScoreSettings, dataset: str) -> ScoreSettings:
    """`source='auto'` resolved here to 'real' when this process finds the real batch (same digest, same values).

    A worker elsewhere (a Ray node) without the data then fails loudly instead of silently scoring a
    synthetic batch under the real batch's digest.
    """
    if settings.source != "auto":
        return settings
    batch = cached_batch(dataset, settings.batch_size, 0, settings.resolution, settings.source, settings.data_dir)
    return settings if batch.synthetic else replace(settings, source="real")


def pending_tasks(
    store: ResultStore,
    space: str,
    dataset: str,
    cells: Sequence[str],
    proxies: Sequence[str],
    seeds: Sequence[int],
    settings: ScoreSettings,
    digest: str,
) -> list[CellTask]:
    """The (cell, seed) tasks with at least one proxy row missing from the store, each with only those proxies."""
    done = store.done(space, dataset, digest)
    tasks = []
    for seed in seeds:
        for arch in cells:
            missing = tuple(p for p in proxies if (arch, p, seed) not in done)
            if missing:
                tasks.append(CellTask(space, arch, dataset, seed, missing, settings, digest))
    return tasks


@dataclass
class SweepStats:
    """What a sweep did: tasks run, rows written, failed values (NaN rows), seconds."""

    tasks: int = 0
    finished: int = 0
    rows: int = 0
    failed: int = 0
    seconds: float = 0.0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def run_tasks(
    store: ResultStore,
    tasks: Sequence[CellTask],
    backend: str | Backend = "local",
    workers: int = 1,
    on_progress: Callable[[SweepStats], None] | None = None,
) -> SweepStats:
    """Run `tasks` on `backend`, writing each finished task's rows to `store` in one transaction.

    `backend` is a registered name (started with `workers`) or a Backend instance (its own workers; in a
    `with` session it stays up for the next call).
    """
    stats = SweepStats(tasks=len(tasks))
    start = time.perf_counter()
    executor = backend if isinstance(backend, Backend) else get_backend(backend, workers=workers)
    for task, result in executor.run(compute_task, tasks):
        rows = failed_rows(task, str(result)) if isinstance(result, WorkerLost) else result
        stats.rows += store.add(rows)
        stats.finished += 1
        for row in rows:
            if not math.isfinite(row.value):
                stats.failed += 1
                key = f"{row.proxy}: {row.reason[:120]}"
                stats.reasons[key] = stats.reasons.get(key, 0) + 1
        stats.seconds = time.perf_counter() - start
        if on_progress is not None:
            on_progress(stats)
    stats.seconds = time.perf_counter() - start
    return stats


def run_sweep(
    store: ResultStore,
    plan: SweepPlan,
    proxies: Sequence[str],
    seeds: Sequence[int],
    settings: ScoreSettings,
    backend: str | Backend = "local",
    workers: int = 1,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[SweepStats], None] | None = None,
) -> tuple[str, SweepStats]:
    """Register the settings and the plan's cell roles, then compute every missing row; return (digest, stats)."""
    digest = settings.digest(plan.dataset)
    store.register_settings(digest, settings.as_dict(plan.dataset))
    settings = pin_source(settings, plan.dataset)
    if plan.uniform:
        store.mark_cells(plan.space, plan.dataset, uniform_role(len(plan.uniform), plan.sample_seed), plan.uniform)
    if plan.top:
        role = top_role(plan.include_top, plan.top_sample, plan.sample_seed)
        store.mark_cells(plan.space, plan.dataset, role, plan.top)
    tasks = pending_tasks(store, plan.space, plan.dataset, plan.cells, proxies, seeds, settings, digest)
    if on_start is not None:
        on_start(len(tasks))
    return digest, run_tasks(store, tasks, backend, workers, on_progress)
