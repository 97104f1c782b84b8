"""Post-survey proxies (docs/proxies.md §meco ... §jacobian_isometry): values worked by hand, seeds, failures.

GeNAS flatness has its own file, test_genas.py.

Tiny hand-built models whose outputs are known make the values exact; small NB201 networks (4 channels,
one cell per stage, 16 px) check the cell-stack rules and determinism in seconds.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import zeronas
from zeronas.errors import InvalidInputError
from zeronas.evaluation.scoring import build_seeded
from zeronas.proxies import AZ_COMPONENTS, ProxyContext, az_nas_aggregate, aznas, swap
from zeronas.proxies.aznas import feature_maps, gaussian_input

NEW = ["az_expressivity", "az_progressivity", "az_trainability", "az_complexity"]
NEW += ["genas_flatness", "jacobian_isometry", "meco", "meco_opt", "swap", "reg_swap"]
SMALL = zeronas.create_space("nb201", channels=4, cells_per_stage=1)
CELL = SMALL.validate("(0, 2, 3, 2, 3, 1)")
#: node 3 = skip(input) + none(node 1) + none(node 2): the cell passes its input through unchanged
IDENTITY_CELL = "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"


class Scale(nn.Module):
    """x * factor (a number or a fixed tensor broadcast over the last dimension)."""

    def __init__(self, factor: float | torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("factor", torch.as_tensor(factor, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor


class Constant(nn.Module):
    """Logits that ignore the input."""

    def __init__(self) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.ones(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits.expand(x.shape[0], 3)


def labelled(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x, torch.zeros(x.shape[0], dtype=torch.long)


def small_batch(n: int = 8) -> zeronas.Batch:
    return zeronas.load_batch("cifar10", n, 0, resolution=16, source="synthetic")


def small_net(key: str = CELL, seed: int = 0) -> nn.Module:
    return build_seeded(SMALL, key, 10, seed)


def one(model: nn.Module, batch: object, proxy: str, seed: int = 0, **options: object) -> zeronas.ProxyValue:
    scores = zeronas.score(model, batch, [proxy], seed=seed, options={proxy: options} if options else None)
    return scores.details[proxy]


# --- registry -----------------------------------------------------------------------------------------
def test_new_proxies_are_registered_after_the_survey_ones_higher_is_better():
    names = zeronas.list_proxies()
    assert names[-len(NEW) :] == NEW and names[0] == "nwot"
    for name in NEW:
        assert zeronas.get_proxy(name).higher_is_better, name
    assert zeronas.list_proxies("az_nas") == list(AZ_COMPONENTS)
    assert zeronas.get_proxy("swap").defaults == {"repeats": 32, "samples": 16}


@pytest.mark.parametrize(
    ("proxy", "options", "fragment"),
    [
        ("meco_opt", {"channels": 1}, "'channels' of proxy 'meco_opt' must be >= 2"),
        ("swap", {"repeats": 0}, "'repeats' of proxy 'swap' must be >= 1"),
        ("swap", {"samples": 2.0}, "'samples' of proxy 'swap' must be int"),
        ("reg_swap", {"sigma": 0.0}, "'sigma' of proxy 'reg_swap' must be > 0"),
        ("reg_swap", {"mu": "1"}, "'mu' of proxy 'reg_swap' must be a finite number"),
        ("reg_swap", {"mu": math.inf}, "must be a finite number"),
        ("reg_swap", {"sigma": True}, "must be a finite number"),
        ("jacobian_isometry", {"probes": 0}, "'probes' of proxy 'jacobian_isometry' must be >= 1"),
        ("az_trainability", {"repeats": 2}, "(known: none)"),
    ],
)
def test_bad_options_give_one_line_errors(proxy, options, fragment):
    with pytest.raises(InvalidInputError) as info:
        zeronas.score(nn.Sequential(nn.ReLU()), torch.ones(2, 1, 2, 2), [proxy], options={proxy: options})
    assert fragment in str(info.value) and "\n" not in str(info.value)


# --- MeCo ---------------------------------------------------------------------------------------------
def meco_input(sample0: list[list[float]]) -> torch.Tensor:
    """A batch of 2 images of C x 1 x 3 whose first image has rows `sample0`; the second must not matter."""
    first = torch.tensor(sample0)[:, None, :]
    return torch.stack([first, torch.randn(first.shape)])


def test_meco_by_hand_one_contributing_output_and_skipped_ones():
    # Identity's output: rows [1,2,3] and [1,3,2] correlate at 0.5 -> eigenvalues 0.5, 1.5; the Flatten and
    # the Sequential itself return 1 x 6 (sample 0: 6 rows of one value) and are skipped.
    model = nn.Sequential(nn.Identity(), nn.Flatten())
    detail = one(model, labelled(meco_input([[1, 2, 3], [1, 3, 2]])), "meco")
    assert detail.ok and detail.value == pytest.approx(0.5, abs=1e-12)
    assert detail.reason == "2 of 3 module outputs skipped (fewer than 2 rows or columns)"


def test_meco_zeroes_the_undefined_correlations_of_a_constant_channel():
    # row 0 is constant: its correlations are NaN and set to 0 -> eigenvalues 0, 0.5, 1.5 -> min 0
    detail = one(nn.Sequential(nn.Identity()), labelled(meco_input([[1, 1, 1], [1, 2, 3], [1, 3, 2]])), "meco")
    assert detail.ok and detail.value == pytest.approx(0.0, abs=1e-12)


def test_meco_matches_numpy_eig_over_every_module_output():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 5, 3, padding=1), nn.BatchNorm2d(5), nn.ReLU(), nn.Sequential(nn.Conv2d(5, 4, 1), nn.ReLU())
    )
    x = torch.randn(4, 3, 6, 6)
    expected, outputs = 0.0, []
    handles = [m.register_forward_hook(lambda m, a, o: outputs.append(o[0].detach().double())) for m in model.modules()]
    with torch.no_grad():
        model.train()(x[:1].clone())
    for h in handles:
        h.remove()
    for out in outputs:  # the reference: corrcoef, NaN -> 0, general eig, min of the real parts
        corr = np.nan_to_num(np.corrcoef(out.reshape(out.shape[0], -1).numpy()), nan=0.0, posinf=0.0, neginf=0.0)
        expected += float(np.min(np.linalg.eigvals(corr).real))
    detail = one(model, labelled(x), "meco")
    assert len(outputs) == 7 and detail.ok and detail.value == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert detail.reason == ""  # every output is a feature map: nothing skipped


def test_meco_opt_scales_a_random_subset_and_is_meco_on_narrow_maps():
    # every pair of these rows correlates at +-0.5: any 2 of the 3 give min eigenvalue 0.5, scaled by 3/2
    x = labelled(meco_input([[1, 2, 3], [1, 3, 2], [2, 1, 3]]))
    model = nn.Sequential(nn.Identity())
    assert one(model, x, "meco_opt", channels=2).value == pytest.approx(2 * 0.5 * 1.5)
    assert one(model, x, "meco_opt").value == pytest.approx(one(model, x, "meco").value)  # 3 rows <= 8: all of them


def test_meco_opt_is_seeded():
    net, batch = small_net(), small_batch()
    first, again, other = (one(net, batch, "meco_opt", seed=s).value for s in (0, 0, 1))
    assert first == again and first != other
    assert one(net, batch, "meco", seed=0).value == one(net, batch, "meco", seed=1).value  # no random draw


def test_meco_without_any_map_is_not_applicable():
    detail = one(nn.Sequential(nn.Flatten(), nn.Linear(12, 3)), labelled(torch.randn(2, 3, 2, 2)), "meco")
    assert detail.status == "not_applicable" and "at least 2 rows and 2 columns" in detail.reason


# --- SWAP ---------------------------------------------------------------------------------------------
def swap_input() -> torch.Tensor:
    """3 samples of 1 x 2 x 2 (4 units); per unit across samples the ReLU codes are 110, 111, 000, 101."""
    units = torch.tensor([[1.0, 2.0, -1.0], [3.0, 1.0, 2.0], [-1.0, -1.0, 0.0], [1.0, -1.0, 5.0]])
    return units.T.reshape(3, 1, 2, 2)


def test_swap_counts_distinct_unit_patterns_by_hand():
    x = labelled(swap_input())
    model = nn.Sequential(nn.ReLU(), nn.Flatten(), nn.ReLU())  # the second ReLU sees a 2-D input: not coded
    assert one(model, x, "swap", repeats=3).value == 4.0
    assert one(model, x, "swap", samples=2).value == 3.0  # first 2 samples: 11, 11, 00, 10


@pytest.mark.parametrize("samples", [1, 3, 20, 21, 62, 63])
def test_distinct_columns_agrees_with_unique_on_every_counting_path(samples):
    """Packed codes counted in a presence table (<= 20 samples), sorted (<= 62) or unpacked (> 62)."""
    gen = torch.Generator().manual_seed(samples)
    codes = torch.rand(samples, 3000, generator=gen) > 0.5
    codes[:, 1000:1500] = codes[:, :500]  # repeated columns must count once
    codes[:, 2999] = True  # the all-ones code: the presence table's last entry
    assert swap.distinct_columns(codes) == torch.unique(codes.T, dim=0).shape[0]


def test_packed_patterns_of_several_maps_count_their_union():
    a, b = torch.tensor([[1, 0, 1], [1, 1, 0]]).bool(), torch.tensor([[1, 0], [0, 0]]).bool()
    packed = [swap.pack_columns(a), swap.pack_columns(b)]
    assert packed[0].tolist() == [3, 2, 1] and packed[1].tolist() == [1, 0]
    assert swap.count_packed(packed, 2) == 4 == swap.distinct_columns(torch.cat([a, b], dim=1))


def test_reg_swap_is_swap_times_the_size_factor():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())  # 112 parameters: P = 0.112 thousand
    batch = small_batch()
    plain = one(model, batch, "swap", repeats=2).value
    reg = one(model, batch, "reg_swap", repeats=2, mu=0.1, sigma=0.001).value
    assert reg == pytest.approx(plain * math.exp(-(0.012**2) / 0.001), rel=1e-12)
    unset = one(model, batch, "reg_swap")
    assert unset.status == "not_applicable" and "needs options mu and sigma" in unset.reason


def test_swap_hooks_never_accumulate_across_repeats():
    model = small_net()
    value = zeronas.score(model, small_batch(), ["swap"], seed=0, options={"swap": {"repeats": 3}}, inplace=True)
    assert value.details["swap"].ok
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_swap_is_seeded_and_shared_with_reg_swap():
    net, batch = small_net(), small_batch(16)  # 8 samples would saturate at 2^8 patterns
    options = {"swap": {"repeats": 2}, "reg_swap": {"repeats": 2, "mu": 0.0, "sigma": 1e12}}
    both = zeronas.score(net, batch, ["swap", "reg_swap"], seed=0, options=options)
    alone = one(net, batch, "swap", seed=0, repeats=2).value
    other = one(net, batch, "swap", seed=1, repeats=2).value
    assert both["swap"] == alone != other and both["reg_swap"] == pytest.approx(alone, rel=1e-9)


def test_swap_without_relu_is_not_applicable():
    detail = one(nn.Sequential(nn.Conv2d(3, 2, 1), nn.GELU()), small_batch(), "swap")
    assert detail.status == "not_applicable" and "no nn.ReLU" in detail.reason


# --- AZ-NAS -------------------------------------------------------------------------------------------
def np_entropy(feature: np.ndarray) -> float:
    rows = feature.transpose(0, 2, 3, 1).reshape(-1, feature.shape[1])
    rows = rows - rows.mean(0)
    eig = np.linalg.eigvalsh(rows.T @ rows / rows.shape[0])
    p = eig / eig.sum()
    return float(-(p * np.log(p + 1e-8)).sum())


def test_az_expressivity_and_progressivity_are_the_entropies_numpy_gives():
    model = nn.Sequential(nn.Identity(), nn.AvgPool2d(2), nn.ReLU())  # no weights: the features are known
    x = torch.randn(4, 3, 4, 4)
    scores = zeronas.score(model, x, ["az_expressivity", "az_progressivity"], seed=5)
    gaussian = gaussian_input(ProxyContext(model=model, x=x, y=torch.zeros(4, dtype=torch.long), seed=5))
    f0 = gaussian.double().numpy()
    f1 = f0.reshape(4, 3, 2, 2, 2, 2).mean((3, 5))
    f2 = np.maximum(f1, 0.0)
    entropies = [np_entropy(f) for f in (f0, f1, f2)]
    assert scores["az_expressivity"] == pytest.approx(sum(entropies), rel=1e-6)
    gains = (entropies[1] - entropies[0], entropies[2] - entropies[1])
    assert scores["az_progressivity"] == pytest.approx(min(gains), abs=1e-6)
    assert scores.details["az_expressivity"].reason == "features: chain of 3 top-level children, 3 maps"


@pytest.mark.parametrize(
    ("block", "sigma"),
    [(Scale(-1.0), 1.0), (Scale(2.0), 2.0), (nn.AvgPool2d(2), 0.5)],  # avg pool: u = v/4 on 4 pixels -> σ = 1/2
    ids=["sign-flip", "double", "avgpool-stride-2"],
)
def test_az_trainability_by_hand(block, sigma):
    model = nn.Sequential(nn.Conv2d(3, 1, 1), block)  # one channel: VᵀV/N = 1 exactly for Rademacher v
    detail = one(model, torch.randn(4, 3, 4, 4), "az_trainability")
    assert detail.ok and detail.value == pytest.approx(-sigma - 1 / (sigma + 1e-6) + 2, abs=1e-12)
    if sigma == 1.0:  # an orthogonal (sign-flip) block is as trainable as it gets
        assert detail.value == pytest.approx(0.0, abs=1e-5)


@pytest.mark.parametrize("stride", [1, 2])
def test_block_trainability_is_the_top_singular_value_numpy_gives(stride):
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 5, 1, stride=stride, bias=False).double()  # u = the stride's pixels of Wᵀv, 0 elsewhere
    f_in = torch.randn(2, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    f_out = conv(f_in)
    v = torch.randint(0, 2, f_out.shape, generator=torch.Generator().manual_seed(1)).double() * 2 - 1
    u = np.zeros((2, 3, 4, 4))
    u[:, :, ::stride, ::stride] = np.einsum("dc,bdhw->bchw", conv.weight[:, :, 0, 0].detach().numpy(), v)
    u = (
        u.reshape(2, 3, 4 // stride, stride, 4 // stride, stride)
        .transpose(0, 1, 3, 5, 2, 4)
        .reshape(2, -1, 4 // stride, 4 // stride)
    )
    rows = lambda a: a.transpose(0, 2, 3, 1).reshape(-1, a.shape[1])  # noqa: E731
    sigma = np.linalg.norm(rows(u).T @ rows(v.numpy()) / rows(u).shape[0], 2)
    value = aznas.block_trainability(f_in, f_out, v)
    assert value == pytest.approx(-sigma - 1 / (sigma + 1e-6) + 2, rel=1e-12)


def test_az_pass_computes_only_what_the_requested_components_read(monkeypatch):
    net, batch = small_net(), small_batch()
    entropies, blocks = [], []
    entropy, block = aznas.entropy, aznas.block_trainability
    monkeypatch.setattr(aznas, "entropy", lambda f: entropies.append(1) or entropy(f))
    monkeypatch.setattr(aznas, "block_trainability", lambda *a: blocks.append(1) or block(*a))
    alone = one(net, batch, "az_trainability").value
    assert (len(entropies), len(blocks)) == (0, 5)  # 6 feature maps, 5 blocks
    assert one(net, batch, "az_expressivity").ok and (len(entropies), len(blocks)) == (6, 5)
    ctx = ProxyContext(model=net, x=batch.x, y=batch.y)  # made by hand: no request known, every component
    assert aznas.az_trainability(ctx) == alone and (len(entropies), len(blocks)) == (12, 10)
    aznas.az_expressivity(ctx)
    assert (len(entropies), len(blocks)) == (12, 10)


def test_az_trainability_is_minus_inf_for_an_identity_block():
    detail = one(nn.Sequential(nn.Conv2d(3, 2, 1), nn.Identity()), torch.randn(4, 3, 4, 4), "az_trainability")
    assert detail.status == "nan" and detail.raw == -math.inf
    nb201 = one(small_net(IDENTITY_CELL), small_batch(), "az_trainability")
    assert nb201.status == "nan" and nb201.raw == -math.inf  # the cells pass u = v through unchanged


def test_az_features_of_nb201_are_the_stem_and_every_cell():
    net = small_net()
    features, rule = feature_maps(net, torch.randn(2, 3, 16, 16))
    assert rule == "stem + cells[0..4]" and len(features) == 1 + 3 + 2 == len(net.cells) + 1
    assert [f.shape[1] for f in features] == [4, 4, 8, 8, 16, 16]


def test_az_components_share_one_pass_and_are_seeded(monkeypatch):
    calls = []
    original = aznas.az_pass
    monkeypatch.setattr(aznas, "az_pass", lambda ctx, *rest: calls.append(1) or original(ctx, *rest))
    net, batch = small_net(), small_batch()
    together = zeronas.score(net, batch, list(AZ_COMPONENTS), seed=0)
    assert len(calls) == 1 and together.failures() == {}
    for name in AZ_COMPONENTS:
        assert one(net, batch, name, seed=0).value == together[name], name
    assert together["az_complexity"] == one(net, batch, "flops").value
    other = zeronas.score(net, batch, ["az_expressivity", "az_trainability"], seed=1)
    assert other["az_expressivity"] != together["az_expressivity"]
    assert other["az_trainability"] != together["az_trainability"]


class Siamese(nn.Module):
    """A stem and cells run once per half of the image: no single chain of feature maps."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 2, 1)
        self.cells = nn.ModuleList([nn.Conv2d(2, 2, 1)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return sum(self.cells[0](self.stem(half)).mean((2, 3)) for half in x.chunk(2, dim=3))


def test_az_feature_rules_stop_at_the_head_and_refuse_what_they_cannot_chain():
    head = nn.Sequential(nn.Conv2d(3, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 3))
    detail = one(head, torch.randn(2, 3, 4, 4), "az_expressivity")
    assert detail.ok and detail.reason == "features: chain of 2 top-level children, 2 maps"  # not the pooled map
    detail = one(nn.Sequential(nn.Flatten(), nn.Linear(12, 3)), torch.randn(2, 3, 2, 2), "az_progressivity")
    assert detail.status == "not_applicable" and "no `stem`" in detail.reason
    detail = one(Siamese(), torch.randn(2, 3, 4, 4), "az_trainability")
    assert detail.status == "not_applicable" and "feature module 0 of stem + cells[0..0] ran 2 times" in detail.reason


def test_az_nas_aggregate_by_hand():
    frame = pd.DataFrame({"a": [1.0, 2.0, math.nan], "b": [5.0, 5.0, 1.0]}, index=["x", "y", "z"])
    # a: NaN -> -inf, ranks 2, 3, 1; b: ranks 2.5, 2.5, 1 (average ties); M = 3
    expected = [math.log(2 / 3) + math.log(2.5 / 3), math.log(2.5 / 3), 2 * math.log(1 / 3)]
    got = az_nas_aggregate(frame)
    assert list(got.index) == ["x", "y", "z"] and got.name == "az_nas"
    assert got.to_list() == pytest.approx(expected, rel=1e-12)
    with pytest.raises(InvalidInputError, match="at least one row"):
        az_nas_aggregate(frame.iloc[:0])
    with pytest.raises(InvalidInputError, match="numbers only"):
        az_nas_aggregate(pd.DataFrame({"a": ["x", "y"]}))


# --- Jacobian isometry --------------------------------------------------------------------------------
def test_jacobian_isometry_of_a_diagonal_map_by_hand_and_scale_free():
    x = labelled(torch.randn(2, 1, 1, 2))  # 2 samples x 2 logits: singular values 1, 2, 1, 2
    expected = -math.log(4 * (1 + 16 + 1 + 16) / (1 + 4 + 1 + 4) ** 2)
    for factor in (torch.tensor([1.0, 2.0]), torch.tensor([5.0, 10.0])):
        for probes in (1, 3):
            detail = one(nn.Sequential(nn.Flatten(), Scale(factor)), x, "jacobian_isometry", probes=probes)
            assert detail.value == pytest.approx(expected, rel=1e-12)
    assert one(nn.Flatten(), x, "jacobian_isometry").value == pytest.approx(0.0, abs=1e-12)  # an isometry


def test_jacobian_isometry_through_a_dense_layer_by_hand():
    q, _ = torch.linalg.qr(torch.randn(4, 4, generator=torch.Generator().manual_seed(0)))
    linear = nn.Linear(4, 3, bias=False)
    with torch.no_grad():
        linear.weight.copy_(torch.diag(torch.tensor([1.0, 2.0, 1.0])) @ q[:3])  # W Wᵀ = diag(1, 4, 1)
    model = nn.Sequential(nn.Flatten(), linear)
    detail = one(model, labelled(torch.randn(2, 1, 2, 2)), "jacobian_isometry")
    assert detail.value == pytest.approx(-math.log(6 * 36 / 12**2), rel=1e-6)  # σ² = 1, 4, 1 per sample


def test_jacobian_isometry_failures_and_seeds():
    x = labelled(torch.randn(2, 1, 1, 3))
    detail = one(Constant(), x, "jacobian_isometry")
    assert detail.status == "not_applicable" and "does not depend on the input" in detail.reason
    zero = one(nn.Sequential(nn.Flatten(), Scale(0.0)), x, "jacobian_isometry")
    assert zero.status == "nan"
    net, batch = small_net(), small_batch()
    first, again, other = (one(net, batch, "jacobian_isometry", seed=s).value for s in (0, 0, 1))
    assert first == again != other and -math.log(8 * 10) < first < 0.1


# --- all together -------------------------------------------------------------------------------------
def test_every_new_proxy_on_a_small_nb201_cell():
    scores = zeronas.score(small_net(), small_batch(16), NEW, seed=0, options={"swap": {"repeats": 2}})
    assert set(scores.failures()) == {"reg_swap"}  # no mu and sigma given
    assert all(math.isfinite(v) for n, v in scores.items() if n != "reg_swap")
    again = zeronas.score(small_net(), small_batch(16), NEW, seed=0, options={"swap": {"repeats": 2}})
    assert all(scores[n] == again[n] for n in NEW if n != "reg_swap")
