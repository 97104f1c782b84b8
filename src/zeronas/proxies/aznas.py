"""AZ-NAS (docs/proxies.md §az_nas): expressivity, progressivity, trainability and complexity, and their aggregate.

One pass per `score` call (shared by the four proxies through `ProxyContext.memo`): the working copy is
re-initialised Kaiming-normal (fan-in, ReLU gain), a Gaussian batch of the scoring batch's shape goes
through it, and the feature maps F_0 (stem output), F_1 ... F_L (block outputs) are kept. The pass computes
what the call's requested components read: the entropies for expressivity and progressivity, the block
Jacobians (the graph is recorded only then) for trainability; the values do not depend on which run together.

Which maps are F_l (`feature_modules`):
1. cell stack: the first module (the model itself, then its sub-modules in definition order) with a child
   named `stem` and an nn.ModuleList / nn.Sequential child named `cells`, `stages`, `blocks` or `layers`:
   F_0 is the stem's output, F_l the output of the l-th child of that container (NAS-Bench-201: the stem,
   15 cells and 2 reduction blocks, 18 maps);
2. otherwise, the chain of top-level children: the model's direct children in the order they run, as long
   as each is fed the previous one's output and returns a 4-D map, up to the head's adaptive (global)
   pooling (an nn.Sequential's children; a timm ResNet's conv1, bn1, act1, maxpool, layer1 ... layer4).
Every F_l must be a 4-D map produced by exactly one call; otherwise the components are not applicable.

The AZ-NAS score itself ranks the components over a pool of architectures: `az_nas_aggregate`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from zeronas.errors import InvalidInputError, NotApplicableError
from zeronas.proxies.context import ProxyContext
from zeronas.proxies.registry import register_proxy
from zeronas.proxies.static import flops

#: names of the container of cells beside a `stem` child, in the order they are looked for
CELL_CONTAINERS = ("cells", "stages", "blocks", "layers")
#: the four registered components, in the order the AZ-NAS paper lists them
AZ_COMPONENTS = ("az_expressivity", "az_progressivity", "az_trainability", "az_complexity")
#: the head's global pooling ends a chain of top-level children (its 1 x 1 output is no block's feature map)
_GLOBAL_POOLS = (nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd)
_EPS_ENTROPY = 1e-8
_EPS_SIGMA = 1e-6


#: the components the data pass computes (complexity is the static FLOPs count)
PASS_COMPONENTS = AZ_COMPONENTS[:3]


@dataclass(frozen=True)
class AZComponents:
    """The data-dependent AZ-NAS components of one network (NaN mapped to -inf, as AZ-NAS does).

    A component the pass was not asked for is None.
    """

    expressivity: float | None
    progressivity: float | None
    trainability: float | None
    #: how the feature maps were found and how many there are
    features: str


def kaiming_init(net: nn.Module, gen: torch.Generator) -> None:
    """Conv/Linear weights Kaiming-normal (fan-in, ReLU gain), biases 0; BatchNorm / GroupNorm γ = 1, β = 0."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.modules.conv._ConvNd | nn.Linear):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu", generator=gen)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.modules.batchnorm._BatchNorm | nn.GroupNorm) and m.affine:
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)


def gaussian_input(ctx: ProxyContext) -> torch.Tensor:
    """The N(0, 1) batch AZ-NAS feeds, with the scoring batch's shape (seeded, tag `az_nas-x`)."""
    return ctx.randn("az_nas-x", *ctx.x.shape)


def _cell_stack(net: nn.Module) -> tuple[str, list[nn.Module]] | None:
    for path, module in net.named_modules():
        children = dict(module.named_children())
        stem = children.get("stem")
        if stem is None:
            continue
        for name in CELL_CONTAINERS:
            container = children.get(name)
            if isinstance(container, nn.ModuleList | nn.Sequential) and len(container) > 0:
                where = f"{path}." if path else ""
                return f"{where}stem + {where}{name}[0..{len(container) - 1}]", [stem, *container]
    return None


def _record(modules: list[nn.Module], run: Callable[[], None]) -> list[tuple[nn.Module, object, object]]:
    """(module, first input, output) of every call of `modules` during `run()`, in call order."""
    calls: list[tuple[nn.Module, object, object]] = []

    def hook(module: nn.Module, args: tuple, output: object) -> None:
        calls.append((module, args[0] if args else None, output))

    handles = [m.register_forward_hook(hook) for m in modules]
    try:
        run()
    finally:
        for handle in handles:
            handle.remove()
    return calls


def _is_map(value: object) -> bool:
    return isinstance(value, torch.Tensor) and value.ndim == 4 and value.is_floating_point()


