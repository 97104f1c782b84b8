"""The typer application object and the shared consoles and option types."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    name="zeronas",
    help="Zero-shot neural architecture search: score, evaluate and search architectures without training.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
error_console = Console(stderr=True)
ENV_DEBUG = "ZERONAS_DEBUG"


@app.callback()
def global_options(
    debug: Annotated[
        bool, typer.Option("--debug", help=f"Show the Python traceback of an error (same as {ENV_DEBUG}=1).")
    ] = False,
) -> None:
    """Zero-shot neural architecture search: score, evaluate and search architectures without training."""
    if debug:
        os.environ[ENV_DEBUG] = "1"


DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory (default: $ZERONAS_DATA_DIR, else ../shared).", show_default=False),
]
StoreOption = Annotated[
    Path | None,
    typer.Option("--store", help="Result store (default: $ZERONAS_STORE, else ./zeronas-results/store.sqlite)."),
]
ProxiesOption = Annotated[str, typer.Option("--proxies", "-p", help="'all' or comma-separated proxy names.")]
DatasetOption = Annotated[str, typer.Option("--dataset", "-d", help="cifar10, cifar100, ImageNet16-120 or imagenet.")]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of the weight init and the batch draw.")]
BatchSizeOption = Annotated[int, typer.Option("--batch-size", "-b", min=1, help="Proxy batch size.")]
SourceOption = Annotated[
    str,
    typer.Option("--source", help="Batch source: auto, real, synthetic, an .npz file or an image folder."),
]


def parse_options(items: list[str] | None) -> dict[str, dict[str, object]]:
    """`proxy.option=value` strings -> {proxy: {option: value}} (values parsed as JSON when possible)."""
    import json

    from zeronas.errors import InvalidInputError

    out: dict[str, dict[str, object]] = {}
    for item in items or []:
        name, eq, value = item.partition("=")
        proxy, dot, option = name.partition(".")
        if not eq or not dot or not proxy or not option:
            raise InvalidInputError(f"option {item!r} must read proxy.option=value, e.g. zen.repeat=4")
        try:
            parsed: object = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        out.setdefault(proxy, {})[option] = parsed
    return out
