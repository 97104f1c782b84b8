"""Proxy cost benchmark: fused engine vs each proxy on its own vs one plain forward+backward.

For NB201 cells with small / median / large FLOPs and a timm ResNet-18 at reduced resolution, all
measured in the same run on the same batch:
  - seconds of one plain forward + backward (CE loss) of the model: the baseline,
  - seconds per proxy when the whole set goes through the engine once (fused),
  - seconds of the whole set fused, and of each proxy computed on its own (separate),
and the ratios `suite / fwd+bwd` (also without the per-sample proxies ntk_cond and gradsign) and
`separate / fused`. Results go to JSON with the machine description.

`--quick` (about 2 minutes) measures only the median NB201 cell, once, and prints the ratios the
speed targets are stated in: ntk_cond, the six survey gradient proxies fused and computed
separately, the cheap set and the whole registry, each over one plain forward+backward.

    python benchmarks/proxies.py [--batch-size 64] [--threads 1] [--repeats 3] [--out results.json]
    python benchmarks/proxies.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

import zeronas
from zeronas.evaluation.scoring import build_seeded
from zeronas.hardware import get_cost
from zeronas.proxies import list_proxies
from zeronas.spaces.zoo import build_named_model

PER_SAMPLE = ("ntk_cond", "gradsign")
#: the survey's gradient proxies, computed by the peer (zero-cost-nas) each with its own model copy and passes
SURVEY_GRADIENT = ("grad_norm", "snip", "grasp", "fisher", "jacob_cov", "synflow")
CHEAP = ("params", "flops", "synflow", "nwot")
DEFAULT_OUT = Path("benchmarks/results/proxies.json")


def sized_cells(space_name: str, dataset: str, cost: str, n: int) -> dict[str, str]:
    """The cells with the smallest, median and largest `cost` among a seeded sample of `n`."""
    import numpy as np

    space = zeronas.create_space(space_name)
    size = get_cost(cost)
    keys = space.sample_many(n, np.random.default_rng(0))
    ranked = sorted(keys, key=lambda k: size(space, k, dataset))
    picks = {"small": ranked[0], "median": ranked[len(ranked) // 2], "large": ranked[-1]}
    return {f"{space_name}-{label}": key for label, key in picks.items()}


def nb201_cells(dataset: str) -> dict[str, str]:
    """The cells with the smallest, median and largest FLOPs among a seeded sample of 300."""
    return sized_cells("nb201", dataset, "flops", 300)


def median_seconds(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Median seconds of `repeats` calls of `fn`, and the last call's result."""
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def fwd_bwd_seconds(model: torch.nn.Module, batch: zeronas.Batch, repeats: int) -> float:
    """Median seconds of one plain forward + CE backward in train mode."""
    model.train()
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        loss = F.cross_entropy(model(batch.x), batch.y)
        loss.backward()
        times.append(time.perf_counter() - start)
        model.zero_grad(set_to_none=True)
    return statistics.median(times[1:])


def bench_model(name: str, model: torch.nn.Module, batch: zeronas.Batch, repeats: int) -> dict:
    proxies = list_proxies()
    baseline = fwd_bwd_seconds(model, batch, repeats)
    fused_runs, per_proxy = [], {p: [] for p in proxies}
    for _ in range(repeats):
        start = time.perf_counter()
        scores = zeronas.score(model, batch, proxies, seed=0)
        fused_runs.append(time.perf_counter() - start)
        for p, detail in scores.details.items():
            per_proxy[p].append(detail.seconds)
    fused = statistics.median(fused_runs)
    cheap = [p for p in proxies if p not in PER_SAMPLE]
    start = time.perf_counter()
    zeronas.score(model, batch, cheap, seed=0)
    fused_cheap = time.perf_counter() - start
    separate = {}
    for p in proxies:
        start = time.perf_counter()
        zeronas.score(model, batch, [p], seed=0)
        separate[p] = time.perf_counter() - start
    per_sample_alone = sum(separate[p] for p in PER_SAMPLE)
    result = {
        "model": name,
        "fwd_bwd_s": baseline,
        "fused_all_s": fused,
        "fused_without_per_sample_s": fused_cheap,
        "separate_all_s": sum(separate.values()),
        "per_sample_part_alone_s": per_sample_alone,
        "per_proxy_fused_s": {p: statistics.median(v) for p, v in per_proxy.items()},
        "per_proxy_alone_s": separate,
        "status": {p: d.status for p, d in scores.details.items()},
    }
    result["ratio_suite_without_per_sample_over_fwd_bwd"] = fused_cheap / baseline
    result["ratio_suite_over_fwd_bwd"] = fused / baseline
    result["ratio_separate_over_fused"] = result["separate_all_s"] / fused
    result["ratio_suite_over_per_sample_part"] = fused / per_sample_alone
    separate_cheap = sum(separate[p] for p in cheap)
    result["ratio_separate_over_fused_without_per_sample"] = separate_cheap / fused_cheap
    return result


