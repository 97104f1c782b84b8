"""`zeronas score`: proxies of one architecture or named model, as a table or JSON."""

from __future__ import annotations

import json
from typing import Annotated

import torch
import typer
from rich.table import Table

from zeronas.cli.app import (
    MAX_CLASSES,
    MAX_RESOLUTION,
    BatchSizeOption,
    DataDirOption,
    DatasetOption,
    ProxiesOption,
    SeedOption,
    SourceOption,
    app,
    console,
    parse_options,
)
from zeronas.config import use_data_dir
from zeronas.data import get_dataset, load_batch
from zeronas.errors import InvalidInputError
from zeronas.evaluation.scoring import build_seeded
from zeronas.proxies import Scores, score
from zeronas.spaces import DEFAULT_SPACE, create_space
from zeronas.spaces.zoo import build_named_model


def scores_table(scores: Scores, title: str) -> Table:
    table = Table(title=title)
    for column in ("proxy", "value", "seconds", "status"):
        table.add_column(column, justify="right" if column in ("value", "seconds") else "left")
    for name, detail in scores.details.items():
        status = "ok" if detail.ok else f"{detail.status}: {detail.reason}"
        table.add_row(name, f"{detail.value:.6g}", f"{detail.seconds:.3f}", status)
    return table


@app.command("score")
def score_command(
    space: Annotated[str | None, typer.Option("--space", help=f"Search space (default {DEFAULT_SPACE}).")] = None,
    arch: Annotated[str | None, typer.Option("--arch", help="Architecture key in the space.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="A named model: timm:NAME or torchvision:NAME.")] = None,
    dataset: DatasetOption = "cifar10",
    proxies: ProxiesOption = "all",
    seed: SeedOption = 0,
    batch_size: BatchSizeOption = 64,
    resolution: Annotated[
        int | None, typer.Option("--resolution", "-r", min=4, max=MAX_RESOLUTION, help="Input resolution.")
    ] = None,
    num_classes: Annotated[
        int | None, typer.Option("--num-classes", min=1, max=MAX_CLASSES, help="Override the class count.")
    ] = None,
    source: SourceOption = "auto",
    option: Annotated[list[str] | None, typer.Option("--option", "-o", help="proxy.option=value (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Score one architecture (--space/--arch) or one named model (--model) with proxies."""
    use_data_dir(data_dir)
    if (model is None) == (arch is None):
        raise InvalidInputError("give either --space/--arch or --model")
    info = get_dataset(dataset)
    classes = num_classes or info.num_classes
    if model is not None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = build_named_model(model, num_classes=classes, input_size=resolution)
        what = model
    else:
        search_space = create_space(space or DEFAULT_SPACE).for_dataset(info.name)
        key = search_space.validate(arch)
        net = build_seeded(search_space, key, classes, seed)
        what = key
    batch = load_batch(info.name, batch_size, seed, resolution, source, num_classes=classes)
    scores = score(net, batch, proxies, seed=seed, options=parse_options(option))
    if as_json:
        payload = {
            "model": what,
            "dataset": info.name,
            "settings": scores.settings,
            "proxies": {
                n: {"value": d.value, "status": d.status, "reason": d.reason, "seconds": d.seconds}
                for n, d in scores.details.items()
            },
        }
        typer.echo(json.dumps(payload, indent=2, default=str))
        return
    console.print(scores_table(scores, f"{what} on {info.name} ({batch.source}, batch {len(batch)}, seed {seed})"))
    console.print(f"total {scores.total_seconds:.2f} s")
