"""Layer-wise lookup tables: a cell's cost as the sum of per-operation costs (nn-Meter / FBNet style).

Two ways to fill the table:

- `LookupTablePredictor.fit`: from whole-network measurements (any device, including tabulated
  ones). The cost is modelled as ``base + sum_e t[e, op_e]`` over the decisions of a one-hot
  encoding (NB201: 6 edges x 5 ops); the entries are the non-negative least-squares solution
  (`scipy.optimize.nnls`), so each entry is that op's latency *in context*, measured inside real
  networks with their caching and scheduling effects.
- `measure_op_table`: on this machine, NB201 only: every op is timed alone at the exact input
  shape it sees in each of the 3 stages (batch, C, H, W), and the rest of the network (stem,
  reduction blocks, head, the node additions) is the latency of the all-'none' network minus its
  'none' ops. A cell is then predicted as ``rest + cells_per_stage * sum_stages sum_e t[stage, op_e]``
  without timing any cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter

import numpy as np
from scipy.optimize import nnls
from torch import nn

from zeronas.data import get_dataset
from zeronas.errors import NotApplicableError
from zeronas.hardware.predictors.base import Predictor
from zeronas.hardware.predictors.features import flat_features
from zeronas.hardware.timing import measure_latency
from zeronas.spaces import SearchSpace


class LookupTablePredictor(Predictor):
    """base + sum of per-(decision, choice) entries, fitted by NNLS on measured networks."""

    name = "lut"

    def __init__(self) -> None:
        self.entries: np.ndarray | None = None
        self.base = 0.0

    def fit(self, space: SearchSpace, keys: Sequence[str], y: Sequence[float]) -> LookupTablePredictor:
        x = flat_features(space, list(keys)).astype(float)
        design = np.hstack([x, np.ones((x.shape[0], 1))])
        coef, _ = nnls(design, np.asarray(y, dtype=float))
        self.entries, self.base = coef[:-1], float(coef[-1])
        return self

    def predict(self, space: SearchSpace, keys: Sequence[str]) -> np.ndarray:
        if self.entries is None:
            raise RuntimeError("LookupTablePredictor.predict before fit")
        return flat_features(space, list(keys)).astype(float) @ self.entries + self.base


class OpLatencyTable(Predictor):
    """NB201 per-(stage, op) latencies measured alone on this machine, plus the fixed rest (ms)."""

    name = "lut-measured"

    def __init__(self, table: np.ndarray, rest: float, cells_per_stage: int) -> None:
        self.table, self.rest, self.cells_per_stage = table, float(rest), cells_per_stage

    def fit(self, space: SearchSpace, keys: Sequence[str], y: Sequence[float]) -> OpLatencyTable:
        """Nothing to learn: the table was measured op by op."""
        return self

    def predict(self, space: SearchSpace, keys: Sequence[str]) -> np.ndarray:
        ops = np.array([space.ops(k) for k in keys])  # (n, 6)
        per_stage = self.table[:, ops].sum(-1)  # (stages, n)
        return self.rest + self.cells_per_stage * per_stage.sum(0)


def _cell_input_shapes(model: nn.Module, shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    import torch

    from zeronas.spaces.nb201.model import InferCell

    shapes: list[tuple[int, ...]] = []
    hooks = [
        m.register_forward_pre_hook(lambda _m, args: shapes.append(tuple(args[0].shape)))
        for m in model.modules()
        if isinstance(m, InferCell)
    ]
    with torch.no_grad():
        model.eval()(torch.zeros(shape))
    for h in hooks:
        h.remove()
    return list(dict.fromkeys(shapes))


def measure_op_table(
    space: SearchSpace,
    dataset: str,
    batch: int = 1,
    backend: str = "torch",
    threads: int | None = 1,
    op_repeats: int = 200,
    net_repeats: int = 30,
    clock: str = "wall",
    statistic: str = "median",
) -> OpLatencyTable:
    """Time each NB201 op at each stage's input shape, and the rest of the network, on this CPU.

    `clock` and `statistic` ('median' or 'min' of the timed calls) as in `zeronas.hardware.measured_latency`.
    """
    if space.name != "nb201":
        raise NotApplicableError(f"the measured op table is defined for nb201, not {space.name!r}")
    from zeronas.spaces.nb201.model import OP_NAMES, make_op

    info = get_dataset(dataset)
    shape = (batch, 3, info.resolution, info.resolution)
    none_cell = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    network = space.build(none_cell, num_classes=info.num_classes)
    stages = _cell_input_shapes(network, shape)
    kwargs = {"backend": backend, "threads": threads, "clock": clock}
    pick = attrgetter("min_ms" if statistic == "min" else "median_ms")
    table = np.zeros((len(stages), len(OP_NAMES)))
    for s, stage_shape in enumerate(stages):
        for o, name in enumerate(OP_NAMES):
            op = make_op(name, stage_shape[1])
            table[s, o] = pick(measure_latency(op, stage_shape, warmup=20, repeats=op_repeats, **kwargs))
    whole = pick(measure_latency(network, shape, warmup=5, repeats=net_repeats, **kwargs))
    cells = getattr(space, "cells_per_stage", 5)
    none = OP_NAMES.index("none")
    rest = whole - cells * 6 * table[:, none].sum()
    return OpLatencyTable(table, rest, cells)
