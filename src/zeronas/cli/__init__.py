"""The `zeronas` command. Each sub-command lives in its own module and registers on `app`."""

from __future__ import annotations

import sys

from rich.markup import escape

from zeronas.cli.app import app, console, error_console
from zeronas.errors import ZeronasError


def _register() -> None:
    from zeronas.cli import (  # noqa: F401
        data_cmd,
        evaluate_cmd,
        hardware_cmd,
        pareto_cmd,
        proxies_cmd,
        rank_cmd,
        report_cmd,
        run_cmd,
        score_cmd,
        search_cmd,
        store_cmd,
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; a ZeronasError becomes one line on stderr and exit status 2."""
    _register()
    try:
        code = app(args=argv, standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except ZeronasError as exc:
        error_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        error_console.print("interrupted; results already stored are kept")
        sys.exit(130)
    except Exception as exc:
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(1)
        raise


__all__ = ["app", "console", "main"]
