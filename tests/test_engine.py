"""The proxy engine: isolation of the caller's model, determinism, orientation, failures."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import zeronas
from zeronas.errors import InvalidInputError, UnknownNameError
from zeronas.evaluation.scoring import build_seeded
from zeronas.proxies import get_proxy, register_proxy
from zeronas.proxies.registry import unregister_proxy

SPACE = zeronas.create_space("nb201")
CELL = SPACE.validate("(0, 2, 3, 2, 3, 1)")


def small_batch(n: int = 8, classes: int = 10, seed: int = 0) -> zeronas.Batch:
    return zeronas.load_batch("cifar10", n, seed, source="synthetic", num_classes=classes)


@pytest.fixture(scope="module")
def cell_model() -> nn.Module:
    return build_seeded(SPACE, CELL, 10, 0)


def snapshot(model: nn.Module) -> dict:
    return {
        "state": {k: v.clone() for k, v in model.state_dict().items()},
        "grad_flags": {n: p.requires_grad for n, p in model.named_parameters()},
        "modes": {n: m.training for n, m in model.named_modules()},
        "grads": {n: p.grad for n, p in model.named_parameters()},
    }


def test_score_leaves_model_unchanged(cell_model):
    model = cell_model
    model.eval()
    model.classifier.weight.requires_grad_(False)
    model.cells[0].train()  # a mixed-mode model
    before = snapshot(model)
    scores = zeronas.score(model, small_batch(), "all", seed=3)
    after = snapshot(model)
    assert len(scores) == len(zeronas.list_proxies())
    assert before["grad_flags"] == after["grad_flags"]
    assert before["modes"] == after["modes"]
    assert all(g is None for g in after["grads"].values())
    for name, tensor in before["state"].items():
        assert torch.equal(tensor, after["state"][name]), name
    model.classifier.weight.requires_grad_(True)


def test_same_seed_bit_identical_and_independent_of_requested_set(cell_model):
    batch = small_batch()
    first = zeronas.score(cell_model, batch, "all", seed=1)
    second = zeronas.score(cell_model, batch, "all", seed=1)
    for name in first:
        assert first[name] == second[name] or (math.isnan(first[name]) and math.isnan(second[name])), name
    for name in ("snip", "zen", "jacob_cov", "linear_regions", "nwot"):
        alone = zeronas.score(cell_model, batch, [name], seed=1)
        assert alone[name] == first[name], name
    other_seed = zeronas.score(cell_model, batch, ["zen", "linear_regions"], seed=2)
    assert other_seed["zen"] != first["zen"]


def test_every_proxy_ok_on_a_normal_cell(cell_model):
    scores = zeronas.score(cell_model, small_batch(16), "all", seed=0)
    bad = scores.failures()
    topology = {"nn_mass", "nn_degree"}  # defined on residual/dense cells; an NB201 cell sums several edges
    unset = {"reg_swap"}  # needs its options mu and sigma, which have no default
    assert set(bad) == topology | unset and all(bad[n].startswith("not_applicable: ") for n in bad), bad
    assert all(math.isfinite(v) for n, v in scores.items() if n not in topology | unset)
    assert scores["params"] == pytest.approx(0.615386, abs=1e-6)  # 0.621236 M at 100 classes - 90*65
    assert scores["flops"] == pytest.approx(88.30739, abs=1e-5)


def test_orientation_negates_lower_is_better(cell_model):
    scores = zeronas.score(cell_model, small_batch(), ["ntk_cond"])
    detail = scores.details["ntk_cond"]
    assert not get_proxy("ntk_cond").higher_is_better
    assert detail.value == -detail.raw and detail.raw >= 1.0


def test_disconnected_cell_gives_nan_with_reason_or_naslib_value():
    model = build_seeded(SPACE, "111111", 10, 0)  # every edge is 'none'
    scores = zeronas.score(model, small_batch(), ["jacob_cov", "synflow", "params"])
    assert scores.details["jacob_cov"].status == "nan"
    assert "non-finite" in scores.details["jacob_cov"].reason
    assert math.isnan(scores["jacob_cov"])
    assert scores["synflow"] == 0.0
    naslib = zeronas.score(model, small_batch(), ["jacob_cov"], nan_policy="naslib")
    assert naslib["jacob_cov"] == -1e8


def test_not_applicable_proxies_do_not_stop_the_others():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.GELU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10))
    relu_only = {"nwot": {"activations": "relu"}, "linear_regions": {"activations": "relu"}}
    scores = zeronas.score(model, small_batch(), ["nwot", "linear_regions", "snip", "synflow"], options=relu_only)
    assert scores.details["nwot"].status == "not_applicable"
    assert "no ReLU" in scores.details["nwot"].reason
    assert scores.details["linear_regions"].status == "not_applicable"
    assert scores.details["snip"].ok and scores.details["synflow"].ok


def test_synflow_passes_bn_on_pooled_maps_at_batch_one():
    """SE-style BN after global pooling sees one value per channel on synflow's batch-1 input."""
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4, 10)
    )
    detail = zeronas.score(model, small_batch(), ["synflow"]).details["synflow"]
    assert detail.ok, detail.reason
    # BN is bypassed: the value equals that of the same network without it
    plain = nn.Sequential(*[m for m in model if not isinstance(m, nn.BatchNorm2d)])
    assert detail.value == pytest.approx(zeronas.score(plain, small_batch(), ["synflow"])["synflow"], rel=1e-12)


