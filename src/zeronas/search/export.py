"""Export a found architecture: PyTorch state file, TorchScript and ONNX, the ONNX file checked in onnxruntime.

The network is built with the search seed's initialisation (weights are untrained: zero-shot search
hands over an architecture to train). TorchScript uses `torch.jit.script`, falling back to
`torch.jit.trace` for modules scripting cannot compile. The ONNX file is run in onnxruntime on a
seeded random input and compared with the PyTorch output in eval mode. ONNX needs the `export` extra
(onnx, onnxscript, onnxruntime); without it the ONNX file is skipped and the result says why.
"""

from __future__ import annotations

import importlib.util
import json
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from zeronas.errors import InvalidInputError, ZeronasError
from zeronas.store.checks import unsafe_name


class ExportError(ZeronasError):
    """The exported model does not reproduce the PyTorch output."""


@dataclass
class ExportResult:
    """Paths written and the ONNX check."""

    state: str
    torchscript: str
    onnx: str | None
    max_abs_diff: float
    onnx_checked: bool
    torchscript_method: str
    onnx_skipped: str | None = None


#: modules the ONNX export and its onnxruntime check import (the `export` extra)
ONNX_MODULES = ("onnx", "onnxscript", "onnxruntime")


def missing_onnx_modules() -> list[str]:
    """The modules of the `export` extra that this installation lacks (empty when ONNX export works)."""
    return [name for name in ONNX_MODULES if importlib.util.find_spec(name) is None]


def onnx_unavailable_reason() -> str | None:
    """Why ONNX export cannot run here (a one-line note naming the extra), or None when it can."""
    missing = missing_onnx_modules()
    if not missing:
        return None
    return f"ONNX export skipped: {', '.join(missing)} not installed (pip install 'zeronas[export]')"


def _torchscript(model: nn.Module, example: torch.Tensor, path: Path) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            scripted, method = torch.jit.script(model), "script"
        except Exception:
            scripted, method = torch.jit.trace(model, example), "trace"
        scripted.save(str(path))
    return method


def _onnx(model: nn.Module, example: torch.Tensor, path: Path) -> None:
    """The TorchScript-based exporter (several times faster here); the dynamo exporter where it is gone."""
    names = {"input_names": ["images"], "output_names": ["logits"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(
                model,
                (example,),
                str(path),
                dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}},
                dynamo=False,
                **names,
            )
        except (TypeError, RuntimeError, NotImplementedError):
            torch.onnx.export(model, (example,), str(path), dynamo=True, verbose=False, **names)


def check_onnx(model: nn.Module, path: str | Path, example: torch.Tensor, atol: float = 1e-4) -> float:
    """Run the ONNX file in onnxruntime and return the largest |difference| to the eval-mode PyTorch output."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(["logits"], {"images": example.numpy()})
    with torch.no_grad():
        want = model(example).numpy()
    if got.shape != want.shape:
        raise ExportError(f"ONNX output shape {got.shape} differs from PyTorch {want.shape}")
    scale = max(1.0, float(np.abs(want).max()))
    diff = float(np.abs(got - want).max())
    if not diff <= atol * scale:
        raise ExportError(f"ONNX output differs from PyTorch by {diff:.3g} (tolerance {atol * scale:.3g})")
    return diff


def export_model(
    model: nn.Module,
    out_dir: str | Path,
    name: str,
    input_shape: tuple[int, int, int, int],
    metadata: dict[str, object] | None = None,
    onnx: bool = True,
    atol: float = 1e-4,
) -> ExportResult:
    """Write `<name>.pt` (state dict + metadata), `<name>.torchscript.pt` and `<name>.onnx` (checked).

    Without the `export` extra the ONNX file is skipped and `ExportResult.onnx_skipped` says why.
    """
    if unsafe_name(name):
        raise InvalidInputError(f"export name {name!r} must be a plain file name (no path separator, no '..')")
    if len(input_shape) != 4:
        raise InvalidInputError(f"export input shape must be N x C x H x W, got {input_shape}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    example = torch.randn(*input_shape, generator=torch.Generator().manual_seed(0))
    state = out / f"{name}.pt"
    torch.save({"state_dict": model.state_dict(), "metadata": dict(metadata or {})}, state)
    method = _torchscript(model, example, out / f"{name}.torchscript.pt")
    onnx_path, diff, checked = None, float("nan"), False
    skipped = onnx_unavailable_reason() if onnx else None
    if onnx and skipped is None:
        onnx_path = out / f"{name}.onnx"
        _onnx(model, example, onnx_path)
        diff, checked = check_onnx(model, onnx_path, example, atol), True
    result = ExportResult(
        str(state),
        str(out / f"{name}.torchscript.pt"),
        str(onnx_path) if onnx_path else None,
        diff,
        checked,
        method,
        skipped,
    )
    (out / f"{name}.json").write_text(json.dumps({**dict(metadata or {}), "export": asdict(result)}, indent=2))
    return result
