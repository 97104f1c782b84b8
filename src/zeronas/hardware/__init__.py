"""Cost of an architecture on a device: counted, measured, tabulated or predicted, with units.

Importing this package registers every cost model: counted `params`, `flops`, `macs`,
`peak_memory`; measured `latency`; tabulated `nb201_latency`, `pi5_latency`, `pi5_energy`,
`pixel_latency`, `edge_device`, `torchvision_latency`, `timm_latency`, `hwnasbench` (after
`zeronas hardware import`); predicted `predicted_latency`.
"""

from zeronas.hardware import hwnasbench, measured_latency, predictors, tables  # noqa: F401  (importing registers cost models)
from zeronas.hardware.costs import CostModel, get_cost, list_costs, register_cost
from zeronas.hardware.measured_latency import MeasuredLatency, latency_metric
from zeronas.hardware.memory import peak_activation_bytes, peak_activation_memory
from zeronas.hardware.tables import TableCost
from zeronas.hardware.timing import LatencyStats, measure_latency

__all__ = [
    "CostModel",
    "LatencyStats",
    "MeasuredLatency",
    "TableCost",
    "get_cost",
    "latency_metric",
    "list_costs",
    "measure_latency",
    "peak_activation_bytes",
    "peak_activation_memory",
    "register_cost",
]