class Exploding(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("boom in forward")


def test_model_that_raises_is_reported_per_proxy():
    scores = zeronas.score(Exploding(), small_batch(), ["snip", "params", "zen"])
    assert scores.details["params"].ok
    assert scores.details["snip"].status == "error" and "boom in forward" in scores.details["snip"].reason
    assert scores.details["zen"].status in ("error", "not_applicable")


def test_bad_inputs_give_one_line_errors(cell_model):
    with pytest.raises(UnknownNameError, match="unknown proxy 'snipp'.*did you mean snip"):
        zeronas.score(cell_model, small_batch(), ["snipp"])
    with pytest.raises(InvalidInputError, match="N x C x H x W"):
        zeronas.score(cell_model, torch.zeros(3, 32, 32), ["snip"])
    with pytest.raises(InvalidInputError, match="NaN or inf"):
        zeronas.score(cell_model, torch.full((2, 3, 32, 32), float("nan")), ["snip"])
    with pytest.raises(InvalidInputError, match="unknown option"):
        zeronas.score(cell_model, small_batch(), ["zen"], options={"zen": {"repeats": 2}})
    with pytest.raises(InvalidInputError, match="must be a torch.nn.Module"):
        zeronas.score("resnet", small_batch(), ["snip"])
    labels_too_big = zeronas.score(cell_model, (small_batch().x, torch.full((8,), 50)), ["snip"])
    assert "labels go up to 50" in labels_too_big.details["snip"].reason


def test_unlabelled_tensor_batch_draws_labels(cell_model):
    x = small_batch().x
    scores = zeronas.score(cell_model, x, ["snip", "epe_nas"], seed=0)
    assert scores.details["snip"].ok
    assert scores.settings["labels"] == "drawn uniformly"
    assert scores.details["epe_nas"].status == "not_applicable"


def test_register_a_new_proxy_and_use_it(cell_model):
    @register_proxy("test_weight_count", needs=("grads",), family="test")
    def weight_count(ctx, scale: float = 1.0) -> float:
        """Number of weight tensors with a gradient, times scale."""
        return scale * sum(g is not None for g in ctx.grads.values())

    try:
        scores = zeronas.score(
            cell_model, small_batch(), ["test_weight_count"], options={"test_weight_count": {"scale": 2}}
        )
        assert scores["test_weight_count"] == 2 * sum(
            isinstance(m, nn.Conv2d | nn.Linear) for m in cell_model.modules()
        )
    finally:
        unregister_proxy("test_weight_count")


def test_inplace_working_copy_gives_the_same_values():
    batch = small_batch()
    copied = zeronas.score(build_seeded(SPACE, CELL, 10, 4), batch, "all", seed=4)
    order = ["zen", "synflow", "l2_norm", "params", "snip", "flops"]  # weight-changing proxies before static ones
    inplace = zeronas.score(build_seeded(SPACE, CELL, 10, 4), batch, "all", seed=4, inplace=True)
    reordered = zeronas.score(build_seeded(SPACE, CELL, 10, 4), batch, order, seed=4, inplace=True)
    assert list(reordered) == order
    for name in copied:
        assert copied[name] == inplace[name] or copied.details[name].status == inplace.details[name].status != "ok"
    for name in order:
        assert reordered[name] == copied[name], name


def test_avg_pool_op_equals_torch_kernel():
    from zeronas.spaces.nb201.model import AvgPool3x3

    reference = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    for shape in [(2, 3, 32, 32), (2, 3, 1, 1), (1, 4, 2, 3), (1, 1, 16, 16)]:
        x = torch.randn(*shape)
        torch.testing.assert_close(AvgPool3x3()(x), reference(x), rtol=0, atol=1e-6)


def test_gradient_proxies_work_after_an_inference_mode_forward():
    """A pooling divisor cached during an inference-mode forward (latency timing) must not poison autograd."""
    arch = "|avg_pool_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|"
    model = SPACE.build(arch, num_classes=10)
    with torch.inference_mode():
        model.eval()(torch.randn(2, 3, 24, 24))  # a resolution no other test caches first
    model.train()
    scores = zeronas.score(model, torch.randn(4, 3, 24, 24), ["grad_norm"], seed=0)
    assert not scores.failures() and math.isfinite(scores["grad_norm"])


@pytest.mark.parametrize("shape", [(8, 1), (8, 63), (8, 64), (64, 16 * 32 * 32), (3, 2, 5, 7), (5, 16, 9, 9)])
def test_naswot_kernel_equals_the_float64_definition(shape):
    """The int8 fast path and the float path both give Σ_units [c_a c_b + (1-c_a)(1-c_b)] exactly."""
    from zeronas.proxies.shared_pass import _agreement_kernel

    inp = torch.randn(*shape, generator=torch.Generator().manual_seed(len(shape)))
    codes = (inp.reshape(shape[0], -1) > 0).double()
    expected = codes @ codes.T + (1 - codes) @ (1 - codes).T
    kernel, units = _agreement_kernel(inp)
    assert units == codes.shape[1]
    assert torch.equal(kernel, expected)
    if len(shape) == 4:
        kernel_cl, _ = _agreement_kernel(inp.contiguous(memory_format=torch.channels_last))
        assert torch.equal(kernel_cl, expected)
