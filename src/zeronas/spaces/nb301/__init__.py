"""NAS-Bench-301: the DARTS cell space as NAS-Bench-301 trained it on CIFAR-10, without a shipped table.

`keys` holds the compact and genotype key forms, `ops` and `model` the network exactly as the
benchmark trained it (DARTS's NetworkCIFAR, 32 channels, 8 cells), `space` sampling and
variation, `costs` the exact additive params/FLOPs/MACs. NAS-Bench-301's accuracies come from a
surrogate model, not a table, so there is no ground-truth reader: a NAS-Bench-Suite-Zero-style JSON
imported with `zeronas data import` supplies it.
"""

from zeronas.spaces.benchmark import Benchmark
from zeronas.spaces.nb301.space import NasBench301Space

SPACE = NasBench301Space
TRUTH_HINT = (
    "import a NAS-Bench-Suite-Zero-style JSON (keys + val_accuracy) with `zeronas data import FILE --space nb301`"
)
#: nwot and synflow: label-free, one batch each, and the mean z-score that found better cells than
#: either alone on nb201; no NB301 table ships here to tune a choice on
BENCHMARK = Benchmark(
    name="nb301",
    description="NAS-Bench-301 / DARTS cells (~1e18), CIFAR-10 (ground truth: an imported table)",
    datasets=("cifar10",),
    default_dataset="cifar10",
    default_proxies="nwot,synflow",
    default_cost="flops",
    truth=None,
    metrics=("val",),
    truth_label="validation accuracy %",
    truth_hint=TRUTH_HINT,
    reference_name="nasbench301",
)

__all__ = ["BENCHMARK", "SPACE", "TRUTH_HINT"]
