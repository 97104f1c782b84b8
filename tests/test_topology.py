"""NN-Mass and NN-Degree (docs/proxies.md §nn_mass, §nn_degree): cells found in the graph, hand-worked values."""

from __future__ import annotations

import math

import pytest
import torch
import torchvision
from torch import nn

import zeronas
from zeronas.proxies import get_proxy
from zeronas.proxies.topology import find_cells
from zeronas.proxies.topology_graph import _autograd_graph, _fx_graph, layer_graph

torch.set_num_threads(1)
X = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))


def batch(n: int = 2) -> zeronas.Batch:
    return zeronas.load_batch("cifar10", n, 0, source="synthetic", num_classes=10)


def values(model: nn.Module) -> tuple[float, float]:
    cells = find_cells(layer_graph(model, X[:1]))
    return sum(c.mass for c in cells), sum(c.degree for c in cells)


class Basic(nn.Module):
    """Two 3x3 convs beside an identity shortcut, or a 1x1 projection when the shape changes."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.proj = None
        if stride != 1 or c_in != c_out:
            self.proj = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(out + (x if self.proj is None else self.proj(x)))


class TinyResNet(nn.Module):
    """Stem 3->8, stage 1: two 8-wide blocks, stage 2: 8->16 (projection) then 16->16."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, 1, 1)
        self.stages = nn.Sequential(Basic(8, 8), Basic(8, 8), Basic(8, 16, 2), Basic(16, 16))
        self.head = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)).mean((2, 3)))


