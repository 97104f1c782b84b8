"""`zeronas store`: what a result store holds, and moving its rows to another store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from zeronas.cli.app import StoreOption, app, console
from zeronas.evaluation.sweep import parse_seeds
from zeronas.store import ResultStore, default_store_path
from zeronas.store.transfer import export_rows, import_rows

store_app = typer.Typer(help="Inspect a result store, export its rows, import an export.", no_args_is_help=True)
app.add_typer(store_app, name="store")


def _existing(store: Path | None) -> ResultStore:
    """The store to read, opened read-only: a missing or broken store is a one-line error, never created."""
    return ResultStore(store or default_store_path(), read_only=True)


@store_app.command("info")
def info_command(store: StoreOption = None) -> None:
    """One line per (space, data set, settings): rows, failed rows, proxies, seeds, cells."""
    opened = _existing(store)
    groups = opened.groups()
    table = Table(title=f"result store {opened.path}", title_justify="left")
    for column in groups.columns:
        table.add_column(column, justify="left" if column in ("space", "dataset", "settings") else "right")
    for row in groups.itertuples(index=False):
        table.add_row(*[f"{v:,}" if isinstance(v, int) else str(v) for v in row])
    console.print(table)


@store_app.command("export")
def export_command(
    out: Annotated[Path, typer.Argument(help="Export file (.csv, or .csv.gz to compress).")],
    store: StoreOption = None,
    space: Annotated[str | None, typer.Option("--space", help="Only this space.")] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", "-d", help="Only this data set.")] = None,
    proxies: Annotated[str | None, typer.Option("--proxies", "-p", help="Only these proxies (a,b,...).")] = None,
    seeds: Annotated[str | None, typer.Option("--seeds", help="Only these seeds (0,1 or 0-4).")] = None,
) -> None:
    """Write stored rows, with the settings behind each digest, to one self-contained file."""
    seed_list = parse_seeds(seeds) if seeds else None
    count = export_rows(_existing(store), out, space=space, dataset=dataset, proxies=proxies, seeds=seed_list)
    console.print(f"wrote {count:,} rows to {out}")


@store_app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="A file written by `zeronas store export`.")],
    store: StoreOption = None,
) -> None:
    """Add the rows of an export to the store (created when missing); rows already there are kept."""
    target = ResultStore(store or default_store_path())
    read, new = import_rows(target, path)
    console.print(f"read {read:,} rows from {path}: {new:,} new, {read - new:,} already in {target.path}")
