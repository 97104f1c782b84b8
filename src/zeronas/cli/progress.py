"""The progress display zeronas commands share: a rich bar on a terminal, plain lines anywhere else.

Off a terminal (a pipe, a log file, CI, nohup) rich draws nothing until the end, so a long run would look
hung; there a background thread prints one line every few seconds: done/total, rate, elapsed and ETA.
"""

from __future__ import annotations

import os
import threading

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

ENV_INTERVAL = "ZERONAS_PROGRESS_INTERVAL"
DEFAULT_INTERVAL = 5.0


def _clock(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds == float("inf"):
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class LineProgress(Progress):
    """A `Progress` that, off a terminal, prints a plain status line per task every `interval` seconds."""

    def __init__(self, *columns: object, console: Console, interval: float = DEFAULT_INTERVAL) -> None:
        super().__init__(*columns, console=console, disable=True)
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._printed: dict[TaskID, tuple[float, float | None]] = {}

    def status_line(self, task_id: TaskID) -> str:
        """'description: done/total (pct), rate, elapsed, eta' for one task."""
        task = self._tasks[task_id]
        done = int(task.completed)
        count = f"{done}/{int(task.total)} ({100 * task.completed / task.total:.0f}%)" if task.total else f"{done}"
        elapsed = task.elapsed or 0.0
        rate = f"{task.completed / elapsed:.3g}/s" if elapsed > 0 and task.completed else "-"
        remaining = None
        if task.total and task.completed and elapsed > 0:
            remaining = (task.total - task.completed) * elapsed / task.completed
        extra = str(task.fields.get("rate", "") or "")
        parts = [f"{task.description}: {count}", rate, f"elapsed {_clock(elapsed)}", f"eta {_clock(remaining)}"]
        return ", ".join(parts) + (f" [{extra}]" if extra else "")

    def print_status(self) -> None:
        """Print a line for every visible task whose count changed since its last line."""
        for task_id, task in list(self._tasks.items()):
            if not task.visible or task.start_time is None:
                continue
            state = (task.completed, task.total)
            if self._printed.get(task_id) == state:
                continue
            self._printed[task_id] = state
            self.console.print(self.status_line(task_id), highlight=False, markup=False, soft_wrap=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.print_status()

    def start(self) -> None:
        super().start()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="zeronas-progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
            self.print_status()
        super().stop()


def progress_bar(console: Console | None = None) -> Progress:
    """The shared progress display: count, bar, elapsed, ETA and a free-text `rate` field per task."""
    from zeronas.cli.app import console as default_console

    console = console or default_console
    if not console.is_terminal:
        interval = float(os.environ.get(ENV_INTERVAL, DEFAULT_INTERVAL) or DEFAULT_INTERVAL)
        return LineProgress(console=console, interval=max(interval, 0.05))
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[rate]}"),
        console=console,
    )


__all__ = ["LineProgress", "progress_bar"]
