"""What a proxy function receives: the batch, the seed, copies of the model, shared-pass results.

Proxies never build models or load data. They read the artifacts the engine computed in the
shared pass (gradients, Jacobian, NTK, ReLU kernel, Fisher values) or run their own passes on
fresh copies from `copy_model()`, which never touch the caller's model.
"""

from __future__ import annotations

import copy
import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

import torch
from torch import nn

from zeronas.errors import InvalidInputError, NotApplicableError, ZeronasError

T = TypeVar("T")
_DROP_TYPES = ("DropPath", "StochasticDepth", "DropBlock2d", "DropBlock")


def set_proxy_mode(net: nn.Module) -> None:
    """Train mode (BN uses batch statistics) with dropout and drop-path switched off."""
    net.train()
    for module in net.modules():
        if isinstance(module, nn.modules.dropout._DropoutNd) or type(module).__name__ in _DROP_TYPES:
            module.eval()


def prepare_copy(model: nn.Module, dtype: torch.dtype = torch.float32, inplace: bool = False) -> nn.Module:
    """A deep copy (or, with `inplace`, the model itself) in the proxies' standard state.

    Proxy mode (see `set_proxy_mode`), no in-place activations (hooks must see the values autograd
    saw), every parameter requiring grad.
    """
    net = cast(model if inplace else copy.deepcopy(model), dtype)
    set_proxy_mode(net)
    for module in net.modules():
        if getattr(module, "inplace", None) is True:
            module.inplace = False
    for param in net.parameters():
        param.requires_grad_(True)
    return net


def _all_in(tensors: Iterable[torch.Tensor], dtype: torch.dtype) -> bool:
    """Whether every floating tensor of `tensors` already has `dtype` (then `Module.to` would change nothing)."""
    return all(t.dtype == dtype for t in tensors if t.is_floating_point())


def cast(net: nn.Module, dtype: torch.dtype) -> nn.Module:
    """`net` with floating parameters and buffers in `dtype`; no `Module.to` walk when they already are."""
    if not _all_in(net.state_dict(keep_vars=True).values(), dtype):
        net.to(dtype)
    return net


class WorkingCopy:
    """One prepared copy of the caller's model, restored to the pristine state on every checkout.

    `copy.deepcopy` of a network costs more than a forward pass of it, and a proxy set runs up to
    eight private passes; restoring a snapshot of the state dict is far cheaper and gives the same
    starting point. Proxies may change values in place (abs, re-init, dtype, running stats) but
    must remove the hooks they add and must not replace sub-modules. With `inplace` the caller's
    model itself is the working copy (for throwaway models: saves the deep copy).
    """

    def __init__(self, model: nn.Module, inplace: bool = False) -> None:
        self._model = model
        self._inplace = inplace
        self._net: nn.Module | None = None
        self._state: dict[str, torch.Tensor] = {}

    def checkout(self, dtype: torch.dtype = torch.float32) -> nn.Module:
        if self._net is None:
            self._net = prepare_copy(self._model, inplace=self._inplace)
            self._state = {k: v.detach().clone() for k, v in self._net.state_dict().items()}
            return cast(self._net, dtype)
        net = self._net
        targets = list(net.state_dict(keep_vars=True).values())
        if not _all_in(targets, dtype):
            net.to(dtype)  # convert first, then copy the snapshot in: one conversion, same values
            targets = list(net.state_dict(keep_vars=True).values())
        if len(targets) != len(self._state):
            raise RuntimeError("a proxy added or removed parameters or buffers of the working copy")
        if targets:  # a model without parameters or buffers has nothing to restore
            with torch.no_grad():
                torch._foreach_copy_(targets, list(self._state.values()))  # one fused call, not load_state_dict
        set_proxy_mode(net)
        for param in net.parameters():
            param.grad = None
        return net


def logits_of(output: object) -> torch.Tensor:
    """Normalise a model output to its logits tensor (AutoDL returns (features, logits))."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, list | tuple) and output and isinstance(output[-1], torch.Tensor):
        return output[-1]
    logits = getattr(output, "logits", None)
    if isinstance(logits, torch.Tensor):
        return logits
    raise NotApplicableError(f"model output is {type(output).__name__}, not a logits tensor")


def classifier_logits(output: object, rows: int) -> torch.Tensor:
    """The logits of `output`, checked to be floating point, batch x classes, one row per input.

    Proxies that take a loss or sum the logits need this shape; anything else is not a classifier.
    """
    logits = logits_of(output)
    if logits.ndim != 2:
        raise NotApplicableError(f"logits must be 2-D (batch x classes), got shape {tuple(logits.shape)}")
    if not logits.is_floating_point():
        raise NotApplicableError(f"logits must be floating point, got {logits.dtype}")
    if logits.shape[0] != rows:
        raise NotApplicableError(f"the model returned {logits.shape[0]} rows of logits for {rows} inputs")
    return logits


def check_label_range(labels: torch.Tensor, classes: int) -> None:
    """Raise a one-line InvalidInputError unless every label indexes one of the model's `classes` outputs."""
    if labels.numel() and int(labels.min()) < 0:
        raise InvalidInputError(f"labels must be >= 0, got {int(labels.min())}")
    if labels.numel() and int(labels.max()) >= classes:
        raise InvalidInputError(f"labels go up to {int(labels.max())} but the model has {classes} outputs")


