"""What the CLI shows a person: the proxies table at 80 columns, JSON listings, progress off a terminal."""

from __future__ import annotations

import io
import json
import time

from rich.console import Console

from zeronas.cli.progress import LineProgress, progress_bar
from zeronas.cli.proxies_cmd import proxies_table, proxy_records
from zeronas.proxies import list_ensembles, list_proxies


def test_proxies_table_fits_80_columns_and_never_breaks_a_name():
    buffer = io.StringIO()
    Console(file=buffer, width=80, force_terminal=False, color_system=None).print(proxies_table(proxy_records()))
    lines = buffer.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 80
    first_cells = {line.split("│")[1].strip() for line in lines if line.startswith("│") and line.split("│")[1].strip()}
    # every name whole, on one line, and nothing else in that column
    assert first_cells == set(list_proxies()) | set(list_ensembles())


def test_proxies_json_lists_every_proxy_with_its_direction(cli):
    result = cli("proxies", "--json")
    assert result.code == 0
    records = {r["name"]: r for r in json.loads(result.out)}
    assert set(records) == set(list_proxies()) | set(list_ensembles())
    assert records["ntk_cond"]["higher_is_better"] is False and records["synflow"]["higher_is_better"] is True
    assert records["linear_regions"]["options"]["samples"] == 1000


def test_progress_off_a_terminal_prints_plain_lines_with_count_rate_and_eta():
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, force_terminal=False, color_system=None)
    bar = progress_bar(console)
    assert isinstance(bar, LineProgress)
    bar.interval = 0.05
    with bar:
        task = bar.add_task("scoring", total=10, rate="")
        bar.update(task, completed=4, rate="2.0 cells/s")
        time.sleep(0.3)
        bar.update(task, completed=10)
    lines = buffer.getvalue().splitlines()
    assert lines[0].startswith("scoring: 4/10 (40%), ") and "eta " in lines[0] and "[2.0 cells/s]" in lines[0]
    assert lines[-1].startswith("scoring: 10/10 (100%), ")
    assert len(lines) == 2  # a line only when the count changed, and the final one


def test_progress_on_a_terminal_is_the_rich_bar():
    console = Console(file=io.StringIO(), force_terminal=True)
    assert not isinstance(progress_bar(console), LineProgress)
