"""Ground truth per search space: arch key -> trained value over the whole space, from its benchmark.

Evaluation asks "how well does a proxy rank architectures?" against this table; top-k% sets are
defined on it over the whole space, not on the scored sample. Each benchmark (`zeronas.spaces`)
brings its own reader.
"""

from __future__ import annotations

import os

import pandas as pd

from zeronas.spaces import get_benchmark, list_benchmarks


def spaces_with_ground_truth() -> list[str]:
    """Names of the spaces whose benchmark has a ground-truth reader."""
    return list_benchmarks(with_ground_truth=True)


def ground_truth(
    space: str, dataset: str, metric: str = "test", data_dir: str | os.PathLike | None = None
) -> pd.Series:
    """Trained value (accuracy %) of every architecture of `space` on `dataset`, indexed by canonical key.

    `metric` is 'test' (the survey's choice, the default) or another the benchmark offers ('val').
    """
    return get_benchmark(space).ground_truth(dataset, metric, data_dir)
