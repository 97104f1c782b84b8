"""Shared fixtures: the data directory (tests needing it skip with a reason when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from zeronas.config import find_data_dir

torch.set_num_threads(int(os.environ.get("ZERONAS_TEST_THREADS", "1")))


@pytest.fixture(autouse=True)
def _restore_environment():
    """Commands set $ZERONAS_DATA_DIR for their workers (`--data-dir`): undo it after each test."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def _private_default_store(tmp_path_factory, monkeypatch):
    """Commands keep results in the default store unless told otherwise: give each test its own."""
    monkeypatch.setenv("ZERONAS_STORE", str(tmp_path_factory.mktemp("store") / "store.sqlite"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    found = find_data_dir()
    if found is None or not (found / "benchmarks" / "nasbench201.csv").exists():
        pytest.skip("the zeronas data directory (../shared) is not available")
    return found


class CliResult:
    """Exit code and captured output of one in-process `zeronas` call."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def assert_clean_error(self, *fragments: str) -> None:
        """Exit status 2, exactly one line on stderr starting with 'error:', no traceback, naming `fragments`."""
        lines = [line for line in self.err.splitlines() if line.strip()]
        assert self.code == 2, f"exit {self.code}, stderr: {self.err!r}"
        assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}: {self.err!r}"
        assert lines[0].startswith("error: "), lines[0]
        assert "Traceback" not in self.err + self.out
        for fragment in fragments:
            assert fragment.lower() in lines[0].lower(), f"{fragment!r} not in {lines[0]!r}"


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run `zeronas ARGS...` in this process: returns a CliResult (exit code, stdout, stderr)."""
    from zeronas.cli import main

    monkeypatch.delenv("ZERONAS_DEBUG", raising=False)

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = 0
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out = capsys.readouterr()
        return CliResult(code, out.out, out.err)

    return run
