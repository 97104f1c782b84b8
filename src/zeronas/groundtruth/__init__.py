"""Ground truth and reference values read from the data directory: architecture key -> trained metrics.

Each benchmark's own table reader lives in its folder under `zeronas.spaces`; this package asks
the benchmark registry for it (`ground_truth`) and holds the readers of published reference proxy
values and the importers of official files.
"""

from zeronas.groundtruth.truth import ground_truth, spaces_with_ground_truth

__all__ = ["ground_truth", "spaces_with_ground_truth"]
