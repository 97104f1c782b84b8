"""One error path for the whole CLI: invalid option values exit 2 with one line, and --debug shows the traceback."""

from __future__ import annotations

import pytest

from zeronas.cli import main

ARCH = "433000"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--seed", "abc"), "--seed"),
        (("-b", "0"), "--batch-size"),
        (("-r", "3"), "--resolution"),
        (("--num-classes", "0"), "--num-classes"),
    ],
)
def test_score_option_values(cli, args, fragment):
    cli("score", "--arch", ARCH, *args).assert_clean_error(fragment)


def test_unknown_option_and_command(cli):
    cli("score", "--no-such-option").assert_clean_error("--no-such-option")
    cli("no-such-command").assert_clean_error("no-such-command")


def test_debug_shows_the_traceback(monkeypatch, capsys):
    monkeypatch.setenv("ZERONAS_DEBUG", "1")
    with pytest.raises(Exception, match="unknown proxy"):
        main(["score", "--arch", ARCH, "--proxies", "nope"])