class Untraceable(TinyResNet):
    """The same network with data-dependent control flow, which torch.fx cannot trace."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if float(x.detach().mean()) > -1e9:
            x = self.stem(x)
        return self.head(self.stages(x).mean((2, 3)))


# Basic block C_in -> C_out: layers v0 (C_in), v1 (C_out), v2 = the sum; v2 receives C_in skip channels.
# Mass: candidates of v2 = C_in, links = min(C_in, C_in) -> density 1, neurons v0 + v1 = C_in + C_out.
# Degree: edges C_in*C_out (conv1) + C_out*C_out (conv2) + C_in*C_out (skip), nodes C_in + 2*C_out.
TINY_RESNET_MASS = (8 + 8) + (8 + 8) + (8 + 16) + (16 + 16)  # = 88
TINY_RESNET_DEGREE = (
    2 * (8 * 8 + 8 * 8 + 8 * 8) / (8 + 2 * 8)  # two identity blocks of width 8: 8 each
    + (8 * 16 + 16 * 16 + 8 * 16) / (8 + 2 * 16)  # 512 / 40 = 12.8
    + (16 * 16 + 16 * 16 + 16 * 16) / (16 + 2 * 16)  # 16
)  # = 44.8


def test_tiny_resnet_by_hand():
    mass, degree = values(TinyResNet())
    assert TINY_RESNET_MASS == 88
    assert math.isclose(TINY_RESNET_DEGREE, 44.8)
    assert mass == pytest.approx(TINY_RESNET_MASS)
    assert degree == pytest.approx(TINY_RESNET_DEGREE)
    cells = find_cells(layer_graph(TinyResNet(), X[:1]))
    assert [c.widths for c in cells] == [(8, 8, 8), (8, 8, 8), (8, 16, 16), (16, 16, 16)]
    assert [c.links for c in cells] == [(0, 0, 8), (0, 0, 8), (0, 0, 8), (0, 0, 16)]


def test_bottleneck_block_by_hand():
    class Bottleneck(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(16, 4, 1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1), nn.ReLU())
            self.expand = nn.Conv2d(4, 16, 1)
            self.stem = nn.Conv2d(3, 16, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.stem(x)
            return self.expand(self.body(x)) + x

    # layers v0 = 16, v1 = 4, v2 = 4, v3 = the sum (16), skip of 16 channels into v3
    # candidates: v2 <- v0 = 16, v3 <- v0 + v1 = 20; total 36; links min(16, 20) = 16
    # mass = 16/36 * (16 + 4 + 4) = (C_in + 2w) C_in / (2 C_in + w) with C_in = 16, w = 4
    # degree = (16*4 + 4*4 + 4*16 + 16*16) / (16 + 4 + 4 + 16) = 400 / 40
    mass, degree = values(Bottleneck())
    assert mass == pytest.approx((16 + 2 * 4) * 16 / (2 * 16 + 4))
    assert degree == pytest.approx(10.0)


class DenseLayer(nn.Module):
    def __init__(self, c_in: int) -> None:
        super().__init__()
        self.bottleneck = nn.Sequential(nn.BatchNorm2d(c_in), nn.ReLU(), nn.Conv2d(c_in, 8, 1))
        self.grow = nn.Sequential(nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 4, 3, padding=1))

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        return self.grow(self.bottleneck(torch.cat(feats, 1)))


class TinyDenseNet(nn.Module):
    """Stem 3->6, one dense block of 3 layers (1x1 conv to 8, 3x3 conv to growth 4), 6 + 3*4 = 18 channels out."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 6, 3, padding=1)
        self.layers = nn.ModuleList(DenseLayer(6 + 4 * i) for i in range(3))
        self.head = nn.Linear(18, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [self.stem(x)]
        for layer in self.layers:
            feats.append(layer(feats))
        return self.head(torch.cat(feats, 1).mean((2, 3)))


def test_tiny_dense_block_by_hand():
    # layers: v0 = 6 (block input), then per dense layer l: p_l = 8 (1x1 conv), q_l = 4 (3x3 conv)
    widths = (6, 8, 4, 8, 4, 8, 4)  # sum 42
    # p_2 receives v0 (6) beside its predecessor q_1; p_3 receives v0 + q_1 = 10 beside q_2
    links = (0, 0, 0, 6, 0, 10, 0)
    # candidates of layer i >= 2: every layer at least two back: 6, 6+8, 6+8+4, 6+8+4+8, 6+8+4+8+4
    candidates = 6 + 14 + 18 + 26 + 30  # 94
    mass = (6 + 10) / candidates * sum(widths)  # 16/94 * 42
    # edges: p_1 <- v0: 6*8; q_l <- p_l: 8*4; p_l <- q_(l-1): 4*8; long-range: 6*8 into p_2, 10*8 into p_3
    degree = (6 * 8 + 3 * 8 * 4 + 2 * 4 * 8 + 6 * 8 + 10 * 8) / sum(widths)  # 336 / 42 = 8
    cells = find_cells(layer_graph(TinyDenseNet(), X[:1]))
    assert len(cells) == 1 and cells[0].kind == "dense"
    assert cells[0].widths == widths and cells[0].links == links
    assert sum(c.mass for c in cells) == pytest.approx(mass) == pytest.approx(672 / 94)
    assert sum(c.degree for c in cells) == pytest.approx(degree) == pytest.approx(8.0)


class InvertedResidual(nn.Module):
    def __init__(self, c_in: int, c_out: int, hidden: int, stride: int) -> None:
        super().__init__()
        self.skip = stride == 1 and c_in == c_out
        self.body = nn.Sequential(
            nn.Conv2d(c_in, hidden, 1, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(),
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(),
            nn.Conv2d(hidden, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x) if self.skip else self.body(x)


def test_tiny_inverted_residual_net_by_hand():
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        InvertedResidual(8, 8, 16, 1),  # residual
        InvertedResidual(8, 12, 16, 2),  # no shortcut: not a cell
        InvertedResidual(12, 12, 24, 1),  # residual
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(12, 10),
    )
    # MobileNetV2 reference: (C_in + 2h) C_in / (2 C_in + h) per residual block
    mass = (8 + 2 * 16) * 8 / (2 * 8 + 16) + (12 + 2 * 24) * 12 / (2 * 12 + 24)  # 10 + 15
    # degree: (C_in h + h [depthwise] + h C_out + C_in C_out [skip]) / (C_in + 2h + C_out)
    degree = (8 * 16 + 16 + 16 * 8 + 8 * 8) / (8 + 32 + 8) + (12 * 24 + 24 + 24 * 12 + 12 * 12) / (12 + 48 + 12)
    got_mass, got_degree = values(net)
    assert got_mass == pytest.approx(mass) == pytest.approx(25.0)
    assert got_degree == pytest.approx(degree) == pytest.approx(7.0 + 744 / 72)


def test_fallback_to_autograd_graph_matches_trace():
    traceable = TinyResNet()
    assert [c.widths for c in find_cells(_fx_graph(traceable, 3))] == [
        c.widths for c in find_cells(_autograd_graph(traceable, X[:1]))
    ]
    net = Untraceable()
    net.train()
    with pytest.raises(Exception):  # noqa: B017  (whatever torch.fx raises)
        torch.fx.symbolic_trace(net)
    mass, degree = values(net)
    assert mass == pytest.approx(TINY_RESNET_MASS) and degree == pytest.approx(TINY_RESNET_DEGREE)
    assert all(m.training for m in net.modules())  # modes restored after the eval-mode forward
    assert all(p.grad is None for p in net.parameters())


def _meta(builder) -> nn.Module:
    """A torchvision model on the meta device: the trace needs its structure, not its weights."""
    with torch.device("meta"):
        return builder()


def test_torchvision_resnets_in_the_order_of_the_definition():
    def basic(c_in: int, c_out: int) -> int:  # reference BasicBlock mass: C_in + C_out, every block
        return c_in + c_out

    def bottleneck(c_in: int, w: int) -> float:  # reference Bottleneck mass, every block
        return (c_in + 2 * w) * c_in / (2 * c_in + w)

    # resnet18: stages of 2 blocks at 64, 128, 256, 512; the first block of stages 2-4 halves C_in
    r18 = 2 * basic(64, 64) + sum(basic(c // 2, c) + basic(c, c) for c in (128, 256, 512))  # 3392
    # resnet34: 3, 4, 6, 3 blocks
    r34 = 3 * basic(64, 64) + sum(basic(c // 2, c) + (n - 1) * basic(c, c) for c, n in ((128, 4), (256, 6), (512, 3)))
    # wide_resnet50_2: bottleneck width w = 2 * planes, C_in = 4 * planes except the first block of each stage
    wrn = sum(
        bottleneck(first_in, 2 * planes) + (n - 1) * bottleneck(4 * planes, 2 * planes)
        for planes, n, first_in in ((64, 3, 64), (128, 4, 256), (256, 6, 512), (512, 3, 1024))
    )
    assert (r18, r34, wrn) == (3392, 7104, pytest.approx(10883.2))
    got = {
        name: find_cells(_fx_graph(_meta(builder), 3))
        for name, builder in (
            ("r18", torchvision.models.resnet18),
            ("r34", torchvision.models.resnet34),
            ("wrn", torchvision.models.wide_resnet50_2),
        )
    }
    masses = {name: sum(c.mass for c in cells) for name, cells in got.items()}
    degrees = {name: sum(c.degree for c in cells) for name, cells in got.items()}
    assert masses == {"r18": pytest.approx(r18), "r34": pytest.approx(r34), "wrn": pytest.approx(wrn)}
    assert masses["r18"] < masses["r34"] < masses["wrn"]
    assert degrees["r18"] < degrees["r34"] < degrees["wrn"]
    assert [len(cells) for cells in got.values()] == [8, 16, 16]


def test_torchvision_densenet121():
    # each block: input C0, n layers of (1x1 conv to 128, 3x3 conv to growth 32); density 1/... by the rule
    def block(c0: int, n: int) -> float:
        widths = c0 + n * (128 + 32)
        links = sum(c0 + 32 * (ell - 2) for ell in range(2, n + 1))  # into p_ell: all features but q_(ell-1)
        cand_p = sum(c0 + (ell - 2) * 160 + 128 for ell in range(2, n + 1))  # p_ell: up to p_(ell-1)
        cand_q = sum(c0 + (ell - 1) * 160 for ell in range(1, n + 1))  # q_ell: up to q_(ell-1)
        return links / (cand_p + cand_q) * widths

    expected = block(64, 6) + block(128, 12) + block(256, 24) + block(512, 16)
    cells = find_cells(_fx_graph(_meta(torchvision.models.densenet121), 3))
    assert [c.kind for c in cells] == ["dense"] * 4
    assert [len(c.widths) for c in cells] == [13, 25, 49, 33]
    assert sum(c.mass for c in cells) == pytest.approx(expected)


def test_score_through_the_engine():
    net = TinyResNet()
    scores = zeronas.score(net, batch(), proxies="nn_mass,nn_degree")
    assert scores.details["nn_mass"].status == "ok"
    assert scores["nn_mass"] == pytest.approx(TINY_RESNET_MASS) == pytest.approx(scores.details["nn_mass"].raw)
    assert scores["nn_degree"] == pytest.approx(TINY_RESNET_DEGREE)
    for name in ("nn_mass", "nn_degree"):
        spec = get_proxy(name)
        assert spec.family == "topology" and spec.needs == frozenset({"static"}) and spec.higher_is_better
        assert name in zeronas.list_proxies("topology")


def test_vit_is_not_applicable():
    timm = pytest.importorskip("timm")
    vit = timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=32, patch_size=8, num_classes=10)
    scores = zeronas.score(vit, batch(), proxies="nn_mass,nn_degree")
    for name in ("nn_mass", "nn_degree"):
        detail = scores.details[name]
        assert detail.status == "not_applicable" and math.isnan(detail.value)
        assert "residual block" in detail.reason and "\n" not in detail.reason


def test_networks_without_identifiable_cells():
    class Inception(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = nn.Conv2d(3, 4, 1), nn.Conv2d(3, 4, 3, padding=1)
            self.head = nn.Linear(8, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(torch.cat([self.a(x), self.b(x)], 1).mean((2, 3)))

    plain = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(10))
    plain(X)
    scores = zeronas.score(Inception(), batch(), proxies="nn_mass")
    assert scores.details["nn_mass"].status == "not_applicable"
    assert "concatenation" in scores.details["nn_mass"].reason
    scores = zeronas.score(plain, batch(), proxies="nn_mass,nn_degree")
    assert scores.details["nn_mass"].status == "ok" and scores["nn_mass"] == 0.0  # no links: density 0
    assert scores.details["nn_degree"].status == "not_applicable"
    assert "no residual or dense cells" in scores.details["nn_degree"].reason


def test_mobilenet_v2_and_timm_models_match_the_reference_formulas():
    timm = pytest.importorskip("timm")

    def inverted(c: int, t: int = 6) -> float:  # residual inverted block: (C + 2h) C / (2C + h), h = t C
        return (c + 2 * t * c) * c / (2 * c + t * c)

    # settings (t, c, n, s): only blocks 2..n of a stage (and none of the 16- and 320-channel stages) have shortcuts
    mbv2 = inverted(24) + 2 * inverted(32) + 3 * inverted(64) + 2 * inverted(96) + 2 * inverted(160)
    assert mbv2 == pytest.approx(39 + 104 + 312 + 312 + 520)  # = 1287
    r18 = 2 * (64 + 64) + sum((c // 2 + c) + 2 * c for c in (128, 256, 512))  # basic blocks: C_in + C_out
    models = {
        "tv_mbv2": _meta(torchvision.models.mobilenet_v2),
        "timm_mbv2": timm.create_model("mobilenetv2_100", pretrained=False),
        "timm_r18": timm.create_model("resnet18", pretrained=False),
    }
    masses = {name: sum(c.mass for c in find_cells(_fx_graph(m, 3))) for name, m in models.items()}
    assert masses == {"tv_mbv2": pytest.approx(mbv2), "timm_mbv2": pytest.approx(mbv2), "timm_r18": pytest.approx(r18)}
