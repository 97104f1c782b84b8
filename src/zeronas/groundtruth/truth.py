"""Ground truth per search space: arch key -> trained accuracy over the whole space.

Evaluation asks "how well does a proxy rank architectures?" against this table; top-k% sets are
defined on it over the whole space, not on the scored sample.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pandas as pd

from zeronas.errors import UnknownNameError
from zeronas.groundtruth.nasbench201 import nb201_accuracy

#: space name -> loader(dataset, metric, data_dir) of its accuracy table
_LOADERS: dict[str, Callable[[str, str, str | os.PathLike | None], pd.Series]] = {"nb201": nb201_accuracy}


def spaces_with_ground_truth() -> list[str]:
    """Names of the spaces that have a ground-truth table."""
    return sorted(_LOADERS)


def ground_truth(
    space: str, dataset: str, metric: str = "test", data_dir: str | os.PathLike | None = None
) -> pd.Series:
    """Accuracy (%) of every architecture of `space` on `dataset`, indexed by canonical key.

    `metric` is 'test' (the survey's choice, the default) or 'val'.
    """
    if space not in _LOADERS:
        raise UnknownNameError(
            f"no ground truth for space {space!r}; spaces with ground truth: {', '.join(spaces_with_ground_truth())}"
        )
    return _LOADERS[space](dataset, metric, data_dir).astype("float64")
