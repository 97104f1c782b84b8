"""Input batches for proxies: real images from .npz files or image folders, or a synthetic draw.

Every draw is seeded. A `Batch` carries a second, disjoint draw (`x2`, `y2`) for proxies that
need two mini-batches (ZiCo) and names its source so reports can say what the numbers rest on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from zeronas.config import find_data_dir, read_data_npz
from zeronas.data.datasets import LOSSES, DatasetInfo, get_dataset
from zeronas.errors import DataNotFoundError, InvalidInputError


@dataclass
class Batch:
    """An image batch (normalised float32 NCHW), its targets, the loss they are for, and where it came from.

    `loss` (see `LOSSES`) fixes the targets' form: class indices (B,) for cross_entropy, integer maps
    (B, H, W) for pixel_cross_entropy, float tensors shaped like the model's output for mse and l1.
    """

    x: torch.Tensor
    y: torch.Tensor
    source: str = "tensor"
    x2: torch.Tensor | None = None
    y2: torch.Tensor | None = None
    meta: dict = field(default_factory=dict)
    loss: str = "cross_entropy"

    def __post_init__(self) -> None:
        check_images(self.x, "batch images")
        check_loss(self.loss)
        check_targets(self.y, self.x.shape[0], self.loss)
        if (self.x2 is None) != (self.y2 is None):
            raise InvalidInputError("a second draw needs both images (x2) and labels (y2)")
        if self.x2 is not None:
            check_images(self.x2, "second-draw images")
            if self.x2.shape[1:] != self.x.shape[1:]:
                raise InvalidInputError(
                    f"second-draw images have shape {tuple(self.x2.shape[1:])} per image, "
                    f"the batch {tuple(self.x.shape[1:])}"
                )
            check_targets(self.y2, self.x2.shape[0], self.loss, "second-draw targets")
            if self.y2.shape[1:] != self.y.shape[1:]:
                raise InvalidInputError(
                    f"second-draw targets have shape {tuple(self.y2.shape[1:])} per image, "
                    f"the batch {tuple(self.y.shape[1:])}"
                )

    @property
    def synthetic(self) -> bool:
        return self.source.startswith("synthetic")

    def __len__(self) -> int:
        return int(self.x.shape[0])


def all_finite(t: torch.Tensor) -> bool:
    """Whether every element of `t` is finite; exact, and cheap for the large batches checked once per cell.

    A NaN or an inf anywhere makes the sum NaN or inf, so a finite sum proves every element finite
    without the elementwise mask; only a sum that overflows (or a real NaN/inf) takes the full check.
    """
    return bool(torch.isfinite(t.sum())) or bool(torch.isfinite(t).all())


def check_labels(y: object, rows: int, what: str = "labels") -> None:
    """Raise a one-line error unless `y` is an integer tensor of class indices, one per image."""
    if not isinstance(y, torch.Tensor):
        raise InvalidInputError(f"{what} must be a torch.Tensor, got {type(y).__name__}")
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise InvalidInputError(f"{what} must be integer class indices, got {y.dtype}")
    if y.ndim != 1 or y.shape[0] != rows:
        raise InvalidInputError(f"{what} must have shape ({rows},), got {tuple(y.shape)}")


def check_loss(loss: object) -> None:
    """Raise a one-line error unless `loss` is one of the known task losses."""
    if not isinstance(loss, str) or loss not in LOSSES:
        raise InvalidInputError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")


def check_targets(y: object, rows: int, loss: str, what: str = "targets") -> None:
    """Raise a one-line error unless `y` has the form `loss` needs, one entry per image.

    cross_entropy: integer class indices (rows,); pixel_cross_entropy: non-negative integer maps
    (rows, H, W); mse / l1: finite floating tensors (rows, ...) of at least 2 dimensions.
    """
    if loss == "cross_entropy":
        check_labels(y, rows, "labels" if what == "targets" else what.replace("targets", "labels"))
        return
    if not isinstance(y, torch.Tensor):
        raise InvalidInputError(f"{what} must be a torch.Tensor, got {type(y).__name__}")
    if y.ndim < 1 or y.shape[0] != rows:
        raise InvalidInputError(f"{what} must have {rows} rows (one per image), got shape {tuple(y.shape)}")
    if loss == "pixel_cross_entropy":
        if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
            raise InvalidInputError(f"{what} for pixel_cross_entropy must be integer class maps, got {y.dtype}")
        if y.ndim != 3:
            raise InvalidInputError(f"{what} for pixel_cross_entropy must have shape B x H x W, got {tuple(y.shape)}")
        if y.numel() and int(y.min()) < 0:
            raise InvalidInputError(f"{what} must be class indices >= 0, got {int(y.min())}")
        return
    if not y.is_floating_point():
        raise InvalidInputError(f"{what} for {loss} must be floating point, got {y.dtype}")
    if y.ndim < 2:
        raise InvalidInputError(f"{what} for {loss} must have shape B x ... (one row per image), got {tuple(y.shape)}")
    if not all_finite(y):
        raise InvalidInputError(f"{what} contain NaN or inf")


def check_images(x: object, what: str = "images") -> None:
    """Raise a one-line error unless `x` is a finite float tensor of shape N x C x H x W."""
    if not isinstance(x, torch.Tensor):
        raise InvalidInputError(f"{what} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise InvalidInputError(f"{what} must have shape N x C x H x W, got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise InvalidInputError(f"{what} must be floating point, got {x.dtype}")
    if x.shape[0] < 1:
        raise InvalidInputError(f"{what} is empty")
    if not all_finite(x):
        raise InvalidInputError(f"{what} contain NaN or inf" if what.endswith("s") else f"{what} contains NaN or inf")


def _normalise(images: np.ndarray, info: DatasetInfo, resolution: int) -> torch.Tensor:
    x = torch.from_numpy(np.ascontiguousarray(images)).float().div_(255.0)
    if x.shape[-1] != resolution or x.shape[-2] != resolution:
        x = F.interpolate(x, size=(resolution, resolution), mode="bilinear", align_corners=False)
    mean = torch.tensor(info.mean).view(1, 3, 1, 1)
    std = torch.tensor(info.std).view(1, 3, 1, 1)
    return (x - mean) / std


def _load_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not path.exists():
        raise DataNotFoundError(f"missing batch file {path}")
    arrays = read_data_npz(path)
    missing = [name for name in ("images", "labels") if name not in arrays]
    if missing:
        raise InvalidInputError(f"{path} must hold arrays 'images' and 'labels' (missing {', '.join(missing)})")
    images, labels = arrays["images"], arrays["labels"]
    if images.ndim != 4 or images.shape[1] != 3 or images.dtype != np.uint8:
        raise InvalidInputError(f"{path}: 'images' must be N x 3 x H x W uint8, got {images.shape} {images.dtype}")
    if labels.shape != (images.shape[0],) or labels.dtype.kind not in "iu":
        raise InvalidInputError(
            f"{path}: 'labels' must be {images.shape[0]} integers, got shape {labels.shape} {labels.dtype}"
        )
    return images, labels.astype(np.int64)


#: a batch's input tensors may take at most this fraction of physical memory
MEMORY_FRACTION = 0.5
#: seeds are numpy SeedSequence entropy: 0 .. 2**32 - 1 (the CLI options and sweeps share this bound)
MAX_SEED = 2**32 - 1


def physical_memory() -> int | None:
    """Bytes of physical memory (None where the OS does not say)."""
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None
    return pages * size if pages > 0 and size > 0 else None


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def check_request(batch_size: object, seed: object, resolution: object, channels: int = 3, second: bool = True) -> None:
    """Refuse a seed, batch size or resolution numpy/torch would reject, or a batch too large for memory.

    Checked before anything is allocated: `-r 100000` would otherwise try a multi-terabyte tensor.
    """
    if not _is_int(seed) or not 0 <= seed <= MAX_SEED:
        raise InvalidInputError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    if not _is_int(batch_size) or batch_size < 1:
        raise InvalidInputError(f"batch size (--batch-size) must be an integer >= 1, got {batch_size!r}")
    if not _is_int(resolution) or resolution < 1:
        raise InvalidInputError(f"resolution (--resolution) must be an integer >= 1, got {resolution!r}")
    need = int(batch_size) * channels * int(resolution) ** 2 * 4 * (2 if second else 1)
    memory = physical_memory()
    if memory is not None and need > MEMORY_FRACTION * memory:
        raise InvalidInputError(
            f"--batch-size {batch_size} at --resolution {resolution} needs {_bytes(need)} for the input tensors "
            f"(float32{', two draws' if second else ''}), more than {MEMORY_FRACTION:.0%} of the "
            f"{_bytes(memory)} of memory here; lower --batch-size or --resolution"
        )


def _bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000:
            return f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def _draw(n_available: int, batch_size: int, seed: int, second: bool) -> tuple[np.ndarray, np.ndarray | None]:
    needed = batch_size * (2 if second else 1)
    if n_available < batch_size:
        raise InvalidInputError(f"batch size {batch_size} exceeds the {n_available} images available")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n_available)
    first = np.sort(perm[:batch_size])
    if not second:
        return first, None
    # a second disjoint draw when the pool allows it, else an independent one
    rest = perm[batch_size:needed] if n_available >= needed else rng.permutation(n_available)[:batch_size]
    return first, np.sort(rest)


def batch_from_arrays(
    images: np.ndarray,
    labels: np.ndarray,
    info: DatasetInfo,
    batch_size: int,
    seed: int,
    resolution: int | None = None,
    source: str = "arrays",
    second: bool = True,
) -> Batch:
    """Draw a seeded batch (and a disjoint second one) from uint8 image arrays."""
    resolution = resolution or info.resolution
    check_request(batch_size, seed, resolution, second=second)
    first, other = _draw(len(images), batch_size, seed, second)
    x = _normalise(images[first], info, resolution)
    y = torch.from_numpy(labels[first])
    x2 = y2 = None
    if other is not None:
        x2, y2 = _normalise(images[other], info, resolution), torch.from_numpy(labels[other])
    meta = {"indices": first.tolist(), "indices2": [] if other is None else other.tolist()}
    return Batch(x, y, source=source, x2=x2, y2=y2, meta=meta)


def npz_batch(
    path: str | os.PathLike,
    dataset: str,
    batch_size: int = 64,
    seed: int = 0,
    resolution: int | None = None,
    second: bool = True,
) -> Batch:
    """A seeded batch from an .npz file with `images` (uint8 NCHW) and `labels`."""
    info = get_dataset(dataset)
    check_request(batch_size, seed, resolution or info.resolution, second=second)
    images, labels = _load_npz(Path(path))
    labels = labels - info.label_offset
    keep = (labels >= 0) & (labels < info.num_classes)
    note = ""
    if not keep.all():
        note = f", {int(keep.sum())} of {len(labels)} images with labels in the {info.num_classes} classes"
        images, labels = images[keep], labels[keep]
    return batch_from_arrays(
        images, labels, info, batch_size, seed, resolution, source=f"{Path(path).name}{note}", second=second
    )


def folder_batch(
    root: str | os.PathLike,
    dataset: str,
    batch_size: int = 64,
    seed: int = 0,
    resolution: int | None = None,
    second: bool = True,
) -> Batch:
    """A seeded batch from a torchvision-style folder (one sub-folder of images per class)."""
    from torchvision.datasets import ImageFolder

    info = get_dataset(dataset)
    resolution = resolution or info.resolution
    check_request(batch_size, seed, resolution, second=second)
    if not Path(root).is_dir():
        raise DataNotFoundError(f"image folder {root} does not exist")
    try:
        folder = ImageFolder(str(root))
    except (FileNotFoundError, RuntimeError) as exc:
        raise InvalidInputError(f"cannot read image folder {root}: {exc}") from None
    first, other = _draw(len(folder), batch_size, seed, second)

    def load(indices: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        arrays, targets = [], []
        for i in indices:
            image, target = folder[int(i)]
            image = image.convert("RGB").resize((resolution, resolution))
            arrays.append(np.asarray(image).transpose(2, 0, 1))
            targets.append(target)
        return _normalise(np.stack(arrays), info, resolution), torch.tensor(targets, dtype=torch.int64)

    x, y = load(first)
    x2, y2 = load(other) if other is not None else (None, None)
    return Batch(x, y, source=f"folder {root}", x2=x2, y2=y2, meta={"indices": first.tolist()})


def synthetic_batch(
    num_classes: int,
    resolution: int,
    batch_size: int = 64,
    seed: int = 0,
    channels: int = 3,
    second: bool = True,
) -> Batch:
    """Gaussian N(0, 1) images (already 'normalised') with uniformly drawn labels."""
    check_request(batch_size, seed, resolution, channels, second)
    if not _is_int(num_classes) or num_classes < 1:
        raise InvalidInputError(f"number of classes (--num-classes) must be an integer >= 1, got {num_classes!r}")
    gen = torch.Generator().manual_seed(seed)

    def draw() -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.randn(batch_size, channels, resolution, resolution, generator=gen)
        return x, torch.randint(0, num_classes, (batch_size,), generator=gen)

    x, y = draw()
    x2, y2 = draw() if second else (None, None)
    return Batch(x, y, source="synthetic N(0,1)", x2=x2, y2=y2)


def load_batch(
    dataset: str = "cifar10",
    batch_size: int = 64,
    seed: int = 0,
    resolution: int | None = None,
    source: str = "auto",
    data_dir: str | os.PathLike | None = None,
    num_classes: int | None = None,
    second: bool = True,
) -> Batch:
    """The standard way to get a proxy batch.

    `source`: 'auto' (the data set's real batch file when the data directory has it, else a
    synthetic batch, said in `Batch.source`), 'real' (error when missing), 'synthetic', a path
    to an .npz file, or a path to an image folder. An explicit `data_dir` (or $ZERONAS_DATA_DIR)
    must be a data directory; only an absent default one falls back to a synthetic batch.
    """
    info = get_dataset(dataset) if dataset else None
    if info is not None and info.targets is not None:
        from zeronas.data.tasks import task_batch  # tasks imports this module

        return task_batch(info, batch_size, seed, resolution, source, data_dir, num_classes, second)
    resolution = resolution or (info.resolution if info else 32)
    classes = num_classes or (info.num_classes if info else 10)
    check_request(batch_size, seed, resolution, second=second)
    if source == "synthetic":
        return synthetic_batch(classes, resolution, batch_size, seed, second=second)
    if source not in ("auto", "real"):
        path = Path(source)
        if path.is_dir():
            return folder_batch(path, dataset, batch_size, seed, resolution, second)
        return npz_batch(path, dataset, batch_size, seed, resolution, second)
    root = find_data_dir(data_dir)
    candidate = root / info.batch_file if (root and info and info.batch_file) else None
    if candidate is not None and candidate.exists():
        return npz_batch(candidate, dataset, batch_size, seed, resolution, second)
    if source == "real":
        where = candidate or f"data directory for {dataset}"
        raise DataNotFoundError(f"no real batch for {dataset}: {where} not found")
    batch = synthetic_batch(classes, resolution, batch_size, seed, second=second)
    batch.source = f"synthetic N(0,1) (no real {dataset} batch in the data directory)"
    return batch
