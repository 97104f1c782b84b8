"""The timm_zoo benchmark: keys, the model list and its exclusions, ground truth, kinds, families, builds,
nwot/linear_regions on models without ReLU, and the score/evaluate commands."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import zeronas
from zeronas.errors import InvalidArchError, InvalidInputError
from zeronas.spaces import create_space, get_benchmark
from zeronas.spaces.timm_zoo import TimmZooSpace, excluded_models, family_of, model_kind, zoo_models
from zeronas.spaces.timm_zoo.models import create, measure


@pytest.fixture(scope="module")
def space(shared_dir: Path) -> TimmZooSpace:
    return create_space("timm_zoo")


def test_keys_are_the_2022_names_case_insensitive_with_suggestions(space: TimmZooSpace) -> None:
    assert space.validate(" ResNet18 ") == "resnet18"
    assert space.validate("gluon_resnet50_v1b") == "gluon_resnet50_v1b"  # renamed since: resnet50.gluon_in1k
    with pytest.raises(InvalidArchError, match="did you mean resnet18"):
        space.validate("resnet181")
    with pytest.raises(InvalidArchError, match="gluon_xception65 nor maps it"):
        space.validate("gluon_xception65")
    with pytest.raises(InvalidArchError, match="no row in results-imagenet-2022.csv"):
        space.validate("regnetz_b")
    with pytest.raises(InvalidArchError, match="unknown timm_zoo model 'convnext_tiny'"):
        space.validate("convnext_tiny")  # in timm, but not an in1k model of the 2022 table
    with pytest.raises(InvalidArchError, match="must be a timm model name"):
        space.validate(18)


def test_the_list_holds_every_in1k_model_timm_builds_and_excluded_ones_have_reasons(shared_dir: Path) -> None:
    meta = pd.read_csv(shared_dir / "timm" / "model_metadata-in1k-2022.csv")
    in1k = set(meta.loc[meta["pretrain"] == "in1k", "model"])
    zoo, excluded = zoo_models(), excluded_models()
    assert len(in1k) == 382 and len(zoo) == 378 and len(excluded) == 4
    assert set(zoo) | set(excluded) == in1k and not set(zoo) & set(excluded)
    assert sorted(excluded) == ["gluon_xception65", "regnetz_b", "regnetz_c", "regnetz_d"]
    assert all(isinstance(reason, str) and len(reason) > 20 for reason in excluded.values())
    space = TimmZooSpace()
    assert space.size == 378 and list(space.enumerate()) == zoo
    rng = np.random.default_rng(0)
    assert len(set(space.sample_many(20, rng))) == 20


def test_ground_truth_is_the_2022_top1_at_the_models_own_size(space: TimmZooSpace) -> None:
    bench = get_benchmark("timm_zoo")
    assert bench.metrics == ("top1",) and bench.truth_label == "ImageNet top-1 %"
    truth = bench.ground_truth("imagenet", "top1")
    assert len(truth) == 378 and truth.dtype == "float64"
    assert truth["resnet18"] == 69.744 and truth["deit_tiny_patch16_224"] == 72.166  # the CSV's top1 column
    assert bench.ground_truth("imagenet64", "top1").equals(truth)  # the proxies' resolution changes no truth
    assert space.img_size("tf_efficientnet_b7") == 600 and space.img_size("resnet18") == 224
    with pytest.raises(InvalidInputError, match="metric must be one of top1"):
        bench.ground_truth("imagenet", "test")
    with pytest.raises(InvalidInputError, match="covers imagenet, imagenet64"):
        bench.ground_truth("cifar10", "top1")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("resnet18", "cnn"),
        ("deit_tiny_patch16_224", "vit"),
        ("mixer_b16_224", "vit"),  # token-mixing MLPs, no attention
        ("convnext_tiny", "cnn"),  # 7x7 depthwise convs and GELU, no token mixing
        ("resnest14d", "cnn"),  # split attention is channel attention
        ("botnet26t_256", "vit"),  # self-attention in the last stage
    ],
)
def test_model_kind_reads_the_modules(name: str, kind: str) -> None:
    assert model_kind(create(name, device="meta")) == kind


def test_model_kind_is_structural_not_nominal() -> None:
    attention = nn.MultiheadAttention(8, 2)
    assert model_kind(nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())) == "cnn"
    assert model_kind(nn.Sequential(nn.Linear(8, 8), attention)) == "vit"
    mixer = nn.Module()
    mixer.mlp_tokens = nn.Linear(16, 16)
    assert model_kind(nn.Sequential(nn.Conv2d(3, 8, 3), mixer)) == "vit"


def test_family_filters_and_variation_stay_in_the_family(shared_dir: Path) -> None:
    resnets = TimmZooSpace(family="resnet").models()
    for name in ("resnet18", "gluon_resnet50_v1b", "tv_resnet34", "wide_resnet50_2", "resnetrs50", "resnetv2_50"):
        assert name in resnets
    for name in ("seresnext26d_32x4d", "legacy_seresnet18", "ecaresnet50d", "skresnet18", "gcresnet33ts"):
        assert name in resnets
    for name in ("resnest50d", "res2net50_26w_4s", "cspresnet50", "tresnet_l", "gluon_senet154", "resmlp_12_224"):
        assert name not in resnets and family_of(name) is None
    assert len(resnets) == 89
    mbv2 = TimmZooSpace(family="mobilenetv2")
    assert mbv2.models() == ["mobilenetv2_100", "mobilenetv2_110d", "mobilenetv2_120d", "mobilenetv2_140"]
    with pytest.raises(InvalidArchError, match="not of family mobilenetv2"):
        mbv2.validate("resnet18")
    with pytest.raises(InvalidInputError, match="family must be one of resnet, mobilenetv2"):
        TimmZooSpace(family="vgg")
    space = TimmZooSpace()
    assert space.neighbours("mobilenetv2_100") == ["mobilenetv2_110d", "mobilenetv2_120d", "mobilenetv2_140"]
    rng = np.random.default_rng(1)
    assert all(space.mutate("resnet18", rng) in set(resnets) - {"resnet18"} for _ in range(10))
    children = {space.crossover("resnet18", "vgg11", rng) for _ in range(20)}
    assert children == {"resnet18", "vgg11"}


def test_kind_filter_and_kind_neighbours(shared_dir: Path) -> None:
    """Kinds come from benchmarks/results/timm_zoo_models.json when it matches the installed timm, else meta builds."""
    vits = TimmZooSpace(kind="vit")
    assert vits.size == 76 and "mixer_b16_224" in vits.models() and "resnet18" not in vits.models()
    assert TimmZooSpace(kind="cnn").size == 302
    peers = TimmZooSpace().neighbours("deit_tiny_patch16_224")  # no family: the other ViTs
    assert len(peers) == 75 and "deit_tiny_patch16_224" not in peers and set(peers) < set(vits.models())


def test_encode_and_build_at_the_own_size_or_a_requested_one(space: TimmZooSpace) -> None:
    code = space.encode("resnet18")
    assert code.shape == (4,) and code.dtype == np.float32
    assert code[0] == pytest.approx(math.log(11_689_512)) and code[2] == 0.0 and code[3] == 1.0
    assert code[1] == pytest.approx(math.log(1.814e9), rel=1e-3)  # 1.81 GMACs at 224 px
    counted = measure("deit_tiny_patch16_224", 224)  # what encode falls back to without the build script's file
    assert counted["kind"] == "vit" and counted["params"] == 5_717_416 and counted["device"] == "meta"
    assert counted["macs"] == pytest.approx(1.2537e9, rel=1e-4)  # DeiT-Ti: 1.3 GFLOPs (multiply-adds)
    vit = space.build("deit_tiny_patch16_224", num_classes=10, resolution=32)
    assert vit.patch_embed.img_size == (32, 32) and vit.head.out_features == 10
    assert space.build("resnet18").fc.out_features == 1000
    assert space.for_dataset("imagenet64").build("deit_tiny_patch16_224").patch_embed.img_size == (64, 64)
    with pytest.raises(InvalidInputError, match="cannot take 8x8 inputs: its patches are 16 pixels wide"):
        space.build("deit_tiny_patch16_224", resolution=8)
    with pytest.raises(InvalidInputError, match="unexpected options for timm_zoo build: pretrained"):
        space.build("resnet18", pretrained=True)


def _gelu_nwot(model: nn.Module, x: torch.Tensor) -> float:
    """NASWOT's ln|det K| from the signs of every GELU's input, computed here independently."""
    kernel = torch.zeros(x.shape[0], x.shape[0], dtype=torch.float64)

    def hook(module: nn.Module, args: tuple) -> None:
        c = (args[0].detach().flatten(1) > 0).double()
        kernel.add_(c @ c.T + (1 - c) @ (1 - c).T)

    handles = [m.register_forward_pre_hook(hook) for m in model.modules() if isinstance(m, nn.GELU)]
    with torch.no_grad():
        model(x)
    for handle in handles:
        handle.remove()
    return float(torch.linalg.slogdet(kernel).logabsdet)


def test_nwot_and_linear_regions_code_gelu_vits_and_leave_relu_models_unchanged(space: TimmZooSpace) -> None:
    batch = zeronas.load_batch("imagenet64", 8, seed=0)
    assert batch.source == "imagenet_sample_1000_64.npz"
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        vit = space.build("deit_tiny_patch16_224", resolution=64)
    scores = zeronas.score(
        vit, batch, ["nwot", "linear_regions"], seed=0, options={"linear_regions": {"input": "batch"}}
    )
    assert scores.details["nwot"].ok
    assert scores["nwot"] == pytest.approx(_gelu_nwot(vit, batch.x), rel=1e-9)
    assert scores.details["linear_regions"].ok and scores["linear_regions"] == 8.0  # 8 distinct images
    relu_only = zeronas.score(vit, batch, ["nwot"], seed=0, options={"nwot": {"activations": "relu"}})
    assert relu_only.details["nwot"].status == "not_applicable" and "no ReLU" in relu_only.details["nwot"].reason

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        cnn = space.build("resnet18", resolution=64)
    small = zeronas.load_batch("imagenet64", 4, seed=0)
    names = ["nwot", "linear_regions"]
    auto = zeronas.score(cnn, small, names, seed=0, options={"linear_regions": {"samples": 50}})
    relu = zeronas.score(
        cnn,
        small,
        names,
        seed=0,
        options={"nwot": {"activations": "relu"}, "linear_regions": {"samples": 50, "activations": "relu"}},
    )
    assert auto.details["nwot"].ok and auto["nwot"] == relu["nwot"] and auto["linear_regions"] == relu["linear_regions"]
    with pytest.raises(InvalidInputError, match="'activations' of proxy 'nwot' must be one of auto, relu, all"):
        zeronas.score(cnn, small, ["nwot"], options={"nwot": {"activations": "gelu"}})


def test_imagenet_data_sets_have_real_batches(shared_dir: Path) -> None:
    full = zeronas.load_batch("imagenet", 4, seed=0)
    assert full.source == "imagenet_sample_250_224.npz" and tuple(full.x.shape) == (4, 3, 224, 224)
    assert all(int(label) % 4 == 0 for label in full.y)  # every 4th class at 224 px
    small = zeronas.load_batch("imagenet64", 1000, seed=0, second=False)
    assert sorted(small.y.tolist()) == list(range(1000))


def test_score_command_on_a_zoo_model(cli) -> None:
    args = ("score", "--space", "timm_zoo", "--arch", "resnet18", "--resolution", "64", "-p", "params,nwot,synflow")
    result = cli(*args, "--json")
    assert result.code == 0, result.err
    payload = json.loads(result.out)
    assert payload["model"] == "resnet18"
    assert payload["proxies"]["params"]["value"] == pytest.approx(11.181642)  # 10-class head (cifar10 default)
    assert all(p["status"] == "ok" for p in payload["proxies"].values())
    result = cli(*args[:-2], "--dataset", "imagenet64", "-p", "params", "--json")
    assert json.loads(result.out)["proxies"]["params"]["value"] == pytest.approx(11.689512)
    cli("score", "--space", "timm_zoo", "--arch", "resnet181").assert_clean_error("did you mean resnet18")


def test_evaluate_command_on_three_small_models(cli, tmp_path: Path) -> None:
    """Sample seed 39 draws xcit_nano_12_p8_224, regnetx_002 and efficientnet_es (all under 6 M parameters)."""
    args = ["evaluate", "--space", "timm_zoo", "--dataset", "imagenet64", "--sample", "3", "--sample-seed", "39"]
    result = cli(*args, "-p", "params", "--seeds", "0", "-b", "4", "--workers", "1", "--out", tmp_path / "report")
    assert result.code == 0, result.err
    assert "0 failed" in result.out
    (whole,) = (tmp_path / "report").glob("timm_zoo_imagenet64_????????????????_summary.csv")
    row = pd.read_csv(whole).set_index("proxy").loc["params"]
    assert row["cells_all"] == 3 and row["failed"] == 0 and row["spr_all"] == pytest.approx(1.0)
    truth = get_benchmark("timm_zoo").ground_truth("imagenet64", "top1")
    assert row["best_acc"] == pytest.approx(truth["efficientnet_es"])  # the largest of the three (5.44 M)
    assert row["optimum"] == pytest.approx(truth.max())
    # the CNN subset holds regnetx_002 and efficientnet_es; its optimum and Top-k% are the CNNs' own
    cnn = pd.read_csv(whole.with_name(whole.name.replace("_summary", "_cnn_summary"))).set_index("proxy").loc["params"]
    assert cnn["cells_all"] == 2 and cnn["best_acc"] == pytest.approx(truth["efficientnet_es"])
    vit = pd.read_csv(whole.with_name(whole.name.replace("_summary", "_vit_summary"))).set_index("proxy").loc["params"]
    vit_names = get_benchmark("timm_zoo").subset_keys("vit")
    assert vit["cells_all"] == 1 and vit["optimum"] == pytest.approx(truth[vit_names].max())
    assert truth[vit_names].max() < truth.max()
    assert "subset resnet: no stored rows" in result.out  # none of the three is a ResNet


def test_zoo_subsets_split_kinds_and_name_families() -> None:
    bench = get_benchmark("timm_zoo")
    assert bench.subset_names() == ["cnn", "vit", "resnet", "mobilenetv2"]
    cnn, vit = set(bench.subset_keys("cnn")), set(bench.subset_keys("vit"))
    assert (len(cnn), len(vit)) == (302, 76) and not cnn & vit
    assert {"resnet50", "wide_resnet50_2", "resnext50_32x4d"} <= set(bench.subset_keys("resnet")) <= cnn
    assert bench.subset_keys("mobilenetv2") == [
        "mobilenetv2_100",
        "mobilenetv2_110d",
        "mobilenetv2_120d",
        "mobilenetv2_140",
    ]
    assert "deit_tiny_patch16_224" in vit and "Fig 11" in bench.survey_claim("resnet")
    with pytest.raises(InvalidInputError, match="timm_zoo has no subset 'vits' \\(its subsets: cnn, vit, resnet"):
        bench.subset_keys("vits")
    assert get_benchmark("nb201").subset_names() == []
