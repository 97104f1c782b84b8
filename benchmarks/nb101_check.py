"""NAS-Bench-101 check against the 500 NAS-Bench-Suite-Zero reference cells (reference_zc/nasbench101__cifar10.json).

1. Parameters (all 500 cells): the network `space.build(hash)` builds from the table's stored graph
   against the table's `params_M`; the network of the reference key's own spec (its vertex order)
   against the reference `params`; and, for every cell where the two differ, why: the output's
   fan-in does not divide the stack's channels, so the vertices first in order get one extra
   channel, and the two orders give that channel to vertices with different ops.
2. Proxies (all 500, or a seeded subset with --limit): synflow, snip, grad_norm, jacob_cov, fisher
   and grasp via `zeronas.score` on the network of the reference spec (the network the reference
   scored), seeded per cell, on `zeronas.load_batch("cifar10", B, 0)`; Spearman of each against the
   reference values, and of the reference values against the table's test accuracy (all 500).
3. With --seed-ceiling N, instead: Spearman between our own values at seeds 0 and 1 (weights and
   batch draw) on N reference cells, the agreement to expect against a reference's own draws.
4. With --table-cells N, instead: the parameters of N table cells (0: all 423,624) counted from the
   definition, in the vertex order NAS-Bench-101 trained and in the table's stored order.
Results go to JSON with the machine description; the file is updated every 10 cells, so a run
cut short still leaves its partial correlations (each mode merges its keys into the file).

    python benchmarks/nb101_check.py [--batch-size 64] [--limit N] [--threads 1] [--out PATH]
    python benchmarks/nb101_check.py --seed-ceiling 40 --batch-size 32
    python benchmarks/nb101_check.py --table-cells 0
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from proxies import machine
from scipy.stats import spearmanr

import zeronas
from zeronas.config import data_file, read_data_json
from zeronas.spaces.nb101.hashing import Spec, graph_hash, official_order, vertex_orders
from zeronas.spaces.nb101.model import count_params, vertex_channels
from zeronas.spaces.nb101.space import table_spec
from zeronas.spaces.nb101.truth import load_nasbench101, nb101_accuracy, nb101_params

REFERENCE = "benchmarks/reference_zc/nasbench101__cifar10.json"
#: our proxy name -> the reference file's name
PROXIES = {
    "synflow": "synflow",
    "snip": "snip",
    "grad_norm": "grad_norm",
    "jacob_cov": "jacov",
    "fisher": "fisher",
    "grasp": "grasp",
}
DEFAULT_OUT = Path("benchmarks/results/nb101_check.json")
STACK_CHANNELS = (128, 256, 512)


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def remainder_vertices(spec) -> list[dict[str, object]]:
    """Per stack, which ops receive the output's split channels (the vertex order decides the extra ones)."""
    n = spec.num_vertices
    out = []
    for c in STACK_CHANNELS:
        channels = vertex_channels(c, c, spec.matrix)
        out.append(
            {"channels": c, "to_output": [(spec.ops[v], channels[v]) for v in range(1, n - 1) if spec.matrix[v][n - 1]]}
        )
    return out


def params_over_orders(spec: Spec) -> list[int]:
    """The distinct parameter counts of one graph over its vertex orders."""
    return sorted({count_params(s) for s in vertex_orders(spec)})


def stored_spec(digest: str) -> Spec:
    """The table's graph in the table's own vertex order (an isomorphic representative)."""
    row = load_nasbench101().loc[digest]
    return table_spec(row["adjacency_rows"], row["ops"])


