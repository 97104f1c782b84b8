"""Ground-truth tables read from the data directory: architecture key -> trained metrics."""

from zeronas.groundtruth.nasbench201 import NB201_DATASETS, load_nasbench201, nb201_accuracy

__all__ = ["NB201_DATASETS", "load_nasbench201", "nb201_accuracy"]
