"""GraSP's Hessian-gradient product: cost of each formulation, and of the survey's gradient proxies.

On the small / median / large NB201 cells (chosen as in benchmarks/proxies.py), a real batch and
one torch thread, each measured in the same run as one plain forward+backward (the baseline):
  - every formulation of (g, H g) for the CE loss on a prepared copy, g included:
      double_backward        one forward, backward with create_graph, backward of <stopgrad(g), g>
      second_forward         plain g, then a second forward with create_graph and the double backward
      forward_over_reverse   plain g, then a forward-AD (dual weights, tangent g) forward+backward
      func_jvp               plain g, then torch.func.jvp of torch.func.grad (BN buffers cloned inside)
      fd_forward             plain g, a no-grad forward recording ReLU slopes, one gradient at θ + ε v
      fd_central             as fd_forward with gradients at θ ± ε v
    with the GraSP value's relative difference to double_backward;
  - engine calls: the six survey gradient proxies fused (default exact GraSP and the
    finite-difference option), the same six each in its own `zeronas.score` call (summed), GraSP alone.
Results go to JSON with the machine description. `--spearman` instead measures the finite-difference
option's Spearman against exact GraSP on a seeded sample of NB201 cells (default 100; a few minutes
per 50 cells) and adds it to the same JSON; a later timing run keeps it.

    python benchmarks/grasp.py [--batch-size 64] [--threads 1] [--repeats 2]
    python benchmarks/grasp.py --spearman [--cells 100]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.autograd.forward_ad as fwad
import torch.nn.functional as F
from proxies import SURVEY_GRADIENT, fwd_bwd_seconds, machine, median_seconds, nb201_cells
from scipy.stats import spearmanr
from torch import nn
from torch.func import functional_call

import zeronas
from zeronas.evaluation.scoring import build_seeded
from zeronas.proxies.context import prepare_copy, prunable_layers
from zeronas.proxies.gradient import FD_RELATIVE_STEP, _FrozenGates

DEFAULT_OUT = Path("benchmarks/results/grasp.json")
FD = {"grasp": {"hvp": "finite_difference"}}
Grads = list[torch.Tensor]


def _weights(net: nn.Module) -> Grads:
    return [m.weight for _, m in prunable_layers(net)]


def _grad(net: nn.Module, batch: zeronas.Batch, create_graph: bool = False) -> tuple:
    return torch.autograd.grad(F.cross_entropy(net(batch.x), batch.y), _weights(net), create_graph=create_graph)


def double_backward(net: nn.Module, batch: zeronas.Batch) -> tuple[Grads, Grads]:
    g = _grad(net, batch, create_graph=True)
    hg = torch.autograd.grad(sum((t.detach() * t).sum() for t in g), _weights(net))
    return [t.detach() for t in g], list(hg)


def second_forward(net: nn.Module, batch: zeronas.Batch) -> tuple[Grads, Grads]:
    g = _grad(net, batch)
    again = _grad(net, batch, create_graph=True)
    return list(g), list(torch.autograd.grad(sum((a * b).sum() for a, b in zip(g, again, strict=True)), _weights(net)))


def forward_over_reverse(net: nn.Module, batch: zeronas.Batch) -> tuple[Grads, Grads]:
    g = _grad(net, batch)
    names = [f"{n}.weight" for n, _ in prunable_layers(net)]
    with fwad.dual_level():
        pairs = zip(names, _weights(net), g, strict=True)
        duals = {n: fwad.make_dual(w.detach(), t).requires_grad_() for n, w, t in pairs}
        loss = F.cross_entropy(functional_call(net, duals, (batch.x,), strict=False), batch.y)
        out = torch.autograd.grad(loss, list(duals.values()))
        return list(g), [fwad.unpack_dual(t).tangent for t in out]


def func_jvp(net: nn.Module, batch: zeronas.Batch) -> tuple[Grads, Grads]:
    g = _grad(net, batch)
    names = [f"{n}.weight" for n, _ in prunable_layers(net)]
    buffers = dict(net.named_buffers())

    def loss(weights: dict[str, torch.Tensor]) -> torch.Tensor:  # BN updates its cloned running stats
        state = {**weights, **{k: v.clone() for k, v in buffers.items()}}
        return F.cross_entropy(functional_call(net, state, (batch.x,), strict=False), batch.y)

    primal = {n: w.detach() for n, w in zip(names, _weights(net), strict=True)}
    _, tangent = torch.func.jvp(torch.func.grad(loss), (primal,), (dict(zip(names, g, strict=True)),))
    return list(g), [tangent[n] for n in names]


def _finite_difference(net: nn.Module, batch: zeronas.Batch, central: bool) -> tuple[Grads, Grads]:
    g = _grad(net, batch)
    weights = _weights(net)
    pristine = [w.detach().clone() for w in weights]
    g_norm = float(torch.sqrt(sum((t.double() ** 2).sum() for t in g)))
    step = FD_RELATIVE_STEP * float(torch.sqrt(sum((w.double() ** 2).sum() for w in pristine)))
    gates = _FrozenGates(net)
    try:
        with torch.no_grad():
            net(batch.x)
            gates.replay()
            torch._foreach_add_(weights, list(g), alpha=step / g_norm)
        plus = _grad(net, batch)
        if central:
            with torch.no_grad():
                torch._foreach_add_(weights, list(g), alpha=-2 * step / g_norm)
            gates.replay()
            minus = _grad(net, batch)
            return list(g), [(p - m) * (g_norm / (2 * step)) for p, m in zip(plus, minus, strict=True)]
        return list(g), [(p - t) * (g_norm / step) for p, t in zip(plus, g, strict=True)]
    finally:
        gates.remove()
        with torch.no_grad():
            torch._foreach_copy_(weights, pristine)


FORMULATIONS: dict[str, Callable[[nn.Module, zeronas.Batch], tuple[Grads, Grads]]] = {
    "double_backward": double_backward,
    "second_forward": second_forward,
    "forward_over_reverse": forward_over_reverse,
    "func_jvp": func_jvp,
    "fd_forward": lambda net, batch: _finite_difference(net, batch, central=False),
    "fd_central": lambda net, batch: _finite_difference(net, batch, central=True),
}


def _grasp_value(net: nn.Module, hg: Grads) -> float:
    pairs = zip(_weights(net), hg, strict=True)
    return float(sum((-w.detach().double() * h.detach().double()).sum() for w, h in pairs))


def _score_seconds(model: nn.Module, batch: zeronas.Batch, names: tuple | list, options: dict | None = None) -> float:
    start = time.perf_counter()
    zeronas.score(model, batch, list(names), seed=0, options=options)
    return time.perf_counter() - start


def bench_cell(model: nn.Module, batch: zeronas.Batch, repeats: int) -> dict:
    """Seconds and ratios to one plain forward+backward of every formulation and engine call."""
    _score_seconds(model, batch, SURVEY_GRADIENT)  # warm-up
    baseline = fwd_bwd_seconds(model, batch, repeats + 1)
    net = prepare_copy(model)
    rows, reference = {}, None
    for name, fn in FORMULATIONS.items():
        seconds, (_, hg) = median_seconds(lambda fn=fn: fn(net, batch), repeats)
        value = _grasp_value(net, hg)
        reference = value if reference is None else reference
        rows[name] = {"seconds": seconds, "ratio": seconds / baseline, "grasp": value}
        rows[name]["rel_diff"] = abs(value - reference) / abs(reference)
    engine = {
        "survey6_fused_exact": median_seconds(lambda: _score_seconds(model, batch, SURVEY_GRADIENT), repeats)[0],
        "survey6_fused_fd": median_seconds(lambda: _score_seconds(model, batch, SURVEY_GRADIENT, FD), repeats)[0],
        "survey6_separate_exact": sum(_score_seconds(model, batch, [p]) for p in SURVEY_GRADIENT),
        "survey6_separate_fd": sum(
            _score_seconds(model, batch, [p], FD if p == "grasp" else None) for p in SURVEY_GRADIENT
        ),
        "grasp_alone_exact": _score_seconds(model, batch, ["grasp"]),
        "grasp_alone_fd": _score_seconds(model, batch, ["grasp"], FD),
    }
    return {
        "fwd_bwd_s": baseline,
        "formulations": rows,
        "engine_s": engine,
        "engine_ratio": {k: v / baseline for k, v in engine.items()},
        "separate_over_fused": {
            "exact": engine["survey6_separate_exact"] / engine["survey6_fused_exact"],
            "fd": engine["survey6_separate_fd"] / engine["survey6_fused_fd"],
        },
    }


def spearman_study(dataset: str, batch_size: int, cells: int) -> dict:
    """Exact vs finite-difference GraSP on a seeded sample of NB201 cells (one batch, seed 0).

    Cells where GraSP is not applicable (no path from the input to the logits) are counted, not ranked.
    """
    space = zeronas.create_space("nb201")
    info = zeronas.data.get_dataset(dataset)
    batch = zeronas.load_batch(dataset, batch_size, 0)
    rows = []
    for i, key in enumerate(space.sample_many(cells, np.random.default_rng(0))):
        model = build_seeded(space, key, info.num_classes, 0)
        exact = zeronas.score(model, batch, ["grasp"], seed=0).details["grasp"]
        approx = zeronas.score(model, batch, ["grasp"], seed=0, options=FD).details["grasp"]
        rows.append({"arch": key, "exact": exact.value, "fd": approx.value, "status": [exact.status, approx.status]})
        if (i + 1) % 10 == 0:
            print(f"  {i + 1} cells", flush=True)
    return {"cells": cells, "sample": "nb201 sample_many(cells, default_rng(0)), weights seed 0", **summarize(rows)}


def summarize(rows: list[dict]) -> dict:
    """Spearman over the cells both options scored; relative errors where exact GraSP is not 0."""
    ranked = [r for r in rows if r["status"] == ["ok", "ok"]]
    e, a = np.array([r["exact"] for r in ranked]), np.array([r["fd"] for r in ranked])
    nonzero = e != 0  # disconnected cells: both options give exactly 0
    rel = np.abs(a - e)[nonzero] / np.abs(e[nonzero])
    return {
        "ranked_cells": len(ranked),
        "same_status_elsewhere": all(r["status"][0] == r["status"][1] for r in rows),
        "zero_cells": int((~nonzero).sum()),
        "zero_cells_agree": bool((a[~nonzero] == 0).all()),
        "spearman": float(spearmanr(e, a).statistic),
        "rel_error_median": float(np.median(rel)),
        "rel_error_p90": float(np.quantile(rel, 0.9)),
        "rel_error_max": float(rel.max()),
        "values": rows,
    }


def machine_description() -> dict:
    """The platform, with the core count in words and whether a GPU was visible."""
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU used"
    return {"description": f"{os.cpu_count()}-core CPU machine ({gpu})", **machine()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--spearman", action="store_true", help="Only the exact vs FD Spearman, added to --out.")
    parser.add_argument("--cells", type=int, default=100)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.spearman:
        report = json.loads(args.out.read_text()) if args.out.exists() else {"machine": machine_description()}
        report["spearman"] = {
            "measured": time.strftime("%Y-%m-%d"),
            "batch_size": args.batch_size,
            **spearman_study(args.dataset, args.batch_size, args.cells),
        }
        summary = {k: v for k, v in report["spearman"].items() if k != "values"}
        print("finite_difference vs exact GraSP:", json.dumps(summary))
    else:
        report = {"machine": machine_description(), "measured": time.strftime("%Y-%m-%d"), **timing(args)}
        if args.out.exists() and "spearman" in (old := json.loads(args.out.read_text())):
            report["spearman"] = old["spearman"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"saved {args.out}")


def timing(args: argparse.Namespace) -> dict:
    """The per-cell table, printed as it is measured."""
    info = zeronas.data.get_dataset(args.dataset)
    space = zeronas.create_space("nb201")
    batch = zeronas.load_batch(args.dataset, args.batch_size, 0)
    print(f"batch {args.batch_size} of {batch.source}, {torch.get_num_threads()} thread(s)")
    results = {}
    for name, key in nb201_cells(args.dataset).items():
        result = {"arch": key, **bench_cell(build_seeded(space, key, info.num_classes, 0), batch, args.repeats)}
        results[name] = result
        print(f"{name} ({key}): one forward+backward {result['fwd_bwd_s']:.3f} s", flush=True)
        for label, row in result["formulations"].items():
            print(f"  {label:22s} {row['seconds']:7.3f} s {row['ratio']:6.2f}x   GraSP rel. diff {row['rel_diff']:.1e}")
        for label, ratio in result["engine_ratio"].items():
            print(f"  {label:22s} {result['engine_s'][label]:7.3f} s {ratio:6.2f}x")
        sep = result["separate_over_fused"]
        print(f"  separate / fused       exact {sep['exact']:.2f}x   finite_difference {sep['fd']:.2f}x", flush=True)
    return {"batch_size": args.batch_size, "source": batch.source, "cells": results}


if __name__ == "__main__":
    main()
