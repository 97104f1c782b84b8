"""Input batches (npz files, image folders, synthetic), data-set metadata and data-directory checks."""

from zeronas.data.batch import Batch, batch_from_arrays, folder_batch, load_batch, npz_batch, synthetic_batch
from zeronas.data.datasets import DatasetInfo, get_dataset, list_datasets, register_dataset

__all__ = [
    "Batch",
    "DatasetInfo",
    "batch_from_arrays",
    "folder_batch",
    "get_dataset",
    "list_datasets",
    "load_batch",
    "npz_batch",
    "register_dataset",
    "synthetic_batch",
]
