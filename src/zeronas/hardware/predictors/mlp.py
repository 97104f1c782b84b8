"""MLP cost predictor on the space's flat encoding (NB201: the 30-dim one-hot of the 6 edge ops)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from zeronas.hardware.predictors.base import Predictor, TargetScaler, mlp, train_regressor
from zeronas.hardware.predictors.features import flat_features
from zeronas.spaces import SearchSpace


class MLPPredictor(Predictor):
    """A small ReLU MLP trained with Adam on standardised log-cost (BRP-NAS's MLP baseline)."""

    name = "mlp"

    def __init__(
        self,
        hidden: Sequence[int] = (128, 128),
        epochs: int = 300,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        seed: int = 0,
    ) -> None:
        self.hidden, self.epochs, self.lr, self.weight_decay, self.seed = tuple(hidden), epochs, lr, weight_decay, seed
        self.module: torch.nn.Module | None = None
        self.scaler: TargetScaler | None = None

    def fit(self, space: SearchSpace, keys: Sequence[str], y: Sequence[float]) -> MLPPredictor:
        x = torch.from_numpy(flat_features(space, list(keys)))
        self.scaler = TargetScaler(np.asarray(y, dtype=float))
        target = torch.tensor(self.scaler.forward(np.asarray(y, dtype=float)), dtype=torch.float32)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.module = mlp(x.shape[1], self.hidden)
        self.module = train_regressor(self.module, [x], target, self.epochs, self.lr, self.weight_decay, seed=self.seed)
        return self

    def predict(self, space: SearchSpace, keys: Sequence[str]) -> np.ndarray:
        if self.module is None or self.scaler is None:
            raise RuntimeError("MLPPredictor.predict before fit")
        x = torch.from_numpy(flat_features(space, list(keys)))
        with torch.no_grad():
            z = self.module(x).squeeze(-1).numpy()
        return self.scaler.inverse(z)