def feature_maps(net: nn.Module, x: torch.Tensor) -> tuple[list[torch.Tensor], str]:
    """Run `net(x)` and return its feature maps F_0 ... F_L (with their graph) and how they were found."""
    stack = _cell_stack(net)
    if stack is not None:
        rule, modules = stack
        calls = _record(modules, lambda: net(x))
        counts = [sum(c[0] is m for c in calls) for m in modules]
        if any(n != 1 for n in counts):
            bad = next(i for i, n in enumerate(counts) if n != 1)
            raise NotApplicableError(f"feature module {bad} of {rule} ran {counts[bad]} times, not once")
        outputs = [next(c[2] for c in calls if c[0] is m) for m in modules]
        bad_map = next((i for i, out in enumerate(outputs) if not _is_map(out)), None)
        if bad_map is not None:
            raise NotApplicableError(f"feature {bad_map} of {rule} is not a 4-D feature map")
        return outputs, rule  # type: ignore[return-value]
    children = list(net.children())
    calls = _record(children, lambda: net(x))
    chain: list[torch.Tensor] = []
    for module, inp, out in calls:
        if (chain and inp is not chain[-1]) or not _is_map(out) or isinstance(module, _GLOBAL_POOLS):
            break
        chain.append(out)  # type: ignore[arg-type]
    if len(chain) < 2:
        raise NotApplicableError(
            "no `stem` beside a cells/stages/blocks/layers container, and the top-level children run a chain "
            f"of {len(chain)} 4-D feature map(s), not 2 or more"
        )
    return chain, f"chain of {len(chain)} top-level children"


def entropy(feature: torch.Tensor) -> float:
    """Spectral entropy of the channel covariance of a B x C x H x W map, float64 (AZ-NAS expressivity term).

    X = the map as (B·H·W) x C, columns centred; Σ = XᵀX / (B·H·W); λ = eigvalsh(Σ), p = λ / Σλ;
    H = -Σ p ln(p + 1e-8).
    """
    rows = feature.detach().permute(0, 2, 3, 1).reshape(-1, feature.shape[1]).to(torch.float64)
    rows = rows - rows.mean(0, keepdim=True)
    cov = rows.T @ rows / rows.shape[0]
    if not bool(torch.isfinite(cov).all()):
        return math.nan
    eig = torch.linalg.eigvalsh(cov)
    p = eig / eig.sum()
    return float(-(p * torch.log(p + _EPS_ENTROPY)).sum())


