"""TransNAS-Bench-101 micro check: params and FLOPs of the built networks against NAS-Bench-Suite-Zero.

For every task and every cell of `benchmarks/reference_zc/transnas101_micro__<task>.json` (about 711
per task, keyed by the op-digit tuple), the network `TransNASMicroSpace().build(key, task=task)` is
counted with `zeronas.modelstats` and compared with the reference `params` (M) and `flops` (MFLOPs):
  - params: `count_params` of the whole network;
  - flops: `count_flops` at the reference's batch-1 input, 3 x 256 x 256 (jigsaw: 9 tiles of 64 x 64).
    tensorwatch, which NAS-Bench-Suite-Zero used, keeps one call per module, so its jigsaw FLOPs hold
    the shared encoder once: they are compared with count_flops(encoder, one tile) + count_flops(decoder).
The counters read only shapes, so by default the networks are built on the meta device (no weight
init, no arithmetic: the same counts in a fraction of the time; `--real` builds them on the CPU).
The result (equal counts per task, the first differences) goes to JSON with the machine description.

    python benchmarks/tnb_check.py [--limit N] [--tasks class_scene,jigsaw] [--real] [--threads 1] [--out PATH]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import time
from pathlib import Path

import torch
from proxies import machine

from zeronas.config import data_file, read_data_json
from zeronas.modelstats import count_flops, count_params
from zeronas.spaces.tnb import TASK_NAMES, TransNASMicroSpace, get_task

REFERENCE = "benchmarks/reference_zc/transnas101_micro__{task}.json"
DEFAULT_OUT = Path("benchmarks/results/tnb_check.json")
#: the input NAS-Bench-Suite-Zero counted at: 256 x 256 images; jigsaw: 64 x 64 tiles
REFERENCE_SIDE = 256
TILE_SIDE = 64


def suite_zero_flops(net: torch.nn.Module, task: str) -> int:
    """FLOPs as NAS-Bench-Suite-Zero counted them: jigsaw's shared encoder once (one tile), then the decoder."""
    info = get_task(task)
    if not info.tiles:
        return count_flops(net, (1, 3, REFERENCE_SIDE, REFERENCE_SIDE))
    side = -(-TILE_SIDE // net.encoder.reduction)
    features = (1, net.encoder.out_channels * info.tiles, side, side)
    return count_flops(net.encoder, (1, 3, TILE_SIDE, TILE_SIDE)) + count_flops(net.decoder, features)


def check_task(space: TransNASMicroSpace, task: str, limit: int | None, real: bool) -> dict[str, object]:
    reference = read_data_json(data_file(REFERENCE.format(task=task)))
    keys = sorted(reference)[:limit] if limit else sorted(reference)
    equal_params = equal_flops = 0
    differences = []
    start = time.time()
    for key in keys:
        ops = ast.literal_eval(key)
        with contextlib.nullcontext() if real else torch.device("meta"):
            net = space.build(ops, task=task)
        params, flops = count_params(net), suite_zero_flops(net, task)
        ref_params = round(reference[key]["params"]["score"] * 1e6)
        ref_flops = round(reference[key]["flops"]["score"] * 1e6)
        equal_params += params == ref_params
        equal_flops += flops == ref_flops
        if (params != ref_params or flops != ref_flops) and len(differences) < 10:
            differences.append(
                {"key": space.validate(ops), "params": params, "reference_params": ref_params}
                | {"flops": flops, "reference_flops": ref_flops}
            )
    return {
        "cells": len(keys),
        "equal_params": equal_params,
        "equal_flops": equal_flops,
        "differences": differences,
        "seconds": round(time.time() - start, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="Only the first N reference cells per task.")
    parser.add_argument("--tasks", default=",".join(TASK_NAMES))
    parser.add_argument("--real", action="store_true", help="Build real networks on the CPU, not on meta.")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    space = TransNASMicroSpace()
    tasks = [get_task(t).name for t in args.tasks.split(",")]
    report: dict[str, object] = {
        "machine": {**machine(), "description": "2-core CPU machine (shared)"},
        "measured": time.strftime("%Y-%m-%d"),
        "command": "python benchmarks/tnb_check.py"
        + (f" --limit {args.limit}" if args.limit else "")
        + f" --tasks {','.join(tasks)}"
        + (" --real" if args.real else "")
        + f" --threads {args.threads}",
        "device": "cpu" if args.real else "meta",
        "tasks": {},
    }
    for task in tasks:
        report["tasks"][task] = check_task(space, task, args.limit, args.real)
        print(task, json.dumps({k: v for k, v in report["tasks"][task].items() if k != "differences"}), flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    cells = sum(r["cells"] for r in report["tasks"].values())
    report["summary"] = {
        "cells": cells,
        "equal_params": sum(r["equal_params"] for r in report["tasks"].values()),
        "equal_flops": sum(r["equal_flops"] for r in report["tasks"].values()),
    }
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report["summary"]))


if __name__ == "__main__":
    main()
