"""`zeronas report`: an HTML and a Markdown report of everything the store holds (reads the store, never scores)."""

from __future__ import annotations

from pathlib import Path

from zeronas.cli.app import DataDirOption, app, console
from zeronas.cli.evaluate_cmd import MetricOption, OutOption, StoreOption, TopOption, frame_table
from zeronas.config import use_data_dir
from zeronas.errors import InvalidInputError
from zeronas.evaluation.groups import format_summary
from zeronas.evaluation.report import write_report
from zeronas.store import ResultStore, default_store_path
from zeronas.store.checks import unsafe_name


def check_group_names(store: ResultStore) -> None:
    """Report files are named space_dataset_settings: refuse a stored name that would leave --out."""
    groups = store.groups()
    for column in ("space", "dataset", "settings"):
        bad = [str(v) for v in groups[column] if unsafe_name(str(v))]
        if bad:
            raise InvalidInputError(
                f"result store {store.path} holds the {column} name {bad[0]!r}, which is not a plain name "
                "(it has a path separator, control character or is '..'); report files are named after it"
            )


@app.command("report")
def report_command(
    store: StoreOption = None,
    out: OutOption = Path("zeronas-results"),
    metric: MetricOption = None,
    top: TopOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Write report.html (self-contained) and report.md, plus CSV/JSON/PNG per group, from the result store."""
    use_data_dir(data_dir)
    if metric is not None and metric not in ("test", "val"):
        raise InvalidInputError(f"--metric must be 'test' or 'val', got {metric!r}")
    path = store or default_store_path()
    opened = ResultStore(path, read_only=True)
    check_group_names(opened)
    files = write_report(opened, out, metric, top)
    for result in files.results:
        console.print(frame_table(format_summary(result), f"{result.title}: mean ± sample std (ddof=1) over seeds"))
    console.print(f"report of {len(files.results)} group(s) from {path}")
    for line in files.skipped:
        console.print(f"  [yellow]left out:[/] {line}", highlight=False)
    console.print(f"HTML: {files.html}\nMarkdown: {files.markdown}\n{len(files.tables)} table/plot files in {out}")