def timed_score(model: torch.nn.Module, batch: zeronas.Batch, proxies: list[str] | tuple[str, ...]) -> float:
    """Seconds of one engine call (model copy included, as a user's `zeronas.score` pays it)."""
    start = time.perf_counter()
    zeronas.score(model, batch, list(proxies), seed=0)
    return time.perf_counter() - start


def quick(model: torch.nn.Module, batch: zeronas.Batch) -> dict:
    """The speed-target ratios on one model, each measured once after a warm-up pass."""
    timed_score(model, batch, CHEAP)  # warm-up: allocator, kernels, cached FLOPs counter
    baseline = fwd_bwd_seconds(model, batch, 3)
    fused_gradient = timed_score(model, batch, SURVEY_GRADIENT)
    separate_gradient = sum(timed_score(model, batch, [p]) for p in SURVEY_GRADIENT)
    seconds = {
        "fwd_bwd": baseline,
        "ntk_cond": timed_score(model, batch, ["ntk_cond"]),
        "grasp": timed_score(model, batch, ["grasp"]),
        "survey_gradient_fused": fused_gradient,
        "survey_gradient_separate": separate_gradient,
        "cheap_set": timed_score(model, batch, CHEAP),
        "registry": timed_score(model, batch, list_proxies()),
    }
    ratios = {f"{k}_over_fwd_bwd": v / baseline for k, v in seconds.items() if k != "fwd_bwd"}
    ratios["survey_gradient_separate_over_fused"] = separate_gradient / fused_gradient
    return {"seconds": seconds, "ratios": ratios}


def run_quick(args: argparse.Namespace) -> None:
    info = zeronas.data.get_dataset(args.dataset)
    name, key = "nb201-median", nb201_cells(args.dataset)["nb201-median"]
    model = build_seeded(zeronas.create_space("nb201"), key, info.num_classes, 0)
    batch = zeronas.load_batch(args.dataset, args.batch_size, 0)
    result = {"model": name, "arch": key, **quick(model, batch)}
    print(f"{name} ({key}), batch {args.batch_size} of {batch.source}, {torch.get_num_threads()} thread(s)")
    print(f"  one plain forward+backward: {result['seconds']['fwd_bwd']:.3f} s")
    for label, value in result["ratios"].items():
        print(f"  {label:42s} {value:7.2f}x")
    out = args.out if args.out != DEFAULT_OUT else DEFAULT_OUT.with_name("proxies_quick.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine(), "batch_size": args.batch_size, **result}, indent=2))
    print(f"saved {out}")


def machine() -> dict:
    return {
        "platform": platform.platform(),
        "processor": platform.processor(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--resnet-resolution", type=int, default=64)
    parser.add_argument("--skip-resnet", action="store_true")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--quick", action="store_true", help="Only the target ratios on the median NB201 cell.")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.quick:
        run_quick(args)
        return
    info = zeronas.data.get_dataset(args.dataset)
    space = zeronas.create_space("nb201")
    results = []
    models = {n: build_seeded(space, k, info.num_classes, 0) for n, k in nb201_cells(args.dataset).items()}
    batches = {n: zeronas.load_batch(args.dataset, args.batch_size, 0) for n in models}
    if not args.skip_resnet:
        with torch.random.fork_rng():
            torch.manual_seed(0)
            models["timm-resnet18"] = build_named_model("timm:resnet18", num_classes=info.num_classes)
        resolution = args.resnet_resolution
        batches["timm-resnet18"] = zeronas.load_batch(args.dataset, args.batch_size, 0, resolution=resolution)
    for name, model in models.items():
        result = bench_model(name, model, batches[name], args.repeats)
        results.append(result)
        r = result
        print(
            f"{name:14s} fwd+bwd {r['fwd_bwd_s']:.3f}s | fused all {r['fused_all_s']:.2f}s "
            f"({r['ratio_suite_over_fwd_bwd']:.1f}x) | fused w/o per-sample "
            f"{r['fused_without_per_sample_s']:.2f}s ({r['ratio_suite_without_per_sample_over_fwd_bwd']:.1f}x)"
            f" | separate {r['separate_all_s']:.2f}s (separate/fused {r['ratio_separate_over_fused']:.2f}x)"
            f" | whole/per-sample part {r['ratio_suite_over_per_sample_part']:.2f}x"
            f" | separate/fused w/o per-sample {r['ratio_separate_over_fused_without_per_sample']:.2f}x",
            flush=True,
        )
        for p, sec in sorted(result["per_proxy_fused_s"].items(), key=lambda kv: -kv[1]):
            print(f"    {p:15s} fused {sec:7.3f}s  alone {result['per_proxy_alone_s'][p]:7.3f}s  {result['status'][p]}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine(), "batch_size": args.batch_size, "results": results}, indent=2))
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
