"""Few-shot accuracy prediction: gradient-boosted trees on zero-cost proxy values and the architecture encoding.

N labelled cells (their trained accuracy: a benchmark's table, or a user's own training runs) fit an
XGBoost regressor whose features are each cell's proxy values (one column per proxy, the mean over seeds;
a failed value stays NaN, which the trees route on their own), the search space's one-hot encoding of the
cell and, where the space has them, its graph descriptors (op counts, path counts and depths:
`zeronas.spaces.graph_features`), and the registered training-free ensembles whose members are among the
proxies (`zs_ensemble`, `zs_ensemble_top`, `az_nas`: each a log-rank sum over the feature table's pool,
a combination of the proxies that 100 labels are too few for the trees to find on their own). The model
then ranks the cells nobody trained. `fewshot_curve` measures this the way NAS-Bench-Suite-Zero does: for
N labelled cells drawn at random from a pool, Spearman and Kendall tau between the predictions and the
truth of the rest of the pool, over several draws.

The model's settings were chosen on NB201 CIFAR-10 only (500 uniformly drawn cells, 21 proxies, seed 0,
N = 100 labels, 20-40 draws): the target is the log of the error, -ln(101 - accuracy %), so the few
cells that do not train (10% accuracy) stop dominating a squared error that should order the good ones
(Spearman .954 -> .963 at N = 100, .898 -> .912 at N = 25); depth 4, column subsample 0.3, 300 rounds at
learning rate 0.05. Raw targets, targets clipped at the labelled 2-10% quantile, depths 2-5, column
subsamples 0.3-0.8 and min child weights 0.5-3 were worse or within the spread. The ensemble columns were
added on the same pool (40 paired draws: Spearman +.018 / +.014 / +.005 / +.003 at N = 10 / 25 / 50 / 100,
better in 75-85% of the draws). A metric that is not a percentage (an SSIM, a negative loss) is fitted raw.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from types import ModuleType

import numpy as np
import pandas as pd

from zeronas.errors import InvalidInputError
from zeronas.evaluation.metrics import rank_correlation
from zeronas.evaluation.sweep import recorded_draws
from zeronas.proxies.ensemble import complete_ensembles, ensemble_scores
from zeronas.store import ResultStore

#: label counts of the default learning curve (the issue's and NAS-Bench-Suite-Zero's small-N regime)
DEFAULT_LABELS = (10, 25, 50, 100)
#: XGBoost settings (chosen on NB201 CIFAR-10, see the module docstring)
XGB_PARAMS: dict[str, object] = {
    "objective": "reg:squarederror",
    "eta": 0.05,
    "max_depth": 4,
    "subsample": 0.9,
    "colsample_bytree": 0.3,
    "min_child_weight": 1.0,
    "nthread": 1,
}
XGB_ROUNDS = 300
#: what the trees fit: the log of the error of an accuracy in % ('log_error') or the label itself ('raw')
TARGETS = ("log_error", "raw")
#: the log-error target is -ln(ACCURACY_CEILING + 1 - accuracy): one point of accuracy keeps it finite at 100%
ACCURACY_CEILING = 100.0
#: prefixes of the ensemble, encoding and graph-descriptor columns of a feature table
ENSEMBLE_PREFIX = "ens_"
ENCODING_PREFIX = "enc_"
GRAPH_PREFIX = "graph_"


def require_xgboost() -> ModuleType:
    """The xgboost module, or one line saying how to install it."""
    try:
        import xgboost
    except ImportError as exc:
        raise InvalidInputError(
            "few-shot prediction needs xgboost, which is not installed (pip install 'zeronas[predict]')"
        ) from exc
    return xgboost


def proxy_table(rows: pd.DataFrame, proxies: Sequence[str] | None = None) -> pd.DataFrame:
    """Stored rows (arch, proxy, seed, value, status) as one row per cell and one column per proxy.

    The value is the mean over seeds of the successful values; a cell whose every value of a proxy failed
    keeps NaN there (failed rows still mark the cell as scored). Columns follow `proxies` when given.
    """
    if rows.empty:
        raise InvalidInputError("no stored proxy values to build features from")
    ok = rows.assign(value=rows["value"].where(rows["status"] == "ok"))
    wide = ok.pivot_table(index="arch", columns="proxy", values="value", aggfunc="mean", dropna=False)
    scored = rows.groupby(["arch", "proxy"]).size().unstack("proxy")
    wide = wide.reindex(index=scored.index, columns=scored.columns)
    wide = wide.where(scored.notna() | wide.notna())
    wide.columns.name = None
    if proxies is not None:
        missing = [p for p in proxies if p not in wide.columns]
        if missing:
            raise InvalidInputError(f"no stored values of proxy {', '.join(missing)} for these cells")
        wide = wide[list(proxies)]
    return wide.astype("float64")


def complete_cells(rows: pd.DataFrame, proxies: Sequence[str]) -> set[str]:
    """Cells that have a stored row (successful or failed) of every proxy in `proxies`."""
    wanted = set(proxies)
    per_cell = rows[rows["proxy"].isin(wanted)].groupby("arch")["proxy"].nunique()
    return set(per_cell.index[per_cell == len(wanted)])


def ensemble_columns(values: pd.DataFrame) -> pd.DataFrame:
    """`ens_<name>`: each registered ensemble whose members are all columns of `values`, over its rows as pool."""
    columns = {f"{ENSEMBLE_PREFIX}{name}": ensemble_scores(name, values) for name in complete_ensembles(values.columns)}
    return pd.DataFrame(columns, index=values.index, dtype="float64")


def feature_table(values: pd.DataFrame, space: object | None = None, ensembles: bool = True) -> pd.DataFrame:
    """Proxy columns of `values`, then (`ensembles`) the ensembles of them ranked over its rows as `ens_<name>`
    columns, then (with `space`) its one-hot encoding of each cell as `enc_<i>` columns and, where the space
    describes its cell graph, the descriptors as `graph_<name>` columns.

    The ensemble columns depend on the pool: fit and predict on rows of one table.
    """
    if ensembles:
        values = pd.concat([values, ensemble_columns(values)], axis=1)
    if space is None:
        return values.copy()
    try:
        codes = np.stack([np.asarray(space.encode(arch), dtype=np.float32) for arch in values.index])
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(f"cannot encode the stored cells with space {space.name!r}: {exc}") from exc
    encoded = pd.DataFrame(codes, index=values.index, columns=[f"{ENCODING_PREFIX}{i}" for i in range(codes.shape[1])])
    try:
        graphs = pd.DataFrame([space.graph_features(arch) for arch in values.index], index=values.index)
    except NotImplementedError:
        return pd.concat([values, encoded], axis=1)
    return pd.concat([values, encoded, graphs.add_prefix(GRAPH_PREFIX).astype("float64")], axis=1)


def is_proxy_column(column: object) -> bool:
    """Whether a feature-table column holds a proxy's values (not an ensemble, the encoding or a graph descriptor)."""
    return not str(column).startswith((ENSEMBLE_PREFIX, ENCODING_PREFIX, GRAPH_PREFIX))


