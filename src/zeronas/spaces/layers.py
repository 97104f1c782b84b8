"""Layers shared by the search spaces' networks."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MaxPool2d(nn.MaxPool2d):
    """`nn.MaxPool2d` computed in the channels-last layout, returned in the caller's (NCHW) layout.

    Only when no gradient flows through it: PyTorch's CPU max-pool forward is 2-4x slower on NCHW
    maps than on channels-last ones, even counting both layout copies (on NAS-Bench-101 cells it was a
    third of a no-grad forward), but its channels-last backward is 3x slower than the NCHW one, so a
    pool inside an autograd graph keeps the NCHW kernel. The result is the same: a maximum is exact in
    any order, and both kernels pick the first maximum of a window in row-major order (NaN counting as
    the maximum). Only the pool runs channels-last: BatchNorm in that layout rounds differently on CPU.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or self.return_indices or (x.requires_grad and torch.is_grad_enabled()):
            return super().forward(x)
        pooled = F.max_pool2d(
            x.contiguous(memory_format=torch.channels_last),
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
        )
        return pooled.contiguous()
