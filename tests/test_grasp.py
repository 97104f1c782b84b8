"""GraSP's Hessian-gradient product: the exact default, the finite-difference option, the shared pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.stats import spearmanr

import zeronas
from zeronas.data import synthetic_batch
from zeronas.errors import InvalidInputError
from zeronas.evaluation.scoring import build_seeded
from zeronas.proxies import get_proxy
from zeronas.proxies.context import ProxyContext, prepare_copy, prunable_layers
from zeronas.proxies.gradient import grasp
from zeronas.proxies.shared_pass import run_shared_pass

FD = {"grasp": {"hvp": "finite_difference"}}
CELLS = [
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|avg_pool_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|",
    "|none~0|+|avg_pool_3x3~0|skip_connect~1|+|nor_conv_3x3~0|nor_conv_1x1~1|nor_conv_1x1~2|",
    "|skip_connect~0|+|skip_connect~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|",
    "|avg_pool_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|skip_connect~0|skip_connect~1|nor_conv_3x3~2|",
]
MORE_CELLS = [
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|nor_conv_3x3~0|none~1|skip_connect~2|",
    "|nor_conv_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|none~0|nor_conv_1x1~1|skip_connect~2|",
    "|skip_connect~0|+|none~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|skip_connect~2|",
    "|skip_connect~0|+|skip_connect~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|",
]


@pytest.fixture(scope="module")
def data() -> zeronas.Batch:
    return synthetic_batch(10, 32, 12, seed=0)


def cell(key: str) -> torch.nn.Module:
    return build_seeded(zeronas.create_space("nb201"), key, 10, 0)


def double_backward_grasp(model: torch.nn.Module, data: zeronas.Batch) -> float:
    """The reference: gradient with create_graph, then the gradient of <stopgrad(g), g>."""
    net = prepare_copy(model)
    weights = [m.weight for _, m in prunable_layers(net)]
    g = torch.autograd.grad(F.cross_entropy(net(data.x), data.y), weights, create_graph=True)
    hg = torch.autograd.grad(sum((t.detach() * t).sum() for t in g), weights)
    return float(sum((-w.detach().double() * h.double()).sum() for w, h in zip(weights, hg, strict=True)))


@pytest.fixture(scope="module")
def exact_and_fd(data: zeronas.Batch) -> dict[str, tuple[float, float, float]]:
    """key -> (reference double backward, engine default, engine finite difference)."""
    out = {}
    for key in CELLS + MORE_CELLS:
        model = cell(key)
        default = zeronas.score(model, data, ["grasp"], seed=0)["grasp"]
        approx = zeronas.score(model, data, ["grasp"], seed=0, options=FD)["grasp"]
        out[key] = (double_backward_grasp(model, data) if key in CELLS else float("nan"), default, approx)
    return out


def test_exact_default_equals_double_backward(exact_and_fd):
    values = [exact_and_fd[k] for k in CELLS]
    for reference, default, _ in values:
        assert default == pytest.approx(reference, rel=1e-5)
    assert len({round(v[0], 6) for v in values}) == len(CELLS)  # the cells really differ


def test_finite_difference_tracks_exact(exact_and_fd):
    """Slopes frozen at θ, ε = 3e-6·|θ|: about 1% median error on NB201 cells; 5% leaves room for rounding.

    Without frozen slopes the same cells ranked with Spearman -0.38; a wrong scale fails the error bound.
    """
    exact = np.array([v[1] for v in exact_and_fd.values()])
    approx = np.array([v[2] for v in exact_and_fd.values()])
    assert spearmanr(exact, approx).statistic >= 0.95
    assert np.median(np.abs(approx - exact) / np.abs(exact)) < 0.05
    assert not np.array_equal(exact, approx)  # a separate computation, not the exact value reused


def test_hvp_is_a_declared_option(data):
    spec = get_proxy("grasp")
    assert spec.defaults == {"hvp": "exact"}
    with pytest.raises(InvalidInputError, match="exact, finite_difference"):
        zeronas.score(cell(CELLS[2]), data, ["grasp"], options={"grasp": {"hvp": "fd"}})


@pytest.mark.parametrize("options", [None, FD], ids=["exact", "finite_difference"])
def test_gradient_proxies_are_the_same_fused_and_alone(data, options):
    model = cell(CELLS[0])
    names = ["grad_norm", "snip", "plain", "fisher", "grasp"]
    fused = zeronas.score(model, data, names, seed=0, options=options)
    assert fused.failures() == {}
    for name in names:
        alone = zeronas.score(model, data, [name], seed=0, options=options if name == "grasp" else None)
        assert fused[name] == alone[name], name


def test_grasp_does_not_depend_on_the_proxies_before_it(data):
    """A proxy taking the working copy first makes the context run the deferred product beforehand."""
    model = cell(CELLS[1])
    first = zeronas.score(model, data, ["synflow", "zen", "grasp"], seed=0)
    alone = zeronas.score(model, data, ["grasp", "synflow", "zen"], seed=0)
    assert first.failures() == {} and dict(first) == dict(alone)


def test_finite_difference_skips_the_exact_product_and_restores_the_copy(data):
    model = cell(CELLS[0])
    ctx = ProxyContext(model=model, x=data.x, y=data.y)
    run_shared_pass(ctx, {"grads", "hessian"})
    value = grasp(ctx, hvp="finite_difference")
    assert ctx.hessian_grads == {}  # the double backward was dropped, not run
    net = ctx._working._net  # as the option left it: a checkout would restore it
    for name, module in prunable_layers(net):
        assert torch.equal(module.weight, ctx.weights[name]), name
        assert not module._forward_hooks
    assert not any(m._forward_hooks for m in net.modules())
    exact = zeronas.score(model, data, ["grasp"], seed=0)["grasp"]
    assert value == pytest.approx(exact, rel=0.05)
    assert value == zeronas.score(model, data, ["grasp"], seed=0, options=FD)["grasp"]


def test_deferred_hessian_seconds_are_charged_to_grasp_not_to_the_proxy_that_triggered_them(
    data: zeronas.Batch, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from zeronas.proxies import shared_pass

    real_clock, skipped = time.perf_counter, [0.0]
    original = shared_pass._deferred_hessian

    def slow(*args: object) -> object:
        work = original(*args)

        def run() -> None:  # the deferred product "takes" 1,000 s on the clock the engine reads
            work()
            skipped[0] += 1000.0

        return run

    monkeypatch.setattr(time, "perf_counter", lambda: real_clock() + skipped[0])
    monkeypatch.setattr(shared_pass, "_deferred_hessian", slow)
    scores = zeronas.score(
        cell(CELLS[0]), data, proxies=["synflow", "grasp"], seed=0
    )  # synflow restores the copy first
    assert scores.details["grasp"].status == "ok"
    assert scores.details["synflow"].seconds < 1000.0 <= scores.details["grasp"].seconds
    fd = zeronas.score(cell(CELLS[0]), data, proxies=["synflow", "grasp"], seed=0, options=FD)
    assert skipped[0] == 1000.0 and fd.details["grasp"].seconds < 1000.0  # finite difference: no exact product
