"""`zeronas data`: what the data directory holds, and importing official benchmark files into one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from zeronas.benchmarks.importers import data_inventory, import_nasbench201, import_suite_zero, user_data_dir
from zeronas.cli.app import DataDirOption, app, console
from zeronas.config import data_dir as resolve_data_dir
from zeronas.errors import InvalidInputError

data_app = typer.Typer(help="Inspect the data directory and import official benchmark files.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("info")
def info_command(data_dir: DataDirOption = None) -> None:
    """List the tables the data directory holds (and the known ones it lacks)."""
    root = resolve_data_dir(data_dir)
    inventory = data_inventory(root)
    table = Table(title=f"zeronas data directory {root}", title_justify="left")
    for column in ("file", "what", "rows", "size"):
        table.add_column(column, justify="right" if column in ("rows", "size") else "left", overflow="fold")
    for row in inventory.itertuples(index=False):
        if not row.present:
            table.add_row(f"[red]{row.file}[/]", f"missing: {row.what}", "", "")
            continue
        rows = "" if row.rows is None or row.rows != row.rows else f"{int(row.rows):,}"
        table.add_row(row.file, row.what, rows, f"{row.bytes / 1e6:.2f} MB")
    console.print(table)


@data_app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="NAS-Bench-201 .pth or NAS-Bench-Suite-Zero zc_*.json file.")],
    kind: Annotated[str, typer.Option("--kind", help="auto (by extension), nb201 or suite-zero.")] = "auto",
    to: Annotated[
        Path | None, typer.Option("--to", help="Data directory to write into (default: ~/.local/share/zeronas).")
    ] = None,
    dataset: Annotated[
        str | None, typer.Option("--dataset", "-d", help="Data set of a single-data-set Suite-Zero file.")
    ] = None,
) -> None:
    """Convert an official benchmark file into zeronas tables in a data directory."""
    target = (to or user_data_dir()).expanduser()
    if kind == "auto":
        kind = {".pth": "nb201", ".json": "suite-zero"}.get(path.suffix.lower(), "")
        if not kind:
            raise InvalidInputError(f"cannot tell the kind of {path.name}; pass --kind nb201 or --kind suite-zero")
    if kind == "nb201":
        written = [import_nasbench201(path, target)]
    elif kind == "suite-zero":
        written = import_suite_zero(path, target, dataset)
    else:
        raise InvalidInputError(f"--kind must be auto, nb201 or suite-zero, got {kind!r}")
    for item in written:
        console.print(f"wrote {item}")
    console.print(f"use it with --data-dir {target} or: export ZERONAS_DATA_DIR={target}")
