"""Few-shot search: proxies score a pool for free, a few trained cells teach a predictor which of the rest to train.

The algorithm draws `evaluations` distinct feasible cells and scores them with the objective's proxies (no
training). It then "trains" `labels` of them -- on a benchmark, by reading the tabulated accuracy, which
stands for a training run -- in rounds: first `initial` random cells, then, each round, the untrained cells
a `FewShotPredictor` (XGBoost on proxy values + encoding, refitted on every label so far) predicts best.
The answer is the best cell trained, because its accuracy is known, not guessed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zeronas.errors import InvalidInputError
from zeronas.evaluation.fewshot import FewShotPredictor, feature_table, target_for
from zeronas.search.algorithms import random_search, register_algorithm
from zeronas.search.evaluator import Evaluator
from zeronas.search.outcome import tabulated_accuracy
from zeronas.spaces import get_benchmark


def _label_oracle(ev: Evaluator) -> pd.Series:
    """The benchmark's accuracy of every cell of the search's space and data set (stands for training)."""
    space, dataset = ev.space.name, ev.checker.dataset
    tabulated = tabulated_accuracy(space, dataset)
    if tabulated is None:
        raise InvalidInputError(
            f"fewshot search reads trained accuracies from a benchmark table; {space}/{dataset} has none"
        )
    return tabulated[1]


@register_algorithm("fewshot")
def fewshot_search(
    ev: Evaluator,
    evaluations: int,
    rng: np.random.Generator,
    labels: int = 50,
    initial: int | None = None,
    rounds: int = 5,
) -> dict:
    """Score `evaluations` random cells with the proxies, train `labels` of them chosen by a few-shot predictor."""
    initial = max(2, labels // 2) if initial is None else int(initial)
    if not 2 <= initial <= labels:
        raise InvalidInputError(f"fewshot needs 2 <= initial <= labels, got initial {initial} and labels {labels}")
    if rounds < 1:
        raise InvalidInputError(f"fewshot needs rounds >= 1, got {rounds}")
    oracle = _label_oracle(ev)
    random_search(ev, evaluations, rng)
    values = pd.DataFrame({r.arch: r.proxies for r in ev.records}).T
    pool = values.index[values.index.isin(oracle.index)]
    if len(pool) <= labels:
        raise InvalidInputError(f"fewshot needs more scored cells ({len(pool)}) than labels ({labels})")
    features = feature_table(values.loc[pool].astype("float64"), ev.space)
    target = target_for(get_benchmark(ev.space.name).truth_unit)
    trained = list(rng.choice(pool.to_numpy(), size=initial, replace=False))
    per_round = int(np.ceil((labels - initial) / rounds))
    while len(trained) < labels:
        model = FewShotPredictor(seed=int(rng.integers(2**31)), target=target).fit(features, oracle[trained])
        untrained = features.drop(index=trained)
        ranked = model.predict(untrained).sort_values(ascending=False, kind="stable")
        trained += list(ranked.index[: min(per_round, labels - len(trained))])
    accuracy = oracle[trained]
    return {
        "picked": str(accuracy.idxmax()),
        "labels": len(trained),
        "initial": initial,
        "rounds": rounds,
        "trained": trained,
    }
