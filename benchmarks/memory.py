"""Peak memory of scoring one NB201 cell, per proxy set, each in a fresh process.

A sweep worker's peak RSS is set by its heaviest cell and proxy set; this isolates it. For the cell
with the largest FLOPs among the seeded sample of `benchmarks/proxies.py` (and optionally the median
one), every set below is scored in its own `python -c` process and that process's peak RSS (VmHWM
of its own memory map, see sweep.PEAK_KIB) is reported next to the floor of a process that only
imports torch and zeronas.
The values of every set are printed too, so a change of the engine's pass order that must not change
any value can be checked with the same run.

    python benchmarks/memory.py [--dataset cifar100] [--cells large,median] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import torch
from proxies import nb201_cells
from sweep import PEAK_KIB, import_rss_mib

from zeronas.proxies import list_proxies

CHEAP = "params,flops,synflow,nwot"
CHILD = (
    PEAK_KIB
    + """
import json, sys, torch
torch.set_num_threads(1)
from zeronas.evaluation.scoring import score_arch
from zeronas.spaces import create_space
scores = score_arch(create_space("nb201"), sys.argv[1], sys.argv[2], sys.argv[3].split(","), seed=0)
print(json.dumps({"rss_kib": peak_kib(), "values": dict(scores)}))
"""
)


def child(args: list[str]) -> dict:
    """Run CHILD in a fresh interpreter with one thread and return its JSON line."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"scoring {args} failed: {out.stderr.strip().splitlines()[-1]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="cifar100")
    parser.add_argument("--cells", default="large", help="comma-separated: small, median, large")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/memory.json"))
    args = parser.parse_args()
    everything = ",".join(list_proxies())
    without = ",".join(p for p in list_proxies() if p not in ("ntk_cond", "grasp"))
    sets = {
        "cheap": CHEAP,
        "ntk_cond": "ntk_cond",
        "grasp": "grasp",
        "ntk_cond+grasp": "ntk_cond,grasp",
        "all but ntk_cond, grasp": without,
        "all": everything,
    }
    cells = nb201_cells(args.dataset)
    floor = import_rss_mib()
    print(f"{platform.platform()}, torch {torch.__version__}; import-only floor {floor:.0f} MiB")
    results: dict[str, dict] = {}
    for size in args.cells.split(","):
        key = cells[f"nb201-{size}"]
        results[size] = {"arch": key, "sets": {}}
        for label, proxies in sets.items():
            out = child([key, args.dataset, proxies])
            mib = out["rss_kib"] / 1024
            results[size]["sets"][label] = {"peak_rss_mib": mib, "values": out["values"]}
            print(f"{size:6s} {label:24s} peak RSS {mib:7.0f} MiB ({mib - floor:+.0f} over the floor)", flush=True)
    payload = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__},
        "dataset": args.dataset,
        "import_only_peak_rss_mib": floor,
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2))
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
