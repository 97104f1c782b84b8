"""The NTK gram (PROXIES.md §10): every method against the per-sample reference loop, and ntk_cond through `score`.

The reference is the definition written plainly: one backward of Σ_k f_k(x_i) per sample through
the whole train-mode batch graph, rows concatenated, Θ = G Gᵀ in float64 on a float64 copy of G.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import zeronas
from zeronas.data import synthetic_batch
from zeronas.evaluation.scoring import build_seeded
from zeronas.proxies import ntk_gram as ng

#: five NB201 cells from parameter-free (skips only) to all-3x3 (the largest); every one has BN
CELLS = (
    "|skip_connect~0|+|skip_connect~0|none~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|avg_pool_3x3~1|nor_conv_1x1~2|",
    "|none~0|+|avg_pool_3x3~0|skip_connect~1|+|nor_conv_3x3~0|nor_conv_1x1~1|nor_conv_1x1~2|",
    "|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|",
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
)
BATCH = 10
#: (method, chunk): chunks that split the batch unevenly and that cover it at once
VARIANTS = (("loop", 1), ("batched", 4), ("batched", 16), ("vmap", 4), ("vmap", 16))


def weight_params(model: nn.Module) -> list[torch.Tensor]:
    return [p for name, p in model.named_parameters() if "weight" in name]


def reference_gram(logits: torch.Tensor, params: list[torch.Tensor]) -> torch.Tensor:
    """Θ by the definition; unused parameters contribute zero columns. The graph is kept."""
    summed = logits.sum(1)
    rows = []
    for i in range(summed.shape[0]):
        grads = torch.autograd.grad(summed[i], params, retain_graph=True, allow_unused=True)
        flat = [(torch.zeros_like(p) if g is None else g).reshape(-1) for p, g in zip(params, grads, strict=True)]
        rows.append(torch.cat(flat))
    g = torch.stack(rows).to(torch.float64)
    return g @ g.T


def reference_kappa(theta: torch.Tensor) -> float:
    eig = torch.linalg.eigvalsh(theta)
    return float(eig[-1]) / max(float(eig[0]), float(eig[-1]) * 1e-30)


def normalised_error(theta: torch.Tensor, ref: torch.Tensor) -> float:
    """max |ΔΘ_ij| / sqrt(Θ_ii Θ_jj): bounded by twice the largest relative error of a row of G."""
    d = ref.diagonal().sqrt()
    return float(((theta - ref).abs() / (d[:, None] * d[None, :])).max())


def assert_matches(theta: torch.Tensor, ref: torch.Tensor, method: str) -> None:
    """Loop and batched compute the same float32 rows as the reference: only the float64 summation order differs.

    torch.func.vmap runs batched convolution kernels whose float32 rounding differs from the
    per-sample backward, so its rows agree to float32 precision (|Δg_i| ≲ 1e-6 |g_i|), and by
    Cauchy-Schwarz |ΔΘ_ij| ≤ 2e-6 sqrt(Θ_ii Θ_jj); an entrywise relative bound cannot hold for
    entries that cancel to near zero.
    """
    assert theta.dtype == torch.float64 and theta.shape == ref.shape
    assert torch.equal(theta, theta.T)
    if method == "vmap":
        assert normalised_error(theta, ref) <= 2e-6
    else:
        assert float(((theta - ref).abs() / ref.abs()).max()) <= 1e-10


@pytest.fixture(scope="module")
def cells() -> dict[str, tuple[nn.Module, torch.Tensor, torch.Tensor]]:
    """Each cell: its model, train-mode logits on a synthetic 32 px batch (graph kept) and the reference Θ."""
    space = zeronas.create_space("nb201")
    batch = synthetic_batch(10, 32, BATCH, 0)
    out = {}
    for key in CELLS:
        model = build_seeded(space, key, 10, 0).train()
        logits = model(batch.x)
        out[key] = (model, logits, reference_gram(logits, weight_params(model)))
    return out


@pytest.mark.parametrize(("method", "chunk"), VARIANTS)
@pytest.mark.parametrize("key", CELLS)
def test_gram_equals_reference_loop(cells, key: str, method: str, chunk: int) -> None:
    model, logits, ref = cells[key]
    theta = ng.ntk_gram(logits, weight_params(model), retain=True, method=method, chunk=chunk)
    assert_matches(theta, ref, method)
    assert float(ref.diagonal().min()) > 0  # every sample reaches the weights: a real comparison


def test_default_method_is_the_loop() -> None:
    assert ng.DEFAULT_METHOD == "loop"


def test_batch_statistics_couple_the_rows(cells) -> None:
    """Θ is taken through the batch graph: per-sample forwards (BN statistics of one image) give another Θ."""
    key = CELLS[3]
    model, logits, ref = cells[key]
    batch = synthetic_batch(10, 32, BATCH, 0)
    params = weight_params(model)
    rows = []
    for i in range(BATCH):
        grads = torch.autograd.grad(model(batch.x[i : i + 1]).sum(), params)
        rows.append(torch.cat([g.reshape(-1) for g in grads]))
    g = torch.stack(rows).to(torch.float64)
    uncoupled = g @ g.T
    assert normalised_error(uncoupled, ref) > 1e-2
    theta = ng.ntk_gram(logits, params, retain=True)
    assert normalised_error(theta, ref) < 1e-12 < normalised_error(theta, uncoupled)


class UnusedWeight(nn.Module):
    """Conv-BN-ReLU-pool-Linear with a Linear that the forward never calls (its weight's gradient is None)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 5)
        self.unused = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.bn(self.conv(x))).mean((2, 3)))


