"""The timm model space of the survey's hardware study: ImageNet-1k-only timm models, their top-1, a CPU cost.

Candidates are the models that `timm/model_metadata-in1k-2022.csv` marks as trained on ImageNet-1k
only (`in1k`; distilled, adversarial, in21k and other pretraining excluded), that
`timm/results-imagenet-2022.csv` gives a top-1 for, that the installed timm can build, and that
the cost model knows. Proxies are computed on randomly initialised models (`build_named_model`) at
a reduced resolution and a small batch (the survey's cheap setting), drawn from the real ImageNet
images of the data directory (`imagenet`: the 224 px sample, resized), synthetic when it lacks them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from zeronas.evaluation.scoring import ScoreSettings, cached_batch
from zeronas.hardware.costs import CostModel
from zeronas.pareto.study import Scorer
from zeronas.proxies import score
from zeronas.spaces.timm_zoo.tables import in1k_results
from zeronas.spaces.zoo import build_named_model

TIMM_DATASET = "imagenet"


def timm_in1k_models(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """model -> top1, top5, param_count (M), img_size for the in1k-only models buildable here."""
    import timm

    table = in1k_results(data_dir)
    return table[[timm.is_model(m) for m in table.index]]


def timm_candidates(
    cost: CostModel,
    models: Sequence[str] | None = None,
    sample: int | None = None,
    seed: int = 0,
    data_dir: str | os.PathLike | None = None,
    max_params: float | None = None,
) -> list[str]:
    """in1k-only models that have a cost: `models` if given (each checked), else all or a seeded sample.

    `max_params` (M, per the results table) keeps the proxies' memory bounded: a randomly initialised
    400M-parameter model needs ~20 GB for the float64 synflow pass and the gradient proxies on a CPU.
    """
    table = timm_in1k_models(data_dir)
    pool = list(models) if models else list(table.index)
    pool = [m for m in pool if m in table.index]
    if max_params is not None:
        pool = [m for m in pool if float(table.loc[m, "param_count"]) <= max_params]
    costs = cost.many(None, pool, TIMM_DATASET) if pool else np.array([])
    pool = [m for m, c in zip(pool, costs, strict=True) if np.isfinite(c)]
    if sample is not None and sample < len(pool):
        rng = np.random.default_rng(seed)
        pool = [pool[i] for i in np.sort(rng.choice(len(pool), sample, replace=False))]
    return pool


def timm_accuracy(data_dir: str | os.PathLike | None = None) -> pd.Series:
    """model -> ImageNet-1k top-1 (%), January 2022 timm results."""
    return timm_in1k_models(data_dir)["top1"]


def timm_settings(batch_size: int = 8, resolution: int = 64, source: str = "auto") -> ScoreSettings:
    """The cheap proxy setting for timm models: small batch, reduced resolution."""
    return ScoreSettings(batch_size=batch_size, resolution=resolution, source=source)


def timm_scorer(proxies: Sequence[str], settings: ScoreSettings) -> Scorer:
    """(model name, seed) -> Scores of the randomly initialised model (seeded init and batch)."""

    def run(name: str, seed: int):  # noqa: ANN202
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = build_named_model(name, num_classes=1000, input_size=settings.resolution)
        batch = cached_batch(
            TIMM_DATASET, settings.batch_size, seed, settings.resolution, settings.source, settings.data_dir
        )
        return score(model, batch, list(proxies), seed=seed, options=settings.options, nan_policy=settings.nan_policy)

    return run
