"""GCN cost predictor on the NB201 cell graph (BRP-NAS style), in plain torch.

Each layer mixes a node's features with those of its predecessors and, separately, of its
successors (two normalised adjacencies with self loops, D^-1/2 (A + I) D^-1/2 and the same for
A^T), then ReLU; after the last layer the output node's embedding and the mean over nodes are
concatenated and a linear head gives the standardised log-cost.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from zeronas.hardware.predictors.base import Predictor, TargetScaler, train_regressor
from zeronas.hardware.predictors.features import NODE_FEATURES, graph_features
from zeronas.spaces import SearchSpace


def normalise_adjacency(adj: torch.Tensor) -> torch.Tensor:
    """D^-1/2 (A + I) D^-1/2 for a batch of (n, n) adjacencies."""
    a = adj + torch.eye(adj.shape[-1], dtype=adj.dtype)
    d = a.sum(-1).rsqrt()
    return d.unsqueeze(-1) * a * d.unsqueeze(-2)


class GraphConv(nn.Module):
    """One directed graph convolution: predecessor and successor messages, separate weights."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.fwd = nn.Linear(in_dim, out_dim)
        self.bwd = nn.Linear(in_dim, out_dim, bias=False)

    def forward(self, h: torch.Tensor, a_fwd: torch.Tensor, a_bwd: torch.Tensor) -> torch.Tensor:
        return torch.relu(a_fwd @ self.fwd(h) + a_bwd @ self.bwd(h))


class GCN(nn.Module):
    """Stacked GraphConvs and a readout of [output node, mean over nodes] -> scalar."""

    def __init__(self, in_dim: int, hidden: int, layers: int) -> None:
        super().__init__()
        dims = [in_dim] + [hidden] * layers
        self.convs = nn.ModuleList(GraphConv(a, b) for a, b in zip(dims[:-1], dims[1:], strict=True))
        self.head = nn.Linear(2 * hidden, 1)

    def forward(self, adj: torch.Tensor, feats: torch.Tensor) -> torch.Tensor:
        a_fwd, a_bwd = normalise_adjacency(adj), normalise_adjacency(adj.transpose(-1, -2))
        h = feats
        for conv in self.convs:
            h = conv(h, a_fwd, a_bwd)
        return self.head(torch.cat([h[:, -1], h.mean(1)], dim=-1))


class GCNPredictor(Predictor):
    """BRP-NAS-style GCN latency predictor (smaller: `layers` x `hidden`, trained with Adam)."""

    name = "gcn"

    def __init__(
        self,
        hidden: int = 64,
        layers: int = 3,
        epochs: int = 300,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        seed: int = 0,
    ) -> None:
        self.hidden, self.layers, self.epochs = hidden, layers, epochs
        self.lr, self.weight_decay, self.seed = lr, weight_decay, seed
        self.module: GCN | None = None
        self.scaler: TargetScaler | None = None

    @staticmethod
    def _inputs(space: SearchSpace, keys: Sequence[str]) -> list[torch.Tensor]:
        adj, feats = graph_features(space, list(keys))
        return [torch.from_numpy(adj), torch.from_numpy(feats)]

    def fit(self, space: SearchSpace, keys: Sequence[str], y: Sequence[float]) -> GCNPredictor:
        inputs = self._inputs(space, keys)
        self.scaler = TargetScaler(np.asarray(y, dtype=float))
        target = torch.tensor(self.scaler.forward(np.asarray(y, dtype=float)), dtype=torch.float32)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.module = GCN(NODE_FEATURES, self.hidden, self.layers)
        train_regressor(self.module, inputs, target, self.epochs, self.lr, self.weight_decay, seed=self.seed)
        return self

    def predict(self, space: SearchSpace, keys: Sequence[str]) -> np.ndarray:
        if self.module is None or self.scaler is None:
            raise RuntimeError("GCNPredictor.predict before fit")
        with torch.no_grad():
            z = self.module(*self._inputs(space, keys)).squeeze(-1).numpy()
        return self.scaler.inverse(z)
