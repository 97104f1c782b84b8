"""`zeronas report`: an HTML and a Markdown report of everything the store holds (reads the store, never scores)."""

from __future__ import annotations

from pathlib import Path

from zeronas.cli.app import DataDirOption, app, console
from zeronas.cli.evaluate_cmd import MetricOption, OutOption, StoreOption, TopOption, frame_table
from zeronas.config import use_data_dir
from zeronas.errors import DataNotFoundError, InvalidInputError
from zeronas.evaluation.report import write_report
from zeronas.evaluation.results import format_summary
from zeronas.store import ResultStore, default_store_path


@app.command("report")
def report_command(
    store: StoreOption = None,
    out: OutOption = Path("zeronas-results"),
    metric: MetricOption = "test",
    top: TopOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Write report.html (self-contained) and report.md, plus CSV/JSON/PNG per group, from the result store."""
    use_data_dir(data_dir)
    if metric not in ("test", "val"):
        raise InvalidInputError(f"--metric must be 'test' or 'val', got {metric!r}")
    path = store or default_store_path()
    if not Path(path).is_file():
        raise DataNotFoundError(f"result store {path} not found; fill it with `zeronas evaluate --store {path}`")
    files = write_report(ResultStore(path), out, metric, top)
    for result in files.results:
        console.print(frame_table(format_summary(result), f"{result.title}: mean ± std over seeds"))
    console.print(f"report of {len(files.results)} group(s) from {path}")
    for line in files.skipped:
        console.print(f"  [yellow]left out:[/] {line}", highlight=False)
    console.print(f"HTML: {files.html}\nMarkdown: {files.markdown}\n{len(files.tables)} table/plot files in {out}")
