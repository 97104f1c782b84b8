"""Metadata of the image data sets zeronas knows: classes, resolution, normalisation, batch files."""

from __future__ import annotations

from dataclasses import dataclass

from zeronas.registry import Registry

#: the task losses a data set may declare: class indices, per-pixel class maps, float targets (squared / absolute)
LOSSES = ("cross_entropy", "pixel_cross_entropy", "mse", "l1")


@dataclass(frozen=True)
class DatasetInfo:
    """What a proxy batch for this data set looks like."""

    name: str
    num_classes: int
    resolution: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    #: npz file (relative to the data directory) holding real images of this data set
    batch_file: str | None = None
    #: first valid label of the file's labels (ImageNet16 files are 1-based)
    label_offset: int = 0
    #: the training loss of the task, one of LOSSES (the proxy engine takes every loss-based value with it)
    loss: str = "cross_entropy"
    #: how `zeronas.data.tasks` makes inputs and targets (None: images and labels from `batch_file`)
    targets: str | None = None


_DATASETS: Registry[DatasetInfo] = Registry("dataset")
_ALIASES = {
    "imagenet16-120": "ImageNet16-120",
    "imagenet16_120": "ImageNet16-120",
    "in16": "ImageNet16-120",
    "imagenet16": "ImageNet16-120",
    "c10": "cifar10",
    "c100": "cifar100",
}


def register_dataset(info: DatasetInfo) -> DatasetInfo:
    """Make a data set known by name."""
    return _DATASETS.add(info.name, info)


def get_dataset(name: str) -> DatasetInfo:
    """Metadata of a data set by name (case-insensitive aliases like 'in16' accepted)."""
    return _DATASETS.get(_ALIASES.get(name.lower(), name.lower() if name.lower() in _DATASETS else name))


def list_datasets() -> list[str]:
    return _DATASETS.names()


# AutoDL's normalisation constants (NAS-Bench-201 training pipeline).
register_dataset(
    DatasetInfo(
        "cifar10",
        10,
        32,
        (125.3 / 255, 123.0 / 255, 113.9 / 255),
        (63.0 / 255, 62.1 / 255, 66.7 / 255),
        batch_file="data/cifar10_test_head.npz",
    )
)
register_dataset(
    DatasetInfo(
        "cifar100",
        100,
        32,
        (129.3 / 255, 124.1 / 255, 112.4 / 255),
        (68.2 / 255, 65.4 / 255, 70.4 / 255),
        batch_file="data/cifar100_sample_960.npz",
    )
)
register_dataset(
    DatasetInfo(
        "ImageNet16-120",
        120,
        16,
        (122.68 / 255, 116.66 / 255, 104.01 / 255),
        (63.22 / 255, 61.26 / 255, 65.09 / 255),
        batch_file="data/imagenet16_sample_960.npz",
        label_offset=1,
    )
)
# ImageNet-1k, one real image per class: every 4th class at 224 px (250), all 1,000 at 64 px; imagenet64 is
# the 64 px batch (scoring at 64 px without resampling the 224 px images), labels 0..999 in sorted-wnid order.
register_dataset(
    DatasetInfo(
        "imagenet",
        1000,
        224,
        (0.485, 0.456, 0.406),
        (0.229, 0.224, 0.225),
        batch_file="data/imagenet_sample_250_224.npz",
    )
)
register_dataset(
    DatasetInfo(
        "imagenet64",
        1000,
        64,
        (0.485, 0.456, 0.406),
        (0.229, 0.224, 0.225),
        batch_file="data/imagenet_sample_1000_64.npz",
    )
)


# TransNAS-Bench-101's seven tasks, with NASLib's numbers (256 px inputs; jigsaw: a 192 px image cut into 3 x 3
# tiles of 64 px, unnormalised, 1,000 permutation classes). No Taskonomy images are in the data directory:
# `zeronas.data.tasks` builds the inputs from the real ImageNet sample and the targets (real where they can be,
# seeded stand-ins otherwise; see docs/proxies.md "Task losses"). A user's .npz with images and targets replaces them.
_TASKONOMY = ((0.5224, 0.5222, 0.5221), (0.2234, 0.2235, 0.2236))
_HALF = ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
_TASK_IMAGES = "data/imagenet_sample_250_224.npz"
for _name, _outputs, _side, _norm, _loss in (
    ("class_object", 100, 256, _TASKONOMY, "cross_entropy"),
    ("class_scene", 63, 256, _TASKONOMY, "cross_entropy"),
    ("jigsaw", 1000, 192, ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)), "cross_entropy"),
    ("room_layout", 9, 256, _TASKONOMY, "mse"),
    ("segmentsemantic", 17, 256, _HALF, "pixel_cross_entropy"),
    ("normal", 3, 256, _HALF, "l1"),
    ("autoencoder", 3, 256, _HALF, "l1"),
):
    register_dataset(DatasetInfo(_name, _outputs, _side, *_norm, batch_file=_TASK_IMAGES, loss=_loss, targets=_name))
