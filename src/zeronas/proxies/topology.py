"""Topology proxies NN-Mass and NN-Degree (docs/proxies.md §nn_mass, §nn_degree): no data, no weights.

Both read the cells of the model's layer graph (`topology_graph.layer_graph`). A cell is a chain of
layers v_0 (the cell input), v_1, ..., v_m, each made by one Conv/Linear layer from the one before,
where some layers also receive long-range links (skips from layers at least two steps back):

- a residual block: a sum whose one input is a chain of >= 2 layers starting at the block input
  and whose other input is that block input, directly (identity) or through one layer
  (projection); v_m is the sum, which receives a link of C_in channels from v_0;
- a dense block: a channel concatenation [f_0, f_1, ..., f_n] where each f_l is made by a chain of
  layers from the concatenation of f_0 ... f_(l-1); the first layer of each chain receives f_0 ...
  f_(l-2) as long-range links (f_(l-1) is its immediate predecessor).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from zeronas.errors import NotApplicableError
from zeronas.proxies.context import ProxyContext
from zeronas.proxies.registry import register_proxy
from zeronas.proxies.topology_graph import LayerGraph, layer_graph


@dataclass(frozen=True)
class Cell:
    """One cell: widths of its layers v_0..v_m, long-range channels and main-path connections into each."""

    kind: str  # "residual" or "dense"
    widths: tuple[int, ...]
    links: tuple[int, ...]
    main_edges: tuple[int, ...]
    #: how many leading layers NN-Mass counts as the cell's neurons (a residual block's sum is the next cell's input)
    neurons: int
    where: str = ""

    def candidates(self, i: int) -> int:
        """Channels layer i could receive as long-range links: every layer at least two steps back."""
        return sum(self.widths[: i - 1]) if i >= 2 else 0

    @property
    def density(self) -> float:
        """ρ_c: long-range link channels over candidate channels, links capped by the candidates."""
        total = sum(self.candidates(i) for i in range(len(self.widths)))
        used = sum(min(t, self.candidates(i)) for i, t in enumerate(self.links))
        return used / total if total else 0.0

    @property
    def mass(self) -> float:
        """ρ_c times the number of neurons (channels) of the cell."""
        return self.density * sum(self.widths[: self.neurons])

    @property
    def degree(self) -> float:
        """Average degree: channel-to-channel connections (main path and long-range links) per channel."""
        edges = sum(self.main_edges) + sum(t * w for t, w in zip(self.links, self.widths, strict=True))
        return edges / sum(self.widths)


def _chain(graph: LayerGraph, start: int, stop: Callable[[int], bool]) -> tuple[list[int], int] | None:
    """Walk back from `start` through one-input nodes to the first node where `stop` holds.

    Returns the nodes passed (start first, the stop node excluded) and the stop node; None when a
    node with several inputs (or none) comes first, i.e. the path is not a plain chain.
    """
    path: list[int] = []
    node = start
    while not stop(node):
        path.append(node)
        inputs = graph.nodes[node].inputs
        if len(inputs) != 1:
            return None
        node = inputs[0]
    return path, node


def _layers(graph: LayerGraph, path: list[int]) -> list[tuple[int, int, int]]:
    """(in, out, groups) of the layer nodes of a chain, input side first."""
    return [graph.nodes[v].layer for v in reversed(path) if graph.nodes[v].layer is not None]  # type: ignore[misc]


def _residual(graph: LayerGraph, add: int) -> Cell | None:
    """The residual block ending at sum `add`, or None if its inputs are not a main path and a shortcut."""
    node = graph.nodes[add]
    best: Cell | None = None
    for main, short in (node.inputs, node.inputs[::-1]):
        upstream = graph.ancestors(short)
        walk = _chain(graph, main, upstream.__contains__)
        if walk is None:
            continue
        path, start = walk
        shortcut = _chain(graph, short, start.__eq__)
        if shortcut is None:
            continue
        layers, projection = _layers(graph, path), _layers(graph, shortcut[0])
        if len(layers) < 2 or len(projection) > 1:
            continue
        if best is not None and len(layers) <= len(best.widths) - 1:
            continue
        c_in = graph.nodes[start].channels
        best = Cell(
            kind="residual",
            widths=(c_in, *(out for _, out, _ in layers[:-1]), node.channels),
            links=(0,) * len(layers) + (c_in,),
            main_edges=(0, *(i * o // g for i, o, g in layers)),
            neurons=len(layers),
            where=node.name,
        )
    return best


def _dense(graph: LayerGraph, cat: int, cats: dict[tuple[int, ...], set[int]]) -> tuple[Cell, set[int]] | None:
    """The dense block whose features are joined by concatenation `cat`, and the inner concatenations it uses."""
    feats = graph.nodes[cat].inputs
    widths, links, edges = [graph.nodes[feats[0]].channels], [0], [0]
    used: set[int] = set()
    for ell in range(1, len(feats)):
        targets = {feats[0]} if ell == 1 else cats.get(tuple(feats[:ell]), set())
        walk = _chain(graph, feats[ell], targets.__contains__)
        if walk is None:
            return None
        path, joined = walk
        layers = _layers(graph, path)
        if not layers:
            return None
        if ell >= 2:
            used.add(joined)
        pred = graph.nodes[feats[ell - 1]].channels
        skips = sum(graph.nodes[f].channels for f in feats[: ell - 1])
        for j, (c_in, c_out, groups) in enumerate(layers):
            widths.append(c_out)
            links.append(skips if j == 0 else 0)
            edges.append((pred if j == 0 else c_in) * c_out // groups)
    cell = Cell("dense", tuple(widths), tuple(links), tuple(edges), len(widths), graph.nodes[cat].name)
    return cell, used


def find_cells(graph: LayerGraph) -> list[Cell]:
    """Every residual and dense cell on the way to the output (none for a plain network).

    Raises NotApplicableError when a sum or a channel concatenation is not part of such a cell.
    """
    live = graph.ancestors(graph.output)
    found: list[tuple[int, Cell]] = []
    for idx in sorted(live):
        node = graph.nodes[idx]
        if node.kind != "add":
            continue
        cell = _residual(graph, idx) if len(node.inputs) == 2 else None
        if cell is None:
            raise NotApplicableError(
                f"the sum {node.name!r} is not a residual block (a chain of >= 2 layers beside an identity "
                "or one-layer shortcut), so its long-range link cannot be identified"
            )
        found.append((idx, cell))
    cats: dict[tuple[int, ...], set[int]] = {}
    for idx in live:
        if graph.nodes[idx].kind == "cat":
            cats.setdefault(tuple(graph.nodes[idx].inputs), set()).add(idx)
    consumed: set[int] = set()
    for idx in sorted((i for ids in cats.values() for i in ids), key=lambda i: -len(graph.nodes[i].inputs)):
        if idx in consumed:
            continue
        dense = _dense(graph, idx, cats)
        if dense is None:
            raise NotApplicableError(
                f"the channel concatenation {graph.nodes[idx].name!r} does not join the layers of a dense block"
            )
        found.append((idx, dense[0]))
        consumed |= dense[1]
    return [cell for _, cell in sorted(found, key=lambda item: item[0])]


def model_cells(ctx: ProxyContext) -> list[Cell]:
    """The model's cells, found once per context and shared by both proxies (failures too)."""

    def compute() -> list[Cell] | NotApplicableError:
        try:
            return find_cells(layer_graph(ctx.model, ctx.x[:1]))
        except NotApplicableError as exc:
            return exc

    found = ctx.memo("topology_cells", compute)
    if isinstance(found, NotApplicableError):
        raise NotApplicableError(str(found))
    return found


@register_proxy("nn_mass", needs=("static",), family="topology")
def nn_mass(ctx: ProxyContext) -> float:
    """NN-Mass: sum over residual/dense cells of link density × neurons (Bhardwaj et al., CVPR 2021).

    A network without long-range links has density 0 however it is cut into cells, so its NN-Mass is 0.
    """
    return float(sum(cell.mass for cell in model_cells(ctx)))


@register_proxy("nn_degree", needs=("static",), family="topology")
def nn_degree(ctx: ProxyContext) -> float:
    """NN-Degree: sum over residual/dense cells of the average channel-graph degree (FLASH-like).

    Unlike NN-Mass it depends on where cells start and end, so a network without cells is not applicable.
    """
    cells = model_cells(ctx)
    if not cells:
        raise NotApplicableError("no residual or dense cells in the model's graph (no long-range links)")
    return float(sum(cell.degree for cell in cells))
