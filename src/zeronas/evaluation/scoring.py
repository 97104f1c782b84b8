"""Score one architecture of a space on a data set with a seed: build, draw the batch, run the engine.

The seed fixes the weight initialisation (torch.manual_seed before `build`) and the batch draw,
as the evaluation protocol asks. `ScoreSettings` names every setting that changes a value, and
its `digest()` keys results in the store.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

import torch

from zeronas.config import find_data_dir
from zeronas.data import Batch, get_dataset, load_batch
from zeronas.proxies import Scores, score
from zeronas.spaces import SearchSpace


def _version() -> str:
    from zeronas import __version__

    return __version__


@dataclass(frozen=True)
class ScoreSettings:
    """Everything besides (space, arch, dataset, proxy, seed) that changes a proxy value."""

    batch_size: int = 64
    resolution: int | None = None
    source: str = "auto"
    options: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    nan_policy: str = "nan"
    data_dir: str | None = None

    def as_dict(self, dataset: str) -> dict[str, object]:
        """The settings as stored: the batch source resolved to what was actually used."""
        info = get_dataset(dataset)
        batch = cached_batch(dataset, self.batch_size, 0, self.resolution, self.source, self.data_dir)
        out = asdict(self)
        out.pop("data_dir")
        out["options"] = {k: dict(v) for k, v in sorted(self.options.items())}
        out["resolution"] = self.resolution or info.resolution
        out["source"] = batch.source
        out["version"] = _version()
        return out

    def digest(self, dataset: str) -> str:
        """A short stable hash of `as_dict(dataset)`."""
        text = json.dumps(self.as_dict(dataset), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def cached_batch(
    dataset: str, batch_size: int, seed: int, resolution: int | None, source: str, data_dir: str | None
) -> Batch:
    """`load_batch`, memoised: sweeps score thousands of cells on the same few draws.

    The data directory is resolved before the cache lookup, so a changed --data-dir or
    $ZERONAS_DATA_DIR in one process never gets the batch of the previous one.
    """
    found = find_data_dir(data_dir)
    return _cached_batch(dataset, batch_size, seed, resolution, source, str(found) if found else None)


@functools.lru_cache(maxsize=64)
def _cached_batch(
    dataset: str, batch_size: int, seed: int, resolution: int | None, source: str, data_dir: str | None
) -> Batch:
    return load_batch(dataset, batch_size, seed, resolution, source, data_dir)


def build_seeded(space: SearchSpace, key: str, num_classes: int, seed: int) -> torch.nn.Module:
    """Build `key` with weights initialised from `seed` (global RNG restored afterwards)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return space.build(key, num_classes=num_classes)


def score_arch(
    space: SearchSpace,
    key: str,
    dataset: str,
    proxies: str | Iterable[str],
    seed: int = 0,
    settings: ScoreSettings | None = None,
) -> Scores:
    """Build `key` (seeded), draw the data set's batch (seeded) and score it."""
    settings = settings or ScoreSettings()
    info = get_dataset(dataset)
    key = space.validate(key)
    model = build_seeded(space.for_dataset(info.name), key, info.num_classes, seed)
    batch = cached_batch(info.name, settings.batch_size, seed, settings.resolution, settings.source, settings.data_dir)
    return score(
        model, batch, proxies, seed=seed, options=settings.options, nan_policy=settings.nan_policy, inplace=True
    )


def default_workers() -> int:
    """Worker processes to use by default: the CPU count, at least 1."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