def block_trainability(f_in: torch.Tensor, f_out: torch.Tensor, v: torch.Tensor) -> float:
    """-σ - 1/(σ + 1e-6) + 2 for σ the top singular value of UᵀV/(B·H·W), u = (∂F_out/∂F_in)ᵀ v.

    -inf when the block is the identity (u equals v exactly); 0 at σ = 1, negative otherwise. A block
    whose output does not depend on its input has u = 0 (σ = 0).
    """
    u = None
    if f_out.requires_grad:
        (u,) = torch.autograd.grad(f_out, f_in, v, retain_graph=True, allow_unused=True)
    u = torch.zeros_like(f_in) if u is None else u.detach()
    if u.shape == v.shape and torch.equal(u, v):
        return -math.inf
    (h_in, w_in), (h_out, w_out) = u.shape[2:], v.shape[2:]
    if (h_in, w_in) != (h_out, w_out):
        if h_in % h_out or w_in % w_out or h_in // h_out != w_in // w_out:
            raise NotApplicableError(f"a block maps {h_in}x{w_in} to {h_out}x{w_out}: not a whole stride")
        u = F.pixel_unshuffle(u, h_in // h_out)
    # Σ over samples of each sample's C x D product: no channels-last copies of the two maps
    batch, positions = v.shape[0], v.shape[2] * v.shape[3]
    u_rows = u.to(torch.float64).reshape(batch, u.shape[1], positions)
    v_rows = v.to(torch.float64).reshape(batch, v.shape[1], positions)
    gram = torch.bmm(u_rows, v_rows.transpose(1, 2)).sum(0) / (batch * positions)
    if not bool(torch.isfinite(gram).all()):
        return math.nan
    sigma = float(torch.linalg.matrix_norm(gram, ord=2))
    return -sigma - 1.0 / (sigma + _EPS_SIGMA) + 2.0


def _nan_to_minus_inf(value: float) -> float:
    return -math.inf if math.isnan(value) else value


def _trainability(features: list[torch.Tensor], ctx: ProxyContext) -> float:
    """Mean block trainability over F_{l-1} -> F_l, each with its own seeded ±1 cotangent (tag `az_nas-v-l`)."""
    blocks = []
    for level in range(len(features) - 1, 0, -1):
        out = features[level]
        gen = ctx.generator(f"az_nas-v-{level}")
        v = torch.randint(0, 2, out.shape, generator=gen, device=gen.device, dtype=out.dtype).mul_(2).sub_(1)
        blocks.append(block_trainability(features[level - 1], out, v.to(out.device)))
    return float(np.mean(blocks))


def az_pass(ctx: ProxyContext, components: Iterable[str] = PASS_COMPONENTS) -> AZComponents:
    """Those of expressivity, progressivity and trainability named in `components` (one forward, L block VJPs)."""
    wanted = set(components)
    net = ctx.copy_model()
    kaiming_init(net, ctx.generator("az_nas-init"))
    graph = "az_trainability" in wanted
    x = gaussian_input(ctx).requires_grad_(graph)  # the graph reaches the stem even when it has no weights
    with torch.set_grad_enabled(graph):
        features, rule = feature_maps(net, x.clone())  # a fresh input: the model may write into it
    expressivity = progressivity = None
    if wanted & {"az_expressivity", "az_progressivity"}:
        entropies = np.array([entropy(f) for f in features])
        expressivity = _nan_to_minus_inf(float(entropies.sum()))
        progressivity = _nan_to_minus_inf(float(np.min(entropies[1:] - entropies[:-1])))
    return AZComponents(
        expressivity=expressivity,
        progressivity=progressivity,
        trainability=_nan_to_minus_inf(_trainability(features, ctx)) if graph else None,
        features=f"features: {rule}, {len(features)} maps",
    )


def _components(ctx: ProxyContext, proxy: str) -> AZComponents:
    """The AZ pass of this context, computed once for the components the call requested (a failure too).

    Without a known request (a context made by hand), or for a component outside it, every component.
    """
    requested = [c for c in PASS_COMPONENTS if c in ctx.requested]
    wanted = requested if proxy in requested else list(PASS_COMPONENTS)

    def compute() -> AZComponents | Exception:
        try:
            return az_pass(ctx, wanted)
        except Exception as exc:  # re-raised for every component, computed once
            return exc

    outcome = ctx.memo(f"az_nas:{','.join(wanted)}", compute)
    if isinstance(outcome, Exception):
        raise outcome
    ctx.notes[proxy] = outcome.features
    return outcome


@register_proxy("az_expressivity", needs=("own",), family="az_nas")
def az_expressivity(ctx: ProxyContext) -> float:
    """AZ-NAS expressivity: Σ_l spectral entropy of F_l's channel covariance (Kaiming init, Gaussian input).

    Feature maps that spread their energy over many channel directions are more expressive.
    """
    return _components(ctx, "az_expressivity").expressivity


@register_proxy("az_progressivity", needs=("own",), family="az_nas")
def az_progressivity(ctx: ProxyContext) -> float:
    """AZ-NAS progressivity: min over blocks of the expressivity gain H(F_l) - H(F_{l-1}).

    A network whose every block adds expressivity is predicted better.
    """
    return _components(ctx, "az_progressivity").progressivity


@register_proxy("az_trainability", needs=("own",), family="az_nas")
def az_trainability(ctx: ProxyContext) -> float:
    """AZ-NAS trainability: mean over blocks of -σ - 1/σ + 2, σ the top singular value of each block's Jacobian.

    Blocks that neither amplify nor attenuate back-propagated signals (σ near 1) train well; an identity
    block gives -inf.
    """
    return _components(ctx, "az_trainability").trainability


@register_proxy("az_complexity", needs=("static",), family="az_nas")
def az_complexity(ctx: ProxyContext) -> float:
    """AZ-NAS complexity: MFLOPs of one batch-1 forward (the `flops` proxy's count)."""
    return flops(ctx)


def az_nas_aggregate(components: pd.DataFrame) -> pd.Series:
    """AZ-NAS score of each row of a candidate pool: Σ_k ln(rank_k / M) over the component columns.

    `components`: one row per architecture (M rows), one column per component (higher is better;
    normally AZ_COMPONENTS). NaN counts as -inf (ranked lowest); ranks are ascending with average ties
    (`scipy.stats.rankdata`), so the best value of a column gets rank M and contributes ln 1 = 0. The
    result depends on the pool: adding or removing candidates changes every score.
    """
    if not isinstance(components, pd.DataFrame):
        raise InvalidInputError(f"components must be a pandas DataFrame, got {type(components).__name__}")
    if components.empty or components.shape[1] == 0:
        raise InvalidInputError("components must have at least one row and one column")
    try:
        values = components.to_numpy(dtype=np.float64, copy=True)
    except (TypeError, ValueError):
        raise InvalidInputError("components must hold numbers only") from None
    from scipy.stats import rankdata  # here, not at import: scipy.stats adds ~60 MiB to every scoring worker

    values[np.isnan(values)] = -np.inf
    total = np.log(rankdata(values, axis=0) / len(components)).sum(axis=1)
    return pd.Series(total, index=components.index, name="az_nas")
