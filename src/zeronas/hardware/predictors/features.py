"""Architecture encodings for cost predictors: the space's flat vector, and the NB201 cell as a graph.

`cell_graph` turns an NB201 cell (ops on the 6 edges of a 4-node DAG) into the op-on-node DAG
that GCN predictors (BRP-NAS) use: node 0 is the cell input, nodes 1..6 are the edge operations in
op-index order (edges (0,1),(0,2),(0,3),(1,2),(1,3),(2,3)), node 7 the cell output. An op node
of edge (s, t) reads the op nodes of every edge entering s (or the input when s = 0); the output
reads the op nodes of the edges entering node 3. Node features: one-hot over
[input, output, skip_connect, none, nor_conv_3x3, nor_conv_1x1, avg_pool_3x3].
"""

from __future__ import annotations

import numpy as np

from zeronas.errors import NotApplicableError
from zeronas.spaces import SearchSpace
from zeronas.spaces.nb201.space import EDGES, NUM_OPS

NUM_NODES = len(EDGES) + 2
NODE_FEATURES = NUM_OPS + 2


def flat_features(space: SearchSpace, keys: list[str]) -> np.ndarray:
    """`space.encode` of every key, stacked (n, d) float32 (NB201: the 30-dim one-hot)."""
    return np.stack([space.encode(k) for k in keys]).astype(np.float32)


def _adjacency() -> np.ndarray:
    adj = np.zeros((NUM_NODES, NUM_NODES), dtype=np.float32)  # adj[dst, src] = 1
    for i, (s, _) in enumerate(EDGES, start=1):
        if s == 0:
            adj[i, 0] = 1.0
        for j, (_, t) in enumerate(EDGES, start=1):
            if t == s:
                adj[i, j] = 1.0
    for j, (_, t) in enumerate(EDGES, start=1):
        if t == 3:
            adj[NUM_NODES - 1, j] = 1.0
    return adj


ADJACENCY = _adjacency()


def cell_graph(space: SearchSpace, key: str) -> tuple[np.ndarray, np.ndarray]:
    """(adjacency (8, 8) with adj[dst, src] = 1, node features (8, 7)) of an NB201 cell."""
    if not hasattr(space, "ops") or space.name != "nb201":
        raise NotApplicableError(f"the cell-graph encoding is defined for nb201, not {space.name!r}")
    feats = np.zeros((NUM_NODES, NODE_FEATURES), dtype=np.float32)
    feats[0, 0] = 1.0
    feats[NUM_NODES - 1, 1] = 1.0
    for i, op in enumerate(space.ops(key), start=1):
        feats[i, 2 + op] = 1.0
    return ADJACENCY.copy(), feats


def graph_features(space: SearchSpace, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Stacked `cell_graph`s: adjacency (n, 8, 8) and node features (n, 8, 7)."""
    pairs = [cell_graph(space, k) for k in keys]
    return np.stack([a for a, _ in pairs]), np.stack([f for _, f in pairs])
