"""`zeronas rank`: score a uniform sample of a space and show the best cells (README command 1)."""

from __future__ import annotations

from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from zeronas.cli.app import (
    BatchSizeOption,
    DataDirOption,
    DatasetOption,
    SeedOption,
    SourceOption,
    app,
    console,
)
from zeronas.cli.progress import progress_bar
from zeronas.config import use_data_dir
from zeronas.data import get_dataset
from zeronas.errors import ZeronasError
from zeronas.evaluation.scoring import ScoreSettings, cached_batch, score_arch
from zeronas.evaluation.sweep import check_sample
from zeronas.proxies import resolve_proxies
from zeronas.spaces import DEFAULT_SPACE, create_space, get_benchmark

#: cheap proxies that rank NB201 well; used when --proxies is 'default'
DEFAULT_PROXIES = ("params", "flops", "synflow", "nwot", "jacob_cov", "zen")


def mean_rank(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Mean over proxies of each cell's rank (1 = best); failed values rank last."""
    ranks = frame[columns].rank(ascending=False, na_option="bottom")
    return ranks.mean(axis=1)


@app.command("rank")
def rank_command(
    space: Annotated[str, typer.Option("--space", help="Search space.")] = DEFAULT_SPACE,
    dataset: DatasetOption = "cifar10",
    sample: Annotated[int, typer.Option("--sample", "-n", min=1, help="Cells drawn uniformly.")] = 200,
    proxies: Annotated[str, typer.Option("--proxies", "-p", help="'default', 'all' or names.")] = "default",
    top: Annotated[int, typer.Option("--top", min=1, help="How many cells to show.")] = 10,
    seed: SeedOption = 0,
    batch_size: BatchSizeOption = 64,
    source: SourceOption = "auto",
    data_dir: DataDirOption = None,
) -> None:
    """Score a seeded uniform sample of the space and print the best cells by mean proxy rank."""
    use_data_dir(data_dir)
    names = resolve_proxies(",".join(DEFAULT_PROXIES) if proxies == "default" else proxies)
    search_space = create_space(space)
    info = get_dataset(dataset)
    settings = ScoreSettings(batch_size=batch_size, source=source)
    batch = cached_batch(info.name, batch_size, seed, None, source, None)
    note = "[yellow]synthetic batch[/]: " if batch.synthetic else ""
    console.print(f"{note}scoring {sample} {space} cells on {info.name} with {', '.join(names)} ({batch.source})")
    check_sample(search_space, sample)
    keys = search_space.sample_many(sample, np.random.default_rng(seed))
    rows, failures = [], 0
    with progress_bar() as bar:
        task = bar.add_task("scoring", total=len(keys), rate="")
        for i, key in enumerate(keys):
            scores = score_arch(search_space, key, info.name, names, seed=seed, settings=settings)
            failures += sum(not d.ok for d in scores.details.values())
            rows.append({"arch": key, **scores})
            elapsed = bar.tasks[task].elapsed or 1e-9
            bar.update(task, advance=1, rate=f"{(i + 1) / elapsed:.2f} cells/s")
    frame = pd.DataFrame(rows).set_index("arch")
    frame["mean_rank"] = mean_rank(frame, names)
    accuracy_column = None
    try:
        benchmark = get_benchmark(space)
        if benchmark.truth_available():
            metric = benchmark.metrics[0]
            accuracy_column = f"{metric}_acc"
            frame[accuracy_column] = benchmark.ground_truth(info.name, metric).reindex(frame.index).to_numpy()
    except ZeronasError as exc:
        console.print(f"[yellow]no ground truth:[/] {exc}")
    best = frame.sort_values("mean_rank").head(top)
    table = Table(title=f"best {len(best)} of {len(frame)} by mean rank over {len(names)} proxies")
    table.add_column("arch", overflow="fold")
    for name in names:
        table.add_column(name, justify="right")
    table.add_column("mean rank", justify="right")
    if accuracy_column:
        table.add_column(benchmark.truth_label, justify="right")
    for arch, row in best.iterrows():
        cells = [arch, *(f"{row[n]:.4g}" for n in names), f"{row['mean_rank']:.1f}"]
        if accuracy_column:
            cells.append(f"{row[accuracy_column]:.2f}")
        table.add_row(*cells)
    console.print(table)
    if accuracy_column:
        unit, label = benchmark.truth_unit, benchmark.truth_label.removesuffix(" %")
        console.print(
            f"{label}: sample best {frame[accuracy_column].max():.2f}{unit}, "
            f"picked {best[accuracy_column].iloc[0]:.2f}{unit}; "
            f"failed values: {failures}"
        )
