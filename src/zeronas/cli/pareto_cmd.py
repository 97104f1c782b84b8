"""`zeronas pareto`: each proxy's pick under a list of cost budgets against the ground-truth pick."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

from zeronas.cli.app import (
    MAX_RESOLUTION,
    RESULTS_DIR,
    BatchSizeOption,
    DataDirOption,
    DatasetOption,
    NoStoreOption,
    SeedOption,
    SourceOption,
    StoreOption,
    app,
    console,
    open_result_store,
)
from zeronas.cli.hardware_cmd import CostOptions, build_cost
from zeronas.cli.progress import progress_bar
from zeronas.config import use_data_dir
from zeronas.errors import InvalidInputError
from zeronas.evaluation.sweep import check_sample, parse_seeds
from zeronas.pareto.front import DEFAULT_QUANTILES
from zeronas.pareto.study import ParetoResult
from zeronas.spaces import DEFAULT_SPACE

DEFAULT_PROXIES = "params,flops,synflow,nwot"


def _floats(text: str | None, what: str, low: float = 0.0, high: float = math.inf) -> list[float] | None:
    """Comma-separated numbers in (low, high]; a one-line error naming `what` otherwise."""
    if not text:
        return None
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InvalidInputError(f"{what} must be comma-separated numbers, got {text!r}") from None
    if not all(low < v <= high for v in values):
        raise InvalidInputError(f"{what} must lie in ({low:g}, {high:g}], got {text!r}")
    return values


def _show(result: ParetoResult, unit: str = "%") -> None:
    lost = result.lost_table()
    what = "accuracy lost (pp)" if unit == "%" else "ground-truth metric lost"
    table = Table(title=escape(f"{what} per budget, {result.cost_name} [{result.cost_unit}]"), title_justify="left")
    table.add_column("budget", justify="right")
    table.add_column("cells", justify="right")
    table.add_column(f"true best {unit}".strip(), justify="right")
    fmt = ".2f" if unit == "%" else ".4f"  # accuracy % to 2 places; SSIM, negative losses to 4
    for proxy in result.proxies:
        table.add_column(proxy, justify="right")
    first = result.picks.drop_duplicates("budget").set_index("budget")
    for budget, row in lost.iterrows():
        meta = first.loc[budget]
        table.add_row(
            f"{budget:.4g}",
            str(int(meta["within_budget"])),
            format(meta["best_acc"], fmt),
            *(format(row[p], fmt) for p in result.proxies),
        )
    console.print(table)
    summary = Table(title="fronts vs the true front (normalised, reference point (1.1, 1.1))", title_justify="left")
    for column in ("proxy", "mean lost", "max lost", "HV ratio picks", "IGD picks", "HV ratio front", "IGD front"):
        summary.add_column(column, justify="right")
    for row in result.summary.itertuples(index=False):
        summary.add_row(
            row.proxy,
            format(row.mean_acc_lost, fmt),
            format(row.max_acc_lost, fmt),
            f"{row.hv_ratio_picks:.3f}",
            f"{row.igd_picks:.3f}",
            f"{row.hv_ratio_front:.3f}",
            f"{row.igd_front:.3f}",
        )
    console.print(summary)
    if result.predicted is not None:
        p = result.predicted
        console.print(
            f"predicted cost vs truth: Spearman {p['cost_spearman'].iloc[0]:.3f}; best-by-accuracy under the "
            f"predicted cost breaks {int(p['violates'].sum())}/{len(p)} budgets, loses "
            f"{p['acc_lost'].mean():.2f} pp on average; its front HV ratio {p['hv_ratio_front'].iloc[0]:.3f}",
            highlight=False,
        )
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}")


@app.command("pareto")
def pareto_command(
    space: Annotated[
        str, typer.Option("--space", help="A search space, or timm (ImageNet-1k-only timm models).")
    ] = DEFAULT_SPACE,
    dataset: DatasetOption = "cifar10",
    cost: Annotated[
        str | None,
        typer.Option("--cost", "-c", help="Cost model (zeronas hardware costs; default: the benchmark's)."),
    ] = None,
    cost_opt: CostOptions = None,
    proxies: Annotated[str, typer.Option("--proxies", "-p", help="Comma-separated proxies.")] = DEFAULT_PROXIES,
    sample: Annotated[int | None, typer.Option("--sample", "-n", min=2, help="Candidates drawn (seeded).")] = 200,
    models: Annotated[str | None, typer.Option("--models", help="timm: comma-separated model names.")] = None,
    max_params: Annotated[
        float | None, typer.Option("--max-params", min=0, help="timm: only models with at most this many M params.")
    ] = None,
    budgets: Annotated[str | None, typer.Option("--budgets", help="Comma-separated cost budgets.")] = None,
    quantiles: Annotated[
        str, typer.Option("--quantiles", help="Budgets at these quantiles of the candidates' cost (no --budgets).")
    ] = ",".join(str(q) for q in DEFAULT_QUANTILES),
    seeds: Annotated[str, typer.Option("--seeds", help="Proxy seeds to average, e.g. 0,1,2.")] = "0",
    seed: SeedOption = 0,
    batch_size: BatchSizeOption = 64,
    resolution: Annotated[
        int | None,
        typer.Option("--resolution", "-r", min=4, max=MAX_RESOLUTION, help="Proxy input resolution (timm: 64)."),
    ] = None,
    source: SourceOption = "auto",
    accuracy: Annotated[
        str, typer.Option("--accuracy", help="benchmark (its test accuracy) or edge (NB201's Pi 5 table).")
    ] = "benchmark",
    store: StoreOption = None,
    no_store: NoStoreOption = False,
    use_store: Annotated[
        bool, typer.Option("--use-store", hidden=True, help="Old flag: the store is used by default.")
    ] = False,
    out: Annotated[Path, typer.Option("--out", help="Directory for the plot, CSVs and JSON.")] = RESULTS_DIR / "pareto",
    cells: Annotated[
        bool, typer.Option("--cells/--no-cells", help="Also write every candidate's values (cells.csv).")
    ] = True,
    data_dir: DataDirOption = None,
) -> None:
    """Budgeted Pareto search: proxy picks vs ground-truth picks, accuracy lost, hypervolume and IGD."""
    from zeronas.evaluation.scoring import ScoreSettings
    from zeronas.hardware.predictors import PredictedCost
    from zeronas.pareto.plot import plot_pareto
    from zeronas.pareto.study import accuracy_series, gather_proxies, run_pareto, save_result, space_scorer
    from zeronas.proxies import resolve_proxies
    from zeronas.spaces import create_space, get_benchmark

    use_data_dir(data_dir)
    names = resolve_proxies(proxies)
    seed_list = parse_seeds(seeds)
    budget_values = _floats(budgets, "--budgets")
    quantile_values = _floats(quantiles, "--quantiles", high=1.0) or DEFAULT_QUANTILES
    if use_store and no_store:
        raise InvalidInputError("--use-store and --no-store contradict each other (the store is used by default)")
    result_store = open_result_store(store, not no_store)
    if cost is None:
        cost = "timm_latency" if space == "timm" else get_benchmark(space).default_cost
    cost_model = build_cost(cost, cost_opt, result_store)
    truth = cost_model.truth if isinstance(cost_model, PredictedCost) else None
    if space == "timm":
        from zeronas.pareto.timm_zoo import (
            TIMM_DATASET,
            timm_accuracy,
            timm_candidates,
            timm_scorer,
            timm_settings,
        )

        search_space, label, dataset = None, "zoo", TIMM_DATASET
        keys = timm_candidates(cost_model, models.split(",") if models else None, sample, seed, max_params=max_params)
        settings = timm_settings(batch_size, resolution or 64, source)
        scorer = timm_scorer(names, settings)
        truth_acc = timm_accuracy()
    else:
        search_space = create_space(space)
        label = search_space.name
        check_sample(search_space, sample or 200)
        keys = search_space.sample_many(sample or 200, np.random.default_rng(seed))
        settings = ScoreSettings(batch_size=batch_size, resolution=resolution, source=source)
        scorer = space_scorer(search_space, dataset, names, settings)
        truth_acc = accuracy_series(dataset, accuracy, space=search_space.name)
    from zeronas.data import get_dataset

    dataset = get_dataset(dataset).name
    digest = settings.digest(dataset)
    stored_settings = settings.as_dict(dataset)
    if result_store is not None:
        result_store.register_settings(digest, stored_settings)
    console.print(f"proxy batch: {stored_settings['source']}", markup=False, highlight=False)
    console.print(
        f"{len(keys)} {label} candidates, cost {cost_model.name} [{cost_model.unit}], proxies {', '.join(names)}",
        markup=False,
    )
    with progress_bar() as bar:
        task = bar.add_task("proxies", total=len(keys), rate="")
        table = gather_proxies(
            label,
            keys,
            dataset,
            names,
            seed_list,
            scorer,
            digest,
            result_store,
            on_cell=lambda _k: bar.update(task, advance=1),
        )
        bar.update(task, completed=len(keys))
    result = run_pareto(
        search_space,
        keys,
        dataset,
        cost_model,
        table,
        truth_acc,
        budget_values,
        quantile_values,
        truth,
    )
    _show(result, "%" if space == "timm" else get_benchmark(space).truth_unit)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{label}_{dataset}_{cost_model.name}").strip("_")
    paths = save_result(result, out, stem, cells=cells)
    plot = plot_pareto(result, out / f"{stem}.png", title=f"{label} {dataset}: {cost_model.name}")
    console.print(f"plot: {plot}\nresults: {paths['json']}", highlight=False, markup=False)