def target_for(unit: str) -> str:
    """The fitted target for a ground truth in `unit`: the log error of a percentage, else the raw metric."""
    return "log_error" if unit == "%" else "raw"


class FewShotPredictor:
    """fit(features, accuracy) then predict(features): XGBoost regression of accuracy on proxies + encoding.

    `target` 'log_error' (for accuracies in %) fits -ln(101 - accuracy) and maps predictions back to %;
    'raw' fits the label as given (any metric where larger is better).
    """

    def __init__(
        self,
        seed: int = 0,
        rounds: int = XGB_ROUNDS,
        params: dict[str, object] | None = None,
        target: str = "log_error",
    ) -> None:
        if rounds < 1:
            raise InvalidInputError(f"rounds must be at least 1, got {rounds}")
        if target not in TARGETS:
            raise InvalidInputError(f"unknown few-shot target {target!r} (known: {', '.join(TARGETS)})")
        self.seed, self.rounds, self.target = int(seed), int(rounds), target
        self.params = {**XGB_PARAMS, **(params or {}), "seed": self.seed}
        self.columns: list[str] | None = None
        self.booster: object | None = None

    def _encode_target(self, accuracy: pd.Series) -> np.ndarray:
        values = accuracy.to_numpy()
        if self.target == "raw":
            return values
        above = accuracy.index[values > ACCURACY_CEILING]
        if len(above):
            raise InvalidInputError(
                f"labelled cell {above[0]!r} has accuracy {accuracy[above[0]]} > 100: the log-error target needs "
                "accuracies in %; use target='raw' for another metric"
            )
        return -np.log(ACCURACY_CEILING + 1.0 - values)

    def fit(self, features: pd.DataFrame, accuracy: pd.Series) -> FewShotPredictor:
        """Fit on the cells of `accuracy` (finite values, at least 2), looked up in `features` by key."""
        accuracy = pd.Series(accuracy, dtype="float64")
        missing = accuracy.index.difference(features.index)
        if len(missing):
            raise InvalidInputError(f"{len(missing)} labelled cell(s) have no features, e.g. {missing[0]!r}")
        bad = accuracy.index[~np.isfinite(accuracy.to_numpy())]
        if len(bad):
            raise InvalidInputError(f"labelled cell {bad[0]!r} has a non-finite accuracy ({accuracy[bad[0]]})")
        if len(accuracy) < 2:
            raise InvalidInputError(f"few-shot prediction needs at least 2 labelled cells, got {len(accuracy)}")
        label = self._encode_target(accuracy)
        xgb = require_xgboost()
        self.columns = list(features.columns)
        matrix = xgb.DMatrix(features.loc[accuracy.index].to_numpy(np.float32), label=label)
        self.booster = xgb.train(self.params, matrix, num_boost_round=self.rounds)
        return self

    def predict(self, features: pd.DataFrame) -> pd.Series:
        """Predicted accuracy (the label's scale) of each row of `features` (the columns it was fitted on)."""
        if self.booster is None or self.columns is None:
            raise InvalidInputError("the few-shot predictor is not fitted; call fit() first")
        absent = [c for c in self.columns if c not in features.columns]
        if absent:
            raise InvalidInputError(f"features lack the fitted column(s) {', '.join(absent)}")
        xgb = require_xgboost()
        raw = self.booster.predict(xgb.DMatrix(features[self.columns].to_numpy(np.float32))).astype("float64")
        predicted = raw if self.target == "raw" else ACCURACY_CEILING + 1.0 - np.exp(-raw)
        return pd.Series(predicted, index=features.index, name="predicted")


