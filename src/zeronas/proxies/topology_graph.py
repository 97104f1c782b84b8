"""The layer graph the topology proxies read (docs/proxies.md §nn_mass): layers, adds, concatenations.

The graph comes from a `torch.fx` symbolic trace of the model; where tracing fails (data-dependent
control flow, untraceable modules) it comes from the autograd graph of a forward of one sample,
with hooks on the Conv/Linear modules to know which autograd nodes are layers. Either way it keeps
only what depends on the input: parameters, constants and shape queries are dropped.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import fx, nn

from zeronas.errors import NotApplicableError

#: a node of the layer graph: "input", "layer" (Conv/Linear), "add", "cat" (along channels), "other"
KINDS = ("input", "layer", "add", "cat", "other")

_LAYER_FUNCTIONS = (F.conv1d, F.conv2d, F.conv3d, F.linear, torch.conv1d, torch.conv2d, torch.conv3d)
_ADD_FUNCTIONS = (operator.add, operator.iadd, torch.add)
_CAT_FUNCTIONS = (torch.cat, torch.concat, torch.concatenate)
_META_METHODS = ("size", "dim", "numel", "type", "get_device")
_META_ATTRS = ("shape", "dtype", "device", "ndim", "is_cuda")


@dataclass
class Node:
    """One tensor-valued operation: its kind, its tensor inputs (node ids) and its channel count."""

    kind: str
    inputs: list[int] = field(default_factory=list)
    channels: int = 0
    #: for layers: input channels, output channels and groups of the connection (Linear: groups 1)
    layer: tuple[int, int, int] | None = None
    name: str = ""


@dataclass
class LayerGraph:
    """Nodes in topological order (ids are list positions) and the id of the model output."""

    nodes: list[Node]
    output: int

    def ancestors(self, start: int) -> set[int]:
        """`start` and every node it depends on."""
        seen = {start}
        stack = [start]
        while stack:
            for parent in self.nodes[stack.pop()].inputs:
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        return seen


def _layer_shape(module: nn.Module) -> tuple[int, int, int] | None:
    """(in, out, groups) of a Conv or Linear module, None for any other module."""
    if isinstance(module, nn.modules.conv._ConvNd):
        return int(module.in_channels), int(module.out_channels), int(module.groups)
    if isinstance(module, nn.Linear):
        return int(module.in_features), int(module.out_features), 1
    return None


def _weight_shape(weight: torch.Tensor, groups: int, linear: bool) -> tuple[int, int, int]:
    """(in, out, groups) of a functional conv/linear from its weight tensor."""
    if linear:
        return int(weight.shape[1]), int(weight.shape[0]), 1
    return int(weight.shape[1]) * groups, int(weight.shape[0]), groups


class _Builder:
    """Collects nodes, dropping input-independent ones and passing channel counts along."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []

    def add(self, kind: str, inputs: list[int], name: str, layer: tuple[int, int, int] | None = None) -> int:
        ins = [self.nodes[i].channels for i in inputs]
        if layer is not None:
            channels = layer[1]
        elif kind == "cat":
            channels = sum(ins)
        else:
            channels = max(ins, default=0)
        if kind in ("add", "cat") and len(inputs) < 2:
            kind = "other"  # a sum with a constant or a one-tensor concatenation passes its input on
        self.nodes.append(Node(kind, inputs, channels, layer, name))
        return len(self.nodes) - 1


