"""Counted model statistics: parameters, FLOPs and MACs.

`count_flops` follows the tensorwatch/torchstat convention that NAS-Bench-Suite-Zero used for its
'flops' numbers (leaf-module hooks at batch 1, eval mode): convolution and linear multiply-adds
(+1 per output for a conv bias), plus one op per element for ReLU, two per element for affine BN,
k*k per pooled output, and tensorwatch's (h+1)(w+1) per channel for adaptive average pooling.
Functional ops (F.relu, attention matmuls) are invisible to it. `count_macs` instead counts
multiply-accumulates of every aten matmul/conv through `torch.utils.flop_counter`, functional
ones included, so it is the right cost for ViTs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch
from torch import nn

_RELUS = (nn.ReLU, nn.ReLU6, nn.PReLU, nn.ELU, nn.LeakyReLU)


def count_params(model: nn.Module) -> int:
    """Number of parameter entries (weights, biases, norm affine), shared tensors counted once."""
    return sum(p.numel() for p in model.parameters())


def _first_tensor(value: object) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, list | tuple):
        for item in value:
            found = _first_tensor(item)
            if found is not None:
                return found
    return None


def _leaf_flops(module: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> int:
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        per_position = kh * kw * inp.shape[1] * (out.shape[1] // module.groups)
        positions = out.shape[0] * out.shape[2] * out.shape[3]
        bias = out.shape[1] * positions if module.bias is not None else 0
        return per_position * positions + bias
    if isinstance(module, nn.BatchNorm2d):
        return inp.numel() * (2 if module.affine else 1)
    if isinstance(module, nn.AvgPool2d | nn.MaxPool2d):
        k = module.kernel_size if isinstance(module.kernel_size, tuple) else (module.kernel_size,) * 2
        return inp.shape[0] * inp.shape[1] * out.shape[2] * out.shape[3] * k[0] * k[1]
    if isinstance(module, nn.AdaptiveAvgPool2d | nn.AdaptiveMaxPool2d):
        return _adaptive_pool_flops(inp, out)
    if isinstance(module, _RELUS):
        return inp.numel()
    if isinstance(module, nn.Linear):
        return inp.numel() // inp.shape[-1] * inp.shape[-1] * out.shape[-1]
    return 0


def _adaptive_pool_flops(inp: torch.Tensor, out: torch.Tensor) -> int:
    """tensorwatch's count: every output cell reads its window plus one row and column."""
    batch, planes, in_h, in_w = inp.shape
    out_h, out_w = out.shape[2], out.shape[3]
    total = 0
    for i in range(out_h):
        y0, y1 = (i * in_h) // out_h, -((-(i + 1) * in_h) // out_h)
        for j in range(out_w):
            x0, x1 = (j * in_w) // out_w, -((-(j + 1) * in_w) // out_w)
            total += batch * planes * (y1 - y0 + 1) * (x1 - x0 + 1)
    return total


def _dummy_input(model: nn.Module, input_shape: Sequence[int]) -> torch.Tensor:
    param = next(model.parameters(), None)
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    device = param.device if param is not None else torch.device("cpu")
    return torch.rand(*input_shape, generator=torch.Generator().manual_seed(0), dtype=dtype).to(device)


@contextlib.contextmanager
def _inference_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Eval mode and no_grad on `model` itself (no copy, no state change); modes restored after."""
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        for module, mode in modes.items():
            module.training = mode


def count_flops(model: nn.Module, input_shape: Sequence[int]) -> int:
    """FLOPs of one forward at `input_shape` (use batch 1), tensorwatch convention (see module doc)."""
    total = 0

    def hook(module: nn.Module, args: tuple, output: object) -> None:
        nonlocal total
        inp, out = _first_tensor(args), _first_tensor(output)
        if inp is not None and out is not None:
            total += int(_leaf_flops(module, inp, out))

    handles = [m.register_forward_hook(hook) for m in model.modules() if not any(True for _ in m.children())]
    try:
        with _inference_mode(model) as net:
            net(_dummy_input(net, input_shape))
    finally:
        for h in handles:
            h.remove()
    return total


def count_macs(model: nn.Module, input_shape: Sequence[int]) -> int:
    """Multiply-accumulates of one forward at `input_shape`, from aten-level op counting."""
    from torch.utils.flop_counter import FlopCounterMode  # here: importing it loads triton (~80 MiB per worker)

    counter = FlopCounterMode(display=False)
    with _inference_mode(model) as net, counter:
        net(_dummy_input(net, input_shape))
    return counter.get_total_flops() // 2


#: the counted costs `count` answers
COUNTED = ("params", "flops", "macs")


def count(model: nn.Module, what: str, input_shape: Sequence[int]) -> int:
    """One counted cost of `model`: 'params', or 'flops' / 'macs' of one forward at `input_shape` (batch 1)."""
    if what == "params":
        return count_params(model)
    if what == "flops":
        return count_flops(model, input_shape)
    if what == "macs":
        return count_macs(model, input_shape)
    raise ValueError(f"what must be one of {', '.join(COUNTED)}, got {what!r}")
