"""Input-Jacobian proxies (docs/proxies.md §jacob_cov, §epe_nas): jacob_cov (NASWOT v1) and EPE-NAS.

Both read J = ∂(Σ_k f_k(x_b))/∂x from the shared pass (one backward of all-ones cotangents).
"""

from __future__ import annotations

import numpy as np
import torch

from zeronas.errors import NotApplicableError
from zeronas.proxies.context import ProxyContext
from zeronas.proxies.registry import check_choice, register_proxy

_K = 1e-5


def _corrcoef(rows: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.corrcoef(rows)


@register_proxy("jacob_cov", needs=("jacobian",), family="jacobian", min_batch=2)
def jacob_cov(ctx: ProxyContext) -> float:
    """-Σ_j [ln(λ_j + k) + 1/(λ_j + k)] over eigenvalues λ of the Jacobian correlation matrix."""
    jac = ctx.require("jacobian").to(torch.float64).cpu().numpy()
    corr = _corrcoef(jac)
    if not np.isfinite(corr).all():
        return float("nan")  # a constant Jacobian row (e.g. a disconnected cell)
    eig = np.clip(np.linalg.eigvalsh(corr), 0.0, None)
    return float(-np.sum(np.log(eig + _K) + 1.0 / (eig + _K)))


def _check_epe(options: dict[str, object]) -> None:
    check_choice("epe_nas", options, "branch", ("naslib", "original"))


@register_proxy("epe_nas", needs=("jacobian",), family="jacobian", min_batch=2, check=_check_epe)
def epe_nas(ctx: ProxyContext, branch: str = "naslib") -> float:
    """Per-class Jacobian correlation score of EPE-NAS.

    `branch`: 'naslib' switches to the pairwise formula above 100 classes (as NAS-Bench-Suite-Zero);
    'original' always uses the ≤100-class sum, as the EPE-NAS code does.
    """
    if ctx.loss != "cross_entropy":
        raise NotApplicableError(f"defined per class on class logits; this batch's loss is {ctx.loss}")
    if not ctx.labels_given:
        raise NotApplicableError("needs real class labels")
    jac = ctx.require("jacobian").to(torch.float64).cpu().numpy()
    labels = ctx.y.cpu().numpy()
    n_classes = ctx.num_classes if branch == "naslib" else 10
    per_class = []
    for label in np.unique(labels):
        rows = jac[labels == label]
        if len(rows) < 2:
            if n_classes > 100:
                continue  # the reference skips one-sample classes in the pairwise branch
            per_class.append(float(np.log(1.0 + _K)))
            continue
        corr = _corrcoef(rows)
        s = float(np.sum(np.log(np.abs(corr) + _K)))
        per_class.append(s / len(rows) if n_classes > 100 else s)
    scores = np.asarray(per_class)
    if n_classes <= 100:
        return float(np.sum(np.abs(scores)))
    if len(scores) == 0:
        raise NotApplicableError("no class has two samples in the batch")
    return float(np.abs(scores[:, None] - scores[None, :]).sum() / len(scores))
