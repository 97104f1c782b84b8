"""The typer application object and the shared consoles and option types."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from zeronas.data.batch import MAX_SEED
from zeronas.errors import InvalidInputError

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
NoStoreOption = Annotated[
    bool, typer.Option("--no-store", help="Neither read nor write the result store (nothing is kept).")
]
#: every command writes under this folder by default (`--out`)
RESULTS_DIR = Path("zeronas-results")
ProxiesOption = Annotated[str, typer.Option("--proxies", "-p", help="'all' or comma-separated proxy names.")]
DatasetOption = Annotated[str, typer.Option("--dataset", "-d", help="cifar10, cifar100, ImageNet16-120 or imagenet.")]
#: bounds of sizes given on the command line; a batch too large for memory is refused by `load_batch`
MAX_BATCH_SIZE = 65536
MAX_RESOLUTION = 4096
MAX_CLASSES = 100_000
SeedOption = Annotated[
    int, typer.Option("--seed", min=0, max=MAX_SEED, help="Seed of the weight init and the batch draw.")
]
BatchSizeOption = Annotated[
    int, typer.Option("--batch-size", "-b", min=1, max=MAX_BATCH_SIZE, help="Proxy batch size.")
]
SourceOption = Annotated[
    str,
    typer.Option("--source", help="Batch source: auto, real, synthetic, an .npz file or an image folder."),
]


def open_result_store(path: str | os.PathLike | None, enabled: bool = True):  # noqa: ANN201
    """The result store at `path` (None or 'default': $ZERONAS_STORE, else ./zeronas-results/store.sqlite).

    None when `enabled` is false (--no-store), so commands that compute values keep them by default.
    """
    if not enabled:
        return None
    from zeronas.store import ResultStore, default_store_path

    return ResultStore(default_store_path() if path is None or str(path) == "default" else path)


def merge_alias(value: object, alias: object, name: str, alias_name: str) -> object:
    """The value of an option given under its name or its old (hidden) spelling; both at once must agree."""
    if alias is None:
        return value
    if value is not None and value != alias:
        raise InvalidInputError(f"{name} and {alias_name} (its old spelling) disagree: {value!r} vs {alias!r}")
    return alias


def parse_options(items: list[str] | None) -> dict[str, dict[str, object]]:
    """`proxy.option=value` strings -> {proxy: {option: value}} (values parsed as JSON when possible)."""
    import json

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
