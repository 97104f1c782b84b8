"""GeNAS flatness (docs/proxies.md §genas_flatness): the formula by hand, the cumulative noise, BN recalibration."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import zeronas
from zeronas.errors import InvalidInputError
from zeronas.evaluation.scoring import build_seeded
from zeronas.proxies import ProxyContext
from zeronas.proxies.genas import DEFAULT_SIGMAS, recalibrate_batchnorm

SMALL = zeronas.create_space("nb201", channels=4, cells_per_stage=1)
CELL = SMALL.validate("(0, 2, 3, 2, 3, 1)")


class DeadWeight(nn.Module):
    """Fixed logits plus 0 x a parameter: the loss never changes, whatever the noise."""

    def __init__(self) -> None:
        super().__init__()
        self.unused = nn.Parameter(torch.ones(5))
        self.register_buffer("logits", torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0]]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits + 0.0 * self.unused.sum()


def run(model: nn.Module, sigmas: object) -> None:
    zeronas.score(model, torch.zeros(2, 1, 2, 2), ["genas_flatness"], options={"genas_flatness": {"sigmas": sigmas}})


def flatness(model: nn.Module, x: torch.Tensor, y: torch.Tensor, seed: int = 0, **options: object) -> float:
    scores = zeronas.score(model, (x, y), ["genas_flatness"], seed=seed, options={"genas_flatness": options})
    detail = scores.details["genas_flatness"]
    assert detail.status == "ok", detail.reason
    return detail.value


def test_constant_loss_by_hand():
    x, y = torch.zeros(2, 1, 2, 2), torch.tensor([0, 2])
    loss = float(F.cross_entropy(DeadWeight().logits, y))
    for sigmas in ([0.001, 0.003, 0.006], [0.5]):
        # every difference is 0: P = |L / sigma_1|
        assert flatness(DeadWeight(), x, y, sigmas=sigmas) == pytest.approx(1 / (loss / sigmas[0] + 1e-5), rel=1e-12)


def test_cumulative_noise_matches_an_independent_replay():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 6), nn.ReLU(), nn.Linear(6, 4))
    x, y = torch.randn(8, 3, 2, 2), torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    sigmas = (0.05, 0.2, 0.3)
    replay = copy.deepcopy(model).eval()
    ctx = ProxyContext(model, x, y, seed=3)
    losses, previous = [], 0.0
    with torch.no_grad():
        for t, sigma in enumerate(sigmas):
            gen = ctx.generator(f"genas_flatness-{t}")
            for p in replay.parameters():
                p.add_(torch.randn(p.shape, generator=gen) * (sigma - previous))
            previous = sigma
            losses.append(float(F.cross_entropy(replay(x), y)))
    poor = losses[0] / sigmas[0] + abs(losses[1] - losses[0]) / 0.15 + abs(losses[2] - losses[1]) / 0.1
    assert flatness(model, x, y, seed=3, sigmas=list(sigmas)) == pytest.approx(1 / (poor + 1e-5), rel=1e-6)
    assert flatness(model, x, y, seed=4, sigmas=list(sigmas)) != pytest.approx(1 / (poor + 1e-5), rel=1e-6)


def test_batchnorm_is_recalibrated_to_the_batch_and_momentum_restored():
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4, momentum=0.3))
    net[1].running_mean.fill_(7.0)
    x = torch.randn(6, 3, 5, 5)
    recalibrate_batchnorm(net, x)
    features = net[0](x).detach()
    assert torch.allclose(net[1].running_mean, features.mean((0, 2, 3)), atol=1e-6)
    assert torch.allclose(net[1].running_var, features.var((0, 2, 3), unbiased=True), atol=1e-5)
    assert net[1].momentum == 0.3


def test_nb201_cell_is_seeded_finite_and_leaves_the_model_alone():
    batch = zeronas.load_batch("cifar10", 8, 0, resolution=16, source="synthetic")
    model = build_seeded(SMALL, CELL, 10, 0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    first, again = (flatness(model, batch.x, batch.y) for _ in range(2))
    assert first == again and 0 < first < 1 / (math.log(10) / 10 * 1000)  # the loss is near ln 10 at init
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert tuple(zeronas.get_proxy("genas_flatness").defaults["sigmas"]) == DEFAULT_SIGMAS


@pytest.mark.parametrize("sigmas", [[], [0.003, 0.001], [0.001, 0.001], [-0.1], [0.1, math.inf], ["a"], [True]])
def test_bad_noise_levels_give_one_line_errors(sigmas):
    with pytest.raises(InvalidInputError) as info:
        run(DeadWeight(), sigmas)
    assert "option 'sigmas' of proxy 'genas_flatness' must be increasing positive numbers" in str(info.value)
    assert "\n" not in str(info.value)


def test_sigmas_must_be_a_list():
    with pytest.raises(InvalidInputError, match="'sigmas' of proxy 'genas_flatness' must be a list"):
        run(DeadWeight(), 0.1)