def check_params(space, reference: dict, hashes: list[str]) -> dict[str, object]:
    """Exact parameter matches on every reference cell, and each difference explained."""
    table = nb101_params()
    rows, counts = [], dict.fromkeys(("hash", "stored", "reference", "reference_vs_table", "counted"), 0)
    for key, digest in zip(reference, hashes, strict=True):
        want = round(float(table[digest]) * 1e6)
        ref = round(reference[key]["params"] * 1e6)
        built_hash = n_params(space.build(digest))
        built_ref = n_params(space.build(key))
        stored = count_params(stored_spec(digest))
        counts["hash"] += built_hash == want
        counts["stored"] += stored == want
        counts["reference"] += built_ref == ref
        counts["reference_vs_table"] += ref == want
        counts["counted"] += (
            count_params(space.spec(digest)) == built_hash and count_params(space.spec(key)) == built_ref
        )
        if len({want, ref, built_hash, built_ref, stored}) > 1:
            ref_spec = space.spec(key)
            rows.append(
                {
                    "hash": digest,
                    "table_params": want,
                    "reference_params": ref,
                    "built_from_hash": built_hash,
                    "built_from_reference_spec": built_ref,
                    "table_stored_order_counted": stored,
                    "output_fan_in": sum(r[-1] for r in ref_spec.matrix[1:-1]),
                    "same_hash": graph_hash(space.spec(digest)) == graph_hash(ref_spec) == digest,
                    "params_over_all_vertex_orders": params_over_orders(ref_spec),
                    "trained_order": remainder_vertices(space.spec(digest)),
                    "reference_order": remainder_vertices(ref_spec),
                }
            )
    return {
        "cells": len(hashes),
        "distinct_hashes": len(set(hashes)),
        "built_from_hash_equals_table_params": counts["hash"],
        "table_stored_order_equals_table_params": counts["stored"],
        "built_from_reference_spec_equals_reference_params": counts["reference"],
        "reference_params_equal_table_params": counts["reference_vs_table"],
        "counted_from_definition_equals_built": counts["counted"],
        "differences": rows,
    }


def check_whole_table(limit: int) -> dict[str, object]:
    """Counted parameters of every table cell (or a seeded subset) in the trained and the stored order."""
    table = load_nasbench101()
    picked = np.sort(np.random.default_rng(0).permutation(len(table))[:limit]) if limit else np.arange(len(table))
    trained = stored = 0
    misses: list[str] = []
    start = time.perf_counter()
    for row in table.iloc[picked].itertuples():
        spec = table_spec(row.adjacency_rows, row.ops)
        want = round(row.params_M * 1e6)
        stored += count_params(spec) == want
        ok = count_params(official_order(spec)) == want
        trained += ok
        if not ok:
            misses.append(row.hash)
    return {
        "cells": len(picked),
        "trained_order_equals_table_params": trained,
        "table_stored_order_equals_table_params": stored,
        "trained_order_misses": misses[:50],
        "seconds": round(time.perf_counter() - start, 1),
    }


def write(path: Path, report: dict) -> None:
    """Merge `report` into the JSON at `path` (another mode of this script may have written other keys)."""
    old = json.loads(path.read_text()) if path.exists() else {}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**old, **report}, indent=1) + "\n")


