"""TransNAS-Bench-101: a micro (4,096 cells) and a macro (3,256 skeletons) space on 7 Taskonomy tasks.

`keys` holds the key forms, `ops`/`encoder` the encoder exactly as the benchmark trained it, `heads`
the seven tasks (`TASKS`) and their decoders, `space` the two spaces, `costs` exact params/FLOPs/MACs
from counted parts, `truth` the readers of `benchmarks/transnas101_{micro,macro}.csv`. One folder,
two benchmarks: it exports `SPACES` and `BENCHMARKS` (micro, macro).
"""

from zeronas.spaces.benchmark import Benchmark
from zeronas.spaces.tnb.heads import TASK_NAMES, TASKS, TaskInfo, get_task
from zeronas.spaces.tnb.space import DEFAULT_TASK, TransNASMacroSpace, TransNASMicroSpace
from zeronas.spaces.tnb.truth import MACRO_HINT, MICRO_HINT, load_transnas, tnb_macro_truth, tnb_micro_truth

SPACES = (TransNASMicroSpace, TransNASMacroSpace)
MICRO_BENCHMARK = Benchmark(
    name="tnb_micro",
    description="TransNAS-Bench-101 micro cells (4,096) in the 64-41414 skeleton, 7 Taskonomy tasks",
    datasets=TASK_NAMES,
    default_dataset=DEFAULT_TASK,
    default_cost="flops",
    truth=tnb_micro_truth,
    metrics=("val",),
    truth_label="task metric",
    truth_hint=MICRO_HINT,
    data_files=(("benchmarks/transnas101_micro.csv", "TransNAS-Bench-101 micro ground truth (4,096 cells, 7 tasks)"),),
    reference_name="transnas101_micro",
)
MACRO_BENCHMARK = Benchmark(
    name="tnb_macro",
    description="TransNAS-Bench-101 macro skeletons (3,256) of ResNet basic blocks, 7 Taskonomy tasks",
    datasets=TASK_NAMES,
    default_dataset=DEFAULT_TASK,
    default_cost="flops",
    truth=tnb_macro_truth,
    metrics=("val",),
    truth_label="task metric",
    truth_hint=MACRO_HINT,
    data_files=(
        ("benchmarks/transnas101_macro.csv", "TransNAS-Bench-101 macro ground truth (3,256 skeletons, 7 tasks)"),
    ),
    reference_name="transnas101_macro",
)
BENCHMARKS = (MICRO_BENCHMARK, MACRO_BENCHMARK)

__all__ = [
    "BENCHMARKS",
    "SPACES",
    "TASKS",
    "TASK_NAMES",
    "TaskInfo",
    "TransNASMacroSpace",
    "TransNASMicroSpace",
    "get_task",
    "load_transnas",
    "tnb_macro_truth",
    "tnb_micro_truth",
]
