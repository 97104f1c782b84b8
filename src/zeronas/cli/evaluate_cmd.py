"""`zeronas evaluate`: sweep proxies over a space into the store, then report SPR/KT/best-found (README use 2)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from zeronas.cli.app import (
    MAX_SEED,
    BatchSizeOption,
    DataDirOption,
    DatasetOption,
    ProxiesOption,
    SourceOption,
    StoreOption,
    app,
    console,
    error_console,
    open_result_store,
    parse_options,
)
from zeronas.cli.executor_opts import BackendOption, RayAddressOption, WorkersOption, make_backend
from zeronas.cli.progress import progress_bar
from zeronas.config import use_data_dir
from zeronas.data import get_dataset
from zeronas.errors import InvalidInputError, ZeronasError
from zeronas.evaluation.groups import evaluate_group, format_best_found, format_summary, write_tables
from zeronas.evaluation.scoring import ScoreSettings, cached_batch, default_workers
from zeronas.evaluation.sweep import SweepStats, parse_seeds, plan_sweep, run_sweep
from zeronas.groundtruth.truth import ground_truth
from zeronas.proxies import expand_ensembles, get_proxy
from zeronas.spaces import DEFAULT_SPACE, get_benchmark

OutOption = Annotated[Path, typer.Option("--out", help="Directory for CSV/JSON tables and PNG plots.")]
MetricOption = Annotated[
    str | None,
    typer.Option("--metric", help="Ground truth: 'test' (the survey's) or 'val' (default: the benchmark's first)."),
]
TopOption = Annotated[
    float | None,
    typer.Option(
        "--top",
        min=0.01,
        max=100,
        help="k of the Top-k% columns (default: the --include-top K, else 5).",
        show_default=False,
    ),
]


def frame_table(frame: pd.DataFrame, title: str) -> Table:
    """A rich table of a DataFrame of display strings (first column left-aligned)."""
    table = Table(title=title, title_justify="left")
    for i, column in enumerate(frame.columns):
        table.add_column(str(column), justify="left" if i == 0 else "right", overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*(str(v) for v in row))
    return table


def _check_options(names: list[str], options: dict[str, dict[str, object]]) -> None:
    unknown = set(options) - set(names)
    if unknown:
        raise InvalidInputError(f"--option given for proxies not requested: {', '.join(sorted(unknown))}")
    for name, values in options.items():
        get_proxy(name).check_options(dict(values))


@app.command("evaluate")
def evaluate_command(
    space: Annotated[str, typer.Option("--space", help="Search space with ground truth.")] = DEFAULT_SPACE,
    dataset: DatasetOption = "cifar10",
    proxies: ProxiesOption = "all",
    seeds: Annotated[str, typer.Option("--seeds", help="Seeds: '0-4', '0,2,5' or '3'.")] = "0-4",
    sample: Annotated[int, typer.Option("--sample", "-n", min=0, help="Cells drawn uniformly (seeded).")] = 1000,
    include_top: Annotated[
        float,
        typer.Option("--include-top", min=0, max=100, help="Also score every cell in the top K% by ground truth."),
    ] = 0.0,
    top_sample: Annotated[
        int | None,
        typer.Option(
            "--top-sample",
            min=0,
            help="Score a seeded uniform draw of N cells of the top set (default: the benchmark's; 0: all of it).",
        ),
    ] = None,
    sample_seed: Annotated[
        int, typer.Option("--sample-seed", min=0, max=MAX_SEED, help="Seed of the uniform cell draw.")
    ] = 0,
    workers: WorkersOption = None,
    backend: BackendOption = "local",
    ray_address: RayAddressOption = None,
    store: StoreOption = None,
    metric: MetricOption = None,
    top: TopOption = None,
    batch_size: BatchSizeOption = 64,
    source: SourceOption = "auto",
    out: OutOption = Path("zeronas-results"),
    option: Annotated[list[str] | None, typer.Option("--option", "-o", help="proxy.option=value (repeatable).")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Score a seeded sample of a space with proxies over seeds (resumable), then report SPR/KT and best-found."""
    use_data_dir(data_dir)
    bench = get_benchmark(space)
    metric = metric or bench.metrics[0]
    if metric not in bench.metrics:
        raise InvalidInputError(f"--metric must be one of {', '.join(bench.metrics)} for {bench.name}, got {metric!r}")
    names, ensembles = expand_ensembles(proxies)
    seed_list = parse_seeds(seeds)
    options = parse_options(option)
    _check_options(names, options)
    info = get_dataset(dataset)
    ground_truth(space, info.name, metric)  # fail before scoring anything when the ground truth is missing
    if top_sample is None:
        top_sample = bench.top_sample if include_top else 0
    plan = plan_sweep(space, info.name, sample, include_top, sample_seed, metric, top_sample=top_sample)
    settings = ScoreSettings(
        batch_size=batch_size, source=source, options=options, data_dir=str(data_dir) if data_dir else None
    )
    batch = cached_batch(info.name, batch_size, 0, None, source, settings.data_dir)
    result_store = open_result_store(store)
    executor = make_backend(backend, workers, ray_address, default_workers())
    note = "[yellow]synthetic batch[/] " if batch.synthetic else ""
    drawn = "drawn uniformly from the " if plan.top_sample else ""
    console.print(
        f"{note}{space}/{info.name}: {len(plan.cells)} cells ({len(plan.uniform)} uniform, {len(plan.top)} {drawn}"
        f"top {include_top:g}%) x {len(seed_list)} seed(s) x {len(names)} proxies; batch {batch_size} from "
        f"{batch.source}; store {result_store.path}"
    )
    with progress_bar() as bar:
        task = bar.add_task("scoring", total=None, rate="")

        def on_start(total: int) -> None:
            bar.update(task, total=total)
            if total == 0:
                bar.update(task, visible=False)
                console.print("every row is already stored; nothing to compute")

        def on_progress(stats: SweepStats) -> None:
            bar.update(
                task,
                completed=stats.finished,
                rate=f"{stats.rows_per_second:.1f} rows/s, {stats.failed} failed",
            )

        try:
            with executor:
                digest, stats = run_sweep(
                    result_store, plan, names, seed_list, settings, executor, on_start=on_start, on_progress=on_progress
                )
        except KeyboardInterrupt:
            # typer turns KeyboardInterrupt into a return value in non-standalone mode: exit here, status 130
            bar.stop()
            error_console.print("interrupted; results already stored are kept: run the same command to resume")
            sys.exit(130)
    console.print(
        f"settings {digest}: {stats.finished} task(s), {stats.rows} row(s) written, {stats.failed} failed value(s) "
        f"in {stats.seconds:.1f} s"
    )
    for reason, count in sorted(stats.reasons.items(), key=lambda kv: -kv[1])[:5]:
        console.print(f"  [yellow]{count} x[/] {reason}", highlight=False)
    result = evaluate_group(
        result_store,
        space,
        info.name,
        digest,
        metric,
        top if top is not None else (include_top or 5.0),
        proxies=[*names, *ensembles],
        seeds=seed_list,
        cells=plan.cells,
        uniform=plan.uniform,
    )
    console.print(frame_table(format_summary(result), f"{result.title}: mean ± sample std (ddof=1) over seeds"))
    for line in result.notes:
        console.print(f"  {line}", highlight=False)
    best = format_best_found(result).drop(columns=["most picked"], errors="ignore")
    console.print(frame_table(best, f"best-found (space optimum {result.evaluation.optimum:.2f}{result.unit})"))
    written = write_tables(result, out)
    for subset in bench.subset_names():
        try:
            part = evaluate_group(
                result_store,
                space,
                info.name,
                digest,
                metric,
                top,
                proxies=[*names, *ensembles],
                seeds=seed_list,
                cells=plan.cells,
                uniform=plan.uniform,
                subset=subset,
            )
        except ZeronasError as exc:
            console.print(f"  subset {subset}: {exc}", highlight=False)
            continue
        console.print(frame_table(format_summary(part), part.title))
        for line in part.notes[:2]:
            console.print(f"  {line}", highlight=False)
        written += write_tables(part, out)
    console.print(
        f"wrote {len(written)} files to {out} (CSV, JSON, PNG); full report: zeronas report --store "
        f"{result_store.path} --out {out}"
    )
