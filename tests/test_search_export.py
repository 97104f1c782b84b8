"""Export of the found network (TorchScript, state file, ONNX checked in onnxruntime) and the search CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch

from zeronas.cli import main
from zeronas.config import find_data_dir
from zeronas.search.export import ExportError, check_onnx, export_model
from zeronas.spaces import create_space

pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")

NB201_KEY = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")
def test_onnx_export_runs_in_onnxruntime_and_matches_pytorch(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = create_space("nb201").build(NB201_KEY, num_classes=10)
    result = export_model(model, tmp_path, "cell", (1, 3, 32, 32), {"arch": NB201_KEY})
    assert result.onnx_checked and result.max_abs_diff < 1e-4
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        want = model.eval()(x)
        scripted = torch.jit.load(result.torchscript)(x)
    assert torch.allclose(scripted, want, atol=1e-5)
    assert check_onnx(model, result.onnx, x) < 1e-4  # a batch of another size: the batch axis is dynamic
    state = torch.load(result.state, weights_only=False)
    assert state["metadata"]["arch"] == NB201_KEY
    fresh = create_space("nb201").build(NB201_KEY, num_classes=10)
    fresh.load_state_dict(state["state_dict"])
    with torch.no_grad():
        assert torch.equal(fresh.eval()(x), want)
    assert json.loads((tmp_path / "cell.json").read_text())["export"]["onnx_checked"] is True


def test_onnx_check_fails_for_another_network(tmp_path: Path) -> None:
    space = create_space("mbv2", resolution=32)
    torch.manual_seed(0)
    model = space.build(space.default_key(), num_classes=10)
    result = export_model(model, tmp_path, "mb", (1, 3, 32, 32))
    assert result.torchscript_method == "script" and result.max_abs_diff < 1e-4
    torch.manual_seed(1)
    other = space.build(space.default_key(), num_classes=10).eval()
    with pytest.raises(ExportError, match="differs from PyTorch"):
        check_onnx(other, result.onnx, torch.randn(2, 3, 32, 32))


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")
def test_export_without_the_onnx_extra_skips_onnx_and_says_why(tmp_path: Path, monkeypatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxscript" else real(name, *a))
    torch.manual_seed(0)
    model = create_space("nb201").build(NB201_KEY, num_classes=10)
    result = export_model(model, tmp_path, "cell", (1, 3, 32, 32))
    assert result.onnx is None and not result.onnx_checked
    assert result.onnx_skipped == "ONNX export skipped: onnxscript not installed (pip install 'zeronas[export]')"
    assert not (tmp_path / "cell.onnx").exists() and Path(result.torchscript).exists()


def _error_line(capsys: pytest.CaptureFixture, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("error:")
    return err


def test_cli_one_line_errors(capsys: pytest.CaptureFixture) -> None:
    assert "not a number" in _error_line(capsys, ["search", "--budget", "flops<=abc", "-n", "2"])
    assert "unknown cost model 'watts'" in _error_line(capsys, ["search", "--budget", "watts<=3", "-n", "2"])
    assert "unknown search algorithm 'anneal'" in _error_line(capsys, ["search", "-a", "anneal", "-n", "2"])
    assert "has no option depth" in _error_line(capsys, ["search", "--set", "depth=3", "-n", "2"])
    err = _error_line(capsys, ["search", "--proxy", "params", "--budget", "params<=1K", "-n", "2", "--no-export"])
    assert "no initial candidate within budget (params<=1K)" in err


@pytest.mark.skipif(find_data_dir() is None, reason="NB201 benchmark table not found (../shared)")
def test_cli_search_writes_results_and_ground_truth(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    main(
        [
            "search",
            "--space",
            "nb201",
            "--dataset",
            "cifar100",
            "--proxy",
            "synflow",
            "--algorithm",
            "nsga2",
            "--evaluations",
            "16",
            "--population",
            "8",
            "--budget",
            "flops<=150M",
            "--out",
            str(out),
        ]
    )
    text = capsys.readouterr().out
    assert "ground truth (cifar100 test):" in text and "of 15,625" in text
    assert "ONNX checked in onnxruntime" in text
    for name in ("history.csv", "best.csv", "trace.png", "front.csv", "front.png", "best.onnx", "best.torchscript.pt"):
        assert (out / name).stat().st_size > 0, name
    best = pd.read_csv(out / "best.csv")
    assert {"arch", "value", "cost_flops", "cost_params", "test_acc", "rank"} <= set(best.columns)
    assert (best["cost_flops"] <= 150).all()
    assert best["rank"].between(1, 15625).all()
    front = pd.read_csv(out / "front.csv")
    assert front["flops"].is_monotonic_increasing and front["value"].is_monotonic_increasing
    assert front["test_acc"].between(0, 100).all()


@pytest.mark.slow  # about 30 s alone: the nwot+synflow objective scores a reference sample of 32 cells first
@pytest.mark.skipif(find_data_dir() is None, reason="NB201 benchmark table not found (../shared)")
def test_cli_run_prints_the_found_cell_and_its_rank(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    main(["run", "--evaluations", "4", "--out", str(tmp_path)])
    text = capsys.readouterr().out
    assert "evolution on nb201 / cifar10 with nwot,synflow" in text
    assert "ground truth (cifar10 test):" in text and "of 15,625 (optimum 94.37%)" in text
    best = pd.read_csv(tmp_path / "best.csv")
    assert best["rank"].iloc[0] >= 1 and 0 < best["test_acc"].iloc[0] < 100
    assert {"nwot", "synflow", "cost_params", "cost_flops"} <= set(best.columns)
    assert (tmp_path / "best.onnx").exists()


def test_cli_prune_runs_with_its_progress_bar(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    options = ["channels=4", "cells_per_stage=1", "batch_size=8", "lr_samples=32"]
    sets = [arg for option in options for arg in ("--set", option)]
    out = tmp_path / "prune"
    main(["search", "-a", "prune", "-d", "cifar10", "-p", "params", *sets, "--no-export", "--out", str(out)])
    text = capsys.readouterr().out
    assert "ground truth (cifar10 test):" in text
    best = pd.read_csv(out / "best.csv")
    assert len(best) == 1 and "none" not in best["arch"].iloc[0]
