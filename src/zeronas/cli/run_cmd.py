"""`zeronas run`: the project's default job -- a short, real zero-shot search on NAS-Bench-201, no arguments.

Regularised evolution on NB201 with the CIFAR-10 batch and the mean z-score of nwot and synflow (of the cheap
proxies, the objective that found the best cells in our comparison: 93.91% CIFAR-10 test accuracy over 3 seeds
vs 93.76% for synflow and 92.64% for nwot), then the found cell, its costs, its benchmark test accuracy and its
rank among all 15,625 cells. About 3 minutes on two CPU cores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zeronas.cli.app import (
    RESULTS_DIR,
    DataDirOption,
    NoStoreOption,
    SeedOption,
    StoreOption,
    app,
    console,
    open_result_store,
)
from zeronas.cli.search_cmd import execute, report
from zeronas.config import use_data_dir
from zeronas.evaluation.scoring import ScoreSettings, cached_batch
from zeronas.spaces import DEFAULT_SPACE, create_space, get_benchmark

DEFAULT_EVALUATIONS = 200


@app.command("run")
def run_command(
    seed: SeedOption = 0,
    evaluations: Annotated[int, typer.Option("--evaluations", "-n", min=1, help="Candidates to score.")] = (
        DEFAULT_EVALUATIONS
    ),
    store: StoreOption = None,
    no_store: NoStoreOption = False,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = RESULTS_DIR / "run",
    data_dir: DataDirOption = None,
) -> None:
    """Default search: the default benchmark (NB201 on CIFAR-10), evolution with its default proxies."""
    use_data_dir(data_dir)
    benchmark = get_benchmark(DEFAULT_SPACE)
    space, dataset, proxy = create_space(benchmark.name), benchmark.default_dataset, benchmark.default_proxies
    settings = ScoreSettings()
    run = f"zeronas-run-{space.name}-{dataset}-{proxy.replace(',', '+')}-s{seed}-n{evaluations}"
    console.print(
        f"zeronas run: evolution on {space.name} / {dataset} with {proxy}, {evaluations} evaluations, seed {seed}"
    )
    batch = cached_batch(dataset, settings.batch_size, seed, None, settings.source, None)
    if batch.synthetic:
        console.print(
            f"[yellow]synthetic batch:[/] {batch.source}; pass --data-dir or set ZERONAS_DATA_DIR for the real "
            f"{dataset} batch",
            highlight=False,
        )
    else:
        console.print(f"proxy batch: {len(batch)} real {dataset} images from {batch.source}", highlight=False)
    result = execute(
        space,
        dataset,
        proxy,
        "evolution",
        evaluations,
        [],
        seed,
        settings,
        open_result_store(store, not no_store),
        run,
        {},
    )
    report(result, space, settings, out, export=True, top=5)
