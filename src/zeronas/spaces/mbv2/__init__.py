"""MobileNetV2 / ProxylessNAS-style space (per-block expansion, kernel, width multiplier); no ground truth.

Zen-NAS searches it with Zen-score under a FLOPs budget, so that is its default proxy.
"""

from zeronas.spaces.benchmark import Benchmark
from zeronas.spaces.mbv2.space import MobileNetV2Space

SPACE = MobileNetV2Space
BENCHMARK = Benchmark(
    name="mbv2",
    description="MobileNetV2 blocks (expansion, kernel, width) at a chosen resolution; no trained ground truth",
    default_dataset="imagenet",
    default_proxies="zen",
)

__all__ = ["BENCHMARK", "SPACE"]
