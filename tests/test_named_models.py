"""Every proxy on a timm ResNet-18 and ViT-Tiny/16 at reduced resolution: finite or clearly not applicable."""

from __future__ import annotations

import math

import pytest

import zeronas
from zeronas.spaces.zoo import build_named_model

#: post-survey proxies a ViT has no input for: no ReLU (swap), no 4-D feature maps (AZ-NAS), no mu and sigma
VIT_NEW = {"swap", "reg_swap", "az_expressivity", "az_progressivity", "az_trainability"}  # nwot: GELU


@pytest.mark.parametrize(
    ("spec", "kwargs", "resolution", "not_applicable"),
    [
        ("timm:resnet18", {}, 64, {"reg_swap"}),  # reg_swap: no mu and sigma given
        ("timm:vit_tiny_patch16_224", {"img_size": 64}, 64, {"linear_regions", "nn_mass", "nn_degree", *VIT_NEW}),
    ],
)
def test_every_proxy_on_timm_models(spec, kwargs, resolution, not_applicable):
    model = build_named_model(spec, num_classes=10, **kwargs)
    batch = zeronas.load_batch("cifar10", 12, seed=0, resolution=resolution, source="synthetic")
    scores = zeronas.score(model, batch, "all", seed=0)
    for name, detail in scores.details.items():
        if name in not_applicable:
            assert detail.status == "not_applicable", (name, detail)
            assert detail.reason
        else:
            assert detail.ok and math.isfinite(detail.value), (name, detail.status, detail.reason)
    if "vit" in spec:  # the ReLU-only definition does not apply; the default codes GELU's pre-activation sign
        relu_only = zeronas.score(model, batch, ["nwot"], seed=0, options={"nwot": {"activations": "relu"}})
        assert "no ReLU" in relu_only.details["nwot"].reason


def test_input_size_builds_fixed_size_models_for_the_batch_and_leaves_cnns_alone():
    vit = build_named_model("timm:vit_tiny_patch16_224", num_classes=10, input_size=64)
    assert vit.patch_embed.img_size == (64, 64)  # 4 x 4 patches: position embeddings for 16 tokens
    cnn = build_named_model("timm:resnet18", num_classes=10, input_size=64)  # ResNet takes no img_size
    reference = build_named_model("timm:resnet18", num_classes=10)
    assert sum(p.numel() for p in cnn.parameters()) == sum(p.numel() for p in reference.parameters())


def test_gradsign_not_applicable_when_batch1_bn_sees_one_value():
    model = build_named_model("timm:resnet18", num_classes=10)
    batch = zeronas.load_batch("cifar10", 4, seed=0, resolution=32, source="synthetic")
    detail = zeronas.score(model, batch, ["gradsign"]).details["gradsign"]
    assert detail.status == "not_applicable" and "batch-1 forward fails" in detail.reason
