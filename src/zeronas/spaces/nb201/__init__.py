"""NAS-Bench-201 (NATS-Bench topology space): 15,625 cells, ground truth on CIFAR-10/100 and ImageNet16-120.

`space` holds the keys (arch strings, op-index digits, official indices) and sampling/variation,
`model` the network exactly as the benchmark trained it, `supernet` the weight-sharing supernet of
TE-NAS pruning, `truth` the reader of `benchmarks/nasbench201.csv`.
"""

from zeronas.spaces.benchmark import Benchmark, DataImporter
from zeronas.spaces.nb201.importer import import_nasbench201
from zeronas.spaces.nb201.space import NasBench201Space
from zeronas.spaces.nb201.truth import NB201_DATASETS, TRUTH_HINT, load_nasbench201, nb201_accuracy

SPACE = NasBench201Space
#: the mean z-score of nwot and synflow found better cells than either alone (CIFAR-10 evolution,
#: 200 evaluations, 3 seeds: 93.91% vs synflow 93.76%, nwot 92.64%)
BENCHMARK = Benchmark(
    name="nb201",
    description="NAS-Bench-201 cells (15,625), trained on CIFAR-10, CIFAR-100 and ImageNet16-120",
    datasets=tuple(NB201_DATASETS),
    default_dataset="cifar10",
    default_proxies="nwot,synflow",
    default_cost="nb201_latency",
    truth=nb201_accuracy,
    truth_hint=TRUTH_HINT,
    importers=(
        DataImporter(
            "nb201",
            (".pth",),
            "official NAS-Bench-201 .pth (needs `pip install nas-bench-201`)",
            lambda path, out_dir, dataset: [import_nasbench201(path, out_dir)],
        ),
    ),
    reference_name="nasbench201",
)

__all__ = ["BENCHMARK", "NB201_DATASETS", "SPACE", "load_nasbench201", "nb201_accuracy"]