def spearman(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    return float(spearmanr(a[ok], b[ok]).statistic) if ok.sum() > 2 else float("nan")


def correlations(reference: dict, keys: list[str], hashes: list[str], ours: dict[str, list[float]]) -> dict:
    """Spearman of our values against the reference, and of both against the table's test accuracy."""
    truth = nb101_accuracy()
    acc = [float(truth[h]) for h in hashes]
    out = {}
    for name, ref_name in PROXIES.items():
        ref = [reference[k][ref_name] for k in keys]
        out[name] = {
            "spearman_vs_reference": spearman(ours[name], ref),
            "spearman_ours_vs_test_acc": spearman(ours[name], acc),
            "spearman_reference_vs_test_acc": spearman(ref, acc),
            "failures": int(sum(not np.isfinite(v) for v in ours[name])),
        }
    return out


def seed_ceiling(space, keys: list[str], cells: int, batch_size: int) -> dict[str, object]:
    """Spearman between our own values at two seeds (weights and batch draw): the agreement a
    reference computed from other random draws can be expected to reach."""
    picked = [keys[i] for i in sorted(np.random.default_rng(1).permutation(len(keys))[:cells])]
    values = {seed: {name: [] for name in PROXIES} for seed in (0, 1)}
    for seed in (0, 1):
        batch = zeronas.load_batch("cifar10", batch_size, seed)
        for key in picked:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                model = space.build(key)
            scores = zeronas.score(model, batch, list(PROXIES), seed=seed, inplace=True)
            for name in PROXIES:
                values[seed][name].append(float(scores[name]))
    return {
        "cells": cells,
        "batch_size": batch_size,
        "subset": "seeded subset (seed 1) of the 500 reference keys",
        "spearman_seed0_vs_seed1": {name: spearman(values[0][name], values[1][name]) for name in PROXIES},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--limit", type=int, default=0, help="score a seeded subset of this many cells (0: all)")
    parser.add_argument("--subset-seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--table-cells", type=int, default=None, help="instead: count parameters of N table cells (0: all 423,624)"
    )
    parser.add_argument(
        "--seed-ceiling", type=int, default=None, help="instead: our seed-0 vs seed-1 Spearman on N reference cells"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.seed_ceiling is not None:
        space = zeronas.create_space("nb101")
        keys = list(read_data_json(data_file(REFERENCE)))
        result = seed_ceiling(space, keys, args.seed_ceiling, args.batch_size)
        write(
            args.out,
            {
                "seed_ceiling": {
                    "command": f"--seed-ceiling {args.seed_ceiling} --batch-size {args.batch_size}",
                    **result,
                }
            },
        )
        print(json.dumps(result), flush=True)
        return
    if args.table_cells is not None:
        result = check_whole_table(args.table_cells)
        write(args.out, {"params_whole_table": {"command": f"--table-cells {args.table_cells}", **result}})
        print(json.dumps(result), flush=True)
        return

    space = zeronas.create_space("nb101")
    reference = read_data_json(data_file(REFERENCE))
    keys = list(reference)
    hashes = [space.validate(k) for k in keys]
    truth = nb101_accuracy()
    report: dict[str, object] = {
        "machine": {**machine(), "description": "2-core CPU machine (shared)"},
        "measured": time.strftime("%Y-%m-%d"),
        "command": "python benchmarks/nb101_check.py "
        + " ".join(
            f"--{k.replace('_', '-')} {v}"
            for k, v in vars(args).items()
            if k not in ("out", "table_cells", "seed_ceiling")
        ),
        "params": check_params(space, reference, hashes),
        "reference_vs_test_acc_all_500": {
            name: spearman([reference[k][name] for k in keys], [float(truth[h]) for h in hashes])
            for name in (
                "synflow",
                "snip",
                "grad_norm",
                "jacov",
                "fisher",
                "grasp",
                "params",
                "flops",
                "epe_nas",
                "plain",
                "l2_norm",
            )
        },
    }
    print(json.dumps({k: v for k, v in report["params"].items() if k != "differences"}), flush=True)

    order = np.random.default_rng(args.subset_seed).permutation(len(keys))
    chosen = sorted(order[: args.limit]) if args.limit else list(range(len(keys)))
    batch = zeronas.load_batch("cifar10", args.batch_size, 0)
    ours: dict[str, list[float]] = {name: [] for name in PROXIES}
    done_keys, done_hashes, seconds = [], [], []
    for count, i in enumerate(chosen, start=1):
        start = time.perf_counter()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = space.build(keys[i])
        scores = zeronas.score(model, batch, list(PROXIES), seed=0, inplace=True)
        seconds.append(time.perf_counter() - start)
        for name in PROXIES:
            ours[name].append(float(scores[name]))
        done_keys.append(keys[i])
        done_hashes.append(hashes[i])
        if count % 10 == 0 or count == len(chosen):
            report["proxies"] = {
                "batch": {"size": args.batch_size, "source": batch.source},
                "cells_scored": count,
                "cells_planned": len(chosen),
                "subset": f"seeded subset (seed {args.subset_seed}) of {args.limit}" if args.limit else "all 500",
                "seconds_per_cell_mean": float(np.mean(seconds)),
                "spearman": correlations(reference, done_keys, done_hashes, ours),
            }
            write(args.out, report)
            rho = {n: round(v["spearman_vs_reference"], 3) for n, v in report["proxies"]["spearman"].items()}
            print(
                f"{count}/{len(chosen)} cells, {np.mean(seconds):.1f} s/cell, spearman vs reference {rho}", flush=True
            )


if __name__ == "__main__":
    main()
