"""NTK gram cost: the per-sample backward loop vs vectorised backward passes, against one forward+backward.

For the small / median / large NB201 cells of `benchmarks/proxies.py` on the real CIFAR-10 batch of
64, one torch thread, each variant runs in a fresh process that reports:
  - seconds of one plain forward + CE backward of the cell (the baseline, median of 3, same process),
  - seconds of the variant's rows of G plus the float64 gram (the forward is the shared pass's and
    is not counted), scaled to all 64 rows when only the first chunk is run,
  - peak RSS (getrusage ru_maxrss) after the forward (model, batch, graph, G) and after the variant:
    torch's CPU memory is invisible to tracemalloc, so the process high-water mark is the measure,
  - the largest difference of its Θ entries to the loop's, relative to sqrt(Θ_ii Θ_jj).

Variants: `loop` (one autograd.grad per sample, the default), `batched` (autograd.grad with
`is_grads_batched`, legacy vmap), `vmap` (torch.func.vmap over autograd.grad on the same graph) and
`func_call` (torch.func vjp of a functional_call of the batch, vmapped; it needs its own forward).
Vectorised variants run k rows of the identity at once, k in 8/16/32/64. By default only their
first chunk is timed (after a 2-row warm-up; every chunk costs the same) and scaled to 64 rows: vmap
with every k on the small cell and k = 16 on the others, batched k = 16 on the small and median
cells, func_call k = 16 on the median cell: 9 minutes wall (5 CPU-minutes) on the 2-core machine
under load; `--full` runs every variant and k on every cell over all 64 rows (much longer).

    python benchmarks/ntk.py [--cells small,median,large] [--full] [--out benchmarks/results/ntk.json]
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from proxies import machine, nb201_cells

import zeronas
from zeronas.evaluation.scoring import build_seeded
from zeronas.proxies import ntk_gram as ng

BATCH = 64
CHUNKS = (8, 16, 32, 64)
VECTORISED = ("batched", "vmap")


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fwd_bwd_seconds(model: torch.nn.Module, batch: zeronas.Batch, repeats: int = 2) -> float:
    """Mean seconds of one plain forward + CE backward in train mode (after one warm-up)."""
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        F.cross_entropy(model(batch.x), batch.y).backward()
        times.append(time.perf_counter() - start)
        model.zero_grad(set_to_none=True)
    return statistics.mean(times[1:])


def _func_call_rows(model: torch.nn.Module, x: torch.Tensor, g: torch.Tensor, rows: int, chunk: int) -> float:
    """Fill G's first `rows` rows with torch.func (vjp of a functional_call, vmapped).

    Returns the seconds not to count: the forward (the other variants reuse the shared pass's) and
    a 2-row warm-up of the vmapped vjp.

    BN keeps train-mode batch statistics but no running buffers: their in-place update is not allowed
    inside a transform, and they do not change the outputs.
    """
    net = copy.deepcopy(model)
    for m in net.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.track_running_stats, m.running_mean, m.running_var, m.num_batches_tracked = False, None, None, None
    fixed = {n: p.detach() for n, p in net.named_parameters()}
    names = [n for n in fixed if "weight" in n]
    weights = [fixed[n] for n in names]

    def summed(w: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.func.functional_call(net, {**fixed, **w}, (x,)).sum(1)

    start = time.perf_counter()
    _, vjp_fn = torch.func.vjp(summed, dict(zip(names, weights, strict=True)))
    eye = torch.eye(x.shape[0])
    torch.func.vmap(vjp_fn)(eye[:2])
    untimed = time.perf_counter() - start
    for lo in range(0, rows, chunk):
        hi = min(lo + chunk, rows)
        (grads,) = torch.func.vmap(vjp_fn)(eye[lo:hi])
        ng._write_rows(g, slice(lo, hi), weights, tuple(grads[n] for n in names))
    return untimed


def worker(key: str, method: str, chunk: int, rows: int, out: str) -> None:
    """One variant in this process: print a JSON line, save the partial Θ to `out`."""
    torch.set_num_threads(1)
    batch = zeronas.load_batch("cifar10", BATCH, 0)
    model = build_seeded(zeronas.create_space("nb201"), key, 10, 0).train()
    params = [p for n, p in model.named_parameters() if "weight" in n]
    g = torch.empty(BATCH, sum(p.numel() for p in params))
    forward = 0.0
    if method == "func_call":
        before = _rss_mib()
        start = time.perf_counter()
        forward = _func_call_rows(model, batch.x, g, rows, chunk)
    else:
        summed = model(batch.x).sum(1)
        before = _rss_mib()
        warm = 1 if method == "loop" else 2  # first-call costs (vmap setup) kept out of the timed rows
        ng.fill_rows(g, summed, params, range(warm), retain=True, method=method, chunk=warm)
        start = time.perf_counter()
        ng.fill_rows(g, summed, params, range(rows), retain=False, method=method, chunk=chunk)
    theta = ng.gram(g[:rows])
    seconds = (time.perf_counter() - start - forward) * BATCH / rows
    peak = _rss_mib()
    torch.save(theta, out)
    baseline = fwd_bwd_seconds(model, batch)
    print(json.dumps({"seconds": seconds, "fwd_bwd_s": baseline, "rss_before_mib": before, "peak_rss_mib": peak}))


def run_variant(key: str, method: str, chunk: int, rows: int) -> tuple[dict, torch.Tensor]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "theta.pt")
        args = [sys.executable, __file__, "--worker", key, method, str(chunk), str(rows), path]
        done = subprocess.run(args, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise SystemExit(f"{method} k={chunk} failed: {done.stderr.strip().splitlines()[-1]}")
        return json.loads(done.stdout.strip().splitlines()[-1]), torch.load(path)


def normalised_difference(theta: torch.Tensor, ref: torch.Tensor) -> float:
    """max |Θ_ij - Θref_ij| / sqrt(Θref_ii Θref_jj) over the rows both have (0 where Θref_ii = 0)."""
    n = theta.shape[0]
    ref = ref[:n, :n]
    d = ref.diagonal().clamp_min(torch.finfo(torch.float64).tiny).sqrt()
    return float(((theta - ref).abs() / (d[:, None] * d[None, :])).max())


def plan(size: str, full: bool) -> list[tuple[str, int, int]]:
    """(method, chunk, rows) to run on one cell: the loop in full, vectorised variants as documented."""
    if full:
        return [("loop", 1, BATCH), *((m, k, BATCH) for m in (*VECTORISED, "func_call") for k in CHUNKS)]
    runs = [("loop", 1, BATCH), ("vmap", 16, 16)]
    if size == "small":
        runs += [("vmap", k, k) for k in CHUNKS if k != 16] + [("batched", 16, 16)]
    if size == "median":
        runs += [("batched", 16, 16), ("func_call", 16, 16)]
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", default="small,median,large", help="comma-separated: small, median, large")
    parser.add_argument("--full", action="store_true", help="every chunk size on every cell, all 64 rows")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/ntk.json"))
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        key, method, chunk, rows, out = args.worker
        worker(key, method, int(chunk), int(rows), out)
        return
    cells = nb201_cells("cifar10")
    print(f"batch {BATCH} of CIFAR-10, 1 torch thread, {os.cpu_count()} CPUs, torch {torch.__version__}")
    print(
        f"{'cell':7s} {'variant':14s} {'rows':>4s} {'seconds':>8s} {'fwd+bwd':>8s} {'ratio':>7s} "
        f"{'vs loop':>7s} {'RSS before':>10s} {'peak':>7s} {'max diff':>9s}"
    )
    results = {}
    for size in args.cells.split(","):
        key = cells[f"nb201-{size}"]
        results[size] = {"arch": key, "variants": []}
        loop_theta, loop_ratio = None, None
        for method, chunk, rows in plan(size, args.full):
            r, theta = run_variant(key, method, chunk, rows)
            if loop_theta is None:
                loop_theta = theta
            r["ratio_over_fwd_bwd"] = r["seconds"] / r["fwd_bwd_s"]
            loop_ratio = loop_ratio or r["ratio_over_fwd_bwd"]
            r["ratio_over_loop"] = r["ratio_over_fwd_bwd"] / loop_ratio
            r["max_normalised_diff_to_loop"] = normalised_difference(theta, loop_theta)
            r.update(method=method, chunk=chunk, rows_timed=rows)
            results[size]["variants"].append(r)
            label = method if method == "loop" else f"{method} k={chunk}"
            print(
                f"{size:7s} {label:14s} {rows:4d} {r['seconds']:8.2f} {r['fwd_bwd_s']:8.3f} "
                f"{r['ratio_over_fwd_bwd']:6.1f}x {r['ratio_over_loop']:6.2f}x {r['rss_before_mib']:8.0f}Mi "
                f"{r['peak_rss_mib']:5.0f}Mi {r['max_normalised_diff_to_loop']:9.1e}",
                flush=True,
            )
    payload = {
        "machine": {**machine(), "threads": 1, "load_average_at_start": list(os.getloadavg())},
        "date": datetime.date.today().isoformat(),
        "batch_size": BATCH,
        "dataset": "cifar10",
        "default_method": ng.DEFAULT_METHOD,
        "note": "seconds exclude the shared forward; vectorised rows_timed < 64 are scaled to 64 rows",
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2))
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
