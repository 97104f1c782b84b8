"""Input batches: npz files, image folders, synthetic fallback, seeding and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from zeronas.data import folder_batch, get_dataset, load_batch, npz_batch
from zeronas.errors import DataNotFoundError, InvalidInputError, UnknownNameError


def test_real_cifar10_batch_is_normalised_and_seeded(shared_dir):
    a = load_batch("cifar10", 64, seed=0)
    b = load_batch("cifar10", 64, seed=0)
    c = load_batch("cifar10", 64, seed=1)
    assert a.source == "cifar10_test_head.npz" and not a.synthetic
    assert a.x.shape == (64, 3, 32, 32) and a.x.dtype == torch.float32
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert not torch.equal(a.x, c.x)
    assert abs(float(a.x.mean())) < 0.3 and 0.7 < float(a.x.std()) < 1.3
    assert a.x2 is not None and set(a.meta["indices"]).isdisjoint(a.meta["indices2"])  # disjoint second draw
    assert a.y.max() < 10


def test_imagenet16_labels_restricted_to_120_classes(shared_dir):
    batch = load_batch("ImageNet16-120", 64, seed=0)
    assert batch.x.shape == (64, 3, 16, 16)
    assert int(batch.y.min()) >= 0 and int(batch.y.max()) < 120
    assert "106 of 960 images" in batch.source


def test_resolution_override(shared_dir):
    assert load_batch("cifar100", 8, resolution=64).x.shape == (8, 3, 64, 64)


def test_synthetic_fallback_says_so(tmp_path):
    imported = tmp_path / "imported"  # what `zeronas data import` writes: a table, no batch files
    (imported / "benchmarks").mkdir(parents=True)
    (imported / "benchmarks" / "nasbench201.csv").write_text("nb201_index,arch_str\n")
    batch = load_batch("cifar10", 16, seed=0, data_dir=imported)
    assert batch.synthetic and "no real cifar10 batch" in batch.source
    with pytest.raises(DataNotFoundError, match="no real batch for cifar10"):
        load_batch("cifar10", 16, data_dir=imported, source="real")


def test_only_an_absent_default_data_dir_falls_back(tmp_path, monkeypatch):
    import zeronas.config as config

    monkeypatch.delenv(config.ENV_DATA_DIR, raising=False)
    monkeypatch.setattr(config, "_REPO_ROOT", tmp_path / "repo" / "checkout")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")  # no ../shared beside the working directory either
    assert config.find_data_dir() is None
    assert load_batch("cifar10", 4, seed=0).synthetic
    with pytest.raises(DataNotFoundError, match="holds none of the files zeronas reads"):
        load_batch("cifar10", 4, data_dir=tmp_path / "work")
    monkeypatch.setenv(config.ENV_DATA_DIR, str(tmp_path / "nowhere"))
    with pytest.raises(DataNotFoundError, match=r"\$ZERONAS_DATA_DIR .*nowhere does not exist"):
        load_batch("cifar10", 4, seed=0)


def test_npz_errors(tmp_path):
    with pytest.raises(DataNotFoundError, match="missing batch file"):
        npz_batch(tmp_path / "nope.npz", "cifar10")
    bad = tmp_path / "bad.npz"
    np.savez(bad, pictures=np.zeros((4, 3, 32, 32), np.uint8))
    with pytest.raises(InvalidInputError, match="'images' and 'labels'"):
        npz_batch(bad, "cifar10")
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, images=np.zeros((4, 32, 32), np.uint8), labels=np.zeros(4, np.int64))
    with pytest.raises(InvalidInputError, match="N x 3 x H x W"):
        npz_batch(wrong, "cifar10")
    small = tmp_path / "small.npz"
    np.savez(small, images=np.zeros((4, 3, 32, 32), np.uint8), labels=np.zeros(4, np.int64))
    with pytest.raises(InvalidInputError, match="exceeds the 4 images"):
        npz_batch(small, "cifar10", batch_size=8)
    with pytest.raises(UnknownNameError, match="unknown dataset"):
        get_dataset("mnist-3d")


def test_image_folder_batch(tmp_path):
    rng = np.random.default_rng(0)
    for label in ("cat", "dog"):
        (tmp_path / label).mkdir()
        for i in range(5):
            Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(tmp_path / label / f"{i}.png")
    batch = folder_batch(tmp_path, "cifar10", batch_size=4, seed=0)
    assert batch.x.shape == (4, 3, 32, 32)
    assert set(batch.y.tolist()) <= {0, 1}
    assert batch.x2 is not None and batch.x2.shape == (4, 3, 32, 32)
    with pytest.raises(DataNotFoundError):
        folder_batch(tmp_path / "missing", "cifar10")


def test_all_finite_is_exact_when_the_sum_overflows_or_a_value_is_not_finite() -> None:
    from zeronas.data.batch import all_finite, check_images

    big = torch.full((4, 3, 8, 8), 3.0e38)  # finite values whose float32 sum overflows to inf
    assert not torch.isfinite(big.sum()) and all_finite(big)
    check_images(big)
    for bad in (math.nan, math.inf, -math.inf):
        x = torch.zeros(4, 3, 8, 8)
        x[3, 2, 7, 7] = bad
        assert not all_finite(x)
        with pytest.raises(InvalidInputError, match="contain NaN or inf"):
            check_images(x)
    mixed = torch.zeros(2, 3, 4, 4)
    mixed[0, 0, 0, 0], mixed[1, 0, 0, 0] = math.inf, -math.inf  # the sum is NaN, not a finite cancellation
    assert not all_finite(mixed)
