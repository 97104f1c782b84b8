"""`zeronas data`: what the data directory holds, whether its files are sound, and importing official files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from zeronas.cli.app import DataDirOption, app, console
from zeronas.config import ENV_DATA_DIR, check_data_dir, find_data_dir
from zeronas.datacheck import check_data, data_inventory
from zeronas.errors import DataNotFoundError, InvalidInputError
from zeronas.groundtruth.importers import find_importer, importers, user_data_dir

data_app = typer.Typer(help="Inspect the data directory and import official benchmark files.", no_args_is_help=True)
app.add_typer(data_app, name="data")


def _root(data_dir: Path | None) -> Path:
    """The data directory to inspect: --data-dir, else $ZERONAS_DATA_DIR, else ../shared (must be one)."""
    if data_dir is not None:
        return check_data_dir(data_dir, "--data-dir")
    found = find_data_dir()
    if found is None:
        raise DataNotFoundError(f"data directory not found (${ENV_DATA_DIR} or ../shared); pass --data-dir")
    return found


@data_app.command("info")
def info_command(data_dir: DataDirOption = None) -> None:
    """List the tables the data directory holds (and the known ones it lacks); unreadable files are marked."""
    root = _root(data_dir)
    inventory = data_inventory(root)
    table = Table(title=f"zeronas data directory {root}", title_justify="left")
    for column in ("file", "what", "rows", "size"):
        table.add_column(column, justify="right" if column in ("rows", "size") else "left", overflow="fold")
    for row in inventory.itertuples(index=False):
        if not row.present:
            table.add_row(f"[red]{escape(row.file)}[/]", f"missing: {row.what}", "", "")
            continue
        size = f"{row.bytes / 1e6:.2f} MB"
        if row.problem:
            table.add_row(f"[red]{escape(row.file)}[/]", f"[red]unreadable: {escape(row.problem)}[/]", "", size)
            continue
        rows = "" if row.rows is None or row.rows != row.rows else f"{int(row.rows):,}"
        table.add_row(escape(row.file), row.what, rows, size)
    console.print(table)


_STYLE = {"ok": "green", "problem": "red", "missing": "yellow", "skipped": "dim"}


@data_app.command("check")
def check_command(data_dir: DataDirOption = None) -> None:
    """Open and validate every file zeronas reads from the data directory (columns, shapes, ranges, row counts).

    Exits 2 when a present file is broken; missing optional files are listed, not errors.
    """
    root = _root(data_dir)
    results = check_data(root)
    table = Table(title=f"zeronas data check {root}", title_justify="left")
    for column in ("file", "status", "rows", "detail"):
        table.add_column(column, justify="right" if column == "rows" else "left", overflow="fold")
    for item in results:
        rows = "" if item.rows is None else f"{item.rows:,}"
        detail = item.detail or (item.what if item.status == "missing" else "")
        status = f"[{_STYLE[item.status]}]{item.status}[/]"
        table.add_row(escape(item.file), status, rows, escape(detail))
    console.print(table)
    broken = [item.file for item in results if item.broken]
    if broken:
        raise InvalidInputError(f"{len(broken)} broken file(s) in data directory {root}: {', '.join(broken)}")
    present = sum(item.status == "ok" for item in results)
    console.print(f"{present} file(s) ok, {sum(item.status == 'missing' for item in results)} known pattern(s) missing")


@data_app.command("import")
def import_command(
    path: Annotated[
        Path, typer.Argument(help="Official benchmark file: a NAS-Bench-Suite-Zero-style JSON, a .pth, ...")
    ],
    kind: Annotated[
        str, typer.Option("--kind", help="auto (by the file's ending) or an importer listed by `--kind list`.")
    ] = "auto",
    space: Annotated[
        str | None, typer.Option("--space", help="Benchmark the file belongs to (default: from its name or keys).")
    ] = None,
    to: Annotated[
        Path | None, typer.Option("--to", help="Data directory to write into (default: ~/.local/share/zeronas).")
    ] = None,
    dataset: Annotated[
        str | None, typer.Option("--dataset", "-d", help="Data set of a single-data-set Suite-Zero file.")
    ] = None,
) -> None:
    """Convert an official benchmark file into zeronas tables in a data directory."""
    if kind == "list":
        for bench, item in importers(space):
            console.print(
                f"{item.kind:12s} {', '.join(item.suffixes):12s} {bench.name if bench else 'any'}: {item.description}"
            )
        return
    target = (to or user_data_dir()).expanduser()
    if not path.expanduser().exists():
        raise DataNotFoundError(f"file to import not found: {path}")
    _, importer = find_importer(path.expanduser(), kind, space)
    written = importer.run(path, target, dataset)
    for item in written:
        console.print(f"wrote {item}")
    console.print(f"use it with --data-dir {target} or: export ZERONAS_DATA_DIR={target}")
