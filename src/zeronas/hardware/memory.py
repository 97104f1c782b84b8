"""Peak activation memory of one forward pass, measured by tracking live tensor bytes.

Definition (what `peak_activation_bytes` returns): run one inference forward (eval mode,
`torch.no_grad`) and, at every aten operator, add the bytes of each *new* storage it outputs; a
storage's bytes are released when the last Python tensor that references it is garbage-collected.
The result is the maximum over the pass of the live total, counting the input batch (live for the
whole pass) and every intermediate activation, but not parameters or buffers. Views and in-place
results share their input's storage and add nothing; scratch memory inside one kernel (e.g. a
convolution workspace) is not visible. This is the quantity a deployment runtime must hold in
activation buffers when it frees each tensor after its last use, the usual "peak SRAM" of MCU-NAS
papers, for this module's Python execution order.

The tracker is a `TorchDispatchMode`, so it sees functional ops (F.relu, attention matmuls) as
well as modules, and works for any `nn.Module` on any device.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Sequence

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten


class _LiveBytes(TorchDispatchMode):
    """Counts bytes of live storages created by the ops it dispatches."""

    def __init__(self, preexisting: Sequence[torch.Tensor]) -> None:
        super().__init__()
        self.live = 0
        self.peak = 0
        self._refs: dict[int, set[int]] = {}  # storage key -> ids of live tensors holding it
        self._sizes: dict[int, int] = {}
        self._known = {self._storage_key(t) for t in preexisting}

    @staticmethod
    def _storage_key(t: torch.Tensor) -> int:
        return t.untyped_storage().data_ptr() or id(t.untyped_storage())

    def _track(self, t: torch.Tensor) -> None:
        if t.is_sparse or t.device.type == "meta":
            return
        skey = self._storage_key(t)
        if skey in self._known:
            return
        holders = self._refs.get(skey)
        if holders is None:
            holders = self._refs[skey] = set()
            size = t.untyped_storage().nbytes()
            self._sizes[skey] = size
            self.live += size
            self.peak = max(self.peak, self.live)
        if id(t) in holders:
            return
        holders.add(id(t))
        weakref.finalize(t, self._release, skey, id(t))

    def _release(self, skey: int, tid: int) -> None:
        holders = self._refs.get(skey)
        if holders is None:
            return
        holders.discard(tid)
        if not holders:
            del self._refs[skey]
            self.live -= self._sizes.pop(skey)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        out = func(*args, **(kwargs or {}))
        for leaf in tree_flatten(out)[0]:
            if isinstance(leaf, torch.Tensor):
                self._track(leaf)
        return out


def peak_activation_bytes(model: nn.Module, inputs: torch.Tensor) -> int:
    """Peak live activation bytes of `model(inputs)` (input included, weights excluded; see module doc)."""
    net = copy.deepcopy(model).eval()
    weights = [*net.parameters(), *net.buffers()]
    input_bytes = inputs.untyped_storage().nbytes()
    tracker = _LiveBytes(preexisting=[*weights, inputs])
    with torch.no_grad(), tracker:
        out = net(inputs)
        del out
    return int(tracker.peak + input_bytes)


def peak_activation_memory(model: nn.Module, input_shape: Sequence[int]) -> int:
    """`peak_activation_bytes` on a float input of `input_shape` (use batch 1 for a per-sample cost)."""
    param = next(model.parameters(), None)
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    device = param.device if param is not None else torch.device("cpu")
    x = torch.zeros(*input_shape, dtype=dtype, device=device)
    return peak_activation_bytes(model, x)
