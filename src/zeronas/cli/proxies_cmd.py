"""`zeronas proxies`: list the proxies, then the pool ensembles, as a table that never breaks a name, or as JSON."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from zeronas.cli.app import app, console
from zeronas.proxies import get_ensemble, get_proxy, list_ensembles, list_proxies


def proxy_records() -> list[dict[str, object]]:
    """One record per registered proxy: name, family, direction, needs, default options, description."""
    records = []
    for name in list_proxies():
        spec = get_proxy(name)
        records.append(
            {
                "name": name,
                "family": spec.family,
                "higher_is_better": bool(spec.higher_is_better),
                "needs": sorted(spec.needs),
                "options": dict(spec.defaults),
                "description": spec.description,
            }
        )
    for name in list_ensembles():
        ensemble = get_ensemble(name)
        records.append(
            {
                "name": name,
                "family": "ensemble",
                "higher_is_better": True,
                "needs": [],
                "options": {},
                "members": list(ensemble.members),
                "description": ensemble.description,
            }
        )
    return records


def proxies_table(records: list[dict[str, object]]) -> Table:
    """Name, family and direction never wrap; the description (with needs and options) wraps at words."""
    rows = []
    for r in records:
        details = [f"needs: {', '.join(r['needs'])}"] if r["needs"] else []
        if r.get("members"):
            details.append(f"ranked over a pool; members: {', '.join(r['members'])}")
        if r["options"]:
            details.append("options: " + ", ".join(f"{k}={v}" for k, v in r["options"].items()))
        rows.append(
            (
                str(r["name"]),
                str(r["family"]),
                "higher" if r["higher_is_better"] else "lower*",
                str(r["description"]) + "".join(f"\n[dim]{escape(d)}[/]" for d in details),
            )
        )
    table = Table(title="zeronas proxies", caption="lower*: lower raw values are better; zeronas negates them")
    for i, column in enumerate(("name", "family", "raw", "description")):
        if i < 3:
            width = max(len(column), *(len(row[i]) for row in rows))
            table.add_column(column, no_wrap=True, min_width=width)
        else:
            table.add_column(column, ratio=1, min_width=20)
    for row in rows:
        table.add_row(*row)
    return table


@app.command("proxies")
def proxies_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the registered proxies (family, direction, needs, options, description) and the pool ensembles."""
    records = proxy_records()
    if as_json:
        typer.echo(json.dumps(records, indent=2, default=str))
        return
    console.print(proxies_table(records))
