"""Few-shot transfer of a latency predictor to a new device (HELP-style, without meta-learning).

What is implemented, exactly:

- Anchors: `shots` cells drawn once (seeded) from the space. A device is described by its
  *hardware embedding*, HELP's idea: the log-latencies of the anchors on that device, centred
  (minus their mean `m`). Measuring the anchors on a new device is the only cost of transfer.
- Pretraining: one MLP `f([one-hot(cell), embedding(device)])` is trained on several source device
  tables to predict ``log latency(cell) - m(device)``, over `cells_per_device` random cells of each
  source device (the anchors included).
- Adaptation: for the new device, its embedding is computed from the measured anchors, and a copy
  of the pretrained MLP is fine-tuned for `adapt_steps` Adam steps on those same anchors (HELP uses
  MAML for this step; we fine-tune the pretrained weights). Prediction is
  ``exp(f([one-hot, e_new]) + m_new)``.

So with k shots the predictor has seen exactly k measurements of the new device.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from zeronas.errors import InvalidInputError
from zeronas.hardware.predictors.base import mlp, train_regressor
from zeronas.hardware.predictors.features import flat_features
from zeronas.spaces import SearchSpace


class FewShotTransfer:
    """Pretrain on source device tables, adapt to a new device from its anchor measurements."""

    def __init__(
        self,
        shots: int = 10,
        hidden: Sequence[int] = (128, 128),
        cells_per_device: int = 2000,
        epochs: int = 60,
        adapt_steps: int = 50,
        lr: float = 2e-3,
        adapt_lr: float = 5e-4,
        seed: int = 0,
    ) -> None:
        self.shots, self.hidden, self.cells_per_device = shots, tuple(hidden), cells_per_device
        self.epochs, self.adapt_steps, self.lr, self.adapt_lr, self.seed = epochs, adapt_steps, lr, adapt_lr, seed
        self.anchors: list[str] = []
        self.module: torch.nn.Module | None = None
        self.adapted: torch.nn.Module | None = None
        self._embedding: np.ndarray | None = None
        self._offset = 0.0

    def choose_anchors(self, space: SearchSpace, pool: Sequence[str]) -> list[str]:
        """The `shots` anchor cells: a seeded draw from `pool` (cells every source table has)."""
        rng = np.random.default_rng(self.seed)
        idx = rng.choice(len(pool), size=self.shots, replace=False)
        self.anchors = [space.validate(pool[i]) for i in sorted(idx)]
        return self.anchors

    def _embed(self, anchor_latency: np.ndarray) -> tuple[np.ndarray, float]:
        logs = np.log(np.asarray(anchor_latency, dtype=float))
        return (logs - logs.mean()).astype(np.float32), float(logs.mean())

    def pretrain(self, space: SearchSpace, tables: Mapping[str, pd.Series]) -> FewShotTransfer:
        """Train on source devices; each table maps canonical keys to latency (ms)."""
        if len(tables) < 2:
            raise InvalidInputError("few-shot transfer needs at least two source device tables")
        common = sorted(set.intersection(*(set(t.dropna().index) for t in tables.values())))
        if len(common) < self.shots:
            raise InvalidInputError(f"source tables share {len(common)} cells, fewer than {self.shots} shots")
        self.choose_anchors(space, common)
        rng = np.random.default_rng(self.seed + 1)
        xs, targets = [], []
        for series in tables.values():
            emb, offset = self._embed(series.reindex(self.anchors).to_numpy())
            take = min(self.cells_per_device, len(common))
            cells = list(
                dict.fromkeys(self.anchors + [common[i] for i in rng.choice(len(common), take, replace=False)])
            )
            x = flat_features(space, cells)
            xs.append(np.hstack([x, np.repeat(emb[None], len(cells), 0)]))
            targets.append(np.log(series.reindex(cells).to_numpy(dtype=float)) - offset)
        x_all = torch.from_numpy(np.vstack(xs))
        y_all = torch.tensor(np.concatenate(targets), dtype=torch.float32)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.module = mlp(x_all.shape[1], self.hidden)
        train_regressor(self.module, [x_all], y_all, self.epochs, self.lr, 1e-5, seed=self.seed)
        return self

    def adapt(self, space: SearchSpace, anchor_latency: Mapping[str, float] | pd.Series) -> FewShotTransfer:
        """Fit to a new device from the latencies of the anchors on it (`self.anchors`, all required)."""
        if self.module is None:
            raise RuntimeError("FewShotTransfer.adapt before pretrain")
        values = pd.Series(anchor_latency).rename(index=space.validate)
        missing = [a for a in self.anchors if a not in values.index]
        if missing:
            raise InvalidInputError(f"adaptation needs the latency of all {self.shots} anchors; {len(missing)} missing")
        lat = values.reindex(self.anchors).to_numpy(dtype=float)
        self._embedding, self._offset = self._embed(lat)
        x = torch.from_numpy(self._inputs(space, self.anchors))
        y = torch.tensor(np.log(lat) - self._offset, dtype=torch.float32)
        self.adapted = copy.deepcopy(self.module)
        if self.adapt_steps:
            train_regressor(self.adapted, [x], y, self.adapt_steps, self.adapt_lr, 0.0, seed=self.seed)
        return self

    def _inputs(self, space: SearchSpace, keys: Sequence[str]) -> np.ndarray:
        x = flat_features(space, list(keys))
        return np.hstack([x, np.repeat(self._embedding[None], len(keys), 0)])

    def predict(self, space: SearchSpace, keys: Sequence[str]) -> np.ndarray:
        """Predicted latency (ms) of `keys` on the adapted device."""
        if self.adapted is None:
            raise RuntimeError("FewShotTransfer.predict before adapt")
        with torch.no_grad():
            z = self.adapted(torch.from_numpy(self._inputs(space, keys))).squeeze(-1).numpy()
        return np.exp(z + self._offset)
