"""How good a cost predictor is on held-out cells: RMSE, Spearman rho, share within +-10 %."""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr


def predictor_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """rmse (target unit), mape (%), spearman, within10 (fraction with |pred - true| <= 10 % of true)."""
    t, p = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    rel = np.abs(p - t) / np.abs(t)
    return {
        "rmse": float(np.sqrt(np.mean((p - t) ** 2))),
        "mape": float(100.0 * rel.mean()),
        "spearman": float(spearmanr(t, p).statistic),
        "within10": float(np.mean(rel <= 0.10)),
        "n": int(t.size),
    }
