"""`zeronas proxies`: list the registry."""

from __future__ import annotations

from rich.table import Table

from zeronas.cli.app import app, console
from zeronas.proxies import get_proxy, list_proxies


@app.command("proxies")
def proxies_command() -> None:
    """List the registered proxies with their direction, needs and description."""
    table = Table(title="zeronas proxies")
    for column in ("name", "family", "raw direction", "needs", "options", "description"):
        table.add_column(column, overflow="fold")
    for name in list_proxies():
        spec = get_proxy(name)
        table.add_row(
            name,
            spec.family,
            "higher" if spec.higher_is_better else "lower (negated)",
            ", ".join(sorted(spec.needs)),
            ", ".join(f"{k}={v}" for k, v in spec.defaults.items()),
            spec.description,
        )
    console.print(table)
