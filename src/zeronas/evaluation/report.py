"""The evaluation report: one self-contained HTML file (plots embedded as base64 PNG) and a Markdown file.

Both are rendered from `GroupResult`s, which read the store; each group shows the settings that produced
its numbers (as registered in the store), the population rules and the failures.
"""

from __future__ import annotations

import base64
import html
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from zeronas.evaluation.groups import (
    GroupResult,
    evaluate_store,
    format_best_found,
    format_summary,
    write_tables,
)
from zeronas.store import ResultStore

PROTOCOL = (
    "Proxies are scored at initialisation; values are oriented (higher = predicted better). "
    "SPR is Spearman's ρ and KT Kendall's τ-b (scipy.stats) between proxy and ground-truth accuracy, per seed; "
    "tables give mean ± sample std (ddof=1) over seeds (the mean alone with one seed). Top-k% sets are defined "
    "by ground truth over the whole space (the ceil(k% × size) best cells, ties at the edge included) and "
    "evaluated on their scored cells: the whole set when every cell of it is scored, else the uniformly drawn "
    "cells in it. Failed values (NaN: errors, non-finite or not applicable) are excluded from correlations and "
    "best-found and counted in 'failed/rows'. Best-found is the ground truth of the cell with the highest proxy "
    "value over the All population; when several cells share that value (exact equality) it is the mean ground "
    "truth of the tied cells; the best-found table gives their range over all seeds ('min–max %') and their "
    "count per seed ('tied cells')."
)
_CSS = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 2em; color: #222; }
body { max-width: 1300px; }
h1 { font-size: 1.6em; } h2 { font-size: 1.3em; border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .88em; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
pre { background: #f7f7f7; padding: .6em; font-size: .85em; overflow-x: auto; }
img { max-width: 100%; border: 1px solid #eee; margin: .5em 0; }
.note { color: #555; font-size: .9em; }
"""


@dataclass
class ReportFiles:
    """What `write_report` produced."""

    html: Path
    markdown: Path
    tables: list[Path]
    results: list[GroupResult]
    skipped: list[str]


def _html_table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, escape=True, border=0, na_rep="n/a")


def _md_cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of `frame` (without its index)."""
    header = "| " + " | ".join(_md_cell(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def _ratio_wide(result: GroupResult, metric: str) -> pd.DataFrame:
    ratios = result.evaluation.ratios
    if ratios.empty:
        return pd.DataFrame()
    wide = ratios.pivot(index="percent", columns="proxy", values=metric).round(3)
    wide.columns.name = None
    wide.index = [f"top {p:g}%" for p in wide.index]
    return wide.reset_index(names=f"{metric.upper()} (mean)")


def _settings_text(result: GroupResult) -> str:
    return json.dumps({"digest": result.digest, **result.settings}, indent=2, sort_keys=True, default=str)


def render_html(results: list[GroupResult], figures: list[dict[str, bytes]], skipped: list[str], source: str) -> str:
    """The whole report as one HTML string; images are inline data URIs."""
    from zeronas import __version__

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>zeronas evaluation report</title>',
        f"<style>{_CSS}</style></head><body>",
        "<h1>zeronas evaluation report</h1>",
        f'<p class="note">store {html.escape(source)} · zeronas {__version__} · '
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} · {len(results)} group(s)</p>",
        f"<p>{html.escape(PROTOCOL)}</p>",
    ]
    for result, images in zip(results, figures, strict=True):
        ev = result.evaluation
        parts += [
            f"<h2>{html.escape(result.title)}</h2>",
            f"<p>Ground truth: {result.metric} {result.truth_kind}; space optimum {ev.optimum:.2f}{result.unit}.</p>",
            "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in result.notes) + "</ul>",
            "<h3>Settings that produced these numbers</h3>",
            f"<pre>{html.escape(_settings_text(result))}</pre>",
            "<h3>Rank correlation and best-found</h3>",
            _html_table(format_summary(result)),
        ]
        for name, caption in (
            ("correlations", f"SPR and KT @All and @Top{ev.top:g}% (mean ± sample std over seeds)"),
            ("best_found", "Best-found per proxy: mean over tied cells ± sample std over seeds; grey: tied min–max"),
            ("ratios", "SPR and KT against the top-k% ratio"),
        ):
            if name in images:
                data = base64.b64encode(images[name]).decode("ascii")
                parts.append(f'<figure><img alt="{name}" src="data:image/png;base64,{data}">')
                parts.append(f"<figcaption class='note'>{html.escape(caption)}</figcaption></figure>")
        parts += ["<h3>Best-found (survey Table IV)</h3>", _html_table(format_best_found(result))]
        for metric in ("spr", "kt"):
            wide = _ratio_wide(result, metric)
            if not wide.empty:
                parts += [f"<h3>Top-k% ratio sweep: {metric.upper()}</h3>", _html_table(wide)]
        parts.append("<h3>Failures</h3>")
        parts.append(_html_table(result.failures) if not result.failures.empty else "<p>none</p>")
    if skipped:
        parts += ["<h2>Left out</h2>", "<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in skipped) + "</ul>"]
    parts.append("</body></html>")
    return "\n".join(parts)


def render_markdown(results: list[GroupResult], skipped: list[str], source: str) -> str:
    """The report as Markdown; plots are referenced as the PNG files `write_tables` writes beside it."""
    lines = ["# zeronas evaluation report", "", f"Store: `{source}`", "", PROTOCOL, ""]
    for result in results:
        ev = result.evaluation
        lines += [f"## {result.title}", "", f"Ground truth: {result.metric} accuracy; optimum {ev.optimum:.2f}%.", ""]
        lines += [f"- {n}" for n in result.notes]
        lines += ["", "Settings:", "", "```json", _settings_text(result), "```", ""]
        lines += [markdown_table(format_summary(result)), ""]
        for name in ("correlations", "best_found", "ratios"):
            if name != "ratios" or not ev.ratios.empty:
                lines += [f"![{name}]({result.name}_{name}.png)", ""]
        lines += ["### Best-found", "", markdown_table(format_best_found(result)), ""]
        for metric in ("spr", "kt"):
            wide = _ratio_wide(result, metric)
            if not wide.empty:
                lines += [f"### Top-k% ratio sweep: {metric.upper()}", "", markdown_table(wide), ""]
        lines += ["### Failures", ""]
        lines += [markdown_table(result.failures) if not result.failures.empty else "none", ""]
    if skipped:
        lines += ["## Left out", "", *[f"- {s}" for s in skipped], ""]
    return "\n".join(lines)


def write_report(
    store: ResultStore,
    out_dir: str | os.PathLike,
    metric: str | None = None,
    top: float | None = None,
    data_dir: str | os.PathLike | None = None,
) -> ReportFiles:
    """Evaluate every group of `store` and write report.html, report.md and per-group CSV/JSON/PNG into `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results, skipped = evaluate_store(store, metric, top, data_dir=data_dir)
    figures = [result.figures() for result in results]
    tables = [
        path for result, images in zip(results, figures, strict=True) for path in write_tables(result, out, images)
    ]
    source = str(store.path)
    html_path = out / "report.html"
    html_path.write_text(render_html(results, figures, skipped, source), encoding="utf-8")
    md_path = out / "report.md"
    md_path.write_text(render_markdown(results, skipped, source), encoding="utf-8")
    return ReportFiles(html_path, md_path, tables, results, skipped)
