"""What every cost predictor shares: fit on (keys, costs), predict costs, and the small training loop.

Targets are learned in log space when all are positive (latency and energy span decades across
cells, and relative error is what matters), standardised to zero mean and unit variance.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from zeronas.errors import InvalidInputError
from zeronas.spaces import SearchSpace


class Predictor(ABC):
    """A learned cost model: `fit(space, keys, y)` then `predict(space, keys)`."""

    name: str = ""

    @abstractmethod
    def fit(self, space: SearchSpace, keys: Sequence[str], y: Sequence[float]) -> Predictor:
        """Learn from measured or tabulated costs `y` of `keys`; returns self."""

    @abstractmethod
    def predict(self, space: SearchSpace, keys: Sequence[str]) -> np.ndarray:
        """Predicted costs of `keys` (same unit as the training targets)."""


class TargetScaler:
    """log (when all positive) then standardise; `inverse` maps network outputs back to costs."""

    def __init__(self, y: np.ndarray, log: bool = True) -> None:
        y = np.asarray(y, dtype=float)
        if y.size == 0 or not np.all(np.isfinite(y)):
            raise InvalidInputError("predictor targets must be a non-empty set of finite numbers")
        self.log = bool(log and np.all(y > 0))
        z = np.log(y) if self.log else y
        self.mean, self.std = float(z.mean()), float(z.std()) or 1.0

    def forward(self, y: np.ndarray) -> np.ndarray:
        z = np.log(y) if self.log else np.asarray(y, dtype=float)
        return (z - self.mean) / self.std

    def inverse(self, z: np.ndarray) -> np.ndarray:
        out = np.asarray(z, dtype=float) * self.std + self.mean
        return np.exp(out) if self.log else out


def train_regressor(
    module: nn.Module,
    inputs: Sequence[torch.Tensor],
    targets: torch.Tensor,
    epochs: int,
    lr: float,
    weight_decay: float,
    batch_size: int = 256,
    seed: int = 0,
) -> nn.Module:
    """Adam on mean squared error, minibatches drawn from a seeded generator; returns the module in eval mode."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(module.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, epochs))
    n = targets.shape[0]
    module.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            opt.zero_grad()
            pred = module(*(x[idx] for x in inputs)).squeeze(-1)
            loss = torch.mean((pred - targets[idx]) ** 2)
            loss.backward()
            opt.step()
        sched.step()
    return module.eval()


def mlp(in_dim: int, hidden: Sequence[int], out_dim: int = 1) -> nn.Sequential:
    """Linear-ReLU stack."""
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [nn.Linear(in_dim, width), nn.ReLU()]
        in_dim = width
    layers.append(nn.Linear(in_dim, out_dim))
    return nn.Sequential(*layers)
