"""Pool ensembles: a registered name whose score ranks several proxies over a pool of candidate architectures.

An ensemble is not a per-network proxy: like AZ-NAS, it turns each member proxy's values over the pool
into ranks and aggregates them, so a cell's score depends on the pool it is ranked in. Computing an
ensemble means computing its members (`expand_ensembles`); its score is then `ensemble_scores` over the
pool's member values (the evaluation layer does this for stored rows).

Registered here:
  - `az_nas`: AZ-NAS's four components, Σ_k ln(rank_k / M) (`az_nas_aggregate`, the paper's score);
  - `zs_ensemble`: zeronas's training-free ensemble, the same aggregation over synflow (complexity of the
    parameter flow), meco (expressivity on real data), az_expressivity (expressivity on Gaussian data)
    and az_trainability (Jacobian conditioning of each block). Chosen on NB201 CIFAR-10 only
    (benchmarks/ensemble.py documents the choice) and frozen.
  - `zs_ensemble_top`: the same aggregation over synflow, zen (expressivity on Gaussian data), meco,
    az_trainability and jacob_cov (how distinct the input Jacobians of the batch are), chosen for search:
    on NB201 CIFAR-10 only, the subset ordering the top 5% of the space best among those keeping
    SPR@All >= .92, then frozen (benchmarks/ensemble.py `design-top`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd

from zeronas.errors import InvalidInputError, UnknownNameError
from zeronas.proxies.aznas import AZ_COMPONENTS, az_nas_aggregate
from zeronas.proxies.registry import get_proxy, list_proxies, resolve_proxies
from zeronas.registry import Registry


@dataclass(frozen=True)
class EnsembleSpec:
    """A registered ensemble: its member proxies and how their values over a pool become one score per cell."""

    name: str
    members: tuple[str, ...]
    description: str
    #: pool member values (one row per cell, one column per member, higher is better) -> one score per cell
    aggregate: Callable[[pd.DataFrame], pd.Series]


_ENSEMBLES: Registry[EnsembleSpec] = Registry("ensemble")


def register_ensemble(
    name: str,
    members: Iterable[str],
    description: str,
    aggregate: Callable[[pd.DataFrame], pd.Series] = az_nas_aggregate,
) -> EnsembleSpec:
    """Register ensemble `name` over registered proxies `members` (default aggregation: AZ-NAS's log-rank sum)."""
    members = tuple(members)
    if name in list_proxies():
        raise ValueError(f"ensemble {name!r}: a proxy has that name")
    if len(members) < 2 or len(set(members)) != len(members):
        raise ValueError(f"ensemble {name!r} needs at least two distinct members, got {members}")
    for member in members:
        get_proxy(member)
    return _ENSEMBLES.add(name, EnsembleSpec(name, members, description, aggregate))


def unregister_ensemble(name: str) -> None:
    """Remove an ensemble (for tests and for users replacing a built-in definition)."""
    _ENSEMBLES.remove(name)


def get_ensemble(name: str) -> EnsembleSpec:
    """The spec of a registered ensemble; unknown names give a one-line error with suggestions."""
    return _ENSEMBLES.get(name)


def list_ensembles() -> list[str]:
    """Names of the registered ensembles, in registration order."""
    return _ENSEMBLES.names()


def is_ensemble(name: object) -> bool:
    return isinstance(name, str) and name in _ENSEMBLES


def complete_ensembles(proxies: Iterable[str]) -> list[str]:
    """The registered ensembles whose members are all among `proxies`, in registration order."""
    present = set(proxies)
    return [name for name in list_ensembles() if set(get_ensemble(name).members) <= present]


def stored_names(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """Names to read from a store -> (proxy names with the named ensembles' members, ensembles asked for).

    Unlike `expand_ensembles`, names need not be registered: a store may hold proxies of another session.
    """
    proxies: list[str] = []
    ensembles: list[str] = []
    for name in names:
        if is_ensemble(name):
            ensembles.append(name)
            proxies += get_ensemble(name).members
        else:
            proxies.append(name)
    return list(dict.fromkeys(proxies)), list(dict.fromkeys(ensembles))


def expand_ensembles(names: str | Iterable[str]) -> tuple[list[str], list[str]]:
    """Proxy and ensemble names ('all', comma-separated or a list) -> (proxies to compute, ensembles asked for).

    The proxies are the named proxies followed by every member of the named ensembles, each once, in
    order (validated by `resolve_proxies`); 'all' is every proxy and every ensemble.
    """
    if isinstance(names, str):
        if names.strip() == "all":
            return list_proxies(), list_ensembles()
        names = [p.strip() for p in names.split(",")]
    elif not isinstance(names, Iterable):
        return resolve_proxies(names), []  # its one-line error names the type
    proxies, ensembles = stored_names(names)
    return resolve_proxies(proxies), ensembles


def ensemble_scores(name: str, values: pd.DataFrame) -> pd.Series:
    """Ensemble `name`'s score of each row of a pool of member values (NaN: failed, ranked last).

    `values`: one row per cell, at least the ensemble's member columns (oriented: higher is better).
    """
    spec = get_ensemble(name)
    missing = [m for m in spec.members if m not in values.columns]
    if missing:
        raise InvalidInputError(f"ensemble {name!r} needs member value(s) {', '.join(missing)}")
    return spec.aggregate(values[list(spec.members)]).rename(name)


def ensemble_rows(rows: pd.DataFrame, names: Iterable[str] | None = None) -> pd.DataFrame:
    """Rows (arch, proxy, seed, value, status, reason, ...) of ensembles, each ranked over its pool per seed.

    The pool of an ensemble and seed is every cell with a row of each member for that seed (a failed member
    value ranks last); a cell missing any member's row is not in the pool. `names`: the ensembles to
    derive, default every registered ensemble whose members all have rows. Only the columns arch, proxy,
    seed, value, status and reason (plus seconds, the sum of the members') are filled.
    """
    for column in ("arch", "proxy", "seed", "value"):
        if column not in rows.columns:
            raise InvalidInputError(f"rows lack column {column!r}")
    wanted = complete_ensembles(rows["proxy"]) if names is None else list(names)
    for name in wanted:
        if not is_ensemble(name):
            raise UnknownNameError(f"unknown ensemble {name!r} (known: {', '.join(list_ensembles())})")
    parts = []
    for name in wanted:
        members = list(get_ensemble(name).members)
        mine = rows[rows["proxy"].isin(members)]
        if "status" in mine.columns:  # a failed row's value may be a sentinel, not NaN: rank it last
            mine = mine.assign(value=mine["value"].where(mine["status"] == "ok"))
        for seed, group in mine.groupby("seed", sort=True):
            table = group.set_index(["arch", "proxy"])["value"].astype("float64").unstack().reindex(columns=members)
            complete = group.groupby("arch")["proxy"].nunique().reindex(table.index) == len(members)
            table = table[complete]
            if table.empty:
                continue
            score = ensemble_scores(name, table)
            seconds = group.groupby("arch")["seconds"].sum() if "seconds" in group.columns else None
            parts.append(
                pd.DataFrame(
                    {
                        "arch": score.index,
                        "proxy": name,
                        "seed": seed,
                        "value": score.to_numpy(),
                        "status": "ok",
                        "reason": f"ranked over a pool of {len(score)} cells",
                        **({"seconds": seconds.reindex(score.index).to_numpy()} if seconds is not None else {}),
                    }
                )
            )
    if not parts:
        return rows.iloc[0:0]
    return pd.concat(parts, ignore_index=True)


register_ensemble(
    "az_nas",
    AZ_COMPONENTS,
    "AZ-NAS: Σ ln(rank/M) of expressivity, progressivity, trainability and complexity over the pool",
)
register_ensemble(
    "zs_ensemble",
    ("synflow", "meco", "az_expressivity", "az_trainability"),
    "Σ ln(rank/M) over the pool of synflow, meco, az_expressivity and az_trainability (designed on NB201 CIFAR-10)",
)
register_ensemble(
    "zs_ensemble_top",
    ("synflow", "zen", "meco", "az_trainability", "jacob_cov"),
    "Σ ln(rank/M) over the pool of synflow, zen, meco, az_trainability and jacob_cov (designed on NB201 CIFAR-10 "
    "for the top 5%: the search objective)",
)