@pytest.mark.parametrize(("method", "chunk"), VARIANTS)
def test_unused_weight_gives_zero_columns(method: str, chunk: int) -> None:
    torch.manual_seed(0)
    model = UnusedWeight().train()
    logits = model(synthetic_batch(5, 16, 8, 0).x)
    params = weight_params(model)
    assert params[-1] is model.unused.weight
    used = params[:-1]
    g = torch.full((8, sum(p.numel() for p in params)), float("nan"))
    ng.fill_rows(g, logits.sum(1), params, range(8), retain=True, method=method, chunk=chunk)
    assert torch.equal(g[:, -model.unused.weight.numel() :], torch.zeros(8, 16))
    assert bool(torch.isfinite(g).all())
    ref = reference_gram(logits, used)
    assert_matches(ng.ntk_gram(logits, params, retain=True, method=method, chunk=chunk), ref, method)


def test_unknown_method_is_refused() -> None:
    model = UnusedWeight()
    logits = model(torch.randn(2, 3, 8, 8))
    with pytest.raises(ValueError, match="unknown NTK gram method 'jacrev'"):
        ng.ntk_gram(logits, weight_params(model), retain=False, method="jacrev")


def test_graph_freed_unless_retained() -> None:
    """retain=False lets the last backward free the graph (the shared pass's last artifact); retain=True keeps it."""
    model = UnusedWeight().train()
    for method, chunk in VARIANTS:
        logits = model(torch.randn(4, 3, 8, 8))
        ng.ntk_gram(logits, weight_params(model), retain=True, method=method, chunk=chunk)
        ng.ntk_gram(logits, weight_params(model), retain=False, method=method, chunk=chunk)
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            torch.autograd.grad(logits.sum(), weight_params(model)[0])


def score_kappa(model: nn.Module, batch: zeronas.Batch) -> float:
    scores = zeronas.score(model, batch, ["ntk_cond"], seed=0)
    assert scores.details["ntk_cond"].status == "ok", scores.details["ntk_cond"]
    return -scores["ntk_cond"]


def compare_scores(
    keys: list[str] | tuple[str, ...], batch: zeronas.Batch, monkeypatch, methods: tuple[str, ...]
) -> None:
    """ntk_cond through `zeronas.score` for each method as the default vs κ of the reference Θ.

    Θ from the loop differs from the reference only by float64 rounding (~1e-15 relative), which moves
    κ by at most ~κ·1e-13; vmap's float32-level row differences move it by up to ~κ·1e-5.
    """
    space = zeronas.create_space("nb201")
    for key in keys:
        model = build_seeded(space, key, 10, 0)
        work = build_seeded(space, key, 10, 0).train()
        kappa = reference_kappa(reference_gram(work(batch.x), weight_params(work)))
        for method in methods:
            monkeypatch.setattr(ng, "DEFAULT_METHOD", method)
            value = score_kappa(model, batch)
            relative = abs(value - kappa) / kappa
            assert relative <= kappa * (1e-5 if method == "vmap" else 1e-13) + 1e-12, (key, method, value, kappa)


def test_ntk_cond_through_score_unchanged(monkeypatch) -> None:
    compare_scores(CELLS, synthetic_batch(10, 32, BATCH, 0), monkeypatch, ("loop", "vmap"))


@pytest.mark.slow
def test_ntk_cond_on_40_cells_real_batch(shared_dir, monkeypatch) -> None:
    space = zeronas.create_space("nb201")
    keys = space.sample_many(40, np.random.default_rng(1))
    compare_scores(keys, zeronas.load_batch("cifar10", 64, 0), monkeypatch, ("loop",))