#: torch's message when train-mode BatchNorm normalises a single value per channel
_BN_ONE_VALUE = "Expected more than 1 value per channel when training"


def single_value_bn(exc: BaseException) -> bool:
    """Whether `exc` is train-mode BatchNorm refusing one value per channel (batch 1 on 1x1 maps)."""
    return isinstance(exc, ValueError) and str(exc).startswith(_BN_ONE_VALUE)


def is_relu(module: nn.Module) -> bool:
    """A ReLU-family leaf module (ReLU, ReLU6, LeakyReLU, ...): NASWOT matches on the type name."""
    return "ReLU" in type(module).__name__ and not any(True for _ in module.children())


def prunable_layers(net: nn.Module) -> list[tuple[str, nn.Module]]:
    """Conv and Linear modules with a weight: the layers pruning-style proxies sum over."""
    return [
        (name, m)
        for name, m in net.named_modules()
        if isinstance(m, nn.modules.conv._ConvNd | nn.Linear) and isinstance(getattr(m, "weight", None), torch.Tensor)
    ]


def prunable_weights(net: nn.Module) -> dict[str, torch.Tensor]:
    """name -> weight tensor of every prunable layer (biases never included)."""
    return {name: m.weight for name, m in prunable_layers(net)}


@dataclass
class ProxyContext:
    """Inputs and shared-pass artifacts handed to every proxy function."""

    model: nn.Module
    x: torch.Tensor
    y: torch.Tensor
    seed: int = 0
    x2: torch.Tensor | None = None
    y2: torch.Tensor | None = None
    labels_given: bool = True
    num_classes: int | None = None
    #: the batch's task loss (`zeronas.proxies.losses`): what `y` holds and how every loss is taken
    loss: str = "cross_entropy"
    # shared-pass artifacts (filled by the engine when a requested proxy needs them)
    weights: dict[str, torch.Tensor] = field(default_factory=dict)
    grads: dict[str, torch.Tensor | None] = field(default_factory=dict)
    fisher: dict[str, tuple[torch.Tensor, int]] = field(default_factory=dict)
    relu_kernel: torch.Tensor | None = None
    relu_units: int = 0
    jacobian: torch.Tensor | None = None
    ntk_gram: torch.Tensor | None = None
    hessian_grads: dict[str, torch.Tensor | None] = field(default_factory=dict)
    hessian_error: str = ""
    #: shared-pass artifacts that could not be made, and the one-line error a proxy asking for them raises
    missing: dict[str, ZeronasError] = field(default_factory=dict)
    logits: torch.Tensor | None = None
    #: proxy name -> a one-line note on how an ok value was obtained (MeCo's skipped outputs); kept as its reason
    notes: dict[str, str] = field(default_factory=dict)
    inplace: bool = False
    #: names of the proxies this scoring call computes (empty: not known); a family's shared pass computes
    #: only what its requested members read
    requested: frozenset[str] = frozenset()
    _working: WorkingCopy | None = field(default=None, repr=False)
    _memo: dict[str, object] = field(default_factory=dict, repr=False)
    #: shared-pass work left on the working copy's retained graph, run at the latest before the copy changes
    _deferred: Callable[[], None] | None = field(default=None, repr=False)
    #: seconds the deferred work took when it ran (whichever proxy's call triggered it)
    deferred_seconds: float = 0.0

    @property
    def batch_size(self) -> int:
        return int(self.x.shape[0])

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    def copy_model(self, dtype: torch.dtype = torch.float32) -> nn.Module:
        """The working copy of the caller's model in its pristine, prepared state.

        The same module is handed out again (restored) to the next proxy: use it, then let it go.
        Deferred shared-pass work runs first: restoring the copy would invalidate its graph.
        """
        self.settle()
        if self._working is None:
            self._working = WorkingCopy(self.model, self.inplace)
        return self._working.checkout(dtype)

    def defer(self, work: Callable[[], None] | None) -> None:
        """Leave `work` on the shared pass's graph until a proxy asks for it (`settle`) or drop it (None).

        Only the proxy consuming the result knows whether it is wanted (GraSP's exact H g is skipped
        when the finite-difference option is chosen); the graph is freed once the work ran or was dropped.
        """
        self._deferred = work

    def settle(self) -> None:
        """Run the deferred shared-pass work now, once."""
        work, self._deferred = self._deferred, None
        if work is not None:
            start = time.perf_counter()
            work()
            self.deferred_seconds += time.perf_counter() - start

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """`compute()` once per context: proxies of one family share an intermediate result."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[return-value]

    def generator(self, tag: str) -> torch.Generator:
        """A torch generator seeded from (seed, tag): draws do not depend on which proxies run."""
        digest = hashlib.sha256(f"{self.seed}:{tag}".encode()).digest()
        return torch.Generator(device=self.x.device).manual_seed(int.from_bytes(digest[:8], "little") >> 1)

    def randn(self, tag: str, *shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Seeded Gaussian tensor on the batch's device."""
        return torch.randn(*shape, generator=self.generator(tag), dtype=dtype, device=self.x.device)

    def require(self, artifact: str) -> object:
        """An artifact of the shared pass; a clear error if the engine did not produce it."""
        if artifact in self.missing:
            problem = self.missing[artifact]
            raise type(problem)(str(problem))
        value = getattr(self, artifact)
        if value is None or (isinstance(value, dict) and not value):
            raise NotApplicableError(f"shared-pass artifact '{artifact}' is unavailable")
        return value
