"""TransNAS-Bench-101's seven tasks as data sets: task losses in the engine, inputs and targets, every proxy.

Small batches (2) at 64 px (jigsaw: 192 px, its 64 px tiles) keep the task networks cheap: the micro
encoder divides the side by 32 and the dense decoders upsample it back, so 64 px gives 2 x 2 features.
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import zeronas
from zeronas.config import find_data_dir, read_data_npz
from zeronas.data import Batch, get_dataset, load_batch
from zeronas.data.tasks import permutation_set, shuffle_tiles, to_unit
from zeronas.errors import InvalidInputError
from zeronas.evaluation.scoring import build_seeded
from zeronas.proxies import list_proxies
from zeronas.proxies.losses import check_fit, task_loss
from zeronas.spaces.tnb import TASK_NAMES, TransNASMicroSpace

CELL = "1_02_111"
#: proxies that may be not applicable on a task network, and a fragment of the reason they must give
NOT_APPLICABLE = {
    "epe_nas": ("defined per class", "no class has two samples"),
    "nn_mass": ("not a residual block",),
    "nn_degree": ("not a residual block",),
    "reg_swap": ("needs options mu and sigma",),
    # jigsaw runs the encoder once per tile: its stem and stages give no single chain of feature maps
    **dict.fromkeys(("az_expressivity", "az_progressivity", "az_trainability"), ("ran 9 times, not once",)),
}


def side(task: str) -> int:
    return 192 if task == "jigsaw" else 64


@pytest.fixture(scope="module")
def data_dir():
    found = find_data_dir()
    if found is None or not (found / "data" / "imagenet_sample_250_224.npz").exists():
        pytest.skip("the ImageNet sample is not in the data directory")
    return found


# --- every proxy on every task, through the API and the CLI ---------------------------------------------
@pytest.mark.parametrize("task", TASK_NAMES)
def test_every_proxy_on_every_task_api_and_cli(data_dir, cli, task):
    args = ["score", "--space", "tnb_micro", "--arch", CELL, "--dataset", task, "-p", "all"]
    result = cli(*args, "--batch-size", 2, "-r", side(task), "--json")
    assert result.code == 0, result.err
    payload = json.loads(result.out)["proxies"]
    assert list(payload) == list_proxies()
    info = get_dataset(task)
    space = TransNASMicroSpace().for_dataset(task)
    net = build_seeded(space, space.validate(CELL), info.num_classes, 0)
    scores = zeronas.score(net, load_batch(task, 2, 0, side(task)), "all", seed=0)
    assert scores.settings["loss"] == info.loss
    for name, detail in scores.details.items():
        if detail.status == "not_applicable":
            assert any(f in detail.reason for f in NOT_APPLICABLE.get(name, ())), (task, name, detail.reason)
        else:
            assert detail.status == "ok", (task, name, detail.status, detail.reason)
        cli_value = payload[name]["value"]
        assert payload[name]["status"] == detail.status
        assert (math.isnan(detail.value) and cli_value is None or math.isnan(cli_value)) or cli_value == detail.value
    if info.loss != "cross_entropy":
        assert scores.details["epe_nas"].status == "not_applicable"
        assert "defined per class" in scores.details["epe_nas"].reason


# --- losses by hand --------------------------------------------------------------------------------------
def test_task_losses_by_hand():
    logits = torch.tensor([[1.0, 2.0, 0.0]])
    expected = -math.log(math.e**2 / (math.e + math.e**2 + 1.0))
    assert task_loss(logits, torch.tensor([1]), "cross_entropy").item() == pytest.approx(expected, rel=1e-6)
    # one image of 1 x 2 pixels, 2 classes: logits (0, 0) -> ln 2; (ln 3, 0) with class 0 -> ln(4/3)
    maps = torch.tensor([[[[0.0, math.log(3.0)]], [[0.0, 0.0]]]])
    pixel = task_loss(maps, torch.tensor([[[1, 0]]]), "pixel_cross_entropy").item()
    assert pixel == pytest.approx((math.log(2.0) + math.log(4.0 / 3.0)) / 2, rel=1e-6)
    out, y = torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, 4.0]])
    assert task_loss(out, y, "mse").item() == pytest.approx(2.5)
    assert task_loss(out, y, "l1").item() == pytest.approx(1.5)
    with pytest.raises(InvalidInputError, match="loss must be one of"):
        task_loss(out, y, "hinge")


def test_targets_that_do_not_fit_the_output_are_one_line_errors():
    with pytest.raises(InvalidInputError, match=r"targets have shape \(1, 3\), the output \(1, 2\)"):
        check_fit(torch.zeros(1, 2), torch.zeros(1, 3), "mse")
    with pytest.raises(InvalidInputError, match="pixel class maps must have shape"):
        check_fit(torch.zeros(1, 2, 4, 4), torch.zeros(1, 3, 3, dtype=torch.long), "pixel_cross_entropy")
    with pytest.raises(InvalidInputError, match="labels go up to 2 but the model has 2 outputs"):
        check_fit(torch.zeros(1, 2, 1, 1), torch.full((1, 1, 1), 2), "pixel_cross_entropy")
    x = torch.zeros(2, 3, 8, 8)
    bad = [
        (torch.zeros(2, 8, 8), "pixel_cross_entropy", "must be integer class maps"),
        (torch.zeros(2, 8, dtype=torch.long), "pixel_cross_entropy", "must have shape B x H x W"),
        (torch.full((2, 8, 8), -1), "pixel_cross_entropy", "must be class indices >= 0"),
        (torch.zeros(2, 9, dtype=torch.long), "mse", "must be floating point"),
        (torch.zeros(3, 9), "l1", "must have 2 rows"),
        (torch.full((2, 9), math.nan), "mse", "contain NaN or inf"),
        (torch.zeros(2), "cross_entropy", "labels must be integer class indices"),
        (torch.zeros(2, dtype=torch.long), "softmax", "loss must be one of"),
    ]
    for y, loss, fragment in bad:
        with pytest.raises(InvalidInputError, match=fragment) as info:
            Batch(x, y, loss=loss)
        assert "\n" not in str(info.value)


def test_engine_takes_the_batchs_loss_and_keeps_cross_entropy():
    """grad_norm on a tiny net equals the hand-taken gradient norm of each loss (CE exactly as before)."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 2, 1))
    x = torch.randn(3, 3, 4, 4)
    cases = {
        "pixel_cross_entropy": torch.randint(0, 2, (3, 4, 4)),
        "mse": torch.randn(3, 2, 4, 4),
        "l1": torch.randn(3, 2, 4, 4),
    }
    for loss, y in cases.items():
        got = zeronas.score(net, Batch(x, y, loss=loss), "grad_norm,epe_nas,jacob_cov").details
        grads = torch.autograd.grad(task_loss(net(x), y, loss), [net[0].weight, net[2].weight])
        assert got["grad_norm"].value == pytest.approx(sum(float(g.double().norm()) for g in grads), rel=1e-6)
        assert got["epe_nas"].status == "not_applicable" and loss in got["epe_nas"].reason
        assert got["jacob_cov"].ok
    head = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(16, 5))
    labels = torch.tensor([0, 4, 2])
    tuple_value = zeronas.score(head, (x, labels), "grad_norm")["grad_norm"]
    grads = torch.autograd.grad(F.cross_entropy(head(x), labels), [head[0].weight, head[2].weight])
    assert tuple_value == float(sum(g.double().norm() for g in grads))
    assert zeronas.score(head, Batch(x, labels), "grad_norm")["grad_norm"] == tuple_value