def _fx_graph(model: nn.Module, in_channels: int) -> LayerGraph:
    """The layer graph of a symbolic trace (raises whatever `torch.fx` raises on untraceable models)."""
    traced = fx.symbolic_trace(model)
    builder = _Builder()
    ids: dict[fx.Node, int] = {}  # tensor nodes depending on the input
    meta: set[fx.Node] = set()  # shape queries and arithmetic on them
    output = -1
    for node in traced.graph.nodes:
        deps = [a for a in node.all_input_nodes if a in ids or a in meta]
        tensors = [ids[a] for a in node.all_input_nodes if a in ids]
        if node.op == "placeholder":
            if not ids:
                ids[node] = builder.add("input", [], node.name)
                builder.nodes[-1].channels = in_channels
            continue
        if node.op == "output":
            output = tensors[-1] if tensors else -1
            continue
        if not deps:
            continue  # parameters, constants, buffers
        is_meta = (node.op == "call_method" and node.target in _META_METHODS) or (
            node.target is getattr and len(node.args) > 1 and node.args[1] in _META_ATTRS
        )
        if is_meta or not tensors:
            meta.add(node)
            continue
        kind, layer = "other", None
        if node.op == "call_module":
            layer = _layer_shape(traced.get_submodule(str(node.target)))
            kind = "layer" if layer is not None else "other"
        elif node.op == "call_function" and node.target in _LAYER_FUNCTIONS:
            weight = node.args[1] if len(node.args) > 1 else node.kwargs.get("weight")
            if isinstance(weight, fx.Node) and weight.op == "get_attr":
                linear = node.target is F.linear
                groups = node.args[6] if len(node.args) > 6 else node.kwargs.get("groups", 1)
                tensor = traced.get_parameter(str(weight.target))
                layer, kind = _weight_shape(tensor, int(groups), linear), "layer"
        elif node.target in _ADD_FUNCTIONS or (node.op == "call_method" and node.target in ("add", "add_")):
            kind = "add"
        elif node.target in _CAT_FUNCTIONS:
            dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", 0)
            kind = "cat" if dim == 1 else "other"
        ids[node] = builder.add(kind, tensors, node.name, layer)
    if output < 0:
        raise NotApplicableError("the model's output does not depend on its input")
    return LayerGraph(builder.nodes, output)


def _autograd_graph(model: nn.Module, sample: torch.Tensor) -> LayerGraph:
    """The layer graph of the autograd graph of one eval-mode forward (the model's modes are restored)."""
    layer_of: dict[object, tuple[int, int, int]] = {}

    def hook(module: nn.Module, args: tuple, out: object) -> None:
        shape = _layer_shape(module)
        if isinstance(out, torch.Tensor) and out.grad_fn is not None and shape is not None:
            layer_of[out.grad_fn] = shape

    modes = {m: m.training for m in model.modules()}
    handles = [m.register_forward_hook(hook) for m in model.modules() if _layer_shape(m) is not None]
    x = sample.detach().clone().requires_grad_(True)
    try:
        model.eval()
        with torch.enable_grad():
            out = model(x)
    finally:
        for handle in handles:
            handle.remove()
        for module, mode in modes.items():
            module.training = mode
    if isinstance(out, list | tuple):
        out = out[-1]
    out = getattr(out, "logits", out)
    if not isinstance(out, torch.Tensor) or out.grad_fn is None:
        raise NotApplicableError("the model's output does not depend on its input")

    order: list[object] = []  # post-order: inputs before the nodes using them
    children: dict[object, list[object]] = {}
    depends: dict[object, bool] = {}
    stack: list[tuple[object, bool]] = [(out.grad_fn, False)]
    while stack:
        fn, expanded = stack.pop()
        if fn in depends:
            continue
        if expanded:
            kids = children[fn]
            is_input = getattr(fn, "variable", None) is x
            depends[fn] = is_input or any(depends.get(k, False) for k in kids)
            order.append(fn)
            continue
        children[fn] = [k for k, _ in fn.next_functions if k is not None]
        stack.append((fn, True))
        stack.extend((k, False) for k in children[fn] if k not in depends)

    builder = _Builder()
    ids: dict[object, int] = {}
    for fn in order:
        if not depends[fn]:
            continue
        name = type(fn).__name__
        tensors = [ids[k] for k in children[fn] if k in ids]
        if getattr(fn, "variable", None) is x:
            ids[fn] = builder.add("input", [], "input")
            builder.nodes[-1].channels = int(x.shape[1]) if x.ndim > 1 else 0
        elif fn in layer_of:
            ids[fn] = builder.add("layer", tensors, name, layer_of[fn])
        elif name.startswith("AddBackward"):
            ids[fn] = builder.add("add", tensors, name)
        elif name.startswith("CatBackward"):
            ids[fn] = builder.add("cat" if getattr(fn, "_saved_dim", None) == 1 else "other", tensors, name)
        else:
            ids[fn] = builder.add("other", tensors, name)
    return LayerGraph(builder.nodes, ids[out.grad_fn])


def layer_graph(model: nn.Module, sample: torch.Tensor) -> LayerGraph:
    """The model's layer graph from a symbolic trace, or from a forward of `sample` (batch 1) if tracing fails."""
    try:
        return _fx_graph(model, int(sample.shape[1]) if sample.ndim > 1 else 0)
    except NotApplicableError:
        raise
    except Exception:  # noqa: BLE001  (any tracing failure: fall back to the autograd graph)
        return _autograd_graph(model, sample)
