"""`zeronas hardware`: list and query cost models, measure latency tables, import HW-NAS-Bench."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

from zeronas.cli.app import DataDirOption, DatasetOption, SeedOption, StoreOption, app, console, open_result_store
from zeronas.cli.executor_opts import BackendOption, RayAddressOption, make_backend
from zeronas.cli.progress import progress_bar
from zeronas.config import use_data_dir
from zeronas.errors import InvalidInputError
from zeronas.evaluation.sweep import check_sample
from zeronas.spaces import DEFAULT_SPACE, create_space

hardware_app = typer.Typer(
    help="Hardware cost models: list, query, measure latency, import tables.", no_args_is_help=True
)
app.add_typer(hardware_app, name="hardware")

CostOptions = Annotated[
    list[str] | None,
    typer.Option("--cost-opt", "-o", help="Cost-model option key=value (repeatable), e.g. -o device=raspi4."),
]


def parse_cost_options(items: list[str] | None) -> dict[str, object]:
    """`key=value` strings -> {key: value}, values parsed as JSON when they parse."""
    out: dict[str, object] = {}
    for item in items or []:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise InvalidInputError(f"cost option {item!r} must read key=value, e.g. device=raspi4")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def build_cost(name: str, options: list[str] | None, store: object | None = None):  # noqa: ANN201
    """`get_cost(name, **options)`, handing the result store to cost models that take one."""
    from zeronas.hardware import get_cost
    from zeronas.hardware.costs import cost_options

    parsed = parse_cost_options(options)
    if store is not None:
        target = str(parsed.get("target", "nb201_latency")) if "target" in cost_options(name) else name
        if "store" in cost_options(target):
            parsed.setdefault("store", store)
    return get_cost(name, **parsed)


@hardware_app.command("costs")
def costs_command() -> None:
    """List the registered cost models and their options."""
    from zeronas.hardware import list_costs
    from zeronas.hardware.costs import cost_options, cost_summary

    table = Table(title="cost models (zeronas hardware cost KEY --cost NAME -o option=value)", title_justify="left")
    table.add_column("name")
    table.add_column("options", overflow="fold")
    table.add_column("what", overflow="fold")
    for name in list_costs():
        table.add_row(name, ", ".join(cost_options(name)), escape(cost_summary(name)))
    console.print(table)


@hardware_app.command("cost")
def cost_command(
    keys: Annotated[list[str], typer.Argument(help="Architecture keys (or model names with --space zoo).")],
    cost: Annotated[str, typer.Option("--cost", "-c", help="Cost model name.")] = "flops",
    cost_opt: CostOptions = None,
    space: Annotated[
        str, typer.Option("--space", help="Search space, or 'zoo' for timm/torchvision names.")
    ] = DEFAULT_SPACE,
    dataset: DatasetOption = "cifar10",
    store: StoreOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Print the cost of architectures under one cost model (measured costs use --store when given)."""
    use_data_dir(data_dir)
    model = build_cost(cost, cost_opt, open_result_store(store) if store is not None else None)
    search_space = None if space == "zoo" else create_space(space)
    for key in keys:
        console.print(f"{model(search_space, key, dataset):.6g} {model.unit}  {key}", highlight=False, markup=False)


