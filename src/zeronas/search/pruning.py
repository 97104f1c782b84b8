"""TE-NAS pruning on NAS-Bench-201 (Chen, Gong, Wang, ICLR 2021; docs/proxies.md §linear_regions, §ntk_cond).

Start from the supernet with every op on every edge ('none' is removed first, as TE-NAS's code does,
unless `include_none`). Each round, for every op still on an edge with several ops, score the supernet
without that op: its NTK condition number and its number of linear regions, on weights shared with the
unpruned supernet (same seed). As in TE-NAS, regions are counted on a thin copy of the supernet
(one channel, one cell per stage, no stem) fed with random single-channel 3x3 crops of the batch: on
the wide supernet every crop falls in its own region, the count saturates and carries no signal.
An op whose removal lowers kappa or barely lowers the region count matters least: per proxy the
relative change (v_pruned - v_origin) / |v_origin| of the oriented value is its prunability, ops are
dense-ranked by it (ties share a rank, values compared to 10 significant digits as TE-NAS does) and
the ranks summed; on each edge the op of the lowest rank sum is removed.
Repeat until one op per edge remains. Supernet scores go to the store under the space name
'nb201-supernet-c<C>n<N>' and the evaluation order to the trace of run '<run>/prune'.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from scipy.stats import rankdata

from zeronas.data import get_dataset
from zeronas.errors import InvalidInputError
from zeronas.evaluation.scoring import ScoreSettings, cached_batch
from zeronas.proxies import resolve_proxies, score
from zeronas.proxies.activation import random_crops
from zeronas.search.algorithms import register_algorithm
from zeronas.search.evaluator import Evaluator
from zeronas.spaces.nb201.model import OP_NAMES
from zeronas.spaces.nb201.space import EDGES, NasBench201Space
from zeronas.spaces.nb201.supernet import OpSets, build_supernet, full_op_sets, op_sets_key, op_sets_to_arch


def _significant(value: float, digits: int = 10) -> float:
    return float(f"{value:.{digits}g}") if math.isfinite(value) else -math.inf


#: the thin region-counting network of TE-NAS: width, cells per stage, crop size
REGION_NET = {"channels": 1, "cells_per_stage": 1, "crop": 3}


def single_channel_crops(images: torch.Tensor, samples: int, size: int, seed: int) -> torch.Tensor:
    """`samples` random size x size crops of `images`, each of one random channel; depends on `seed` only."""
    return random_crops(images, samples, size, torch.Generator().manual_seed(seed), one_channel=True)


class SupernetScorer:
    """Proxy values of supernets (op sets x repeat), cached in memory and in the store."""

    def __init__(
        self,
        dataset: str,
        proxies: Sequence[str],
        seed: int,
        channels: int,
        cells_per_stage: int,
        batch_size: int,
        options: dict[str, dict[str, object]],
        store: object | None = None,
        run: str | None = None,
    ) -> None:
        self.info = get_dataset(dataset)
        self.proxies, self.seed = list(proxies), seed
        self.channels, self.cells_per_stage = channels, cells_per_stage
        if "linear_regions" in proxies:
            options = {**options, "linear_regions": {**options.get("linear_regions", {}), **REGION_NET}}
        self.settings = ScoreSettings(batch_size=batch_size, options=options)
        self.space_name = f"nb201-supernet-c{channels}n{cells_per_stage}"
        self.store, self.run = store, run
        self.cache: dict[tuple[str, int], dict[str, float]] = {}
        self.reasons: dict[tuple[str, int, str], str] = {}
        self.computed = 0
        self.steps = 0
        self.on_step: Callable[[int], None] | None = None
        self.digest = ""
        if store is not None:
            self.digest = self.settings.digest(self.info.name)
            store.register_settings(self.digest, self.settings.as_dict(self.info.name))
            frame = store.frame(space=self.space_name, dataset=self.info.name, settings=self.digest, proxies=proxies)
            for arch, proxy, s, value in zip(frame["arch"], frame["proxy"], frame["seed"], frame["value"], strict=True):
                self.cache.setdefault((arch, int(s)), {})[proxy] = float(value)

    def __call__(self, op_sets: OpSets, repeat: int) -> dict[str, float]:
        key, seed = op_sets_key(op_sets), self.seed + repeat
        known = self.cache.setdefault((key, seed), {})
        if any(p not in known for p in self.proxies):
            batch = cached_batch(self.info.name, self.settings.batch_size, seed, None, "auto", None)
            wide = [p for p in self.proxies if p != "linear_regions"]
            parts = []
            if wide:
                model = build_supernet(op_sets, self.info.num_classes, self.channels, self.cells_per_stage, seed=seed)
                parts.append(score(model, batch, wide, seed=seed, options=self._options(wide)))
            if "linear_regions" in self.proxies:
                parts.append(self._regions(op_sets, batch.x, seed))
            for scores in parts:
                known.update(scores)
                self.reasons.update({(key, seed, name): reason for name, reason in scores.failures().items()})
                if self.store is not None:
                    self._write(key, seed, scores)
            self.computed += 1
        if self.store is not None and self.run:
            self.store.add_trace(f"{self.run}/prune", self.steps, key, {"seed": seed, **known})
        self.steps += 1
        if self.on_step is not None:
            self.on_step(self.steps)
        return dict(known)

    def _options(self, names: Sequence[str]) -> dict[str, dict[str, object]]:
        return {n: o for n, o in self.settings.options.items() if n in names}

    def _regions(self, op_sets: OpSets, images: torch.Tensor, seed: int) -> object:
        """Linear regions of the thin supernet over single-channel crops (`REGION_NET`)."""
        opts = dict(self.settings.options["linear_regions"])
        width, cells, crop = opts.pop("channels"), opts.pop("cells_per_stage"), opts.pop("crop")
        thin = build_supernet(op_sets, self.info.num_classes, width, cells, seed=seed, stem=False)
        x = single_channel_crops(images, int(opts.pop("samples", 1000)), crop, seed)
        options = {"linear_regions": {**opts, "input": "batch"}}
        return score(thin, (x, torch.zeros(len(x), dtype=torch.long)), ["linear_regions"], seed=seed, options=options)

    def _write(self, key: str, seed: int, scores: object) -> None:
        from zeronas.store import ResultRow

        self.store.add(
            ResultRow(
                self.space_name,
                key,
                self.info.name,
                name,
                seed,
                self.digest,
                float(d.value),
                d.status,
                d.reason,
                float(d.seconds),
            )
            for name, d in scores.details.items()
        )


def _without(op_sets: OpSets, edge: int, op: int) -> OpSets:
    return tuple(tuple(o for o in ops if o != op) if e == edge else ops for e, ops in enumerate(op_sets))


def prune_round(scorer: SupernetScorer, op_sets: OpSets, repeats: int) -> tuple[OpSets, list[dict]]:
    """One TE-NAS round: remove the least important op of every edge that still has several."""
    candidates = [(e, op) for e, ops in enumerate(op_sets) if len(ops) > 1 for op in ops]
    change = np.zeros((len(candidates), len(scorer.proxies)))
    for repeat in range(repeats):
        origin = scorer(op_sets, repeat)
        for name in scorer.proxies:
            if not math.isfinite(origin[name]):
                why = scorer.reasons.get((op_sets_key(op_sets), scorer.seed + repeat, name), "non-finite value")
                raise InvalidInputError(f"{name} failed on the supernet ({why}); TE-NAS pruning needs it")
        for i, (edge, op) in enumerate(candidates):
            pruned = scorer(_without(op_sets, edge, op), repeat)
            for j, name in enumerate(scorer.proxies):
                change[i, j] += (pruned[name] - origin[name]) / max(abs(origin[name]), 1e-30) / repeats
    rounded = np.vectorize(_significant)(change)
    ranks = np.column_stack([rankdata(-rounded[:, j], method="dense") - 1 for j in range(rounded.shape[1])])
    total = ranks.sum(axis=1)
    rows, chosen = [], {}
    for i, (edge, op) in enumerate(candidates):
        rows.append(
            {
                "edge": f"{EDGES[edge][0] + 1}->{EDGES[edge][1] + 1}",
                "op": OP_NAMES[op],
                "rank_sum": int(total[i]),
                **{f"change_{n}": change[i, j] for j, n in enumerate(scorer.proxies)},
            }
        )
        if edge not in chosen or total[i] < total[chosen[edge]]:
            chosen[edge] = i
    for edge, i in chosen.items():
        op_sets = _without(op_sets, edge, candidates[i][1])
        rows[i]["removed"] = True
    return op_sets, rows


@register_algorithm("prune")
def tenas_prune(
    ev: Evaluator,
    evaluations: int | None = None,
    rng: np.random.Generator | None = None,
    proxies: str | Sequence[str] = ("ntk_cond", "linear_regions"),
    channels: int = 8,
    cells_per_stage: int = 1,
    batch_size: int = 32,
    repeats: int = 1,
    lr_samples: int = 1000,
    include_none: bool = False,
    on_supernet_step: Callable[[int, int], None] | None = None,
) -> dict:
    """TE-NAS pruning of the NB201 supernet down to one op per edge; the result is scored by the objective."""
    if not isinstance(ev.space, NasBench201Space):
        raise InvalidInputError(f"prune works on the nb201 space only, not {ev.space.name!r}")
    if ev.checker.budgets:
        raise InvalidInputError("prune takes no budget: TE-NAS pruning is unconstrained; use evolution or nsga2")
    names = resolve_proxies(proxies)
    options = {"linear_regions": {"samples": lr_samples}} if "linear_regions" in names else {}
    scorer = SupernetScorer(
        ev.checker.dataset, names, ev.seed, channels, cells_per_stage, batch_size, options, ev.store, ev.run
    )
    op_sets = full_op_sets(include_none)
    if on_supernet_step is not None:
        total = _planned(op_sets, repeats)
        scorer.on_step = lambda done: on_supernet_step(done, total)
    rows: list[dict] = []
    round_index = 0
    while any(len(ops) > 1 for ops in op_sets):
        op_sets, round_rows = prune_round(scorer, op_sets, repeats)
        rows += [{"round": round_index, **row} for row in round_rows]
        round_index += 1
    arch = op_sets_to_arch(op_sets)
    ev.evaluate(arch)
    return {"rounds": pd.DataFrame(rows), "supernet_evaluations": scorer.steps, "supernet_computed": scorer.computed}


def _planned(op_sets: OpSets, repeats: int) -> int:
    """Supernet evaluations of a whole pruning run (one origin plus one per remaining op, per round)."""
    total, sizes = 0, [len(ops) for ops in op_sets]
    while any(s > 1 for s in sizes):
        total += repeats * (1 + sum(s for s in sizes if s > 1))
        sizes = [s - 1 if s > 1 else s for s in sizes]
    return total