# --- inputs and targets --------------------------------------------------------------------------------
@pytest.mark.parametrize("task", TASK_NAMES)
def test_targets_shapes_dtypes_ranges(data_dir, task):
    info = get_dataset(task)
    batch = load_batch(task, 2, 3, side(task))
    s = side(task)
    assert batch.loss == info.loss and batch.x.shape == (2, 3, s, s) and batch.x2.shape == batch.x.shape
    assert "imagenet_sample_250_224.npz" in batch.source
    y = batch.y
    if info.loss == "cross_entropy":
        assert y.shape == (2,) and y.dtype == torch.int64 and int(y.min()) >= 0 and int(y.max()) < info.num_classes
    elif info.loss == "pixel_cross_entropy":
        assert y.shape == (2, s, s) and y.dtype == torch.int64 and int(y.min()) >= 0 and int(y.max()) < 17
        assert len(torch.unique(y)) > 2  # regions of several classes
    elif info.loss == "mse":
        assert y.shape == (2, 9) and y.dtype == torch.float32
    else:
        assert y.shape == (2, 3, s, s) and y.dtype == torch.float32
        low, high = (-1.0, 1.0) if task == "autoencoder" else (0.0, 1.0)
        assert low <= float(y.min()) and float(y.max()) <= high
    if task == "normal":
        assert torch.allclose((y * 2 - 1).norm(dim=1), torch.ones(2, s, s), atol=1e-5)  # unit normals
    again = load_batch(task, 2, 3, s)
    assert torch.equal(again.x, batch.x) and torch.equal(again.y, batch.y)