@hardware_app.command("measure")
def measure_command(
    space: Annotated[str, typer.Option("--space", help="Search space.")] = DEFAULT_SPACE,
    dataset: DatasetOption = "cifar100",
    runtime: Annotated[str, typer.Option("--runtime", help="Inference runtime: torch or onnxruntime.")] = "torch",
    device: Annotated[str, typer.Option("--device", help="cpu or cuda.")] = "cpu",
    batch: Annotated[int, typer.Option("--batch", min=1, help="Batch size of the timed input.")] = 1,
    sample: Annotated[int | None, typer.Option("--sample", "-n", min=1, help="Cells drawn (seeded).")] = None,
    all_cells: Annotated[bool, typer.Option("--all", help="Every cell of the space.")] = False,
    seed: SeedOption = 0,
    run: Annotated[int, typer.Option("--run", min=0, help="Measurement run (store seed); repeat with 1 to check.")] = 0,
    threads: Annotated[int, typer.Option("--threads", min=1, help="Intra-op threads.")] = 1,
    warmup: Annotated[int, typer.Option("--warmup", min=0)] = 5,
    repeats: Annotated[int, typer.Option("--repeats", min=1)] = 30,
    clock: Annotated[
        str, typer.Option("--clock", help="wall (latency) or thread (CPU time of the calling thread; loaded machines).")
    ] = "wall",
    store: StoreOption = None,
    backend: BackendOption = None,
    workers: Annotated[
        int | None, typer.Option("--workers", "-j", min=1, help="Cells timed at once (default 1: no interference).")
    ] = None,
    ray_address: RayAddressOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Measure a resumable latency table into the store; with two runs, report their Spearman rho.

    --backend local|ray times the cells on executor workers; on a Ray cluster, give one worker per node.
    Cells timed side by side on one machine interfere, so --workers defaults to 1.
    """
    from zeronas.hardware.measured_latency import MeasuredLatency, measure_cells, repeatability

    use_data_dir(data_dir)
    if all_cells == (sample is not None):
        raise InvalidInputError("give exactly one of --sample N or --all")
    search_space = create_space(space)
    if sample is not None:
        check_sample(search_space, sample)
    keys = (
        list(search_space.enumerate()) if all_cells else search_space.sample_many(sample, np.random.default_rng(seed))
    )
    result_store = open_result_store(store)
    cost = MeasuredLatency(runtime, device, batch, warmup, repeats, threads, result_store, run, clock)
    executor = make_backend(backend or "local", workers, ray_address, 1) if backend or ray_address or workers else None
    console.print(
        f"measuring {len(keys)} {space} cells ({dataset}) as {cost.metric}, run {run}, "
        f"{threads} thread(s), into {result_store!r}",
        highlight=False,
        markup=False,
    )
    start = time.perf_counter()
    with progress_bar() as bar:
        task = bar.add_task("latency", total=len(keys), rate="")

        def advance(arch: str, value: float | None) -> None:
            bar.update(task, advance=1, rate="stored" if value is None else f"{value:.2f} ms")

        with contextlib.nullcontext() if executor is None else executor:
            progress = measure_cells(search_space, keys, dataset, cost, on_cell=advance, executor=executor)
    failed = f", failed {progress.failed} (error rows)" if progress.failed else ""
    console.print(
        f"measured {progress.measured}, already stored {progress.skipped}{failed}; "
        f"{progress.seconds_per_cell:.3f} s per measured cell ({time.perf_counter() - start:.0f} s total)",
        highlight=False,
    )
    other = 1 if run == 0 else 0
    for statistic in ("median", "min"):
        cost.statistic = statistic
        check = repeatability(result_store, search_space.name, dataset, cost, (other, run))
        if check.cells >= 3:
            console.print(
                f"repeatability of the {statistic} over {check.cells} cells in runs {other} and {run}: "
                f"Spearman {check.spearman:.3f}, median ratio {check.median_ratio:.3f} "
                f"(5-95%: {check.ratio_q05:.3f}-{check.ratio_q95:.3f})",
                highlight=False,
            )


@hardware_app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="HW-NAS-Bench-v1_0.pickle (official release).")],
    out: Annotated[Path | None, typer.Option("--out", help="CSV to write (default: user data dir).")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Import HW-NAS-Bench's pickle: every device metric becomes the `hwnasbench` cost (-o metric=...)."""
    from zeronas.hardware.hwnasbench import hwnasbench_metrics, import_hwnasbench

    use_data_dir(data_dir)
    written = import_hwnasbench(path, out)
    metrics = hwnasbench_metrics(written)
    console.print(f"wrote {written}: {len(metrics)} metrics: {', '.join(metrics)}", highlight=False)
    console.print(f"use: zeronas hardware cost KEY --cost hwnasbench -o metric={metrics[0]}", highlight=False)
