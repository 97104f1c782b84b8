"""Inputs and targets for TransNAS-Bench-101's seven tasks, built from real images.

No Taskonomy images are in the data directory, so every task's inputs are the real ImageNet sample
(`DatasetInfo.batch_file`), resized to the task's side with antialiased bilinear interpolation and
normalised with the task's constants. Targets are real where the task defines them from the image:
autoencoder's target is the input itself (NASLib normalises both with mean = std = 0.5, so they are
equal), jigsaw's input is the image's own 3 x 3 tiles shuffled by a permutation of a fixed set and the
target is that permutation's index. The other targets are seeded stand-ins of the right form:
class_object / class_scene class indices (NASLib trains them on soft labels; a hard label is what its
accuracy reads), room_layout 9 N(0, 1) floats, segmentsemantic 17-class maps of piecewise-constant
regions, normal maps of smooth unit normals in [0, 1] (NASLib's normal target is the image in [0, 1],
not normalised). An .npz with `images` and `targets` replaces both.
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from zeronas.config import find_data_dir, read_data_npz
from zeronas.data.batch import Batch, _draw, check_request
from zeronas.data.datasets import DatasetInfo
from zeronas.errors import DataNotFoundError, InvalidInputError

#: permutations of jigsaw's 9 tiles in the fixed set (NASLib's permutations_hamming_max_1000)
PERMUTATIONS = 1000
#: the first permutation of the greedy maximal-Hamming selection (fixed, so the set is too)
_PERMUTATION_SEED = 0
#: side of the grid a segmentation stand-in's regions are drawn on, and of a normal stand-in's field
_REGION_GRID = 8
_SEGMENT_CLASSES = 17
Targets = Callable[[torch.Tensor, torch.Tensor, DatasetInfo, int, torch.Generator], tuple[torch.Tensor, torch.Tensor]]


@functools.cache
def permutation_set(count: int = PERMUTATIONS) -> np.ndarray:
    """`count` permutations of 9 tiles chosen greedily by maximal mean Hamming distance (count x 9, int64).

    The rule of NASLib's (and Noroozi & Favaro's) `permutations_hamming_max_1000`: start from one
    permutation, then repeatedly add the remaining permutation whose mean Hamming distance to those
    chosen is largest (first index on ties). NASLib's file is not here; its random start differs, so
    the set is built by the same rule, not equal to the file. Built once per process.
    """
    every = np.array(list(itertools.permutations(range(9))), dtype=np.int8)
    # equal[k * 9 + v]: which permutations put tile v at position k (Hamming = 9 - matches)
    equal = np.stack([every[:, k] == v for k in range(9) for v in range(9)]).view(np.uint8)
    matches = np.zeros(len(every), dtype=np.int32)
    chosen = np.empty((count, 9), dtype=np.int64)
    pick = int(np.random.default_rng(_PERMUTATION_SEED).integers(len(every)))
    for i in range(count):
        chosen[i] = every[pick]
        for k in range(9):
            matches += equal[k * 9 + int(every[pick, k])]
        matches[pick] = 1 << 30  # never chosen twice (real counts stay below 9 x count)
        pick = int(matches.argmin())  # fewest matches = largest summed Hamming distance
    return chosen


def to_unit(images: np.ndarray, side: int) -> torch.Tensor:
    """uint8 N x 3 x S x S images as float32 in [0, 1], resized to side x side (bilinear, antialiased)."""
    x = torch.from_numpy(np.ascontiguousarray(images)).float().div_(255.0)
    if x.shape[-2:] != (side, side):
        x = F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False, antialias=True)
    return x.clamp_(0.0, 1.0)


def _normalise(x: torch.Tensor, info: DatasetInfo) -> torch.Tensor:
    mean = torch.tensor(info.mean).view(1, 3, 1, 1)
    std = torch.tensor(info.std).view(1, 3, 1, 1)
    return (x - mean) / std


def shuffle_tiles(x: torch.Tensor, permutations: torch.Tensor) -> torch.Tensor:
    """Images whose tile n (row-major 3 x 3 grid) is tile permutations[b, n] of image b (NASLib's image2tiles)."""
    b, c, h, w = x.shape
    t = h // 3
    tiles = x.reshape(b, c, 3, t, 3, t).permute(0, 2, 4, 1, 3, 5).reshape(b, 9, c, t, t)
    shuffled = tiles[torch.arange(b)[:, None], permutations]
    return shuffled.reshape(b, 3, 3, c, t, t).permute(0, 3, 1, 4, 2, 5).reshape(b, c, h, w)


def _class_targets(x, given, info, classes, gen):
    y = given if given is not None else torch.randint(0, classes, (x.shape[0],), generator=gen)
    return _normalise(x, info), y


def _jigsaw_targets(x, given, info, classes, gen):
    y = given if given is not None else torch.randint(0, classes, (x.shape[0],), generator=gen)
    if int(y.max()) >= PERMUTATIONS:
        raise InvalidInputError(f"jigsaw targets index {PERMUTATIONS} permutations, got {int(y.max())}")
    permutations = torch.from_numpy(permutation_set())[y]
    return _normalise(shuffle_tiles(x, permutations), info), y


def _layout_targets(x, given, info, classes, gen):
    y = given if given is not None else torch.randn(x.shape[0], info.num_classes, generator=gen)
    return _normalise(x, info), y


def _segment_targets(x, given, info, classes, gen):
    if given is None:
        b, _, h, w = x.shape
        grid = torch.randint(0, classes, (b, 1, _REGION_GRID, _REGION_GRID), generator=gen).float()
        given = F.interpolate(grid, size=(h, w), mode="nearest")[:, 0].long()
    return _normalise(x, info), given


def _normal_targets(x, given, info, classes, gen):
    if given is None:
        b, _, h, w = x.shape
        field = torch.randn(b, 3, _REGION_GRID, _REGION_GRID, generator=gen)
        field = F.interpolate(field, size=(h, w), mode="bilinear", align_corners=False)
        given = F.normalize(field, dim=1).add_(1.0).mul_(0.5)
    return _normalise(x, info), given


def _autoencoder_targets(x, given, info, classes, gen):
    inputs = _normalise(x, info)
    return inputs, (given if given is not None else inputs.clone())


#: target builder per `DatasetInfo.targets`: (images in [0, 1], given targets or None, info, classes, generator)
BUILDERS: dict[str, Targets] = {
    "class_object": _class_targets,
    "class_scene": _class_targets,
    "jigsaw": _jigsaw_targets,
    "room_layout": _layout_targets,
    "segmentsemantic": _segment_targets,
    "normal": _normal_targets,
    "autoencoder": _autoencoder_targets,
}
#: what each task's targets are (said in `Batch.source`)
TARGET_NOTES = {
    "class_object": "seeded stand-in class labels",
    "class_scene": "seeded stand-in class labels",
    "jigsaw": "real tiles, seeded permutations",
    "room_layout": "seeded stand-in N(0,1) layout values",
    "segmentsemantic": "seeded stand-in region maps",
    "normal": "seeded stand-in smooth normal maps",
    "autoencoder": "the input images",
}


def target_shape(info: DatasetInfo, side: int) -> tuple[int, ...]:
    """Per-sample shape of a task's targets at input side `side`."""
    if info.loss == "cross_entropy":
        return ()
    if info.loss == "mse":
        return (info.num_classes,)
    if info.loss == "pixel_cross_entropy":
        return (side, side)
    return (info.num_classes, side, side)


@functools.lru_cache(maxsize=4)
def _read(path: str, mtime: float) -> dict[str, np.ndarray]:
    return read_data_npz(path)


def _user_arrays(path: Path, info: DatasetInfo, side: int) -> tuple[np.ndarray, np.ndarray | None]:
    """`images` (uint8 N x 3 x H x W) and optional `targets` (or class `labels`) of a user's .npz."""
    if path.is_dir():
        raise InvalidInputError(f"{info.name} takes an .npz with 'images' (and 'targets'), not a folder: {path}")
    if not path.exists():
        raise DataNotFoundError(f"missing batch file {path}")
    arrays = _read(str(path), path.stat().st_mtime)
    images = arrays.get("images")
    if images is None or images.ndim != 4 or images.shape[1] != 3 or images.dtype != np.uint8:
        got = "none" if images is None else f"{images.shape} {images.dtype}"
        raise InvalidInputError(f"{path}: 'images' must be N x 3 x H x W uint8, got {got}")
    targets = arrays.get("targets", arrays.get("labels") if info.loss == "cross_entropy" else None)
    if targets is None:
        return images, None
    want = (len(images), *target_shape(info, side))
    if targets.shape != want:
        raise InvalidInputError(f"{path}: {info.name} targets must have shape {want}, got {targets.shape}")
    integer = info.loss in ("cross_entropy", "pixel_cross_entropy")
    if integer != (targets.dtype.kind in "iu") or (not integer and targets.dtype.kind != "f"):
        kind = "integers" if integer else "floats"
        raise InvalidInputError(f"{path}: {info.name} targets must be {kind}, got {targets.dtype}")
    if integer and targets.size and (int(targets.min()) < 0 or int(targets.max()) >= info.num_classes):
        raise InvalidInputError(f"{path}: {info.name} targets must lie in 0..{info.num_classes - 1}")
    return images, targets.astype(np.int64 if integer else np.float32)


def _images(
    info: DatasetInfo, source: str, data_dir: str | os.PathLike | None, count: int, seed: int, side: int
) -> tuple[np.ndarray, np.ndarray | None, str]:
    """(uint8 images, given targets or None, source description) for `source`."""
    if source not in ("auto", "real", "synthetic"):
        images, targets = _user_arrays(Path(source), info, side)
        return images, targets, Path(source).name
    if source != "synthetic":
        root = find_data_dir(data_dir)
        path = root / info.batch_file if (root and info.batch_file) else None
        if path is not None and path.exists():
            return _read(str(path), path.stat().st_mtime)["images"], None, f"{path.name} (real ImageNet images)"
        if source == "real":
            raise DataNotFoundError(f"no real images for {info.name}: {path or 'no data directory'} not found")
    noise = np.random.default_rng(seed).integers(0, 256, (count, 3, 32, 32), dtype=np.uint8)
    return noise, None, "synthetic uniform noise images"


def task_batch(
    info: DatasetInfo,
    batch_size: int = 64,
    seed: int = 0,
    resolution: int | None = None,
    source: str = "auto",
    data_dir: str | os.PathLike | None = None,
    num_classes: int | None = None,
    second: bool = True,
) -> Batch:
    """A seeded batch of task `info` (inputs, targets of its loss, and a disjoint second draw)."""
    side = resolution or info.resolution
    check_request(batch_size, seed, side, second=second)
    if info.targets not in BUILDERS:
        raise InvalidInputError(f"data set {info.name} has no task targets")
    if info.targets == "jigsaw" and side % 3:
        raise InvalidInputError(f"jigsaw cuts its image into 3 x 3 tiles: the resolution must divide by 3, got {side}")
    classes = num_classes or info.num_classes
    images, given, where = _images(info, source, data_dir, batch_size * (2 if second else 1), seed, side)
    first, other = _draw(len(images), batch_size, seed, second)
    gen = torch.Generator().manual_seed(seed)
    build = BUILDERS[info.targets]

    def draw(indices: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        targets = None if given is None else torch.from_numpy(given[indices])
        return build(to_unit(images[indices], side), targets, info, classes, gen)

    x, y = draw(first)
    x2, y2 = draw(other) if other is not None else (None, None)
    note = "given targets" if given is not None else TARGET_NOTES[info.targets]
    meta = {"indices": first.tolist(), "indices2": [] if other is None else other.tolist()}
    return Batch(x, y, f"{where}; {note}", x2, y2, meta, loss=info.loss)
