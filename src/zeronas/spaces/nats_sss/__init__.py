"""NATS-Bench size search space: 32,768 channel configurations of one cell, on CIFAR-10/100 and ImageNet16-120.

`space` holds the keys (channel counts, official indices) and sampling/variation, `model` the
network exactly as the benchmark trained it, `costs` its exact params/FLOPs in closed form,
`truth` the reader of `benchmarks/natsbench_sss.csv`, `importer` the conversion of the official
archive into that table.
"""

from zeronas.spaces.benchmark import Benchmark, DataImporter
from zeronas.spaces.nats_sss.importer import import_nats_sss
from zeronas.spaces.nats_sss.space import NatsSizeSpace
from zeronas.spaces.nats_sss.truth import NATS_SSS_DATASETS, TABLE, TRUTH_HINT, load_nats_sss, nats_sss_accuracy

SPACE = NatsSizeSpace
#: synflow: the networks differ only in width, which synflow's magnitude follows; it needs no data
#: batch, and unlike 'params' it also weighs where in the network the width sits
BENCHMARK = Benchmark(
    name="nats_sss",
    description="NATS-Bench size space (32,768 channel configurations), trained on CIFAR-10, CIFAR-100 and "
    "ImageNet16-120",
    datasets=tuple(NATS_SSS_DATASETS),
    default_dataset="cifar10",
    default_proxies="synflow",
    default_cost="flops",
    truth=nats_sss_accuracy,
    truth_hint=TRUTH_HINT,
    importers=(
        DataImporter(
            kind="nats_sss",
            suffixes=("sss-v1_0-50262.pickle.pbz2", "sss-v1_0-50262-simple"),
            description="official NATS-Bench size-space archive, file or -simple folder (`pip install nats_bench`)",
            run=import_nats_sss,
        ),
    ),
    data_files=((TABLE, "NATS-Bench SSS ground truth (imported)"),),
)

__all__ = ["BENCHMARK", "NATS_SSS_DATASETS", "SPACE", "load_nats_sss", "nats_sss_accuracy"]
