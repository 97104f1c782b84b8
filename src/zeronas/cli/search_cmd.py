"""`zeronas search`: the best architectures of a space under budgets, without training (issue 5).

Prints the best candidates with proxy values and costs (and, where the space's benchmark has ground
truth, test accuracy and rank among all its cells), and writes to --out: history.csv, best.csv, trace.png, for NSGA-II
front.csv and front.png, and the best network as a state file, TorchScript and a checked ONNX file.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from zeronas.cli.app import (
    MAX_RESOLUTION,
    MAX_SEED,
    RESULTS_DIR,
    BatchSizeOption,
    DataDirOption,
    NoStoreOption,
    SeedOption,
    SourceOption,
    StoreOption,
    app,
    console,
    merge_alias,
    open_result_store,
)
from zeronas.cli.executor_opts import BackendOption, RayAddressOption, WorkersOption, make_backend
from zeronas.cli.progress import progress_bar
from zeronas.config import use_data_dir
from zeronas.data import get_dataset
from zeronas.errors import InvalidInputError, ZeronasError
from zeronas.evaluation.scoring import ScoreSettings, build_seeded, cached_batch, default_workers
from zeronas.executors import Backend
from zeronas.search import SearchResult, benchmark_truth, get_algorithm, plot_front, plot_trace, search
from zeronas.search.budget import parse_budgets
from zeronas.search.export import export_model
from zeronas.search.runner import default_run_id
from zeronas.spaces import DEFAULT_SPACE, SearchSpace, create_space, get_benchmark

#: a run id names a folder under --out and the store's traces: letters, digits and . _ + = - only
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+=-]{0,199}$")


def check_run_id(run: str) -> str:
    """`run` when it is a safe single folder name (no path separators, no '..'), else a one-line error."""
    if not _RUN_ID.match(run) or ".." in run:
        raise InvalidInputError(
            f"--run {run!r} must be one folder name: letters, digits and . _ + = - (no '/', no '..'), "
            "at most 200 characters"
        )
    return run


def parse_settings(items: list[str] | None) -> dict[str, object]:
    """`name=value` algorithm options (values parsed as JSON when possible)."""
    out: dict[str, object] = {}
    for item in items or []:
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            raise InvalidInputError(f"--set {item!r} must read name=value, e.g. --set channels=4")
        try:
            out[name.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[name.strip()] = value
    return out


def algorithm_options(algorithm: str, explicit: dict[str, object], extra: dict[str, object]) -> dict[str, object]:
    """Options the algorithm accepts: explicit CLI options it takes, plus every --set (checked)."""
    accepted = set(inspect.signature(get_algorithm(algorithm)).parameters) - {
        "ev",
        "evaluations",
        "rng",
        "on_supernet_step",
    }
    unknown = sorted(set(extra) - accepted)
    if unknown:
        raise InvalidInputError(
            f"{algorithm} has no option {', '.join(unknown)}; it accepts {', '.join(sorted(accepted)) or 'none'}"
        )
    return {**{k: v for k, v in explicit.items() if k in accepted and v is not None}, **extra}


def make_space(name: str, resolution: int | None) -> SearchSpace:
    """The space, built for `resolution` when its constructor takes one (mbv2); others score at it."""
    space = create_space(name)
    if resolution is not None and "resolution" in inspect.signature(type(space).__init__).parameters:
        return create_space(name, resolution=resolution)
    return space


def execute(
    space: SearchSpace,
    dataset: str,
    proxy: str,
    algorithm: str,
    evaluations: int,
    budgets: list[str],
    seed: int,
    settings: ScoreSettings,
    store: object | None,
    run: str,
    options: dict[str, object],
    proxy_seed: int | None = None,
    backend: Backend | None = None,
) -> SearchResult:
    """Run the search under a rich progress bar (candidates known together run on `backend` when given)."""
    with progress_bar() as bar:
        task = bar.add_task(f"{algorithm} {space.name}", total=evaluations, rate="")

        def on_record(record: object, ev: object) -> None:
            total = ev.planned or evaluations
            elapsed = bar.tasks[task].elapsed or 1e-9
            rate = f"{ev.steps / elapsed:.1f} cand/s  best {record.best:.5g}"
            bar.update(task, completed=ev.steps, total=max(total, ev.steps), rate=rate)

        if algorithm == "prune":
            options = {**options, "on_supernet_step": lambda done, total: bar.update(task, completed=done, total=total)}
        return search(
            space,
            dataset,
            proxy,
            algorithm,
            evaluations,
            budgets,
            seed,
            settings,
            store,
            run,
            on_record,
            proxy_seed=proxy_seed,
            backend=backend,
            **options,
        )


def report(
    result: SearchResult, space: SearchSpace, settings: ScoreSettings, out: Path, export: bool, top: int
) -> None:
    """Print the best candidates, ground truth and counts; write CSVs, plots and the exported model."""
    info = get_dataset(result.dataset)
    best = result.best.head(top).copy()
    truth = None
    bench = get_benchmark(result.space)
    unit = bench.truth_unit
    if bench.truth_available():
        try:
            truth = benchmark_truth(result.space, best["arch"].tolist(), info.name)
        except ZeronasError as exc:
            console.print(f"[yellow]no ground truth:[/] {exc}")
    table = Table(title=f"best {len(best)} of {result.stats['unique']} distinct candidates ({result.objective})")
    table.add_column("#", justify="right")
    table.add_column("arch", overflow="fold")
    table.add_column(result.objective, justify="right")
    cost_columns = [c for c in best.columns if c.startswith("cost_")]
    for column in cost_columns:
        table.add_column(column.removeprefix("cost_"), justify="right")
    if truth is not None:
        table.add_column(bench.truth_label, justify="right")
        table.add_column("rank", justify="right")
    for i, row in best.reset_index(drop=True).iterrows():
        cells = [str(i + 1), row["arch"], f"{row['value']:.5g}", *(f"{row[c]:.4g}" for c in cost_columns)]
        if truth is not None:
            cells += [f"{truth[truth.attrs['column']].iloc[i]:.2f}", str(truth["rank"].iloc[i])]
        table.add_row(*cells)
    console.print(table)
    first = best.iloc[0]
    costs = ", ".join(f"{c.removeprefix('cost_')} {first[c]:.4g}" for c in cost_columns)
    console.print(f"[bold]best:[/] {first['arch']}  {result.objective} {first['value']:.5g}  ({costs})")
    if truth is not None:
        console.print(
            f"[bold]ground truth ({info.name} {truth.attrs['metric']}):[/] "
            f"{truth[truth.attrs['column']].iloc[0]:.2f}{unit}, rank "
            f"{truth['rank'].iloc[0]} of {truth.attrs['cells']:,} (optimum {truth['optimum'].iloc[0]:.2f}{unit})"
        )
    s = result.stats
    parallel = f", {s['computed_on_executor']} on the executor" if s.get("computed_on_executor") else ""
    console.print(
        f"{s['evaluations']} evaluations ({s['unique']} distinct, {s['proxy_computations']} proxy computations"
        f"{parallel}, {s['reused']} reused), {s['rejected']} over budget, {s['seconds']:.1f} s, "
        f"{s['candidates_per_s']:.2f} cand/s"
    )
    out.mkdir(parents=True, exist_ok=True)
    result.history.to_csv(out / "history.csv", index=False)
    (best.merge(truth.drop(columns="optimum"), on="arch") if truth is not None else best).to_csv(
        out / "best.csv", index=False
    )
    written = [out / "history.csv", out / "best.csv", plot_trace(result, out / "trace.png")]
    if result.front is not None:
        front = result.front
        if truth is not None:
            front = front.merge(
                benchmark_truth(result.space, front["arch"].tolist(), info.name).drop(columns="optimum"), on="arch"
            )
        front.to_csv(out / "front.csv", index=False)
        written += [out / "front.csv", plot_front(result, out / "front.png")]
        console.print(f"Pareto front: {len(result.front)} architectures ({result.extra.get('cost')} vs proxy)")
    if result.algorithm == "fewshot":
        x = result.extra
        console.print(
            f"few-shot: {x['labels']} of the scored cells trained ({x['initial']} at random, the rest over "
            f"{x['rounds']} rounds as the predictor chose); the best one trained is listed first"
        )
    elif "rounds" in result.extra:
        result.extra["rounds"].to_csv(out / "prune_rounds.csv", index=False)
        written.append(out / "prune_rounds.csv")
    if export:
        resolution = vars(space).get("resolution") or settings.resolution or info.resolution
        model = build_seeded(space.for_dataset(info.name), result.best_arch, info.num_classes, result.seed)
        meta = {
            "space": result.space,
            "arch": result.best_arch,
            "dataset": info.name,
            "num_classes": info.num_classes,
            "resolution": resolution,
            "seed": result.seed,
            "objective": result.objective,
        }
        exported = export_model(model, out, "best", (1, 3, resolution, resolution), meta)
        written += [Path(exported.state), Path(exported.torchscript)]
        if exported.onnx:
            written.append(Path(exported.onnx))
            console.print(f"ONNX checked in onnxruntime: max |diff| to PyTorch {exported.max_abs_diff:.2e}")
        elif exported.onnx_skipped:
            console.print(f"[yellow]{exported.onnx_skipped}[/]", highlight=False)
    console.print("wrote " + ", ".join(str(p) for p in written))


@app.command("search")
def search_command(
    space: Annotated[str, typer.Option("--space", help="Search space (zeronas data info lists benchmarks).")] = (
        DEFAULT_SPACE
    ),
    dataset: Annotated[str | None, typer.Option("--dataset", "-d", help="Data set (default per space).")] = None,
    proxies: Annotated[
        str | None, typer.Option("--proxies", "-p", help="Proxy, or several: their mean z-score (default per space).")
    ] = None,
    proxy: Annotated[str | None, typer.Option("--proxy", hidden=True, help="Old spelling of --proxies.")] = None,
    algorithm: Annotated[
        str, typer.Option("--algorithm", "-a", help="evolution, random, nsga2, exhaustive, prune or fewshot.")
    ] = "evolution",
    evaluations: Annotated[
        int, typer.Option("--evaluations", "--steps", "-n", min=1, help="Candidates to score.")
    ] = 200,
    budget: Annotated[
        list[str] | None,
        typer.Option("--budget", help="cost<=value over any registered cost, e.g. flops<=600M (repeatable)."),
    ] = None,
    seed: SeedOption = 0,
    proxy_seed: Annotated[
        int | None,
        typer.Option(
            "--proxy-seed", min=0, max=MAX_SEED, help="Seed of the proxies' init and batch (default: --seed)."
        ),
    ] = None,
    store: StoreOption = None,
    no_store: NoStoreOption = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default zeronas-results/search/RUN).")
    ] = None,
    run: Annotated[str | None, typer.Option("--run", help="Run id (default: derived from the arguments).")] = None,
    resolution: Annotated[
        int | None,
        typer.Option("--resolution", "-r", min=8, max=MAX_RESOLUTION, help="Input resolution of the networks (mbv2)."),
    ] = None,
    proxy_resolution: Annotated[
        int | None,
        typer.Option(
            "--proxy-resolution", min=8, max=MAX_RESOLUTION, help="Resolution of the proxy batch (default: same)."
        ),
    ] = None,
    population: Annotated[int | None, typer.Option("--population", min=2, help="Population size.")] = None,
    tournament: Annotated[int | None, typer.Option("--tournament", min=1, help="Tournament size (evolution).")] = None,
    cost: Annotated[str | None, typer.Option("--cost", help="NSGA-II cost axis (default: first budget).")] = None,
    setting: Annotated[list[str] | None, typer.Option("--set", help="Algorithm option name=value.")] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Candidates to show.")] = 5,
    export: Annotated[bool, typer.Option("--export/--no-export", help="Export the best network.")] = True,
    batch_size: BatchSizeOption = 64,
    source: SourceOption = "auto",
    backend: BackendOption = None,
    workers: WorkersOption = None,
    ray_address: RayAddressOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Search a space for the architectures a proxy ranks best, under hardware budgets.

    With --backend local|ray, the candidates an algorithm knows together (the exhaustive list, a random
    sample, the initial population, an NSGA-II generation, `--set batch=B` children of evolution) are
    scored in parallel; the result is the same as without.
    """
    use_data_dir(data_dir)
    proxy = merge_alias(proxies, proxy, "--proxies", "--proxy")
    if run is not None:
        check_run_id(run)
    executor = None
    if backend is not None or ray_address or workers:
        executor = make_backend(backend or "local", workers, ray_address, default_workers())
        if algorithm == "prune":
            raise InvalidInputError("--backend does not apply to prune: it scores one supernet at a time")
    search_space = make_space(space, resolution)
    benchmark = get_benchmark(search_space.name)
    dataset = dataset or benchmark.default_dataset
    proxy = proxy or benchmark.default_proxies
    info = get_dataset(dataset)
    own = vars(search_space).get("resolution")
    res = proxy_resolution or own or resolution
    settings = ScoreSettings(
        batch_size=batch_size, source=source, resolution=res if res and res != info.resolution else None
    )
    explicit = {"population": population, "tournament": tournament, "cost": cost}
    options = algorithm_options(algorithm, explicit, parse_settings(setting))
    config = {
        "budgets": budget or [],
        "evaluations": evaluations,
        "options": options,
        "batch_size": batch_size,
        "source": source,
        "resolution": settings.resolution,
        "space": vars(search_space),
        "proxy_seed": proxy_seed,
    }
    run = check_run_id(run or default_run_id(algorithm, search_space, info.name, proxy.replace(",", "+"), seed, config))
    budgets = budget or []
    parse_budgets(budgets)  # one-line errors before anything is scored
    batch = cached_batch(
        info.name, batch_size, seed if proxy_seed is None else proxy_seed, settings.resolution, source, None
    )
    console.print(
        f"{algorithm} on {search_space.name} / {info.name}, proxy {proxy}, {', '.join(budgets) or 'no budget'}, "
        f"seed {seed}, batch {batch_size} x {tuple(batch.x.shape[1:])} ({batch.source}), run {run}"
    )
    with contextlib.nullcontext() if executor is None else executor:
        result = execute(
            search_space,
            info.name,
            proxy,
            algorithm,
            evaluations,
            budgets,
            seed,
            settings,
            open_result_store(store, not no_store),
            run,
            options,
            proxy_seed,
            executor,
        )
    report(result, search_space, settings, out or RESULTS_DIR / "search" / run, export, top)
