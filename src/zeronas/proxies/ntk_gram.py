"""The empirical NTK gram Θ = G Gᵀ of the shared pass (docs/proxies.md §ntk_cond), exact for train-mode BN.

G_i = ∂(Σ_k f_k(x_i))/∂(every parameter named 'weight'), taken through the whole batch graph, so
train-mode BatchNorm couples the samples through the batch statistics: G_i is not the gradient of
a batch-of-1 forward, and each row costs one backward pass of the whole batch (B rows: B passes).

Methods (all give the same rows up to float32 rounding; `loop` is the default):
  - `loop`: one `torch.autograd.grad` per sample on the retained graph;
  - `batched`: `torch.autograd.grad(..., is_grads_batched=True)` (legacy vmap), `chunk` rows at once;
  - `vmap`: `torch.func.vmap` over `torch.autograd.grad` on the same graph, `chunk` rows at once.

Measured with one torch thread on a 2-core CPU machine (2026-12-04, `benchmarks/ntk.py`, real
CIFAR-10 batch of 64, small / median / large NB201 cells; benchmarks/results/ntk.json): the loop
costs 34x / 36x / 50x one plain forward+backward, i.e. 64 backward passes of the batch, of which the
float64 gram is about 1% (0.45 s of 46 s on the large cell). Every vectorised variant is slower and
needs more memory: vmap 1.9x / 2.5x / 3.5x / 3.9x the loop's time for chunks of 8 / 16 / 32 / 64 rows
(small cell; peak RSS 1.26 / 1.49 / 1.65 / 2.36 GiB vs 0.89 GiB), 2.1-3.2x at 16 rows on the median
and large cells, batched 2.3-2.6x, torch.func vjp of a functional_call 3.7x (a profile shows
convolution backward about 2x slower per row under vmap, plus copies moving the vmapped dimension).
The FLOPs of B backward passes are inherent to the exact definition, so ≤ 5x a forward+backward is
out of reach on one CPU thread, and the loop stays the default.
"""

from __future__ import annotations

from typing import Literal

import torch

Method = Literal["loop", "batched", "vmap"]
METHODS: tuple[Method, ...] = ("loop", "batched", "vmap")
#: the method `ntk_gram` uses when none is given (the shared pass passes none)
DEFAULT_METHOD: Method = "loop"
#: rows of the identity vectorised at once by `batched` and `vmap` (bounds their extra memory)
DEFAULT_CHUNK = 16
#: columns of G converted to float64 at a time: 64 rows x 16,384 columns is 8 MiB. Against 2**18
#: columns, peak RSS of scoring ntk_cond alone on the largest NB201 cell (CIFAR-100) fell from
#: 1906 to 1677 MiB, κ equal to 1e-15 and the gram no slower (2026-12-04, 2-core CPU machine)
_GRAM_BLOCK = 1 << 14


def _write_rows(g: torch.Tensor, rows: slice, params: list[torch.Tensor], grads: tuple) -> None:
    """Copy each parameter's gradient (rows x param shape, or None: unused, zero) into G's columns."""
    offset = 0
    for param, grad in zip(params, grads, strict=True):
        n = param.numel()
        if grad is None:
            g[rows, offset : offset + n] = 0.0
        else:
            g[rows, offset : offset + n] = grad.reshape(-1, n)
        offset += n


def fill_rows(
    g: torch.Tensor,
    summed: torch.Tensor,
    params: list[torch.Tensor],
    rows: range,
    retain: bool,
    method: Method = "loop",
    chunk: int = DEFAULT_CHUNK,
) -> None:
    """Write G's rows `rows` (the gradients of `summed[i]`) into `g`.

    The graph is freed by the last backward unless `retain` (later artifacts of the shared pass).
    """
    if method not in METHODS:
        raise ValueError(f"unknown NTK gram method {method!r}; expected one of {', '.join(METHODS)}")
    step = 1 if method == "loop" else max(1, int(chunk))
    eye = None if method == "loop" else torch.eye(summed.shape[0], dtype=summed.dtype, device=summed.device)
    for start in range(rows.start, rows.stop, step):
        stop = min(start + step, rows.stop)
        keep = retain or stop < rows.stop
        if method == "loop":
            grads = torch.autograd.grad(summed[start], params, retain_graph=keep, allow_unused=True)
        elif method == "batched":
            grads = torch.autograd.grad(
                summed, params, eye[start:stop], retain_graph=keep, allow_unused=True, is_grads_batched=True
            )
        else:

            def vjp(v: torch.Tensor, keep: bool = keep) -> tuple[torch.Tensor, ...]:
                return torch.autograd.grad(summed, params, v, retain_graph=keep, materialize_grads=True)

            grads = torch.func.vmap(vjp)(eye[start:stop])
        _write_rows(g, slice(start, stop), params, grads)


def gram(g: torch.Tensor) -> torch.Tensor:
    """G Gᵀ in float64, converting G (float32) a block of columns at a time: no float64 copy of G."""
    out = torch.zeros(g.shape[0], g.shape[0], dtype=torch.float64, device=g.device)
    for start in range(0, g.shape[1], _GRAM_BLOCK):
        block = g[:, start : start + _GRAM_BLOCK].to(torch.float64)
        out.addmm_(block, block.T)
    # a BLAS may round the two triangles of X Xᵀ differently (seen on AMD EPYC): mirror the lower one
    return torch.tril(out) + torch.tril(out, -1).T


def ntk_gram(
    logits: torch.Tensor,
    params: list[torch.Tensor],
    retain: bool,
    *,
    method: Method | None = None,
    chunk: int = DEFAULT_CHUNK,
) -> torch.Tensor:
    """Θ = G Gᵀ (B x B, float64) of the per-sample summed logits over `params`; keeps the graph if `retain`.

    G (B x P, float32) is allocated once and filled in place: the rows of one sample (or chunk) are
    needed for every entry of Θ, so G cannot be reduced to per-chunk blocks without recomputing them.
    """
    summed = logits.sum(1)
    batch = summed.shape[0]
    g = summed.new_empty(batch, sum(p.numel() for p in params))
    fill_rows(g, summed, params, range(batch), retain, method or DEFAULT_METHOD, chunk)
    return gram(g)
