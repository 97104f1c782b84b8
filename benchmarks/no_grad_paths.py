"""No-gradient fast paths on NAS-Bench-101 cells: channels-last max-pool and SWAP's packed pattern count.

For the NB101 cells with the smallest, median and largest parameter counts among a seeded sample, all
measured in the same run on the same real batch, one torch thread:
  - one forward without gradients through the network as built (`zeronas.spaces.layers.MaxPool2d`) and
    through a twin whose pools are plain `nn.MaxPool2d` (the baseline); outputs must be equal;
  - one SWAP repeat (N(0, 1) weights, the first 16 images): zeronas's count (codes packed per ReLU map as
    it is produced, counted in a presence table) against the baseline formulation (the twin's forward,
    every map's 0/1 signs concatenated, weighted into int64 codes, `torch.unique`); counts must be equal.
Ratios are baseline / zeronas. Results go to JSON with the machine description.

    python benchmarks/no_grad_paths.py [--cells 100] [--repeats 5] [--out benchmarks/results/no_grad_paths.json]
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
from pathlib import Path

import torch
from proxies import machine, median_seconds, sized_cells
from torch import nn

import zeronas
from zeronas.modelstats import count_params
from zeronas.proxies import swap
from zeronas.proxies.zen import gaussian_init
from zeronas.spaces.layers import MaxPool2d

DEFAULT_OUT = Path("benchmarks/results/no_grad_paths.json")


def torch_pool_twin(model: nn.Module) -> nn.Module:
    """A copy of `model` whose zeronas max-pools are plain `nn.MaxPool2d` with the same settings."""
    twin = copy.deepcopy(model)
    for parent in twin.modules():
        for name, child in parent.named_children():
            if isinstance(child, MaxPool2d):
                plain = nn.MaxPool2d(
                    child.kernel_size, child.stride, child.padding, child.dilation, ceil_mode=child.ceil_mode
                )
                setattr(parent, name, plain)
    return twin


def reference_distinct(net: nn.Module, x: torch.Tensor) -> int:
    """SWAP's count the direct way: concatenate every ReLU map's signs, weight into int64 codes, unique."""
    maps: list[torch.Tensor] = []

    def hook(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
        if args[0].ndim == 4:
            maps.append((output > 0).flatten(1))

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.ReLU)]
    with torch.no_grad():
        net(x)
    for handle in handles:
        handle.remove()
    codes = torch.cat(maps, dim=1)
    weights = torch.pow(2, torch.arange(codes.shape[0], dtype=torch.int64))
    return int(torch.unique((codes.to(torch.int64) * weights[:, None]).sum(0)).numel())


def measure(key: str, batch: zeronas.Batch, repeats: int) -> dict:
    torch.manual_seed(0)
    model = zeronas.create_space("nb101").build(key, num_classes=10).eval()
    twin = torch_pool_twin(model)
    x = batch.x

    def forward(net: nn.Module):
        with torch.no_grad():
            return net(x)

    forward(twin)  # warm-up
    forward(model)
    base_fwd, base_out = median_seconds(lambda: forward(twin), repeats)
    ours_fwd, ours_out = median_seconds(lambda: forward(model), repeats)
    if not torch.equal(base_out, ours_out):
        raise AssertionError(f"{key}: outputs differ between the pools")
    torch.manual_seed(1)
    gaussian_init(model)
    twin = torch_pool_twin(model)
    few = x[:16]
    reference_distinct(twin, few)  # warm-up
    swap._distinct_patterns(model, few)
    base_swap, base_count = median_seconds(lambda: reference_distinct(twin, few), repeats)
    ours_swap, ours_count = median_seconds(lambda: swap._distinct_patterns(model, few), repeats)
    if base_count != ours_count:
        raise AssertionError(f"{key}: SWAP counts differ ({base_count} vs {ours_count})")
    return {
        "arch": key,
        "params": count_params(model),
        "forward_no_grad_s": {"torch_pool": base_fwd, "zeronas": ours_fwd, "ratio": base_fwd / ours_fwd},
        "swap_repeat_s": {"reference": base_swap, "zeronas": ours_swap, "ratio": base_swap / ours_swap},
        "swap_count": ours_count,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=100, help="seeded sample the small/median/large cells come from")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    torch.set_num_threads(1)
    batch = zeronas.load_batch("cifar10", batch_size=args.batch_size, seed=0)
    rows = {}
    for label, key in sized_cells("nb101", "cifar10", "params", args.cells).items():
        rows[label] = measure(key, batch, args.repeats)
        fwd, sw = rows[label]["forward_no_grad_s"], rows[label]["swap_repeat_s"]
        print(
            f"{label:13s} forward no-grad {fwd['torch_pool']:.3f}s -> {fwd['zeronas']:.3f}s ({fwd['ratio']:.2f}x)   "
            f"SWAP repeat {sw['reference']:.3f}s -> {sw['zeronas']:.3f}s ({sw['ratio']:.2f}x)",
            flush=True,
        )
    report = {"machine": machine(), "measured": datetime.date.today().isoformat(), "batch": batch.source, "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
