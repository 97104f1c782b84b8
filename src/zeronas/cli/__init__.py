"""The `zeronas` command. Each sub-command lives in its own module and registers on `app`.

Every failure a user can cause ends the same way: one line on stderr naming the option or file and what
is wrong, exit status 2. Anything else is a bug: one line and exit status 1. `--debug` or
ZERONAS_DEBUG=1 shows the traceback instead.
"""

from __future__ import annotations

import os
import sqlite3
import sys

from rich.markup import escape

from zeronas.cli.app import ENV_DEBUG, app, console, error_console
from zeronas.errors import ZeronasError

USAGE_ERROR = 2
INTERNAL_ERROR = 1


def _register() -> None:
    from zeronas.cli import (  # noqa: F401
        data_cmd,
        evaluate_cmd,
        hardware_cmd,
        pareto_cmd,
        predict_cmd,
        proxies_cmd,
        rank_cmd,
        report_cmd,
        run_cmd,
        score_cmd,
        search_cmd,
        store_cmd,
    )


def one_line(text: str) -> str:
    """`text` with its line breaks folded, so an error always prints as one line."""
    return "; ".join(part.strip() for part in str(text).splitlines() if part.strip()) or "(no message)"


def _fail(message: str, code: int) -> None:
    error_console.print(f"[bold red]error:[/] {escape(one_line(message))}", highlight=False, soft_wrap=True)
    sys.exit(code)


def _exception_types(name: str) -> tuple[type, ...]:
    """`name` (ClickException, Exit, Abort) from click, typer's bundled click and typer, where each has it."""
    import click
    from typer import _click as typer_click
    from typer import exceptions as typer_exceptions

    modules = (click.exceptions, typer_click.exceptions, typer_exceptions)
    return tuple(t for t in (getattr(m, name, None) for m in modules) if isinstance(t, type))


def _click_error(exc: BaseException) -> tuple[str, int] | None:
    """(message, exit code) of a click or typer exception (typer bundles its own click), else None."""
    if isinstance(exc, _exception_types("ClickException") + _exception_types("TyperException")):
        return exc.format_message(), USAGE_ERROR
    if isinstance(exc, _exception_types("Exit")):
        return "", int(getattr(exc, "exit_code", 0) or 0)
    if isinstance(exc, _exception_types("Abort")):
        return "aborted", 1
    return None


def _describe(exc: BaseException) -> tuple[str, int]:
    """The one-line message and exit code for an exception that reached the top of the command."""
    if isinstance(exc, ZeronasError):
        return str(exc), USAGE_ERROR
    clicked = _click_error(exc)
    if clicked is not None:
        return clicked
    if isinstance(exc, MemoryError):
        return "out of memory: lower --batch-size or --resolution, or use fewer --workers", USAGE_ERROR
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}", USAGE_ERROR
    if isinstance(exc, sqlite3.Error):
        return f"result store: {exc}", USAGE_ERROR
    return (
        f"internal error ({type(exc).__name__}: {exc}); rerun with --debug or {ENV_DEBUG}=1 for the traceback",
        INTERNAL_ERROR,
    )


def debug_enabled() -> bool:
    return os.environ.get(ENV_DEBUG, "").strip().lower() not in ("", "0", "false", "no")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; every error becomes one line on stderr (exit 2 for bad input, 1 for a bug)."""
    _register()
    try:
        code = app(args=argv, standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        error_console.print("interrupted; results already stored are kept")
        sys.exit(130)
    except Exception as exc:
        if debug_enabled():
            raise
        message, code = _describe(exc)
        if message:
            _fail(message, code)
        sys.exit(code)


__all__ = ["app", "console", "main"]
