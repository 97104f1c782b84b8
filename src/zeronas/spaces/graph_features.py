"""Graph descriptors of a cell for accuracy predictors: op counts and statistics of its input->output paths.

A cell is a DAG whose ops sit on positions (NB201: edges; NB101: vertices). Each input->output path that
carries data is the sequence of positions it passes. The descriptors, after GRAF (Kadlecova et al., ICML
2024, "neural graph features"), say what a one-hot encoding leaves a tree model to discover: how many of
each op the cell holds, how many of them can reach the output, how many paths there are, and how deep
(in convolutions) the shallowest and deepest path are. All are exact integers of the graph.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence


def path_descriptors(
    ops: Mapping[Hashable, str],
    paths: Sequence[Sequence[Hashable]],
    op_names: Sequence[str],
    convs: Sequence[str],
) -> dict[str, float]:
    """Descriptors of a cell from its ops by position and its live input->output paths.

    `ops`: position -> op name, every position of the cell; `paths`: the live paths, each the positions
    it passes; `op_names`: the space's ops (one count column each, in this order); `convs`: the ops that
    are convolutions, the widest first. Columns: n_<op> (in the cell), live_<op> (on some path), paths,
    max_convs / min_convs (convolutions on the deepest / shallowest path; -1 without a path),
    max_<widest conv> (the most of the widest conv on a path), conv_free_paths.
    """
    on_paths = {position for path in paths for position in path}
    features: dict[str, float] = {}
    for name in op_names:
        features[f"n_{name}"] = float(sum(op == name for op in ops.values()))
        features[f"live_{name}"] = float(sum(ops[position] == name for position in on_paths))
    depths = [sum(ops[position] in convs for position in path) for path in paths]
    widest = [sum(ops[position] == convs[0] for position in path) for path in paths]
    features["paths"] = float(len(paths))
    features["max_convs"] = float(max(depths, default=-1))
    features["min_convs"] = float(min(depths, default=-1))
    features[f"max_{convs[0]}"] = float(max(widest, default=-1))
    features["conv_free_paths"] = float(sum(depth == 0 for depth in depths))
    return features


#: the four input->output paths of a 4-node cell (node 0 in, node 3 out; NB201, TransNAS micro), as edges
FOUR_NODE_PATHS = (((0, 3),), ((0, 1), (1, 3)), ((0, 2), (2, 3)), ((0, 1), (1, 2), (2, 3)))


def live_four_node_paths(ops: Mapping[tuple[int, int], str], none: str = "none") -> list[tuple[tuple[int, int], ...]]:
    """The input->output paths of a 4-node cell (ops on its six edges) that pass no `none` edge."""
    return [path for path in FOUR_NODE_PATHS if all(ops[edge] != none for edge in path)]


def four_node_cell(
    ops: Mapping[tuple[int, int], str], op_names: Sequence[str], convs: Sequence[str], none: str = "none"
) -> dict[str, float]:
    """`path_descriptors` of a 4-node cell with ops on its six edges; a path through a `none` edge is dead."""
    return path_descriptors(ops, live_four_node_paths(ops, none), op_names, convs)


def dag_paths(matrix: Sequence[Sequence[int]]) -> list[tuple[int, ...]]:
    """Every path from vertex 0 to the last vertex of an upper-triangular adjacency matrix, as its inner vertices."""
    last = len(matrix) - 1
    paths: list[tuple[int, ...]] = []

    def walk(vertex: int, inner: tuple[int, ...]) -> None:
        for target in range(vertex + 1, last + 1):
            if matrix[vertex][target]:
                if target == last:
                    paths.append(inner)
                else:
                    walk(target, (*inner, target))

    walk(0, ())
    return paths
