"""Predicted costs as cost models: a predictor trained on N cells of a measured or tabulated cost.

`get_cost("predicted_latency", target="nb201_latency", device="raspi4", model="gcn", n_train=200)`
trains, on first use for a (space, data set), a predictor on `n_train` seeded random cells of the
target cost, and answers every cell from the predictor. `truth` is the target cost model, so a
search can compare the front it finds with the predicted cost against the tabulated one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zeronas.data import get_dataset
from zeronas.errors import InvalidInputError, UnknownNameError
from zeronas.hardware.costs import CostModel, canonical_key, get_cost, register_cost
from zeronas.hardware.measured_latency import MeasuredLatency
from zeronas.hardware.predictors.base import Predictor
from zeronas.hardware.predictors.gcn import GCNPredictor
from zeronas.hardware.predictors.lut import LookupTablePredictor
from zeronas.hardware.predictors.mlp import MLPPredictor
from zeronas.hardware.tables import TableCost
from zeronas.spaces import SearchSpace

PREDICTORS = {"mlp": MLPPredictor, "gcn": GCNPredictor, "lut": LookupTablePredictor}


def make_predictor(model: str, seed: int = 0) -> Predictor:
    """A fresh predictor by name: mlp, gcn or lut."""
    if model not in PREDICTORS:
        raise UnknownNameError(f"unknown cost predictor {model!r} (known: {', '.join(PREDICTORS)})")
    return PREDICTORS[model]() if model == "lut" else PREDICTORS[model](seed=seed)


def known_costs(cost: CostModel, space: SearchSpace, dataset: str) -> pd.Series:
    """Every (key -> value) a cost model already knows without measuring: a table, or stored measurements."""
    if isinstance(cost, TableCost):
        return cost.series(dataset)
    if isinstance(cost, MeasuredLatency):
        return pd.Series(cost.stored(space, dataset), dtype=float)
    raise InvalidInputError(f"cost {cost.name!r} has no table of known values to train a predictor on")


class PredictedCost(CostModel):
    """A cost answered by a predictor trained on `n_train` cells of the `truth` cost model."""

    def __init__(self, truth: CostModel, model: str = "mlp", n_train: int = 200, seed: int = 0) -> None:
        self.truth, self.model, self.n_train, self.seed = truth, model, int(n_train), int(seed)
        self.name = f"predicted[{model},{n_train}]({truth.name})"
        self.unit = f"{truth.unit} (predicted)"
        self._fitted: dict[tuple[str, str], Predictor] = {}
        self.train_keys: dict[tuple[str, str], list[str]] = {}

    def predictor(self, space: SearchSpace, dataset: str) -> Predictor:
        """The predictor for (space, data set), trained on first use."""
        name = get_dataset(dataset).name
        if (space.name, name) not in self._fitted:
            known = known_costs(self.truth, space, name).dropna()
            if len(known) < self.n_train:
                raise InvalidInputError(
                    f"{self.truth.name} knows {len(known)} cells, fewer than n_train={self.n_train}"
                )
            rng = np.random.default_rng(self.seed)
            keys = list(known.index[np.sort(rng.choice(len(known), self.n_train, replace=False))])
            self._fitted[(space.name, name)] = make_predictor(self.model, self.seed).fit(space, keys, known[keys])
            self.train_keys[(space.name, name)] = keys
        return self._fitted[(space.name, name)]

    def many(self, space: SearchSpace | None, keys: list[str], dataset: str) -> np.ndarray:
        if space is None:
            raise InvalidInputError("predicted costs need a search space (its encoding), not named models")
        archs = [canonical_key(space, k) for k in keys]
        return self.predictor(space, dataset).predict(space, archs)

    def __call__(self, space: SearchSpace | None, key: str, dataset: str) -> float:
        return float(self.many(space, [key], dataset)[0])


@register_cost("predicted_latency")
def predicted_latency(
    target: str = "nb201_latency",
    model: str = "mlp",
    n_train: int = 200,
    seed: int = 0,
    **target_options: object,
) -> PredictedCost:
    """A predictor (`mlp`, `gcn`, `lut`) of the cost `target` (built with `target_options`)."""
    return PredictedCost(get_cost(target, **target_options), model, n_train, seed)


register_cost("predicted")(predicted_latency)
