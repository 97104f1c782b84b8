"""Exact params/FLOPs/MACs of TransNAS-Bench-101 networks from counted parts, without building each one.

`count_params`, `count_flops` and `count_macs` sum over leaf-module calls, so a network's count is
the sum of its parts' counts on their own input shapes: the stem, every cell edge op (micro) or basic
block (macro), and the decoder. The parts are few and cached, so a search costs keys in microseconds.
The counters read only shapes, so the parts are built on the meta device (no weights to initialise).
Jigsaw's encoder runs once per tile: its FLOPs and MACs count 9 times, its parameters once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import nn

from zeronas.modelstats import COUNTED, count
from zeronas.spaces.tnb.encoder import BLOCKS_PER_STAGE, TransNASEncoder, decoder_upsamples, stage_plan
from zeronas.spaces.tnb.heads import get_task, make_decoder
from zeronas.spaces.tnb.keys import BASE_CHANNELS
from zeronas.spaces.tnb.ops import BasicBlock, cell_op


def _count(make: Callable[[], nn.Module], what: str, shape: tuple[int, ...]) -> int:
    """`what` of the module `make()` builds, built on the meta device, at a batch-1 input of `shape`."""
    with torch.device("meta"):
        module = make()
    return count(module, what, shape)


def _down(side: int, stride: int) -> int:
    """Output side of a stride-`stride` conv or zero op with 'same' padding."""
    return -(-side // stride)


@functools.lru_cache(maxsize=64)
def _stem(what: str, side: int) -> int:
    return _count(lambda: TransNASEncoder("1").stem, what, (1, 3, side, side))


@functools.lru_cache(maxsize=4096)
def _edge(what: str, digit: int, c_in: int, c_out: int, stride: int, side: int) -> int:
    return _count(lambda: cell_op(digit, c_in, c_out, stride), what, (1, c_in, side, side))


@functools.lru_cache(maxsize=4096)
def _block(what: str, c_in: int, c_out: int, stride: int, side: int) -> int:
    return _count(lambda: BasicBlock(c_in, c_out, stride), what, (1, c_in, side, side))


@functools.lru_cache(maxsize=1024)
def _decoder(what: str, task: str, channels: int, upsamples: int, outputs: int, side: int) -> int:
    info = get_task(task)
    width = channels * max(info.tiles, 1)
    return _count(lambda: make_decoder(info, channels, upsamples, outputs), what, (1, width, side, side))


def _cell(what: str, ops: tuple[int, ...], c_in: int, c_out: int, stride: int, side: int) -> int:
    """One micro cell: the edges out of node 0 carry the shape change, the others run on the output shape."""
    total, position, out_side = 0, 0, _down(side, stride)
    for sources in ((0,), (0, 1), (0, 1, 2)):
        for source in sources:
            if source == 0:
                total += _edge(what, ops[position], c_in, c_out, stride, side)
            else:
                total += _edge(what, ops[position], c_out, c_out, 1, out_side)
            position += 1
    return total


def network_cost(what: str, macro: str, cell: tuple[int, ...] | None, task: str, outputs: int, resolution: int) -> int:
    """Raw count of the network `space.build` makes, as counted on its batch-1 input at `resolution`."""
    if what not in COUNTED:
        raise ValueError(f"what must be one of {', '.join(COUNTED)}, got {what!r}")
    info = get_task(task)
    side = resolution // 3 if info.tiles else resolution
    encoder = _stem(what, side)
    side = _down(_down(side, 2), 2)
    for c_in, c_out, stride in stage_plan(macro, BASE_CHANNELS):
        for b in range(BLOCKS_PER_STAGE):
            args = (c_in, c_out, stride, side) if b == 0 else (c_out, c_out, 1, side)
            encoder += _block(what, *args) if cell is None else _cell(what, cell, *args)
            side = _down(side, args[2])
    channels = stage_plan(macro, BASE_CHANNELS)[-1][1]
    repeats = max(info.tiles, 1) if what != "params" else 1
    return repeats * encoder + _decoder(what, info.name, channels, decoder_upsamples(macro), outputs, side)
