"""`zeronas score`, `zeronas proxies` and one-line errors from the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from zeronas.cli import main


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_score_json(capsys, shared_dir):
    code, out, _ = run_cli(
        capsys,
        "score",
        "--space",
        "nb201",
        "--arch",
        "(0, 2, 3, 2, 3, 1)",
        "--dataset",
        "cifar100",
        "--proxies",
        "params,flops,synflow",
        "--json",
    )
    assert code == 0
    payload = json.loads(out)
    assert payload["proxies"]["params"]["value"] == pytest.approx(0.621236)
    assert payload["proxies"]["flops"]["value"] == pytest.approx(88.313152)
    assert payload["settings"]["source"] == "cifar100_sample_960.npz"


def test_score_named_model_table(capsys):
    code, out, _ = run_cli(
        capsys,
        "score",
        "--model",
        "timm:resnet18",
        "--resolution",
        "32",
        "--batch-size",
        "4",
        "--proxies",
        "params,nwot",
        "--source",
        "synthetic",
    )
    assert code == 0
    assert "11.1816" in out  # timm resnet18 with a 10-class head: 11,181,642 parameters
    assert "nwot" in out


def test_errors_are_one_line(capsys):
    code, _, err = run_cli(capsys, "score", "--arch", "|bad|")
    assert code == 2
    assert err.strip().count("\n") == 0 and "NB201" in err
    code, _, err = run_cli(capsys, "score", "--arch", "433000", "--proxies", "nope")
    assert code == 2 and "unknown proxy 'nope'" in err
    code, _, err = run_cli(capsys, "score", "--model", "timm:not_a_model_xyz")
    assert code == 2 and "unknown timm model" in err


def test_proxies_listing(capsys):
    code, out, _ = run_cli(capsys, "proxies")
    assert code == 0
    for name in ("synflow", "ntk_cond", "zico", "gradsign"):
        assert name in out


def test_console_script_installed():
    result = subprocess.run([sys.executable, "-m", "zeronas", "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "score" in result.stdout
