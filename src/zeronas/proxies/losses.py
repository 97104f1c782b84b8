"""Task losses: the one place the engine and the proxies turn a model output and targets into a loss.

A batch declares its loss (`Batch.loss`, one of `zeronas.data.datasets.LOSSES`); every loss-based
artefact (shared-pass gradients, Fisher values, GraSP's Hessian product, GradSign, ZiCo) is taken with
`task_loss`, so classification keeps `F.cross_entropy(logits, labels)` exactly and dense or regression
tasks get theirs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from zeronas.data.datasets import LOSSES
from zeronas.errors import InvalidInputError, NotApplicableError
from zeronas.proxies.context import check_label_range, classifier_logits, logits_of

#: losses whose output is a per-class score (vector or per-pixel map) and whose targets are class indices
CLASS_LOSSES = ("cross_entropy", "pixel_cross_entropy")


def task_output(output: object, rows: int, kind: str) -> torch.Tensor:
    """The output tensor a loss of `kind` reads, checked: batch x classes logits for cross_entropy,
    batch x classes x H x W maps for pixel_cross_entropy, any floating batch x ... tensor for mse / l1.
    """
    if kind == "cross_entropy":
        return classifier_logits(output, rows)
    if kind not in LOSSES:
        raise InvalidInputError(f"loss must be one of {', '.join(LOSSES)}, got {kind!r}")
    out = logits_of(output)
    if not out.is_floating_point():
        raise NotApplicableError(f"the output must be floating point, got {out.dtype}")
    if kind == "pixel_cross_entropy" and out.ndim != 4:
        raise NotApplicableError(f"pixel_cross_entropy needs batch x classes x H x W maps, got {tuple(out.shape)}")
    if out.ndim < 2:
        raise NotApplicableError(f"the output must be batch x ..., got shape {tuple(out.shape)}")
    if out.shape[0] != rows:
        raise NotApplicableError(f"the model returned {out.shape[0]} rows of output for {rows} inputs")
    return out


def check_fit(output: torch.Tensor, y: torch.Tensor, kind: str) -> None:
    """Raise a one-line InvalidInputError unless targets `y` fit `output` under loss `kind`."""
    if kind == "cross_entropy":
        check_label_range(y, int(output.shape[1]))
        return
    if kind == "pixel_cross_entropy":
        want = (output.shape[0], *output.shape[2:])
        if tuple(y.shape) != want:
            raise InvalidInputError(f"pixel class maps must have shape {want} to fit the output, got {tuple(y.shape)}")
        check_label_range(y, int(output.shape[1]))
        return
    if y.shape != output.shape:
        raise InvalidInputError(f"{kind} targets have shape {tuple(y.shape)}, the output {tuple(output.shape)}")


def task_loss(output: torch.Tensor, y: torch.Tensor, kind: str) -> torch.Tensor:
    """The batch-mean loss of `kind`: cross entropy over classes (per sample or per pixel), MSE or L1."""
    if kind in CLASS_LOSSES:
        return F.cross_entropy(output, y)
    if kind == "mse":
        return F.mse_loss(output, y)
    if kind == "l1":
        return F.l1_loss(output, y)
    raise InvalidInputError(f"loss must be one of {', '.join(LOSSES)}, got {kind!r}")
