"""NAS-Bench-101: 423,624 cells (at most 7 vertices, 9 edges), ground truth on CIFAR-10.

`hashing` holds spec validation, pruning and the official graph hash, `space` the keys and
sampling/variation, `model` the network exactly as the benchmark trained it, `truth` the reader of
`benchmarks/nasbench101.csv.gz`.
"""

from zeronas.spaces.benchmark import Benchmark
from zeronas.spaces.nb101.space import NasBench101Space
from zeronas.spaces.nb101.truth import TRUTH_HINT, load_nasbench101, nb101_accuracy, nb101_params

SPACE = NasBench101Space
BENCHMARK = Benchmark(
    name="nb101",
    description="NAS-Bench-101 cells (423,624), trained on CIFAR-10 (108 epochs, mean of 3 runs)",
    datasets=("cifar10",),
    default_dataset="cifar10",
    default_proxies="synflow",
    default_cost="flops",
    truth=nb101_accuracy,
    metrics=("test",),
    truth_hint=TRUTH_HINT,
    data_files=(("benchmarks/nasbench101.csv.gz", "NAS-Bench-101 ground truth (423,624 cells)"),),
    reference_name="nasbench101",
    top_sample=1000,  # the top 5% alone is 21,181 cells: a uniform draw of 1,000 of them
)

__all__ = ["BENCHMARK", "SPACE", "load_nasbench101", "nb101_accuracy", "nb101_params"]