def test_autoencoder_target_is_the_input(data_dir):
    batch = load_batch("autoencoder", 2, 0, 64)
    assert torch.equal(batch.y, batch.x) and torch.equal(batch.y2, batch.x2)
    images = read_data_npz(data_dir / "data/imagenet_sample_250_224.npz")["images"]
    unit = to_unit(images[batch.meta["indices"]], 64)
    assert torch.allclose(batch.x, (unit - 0.5) / 0.5)


def test_jigsaw_tiles_reassemble_the_image_under_the_inverse_permutation(data_dir):
    batch = load_batch("jigsaw", 2, 1, 192)
    images = read_data_npz(data_dir / "data/imagenet_sample_250_224.npz")["images"]
    original = to_unit(images[batch.meta["indices"]], 192)
    permutations = torch.from_numpy(permutation_set())[batch.y]
    assert not torch.equal(batch.x, original)
    inverse = torch.argsort(permutations, dim=1)
    assert torch.equal(shuffle_tiles(batch.x, inverse), original)
    tile = 64  # tile 0 of the puzzle is tile permutations[0, 0] of the image
    row, col = divmod(int(permutations[0, 0]), 3)
    corner = original[0, :, row * tile : (row + 1) * tile, col * tile : (col + 1) * tile]
    assert torch.equal(batch.x[0, :, :tile, :tile], corner)


def test_permutation_set_is_the_greedy_maximal_hamming_selection():
    full = permutation_set()
    assert full.shape == (1000, 9) and len({tuple(p) for p in full}) == 1000
    assert all(sorted(p) == list(range(9)) for p in full[:50])
    every = np.array(list(itertools.permutations(range(9))))
    chosen = [full[0]]
    for _ in range(5):  # the definition: the next has the largest mean Hamming distance to those chosen
        mean = np.mean([(every != c).sum(1) for c in chosen], axis=0)
        for c in chosen:
            mean[(every == c).all(1)] = -1
        chosen.append(every[int(mean.argmax())])
    assert np.array_equal(np.array(chosen), full[:6])
    assert (full[1] != full[0]).all()  # the second shares no position with the first


def test_user_npz_with_targets_replaces_them(data_dir, tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (4, 3, 64, 64), dtype=np.uint8)
    targets = rng.random((4, 3, 64, 64), dtype=np.float32)
    path = tmp_path / "normals.npz"
    np.savez(path, images=images, targets=targets)
    batch = load_batch("normal", 2, 0, 64, source=str(path))
    assert torch.equal(batch.y, torch.from_numpy(targets[batch.meta["indices"]]))
    assert torch.allclose(batch.x, (to_unit(images[batch.meta["indices"]], 64) - 0.5) / 0.5)
    np.savez(path, images=images, targets=targets[:, :, :32])
    with pytest.raises(InvalidInputError, match=r"targets must have shape \(4, 3, 64, 64\)"):
        load_batch("normal", 2, 0, 64, source=str(path))
    maps = tmp_path / "maps.npz"
    np.savez(maps, images=images, targets=np.full((4, 64, 64), 17))
    with pytest.raises(InvalidInputError, match=r"must lie in 0..16"):
        load_batch("segmentsemantic", 2, 0, 64, source=str(maps))
    with pytest.raises(InvalidInputError, match="divide by 3"):
        load_batch("jigsaw", 2, 0, 64)
