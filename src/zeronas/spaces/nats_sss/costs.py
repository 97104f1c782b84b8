"""Exact params/FLOPs/MACs of NATS-Bench size-space networks in closed form, without building them.

The network is a fixed sequence of convolutions, batch norms, ReLUs and pools whose only variables
are the five widths, so each count is a sum over those layers. Four counts are kept:
  - 'params': parameter entries (`zeronas.modelstats.count_params`);
  - 'flops': the tensorwatch convention of `zeronas.modelstats.count_flops` (conv and linear
    multiply-adds, one op per ReLU element, two per BN element, k*k per pooled output,
    (h+1)(w+1) per channel for global pooling);
  - 'macs': conv and linear multiply-accumulates (`zeronas.modelstats.count_macs`);
  - 'nats_flops': NATS-Bench's own convention (AutoDL `get_model_infos`): conv and linear
    multiply-adds plus the linear bias, nothing else; the 'flops' the benchmark files report.
"""

from __future__ import annotations

from collections import Counter

from zeronas.errors import InvalidInputError

COUNTED = ("params", "flops", "macs", "nats_flops")


class _Tally:
    """Running totals of the four counts at batch 1."""

    def __init__(self) -> None:
        self.total: Counter[str] = Counter()

    def conv(self, c_in: int, c_out: int, kernel: int, size: int) -> None:
        weights = kernel * kernel * c_in * c_out
        self.total["params"] += weights
        for what in ("flops", "macs", "nats_flops"):
            self.total[what] += weights * size * size

    def bn(self, channels: int, size: int) -> None:
        self.total["params"] += 2 * channels
        self.total["flops"] += 2 * channels * size * size

    def relu(self, channels: int, size: int) -> None:
        self.total["flops"] += channels * size * size

    def relu_conv_bn(self, c_in: int, c_out: int, kernel: int, size_in: int, size_out: int) -> None:
        self.relu(c_in, size_in)
        self.conv(c_in, c_out, kernel, size_out)
        self.bn(c_out, size_out)

    def cell(self, c_in: int, c_out: int, size: int) -> None:
        """The fixed cell: two 3x3 convs leave the input, three join inner nodes, one skip edge."""
        for _ in range(2):
            self.relu_conv_bn(c_in, c_out, 3, size, size)
        if c_in != c_out:
            self.conv(c_in, c_out, 1, size)
            self.bn(c_out, size)
        for _ in range(3):
            self.relu_conv_bn(c_out, c_out, 3, size, size)

    def reduction(self, c_in: int, c_out: int, size_in: int) -> int:
        """ResNet reduction block; returns the output size."""
        size = size_in // 2
        self.relu_conv_bn(c_in, c_out, 3, size_in, size)
        self.relu_conv_bn(c_out, c_out, 3, size, size)
        self.total["flops"] += c_in * size * size * 4
        self.conv(c_in, c_out, 1, size)
        return size

    def head(self, channels: int, size: int, num_classes: int) -> None:
        self.bn(channels, size)
        self.relu(channels, size)
        self.total["flops"] += (size + 1) * (size + 1) * channels
        self.total["params"] += channels * num_classes + num_classes
        self.total["flops"] += channels * num_classes
        self.total["macs"] += channels * num_classes
        self.total["nats_flops"] += channels * num_classes + num_classes


def count(channels: tuple[int, int, int, int, int], num_classes: int, resolution: int) -> dict[str, int]:
    """The four counts (see module doc) of the network of `channels` at batch 1 and `resolution`."""
    if resolution < 4 or resolution % 4:
        raise InvalidInputError(f"a NATS-Bench size-space network needs a resolution divisible by 4, got {resolution}")
    c0, c1, c2, c3, c4 = channels
    tally = _Tally()
    tally.conv(3, c0, 3, resolution)
    tally.bn(c0, resolution)
    tally.cell(c0, c0, resolution)
    size = tally.reduction(c0, c1, resolution)
    tally.cell(c1, c2, size)
    size = tally.reduction(c2, c3, size)
    tally.cell(c3, c4, size)
    tally.head(c4, size, num_classes)
    return {what: int(tally.total[what]) for what in COUNTED}