def _best_proxy_on(values: pd.DataFrame, labelled: pd.Series) -> str | None:
    """The proxy whose values rank the labelled cells best (Spearman), or None when none is defined."""
    best, best_rho = None, -math.inf
    for proxy in values.columns:
        rho, _, n = rank_correlation(values.loc[labelled.index, proxy], labelled)
        if n >= 3 and math.isfinite(rho) and rho > best_rho:
            best, best_rho = str(proxy), rho
    return best


def _check_labels(labels: Sequence[int], pool: int) -> list[int]:
    counts = sorted({int(n) for n in labels})
    if not counts or counts[0] < 2:
        raise InvalidInputError(f"--labels must be counts of at least 2, got {list(labels)}")
    if counts[-1] > pool - 3:
        raise InvalidInputError(
            f"--labels {counts[-1]} leaves fewer than 3 of the {pool} pool cells to evaluate on; use fewer labels"
        )
    return counts


def fewshot_curve(
    features: pd.DataFrame,
    truth: pd.Series,
    labels: Sequence[int] = DEFAULT_LABELS,
    draws: int = 5,
    seed: int = 0,
    top: float = 5.0,
    proxies: Sequence[str] | None = None,
    model: dict[str, object] | None = None,
) -> pd.DataFrame:
    """One row per (labels N, draw): the predictor fitted on N random pool cells, scored on the rest.

    The pool is every cell of `features` with finite `truth`. Columns: spearman, kendall (predictions vs
    truth on the held-out cells), spearman_top (on the held-out cells in the pool's top `top`% by truth),
    pick (truth of the held-out cell predicted best), best_labelled (truth of the best labelled cell),
    oracle (the pool's best truth), and the baseline `proxy_spearman`: the held-out Spearman of the one
    proxy (of `proxies`, default the proxy columns) that ranks the N labelled cells best. `model`: keywords
    of `FewShotPredictor` (target, params, rounds).
    """
    if draws < 1:
        raise InvalidInputError(f"--draws must be at least 1, got {draws}")
    truth = pd.Series(truth, dtype="float64").reindex(features.index)
    pool = truth[np.isfinite(truth.to_numpy())]
    counts = _check_labels(labels, len(pool))
    proxy_columns = list(proxies) if proxies is not None else [c for c in features.columns if is_proxy_column(c)]
    cutoff = np.quantile(pool.to_numpy(), 1.0 - top / 100.0)
    rows = []
    for n in counts:
        for draw in range(draws):
            rng = np.random.default_rng([seed, draw, n])
            order = rng.permutation(len(pool))
            labelled, held_out = pool.iloc[order[:n]], pool.iloc[order[n:]]
            start = time.perf_counter()
            fitted = FewShotPredictor(seed=seed * 1000 + draw, **(model or {})).fit(features, labelled)
            predicted = fitted.predict(features.loc[held_out.index])
            seconds = time.perf_counter() - start
            rho, tau, _ = rank_correlation(predicted, held_out)
            top_cells = held_out.index[held_out.to_numpy() >= cutoff]
            rho_top = (
                rank_correlation(predicted[top_cells], held_out[top_cells])[0] if len(top_cells) >= 3 else math.nan
            )
            chosen = _best_proxy_on(features[proxy_columns], labelled) if proxy_columns else None
            baseline = rank_correlation(features.loc[held_out.index, chosen], held_out)[0] if chosen else math.nan
            rows.append(
                {
                    "labels": n,
                    "draw": draw,
                    "spearman": rho,
                    "kendall": tau,
                    "spearman_top": rho_top,
                    "pick": float(held_out[predicted.idxmax()]),
                    "best_labelled": float(labelled.max()),
                    "oracle": float(pool.max()),
                    "best_proxy": chosen,
                    "proxy_spearman": baseline,
                    "held_out": len(held_out),
                    "fit_seconds": seconds,
                }
            )
    return pd.DataFrame(rows)


