"""The timm tables of the data directory: the January 2022 ImageNet-1k results and how each model was pretrained.

`timm/model_metadata-in1k-2022.csv` says how each 2022 timm model was pretrained (`in1k`, `in1k-dist`,
`in21k`, ...); `timm/results-imagenet-2022.csv` gives its ImageNet-1k top-1/top-5, parameter count (M)
and the resolution it was evaluated at (`img_size`, the model's own test size: 224 for most, up to 672).
The ImageNet-1k-only models are those marked `in1k` that have a results row. Both the `timm_zoo`
benchmark and the timm Pareto study read them through this module.
"""

from __future__ import annotations

import functools
import os

import pandas as pd

from zeronas.config import data_file, read_data_csv
from zeronas.errors import InvalidInputError

TIMM_METADATA = "timm/model_metadata-in1k-2022.csv"
TIMM_RESULTS = "timm/results-imagenet-2022.csv"
TABLE_HINT = "the timm tables ship in the zeronas data directory (../shared/timm)"
#: results columns kept, per model
RESULT_COLUMNS = ("top1", "top5", "param_count", "img_size")


@functools.lru_cache(maxsize=4)
def _read(meta_path: str, results_path: str, meta_mtime: float, results_mtime: float) -> tuple[pd.DataFrame, tuple]:
    meta = read_data_csv(meta_path, ("model", "pretrain"), hint=TABLE_HINT)
    results = read_data_csv(results_path, ("model", *RESULT_COLUMNS), hint=TABLE_HINT)
    in1k = set(meta.loc[meta["pretrain"] == "in1k", "model"].astype(str))
    frame = results[results["model"].isin(in1k)].drop_duplicates("model").set_index("model")
    frame = frame[list(RESULT_COLUMNS)]
    for column in RESULT_COLUMNS:
        values = pd.to_numeric(frame[column], errors="coerce")
        if values.isna().any():
            bad = list(frame.index[values.isna()][:3])
            raise InvalidInputError(f"{results_path}: column {column} is not a number for {', '.join(bad)}")
        frame[column] = values
    frame["img_size"] = frame["img_size"].astype(int)
    without_row = tuple(sorted(in1k - set(frame.index)))
    return frame, without_row


def _paths(data_dir: str | os.PathLike | None) -> tuple[str, str, float, float]:
    meta = data_file(TIMM_METADATA, data_dir, hint=TABLE_HINT)
    results = data_file(TIMM_RESULTS, data_dir, hint=TABLE_HINT)
    return str(meta), str(results), meta.stat().st_mtime, results.stat().st_mtime


def in1k_results(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """model -> top1, top5 (%), param_count (M), img_size of every `in1k` model with a results row.

    Rows in the results table's order; read once per file version; the frame is shared, so callers copy
    before changing it.
    """
    return _read(*_paths(data_dir))[0]


def in1k_without_results(data_dir: str | os.PathLike | None = None) -> tuple[str, ...]:
    """Models marked `in1k` in the metadata that the results table has no row for."""
    return _read(*_paths(data_dir))[1]


#: the data sets the ground truth answers for: ImageNet-1k, its real batch at 224 px or at 64 px
TIMM_ZOO_DATASETS = ("imagenet", "imagenet64")


def timm_zoo_top1(
    dataset: str = "imagenet", metric: str = "top1", data_dir: str | os.PathLike | None = None
) -> pd.Series:
    """model -> ImageNet-1k top-1 (%) at the model's own evaluation size, for the models of the zoo.

    The proxies' batch resolution (`imagenet` 224 px, `imagenet64` 64 px) does not change the ground truth.
    """
    from zeronas.spaces.timm_zoo.models import zoo_models

    if metric != "top1":
        raise InvalidInputError(f"timm_zoo ground truth has metric 'top1' only, got {metric!r}")
    if dataset not in TIMM_ZOO_DATASETS:
        raise InvalidInputError(f"timm_zoo covers {', '.join(TIMM_ZOO_DATASETS)}, got {dataset!r}")
    top1 = in1k_results(data_dir).loc[zoo_models(data_dir), "top1"].astype("float64")
    return top1.rename(f"{dataset}_top1").rename_axis("arch")