def summarise_curve(curve: pd.DataFrame) -> pd.DataFrame:
    """Mean and sample std (ddof=1) over draws per label count, for the numeric columns of `curve`."""
    numeric = ["spearman", "kendall", "spearman_top", "pick", "proxy_spearman"]
    grouped = curve.groupby("labels")[numeric]
    summary = grouped.mean().add_suffix("_mean").join(grouped.std(ddof=1).add_suffix("_std"))
    summary["draws"] = curve.groupby("labels").size()
    summary["held_out"] = curve.groupby("labels")["held_out"].min()
    return summary.reset_index()


def _group_digest(store: ResultStore, space: str, dataset: str, settings: str | None) -> tuple[str, list[str]]:
    """The settings digest to read (given, the only one, or the one with the most rows) and a note."""
    groups = store.groups()
    groups = groups[(groups["space"] == space) & (groups["dataset"] == dataset)]
    if groups.empty:
        raise InvalidInputError(f"the store holds no proxy values for {space}/{dataset}; run `zeronas evaluate` first")
    if settings is not None:
        if settings not in set(groups["settings"]):
            raise InvalidInputError(
                f"--settings {settings!r} is not stored for {space}/{dataset}; stored: {', '.join(groups['settings'])}"
            )
        return settings, []
    chosen = groups.sort_values("rows", ascending=False).iloc[0]["settings"]
    others = [s for s in groups["settings"] if s != chosen]
    return str(chosen), [
        f"settings {chosen} (most rows); also stored: {', '.join(others)} (--settings)"
    ] if others else []


def stored_pool(
    store: ResultStore,
    space: str,
    dataset: str,
    proxies: Sequence[str] | None = None,
    settings: str | None = None,
    uniform_only: bool = True,
) -> tuple[pd.DataFrame, list[str]]:
    """Proxy values (cells x proxies) of the pool to predict over, and notes on how it was chosen.

    Proxies: `proxies`, else every proxy stored for the group. Cells: those with a row of every proxy,
    within the recorded uniform draw they cover best (a sweep's --include-top cells would otherwise pass for
    uniform ones); with no draw recorded or `uniform_only` False, every such cell (said in the notes).
    """
    digest, notes = _group_digest(store, space, dataset, settings)
    rows = store.frame(space=space, dataset=dataset, settings=digest, proxies=proxies)
    names = list(proxies) if proxies is not None else sorted(rows["proxy"].unique())
    absent = sorted(set(names) - set(rows["proxy"]))
    if absent:
        raise InvalidInputError(f"no stored values of proxy {', '.join(absent)} for {space}/{dataset}/{digest}")
    cells = complete_cells(rows, names)
    draws = [d for d in recorded_draws(store, space, dataset) if d & cells] if uniform_only else []
    if draws:
        share, _, draw = max((len(d & cells) / len(d), len(d), i) for i, d in enumerate(draws))
        cells = cells & draws[draw]
        notes.append(f"pool: {len(cells)} cells of a recorded uniform draw of {len(draws[draw])} ({share:.0%} covered)")
    else:
        why = "no uniform draw recorded in the store" if uniform_only else "every scored cell"
        notes.append(f"pool: all {len(cells)} cells with every proxy ({why})")
    if not cells:
        raise InvalidInputError(f"no {space}/{dataset} cell has a stored value of every proxy ({', '.join(names)})")
    values = proxy_table(rows[rows["arch"].isin(cells)], names)
    notes.insert(0, f"{len(names)} proxies: {', '.join(names)}")
    return values, notes
