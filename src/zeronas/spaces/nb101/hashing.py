"""NAS-Bench-101 cell specs: validation, pruning and the official isomorphism-invariant graph hash.

A spec is an upper-triangular 0/1 adjacency matrix over V <= 7 vertices (0 the input, V-1 the
output) and one op per vertex. As in NAS-Bench-101, vertices off every input->output path are
pruned first; the limits (<= 7 vertices, <= 9 edges) apply to the pruned graph, and its hash is
NAS-Bench-101's: per-vertex md5 labels (out-degree, in-degree, op) refined V times from the sorted
labels of in- and out-neighbours, then the md5 of the sorted vertex labels.
"""

from __future__ import annotations

import hashlib
import itertools
import numbers
from collections.abc import Iterator
from typing import NamedTuple

from zeronas.errors import InvalidArchError

INPUT, OUTPUT = "input", "output"
CONV3X3, CONV1X1, MAXPOOL3X3 = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"
#: interior ops in NAS-Bench-101's canonical order (their index is the op's hash label)
INNER_OPS = (CONV3X3, CONV1X1, MAXPOOL3X3)
MAX_VERTICES = 7
MAX_EDGES = 9

Matrix = tuple[tuple[int, ...], ...]


class Spec(NamedTuple):
    """A pruned, valid cell: adjacency rows and one op name per vertex."""

    matrix: Matrix
    ops: tuple[str, ...]

    @property
    def num_vertices(self) -> int:
        return len(self.ops)

    @property
    def num_edges(self) -> int:
        return sum(map(sum, self.matrix))


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def graph_hash(spec: Spec) -> str:
    """The official NAS-Bench-101 hash of a pruned spec (32 hex chars)."""
    matrix, n = spec.matrix, spec.num_vertices
    labels = [-1] + [INNER_OPS.index(op) for op in spec.ops[1:-1]] + [-2]
    outs = [sum(row) for row in matrix]
    ins = [sum(matrix[s][t] for s in range(n)) for t in range(n)]
    hashes = [_md5(str((outs[v], ins[v], labels[v]))) for v in range(n)]
    for _ in range(n):
        hashes = [
            _md5(
                "".join(sorted(hashes[w] for w in range(n) if matrix[w][v]))
                + "|"
                + "".join(sorted(hashes[w] for w in range(n) if matrix[v][w]))
                + "|"
                + hashes[v]
            )
            for v in range(n)
        ]
    return _md5(str(sorted(hashes)))


def prune(matrix: Matrix, ops: tuple[str, ...]) -> Spec | None:
    """Drop the vertices not on an input->output path; None when the input does not reach the output."""
    n = len(ops)
    forward, stack = {0}, [0]
    while stack:
        s = stack.pop()
        for t in range(s + 1, n):
            if matrix[s][t] and t not in forward:
                forward.add(t)
                stack.append(t)
    backward, stack = {n - 1}, [n - 1]
    while stack:
        t = stack.pop()
        for s in range(t):
            if matrix[s][t] and s not in backward:
                backward.add(s)
                stack.append(s)
    keep = sorted(forward & backward)
    if 0 not in keep or n - 1 not in keep:
        return None
    return Spec(tuple(tuple(matrix[s][t] for t in keep) for s in keep), tuple(ops[v] for v in keep))


def _enumeration_rank(spec: Spec) -> tuple[int, tuple[int, ...]]:
    """Where NAS-Bench-101's graph generator meets `spec`: (edge bit mask, inner op labels).

    The generator walks bit masks upwards (edge (s, t) is bit s + t(t-1)/2), each with every op
    labelling in lexicographic order, and keeps the first graph of each hash: that graph, in its
    vertex order, is the one the benchmark trained.
    """
    bits = sum(1 << (s + t * (t - 1) // 2) for t in range(spec.num_vertices) for s in range(t) if spec.matrix[s][t])
    return bits, tuple(INNER_OPS.index(op) for op in spec.ops[1:-1])


def vertex_orders(spec: Spec) -> Iterator[Spec]:
    """`spec` under every relabelling of its inner vertices that keeps the matrix upper-triangular."""
    n = spec.num_vertices
    for perm in itertools.permutations(range(1, n - 1)):
        order = (0, *perm, n - 1)
        matrix = tuple(tuple(spec.matrix[order[i]][order[j]] for j in range(n)) for i in range(n))
        if not any(matrix[i][j] for i in range(n) for j in range(i + 1)):
            yield Spec(matrix, tuple(spec.ops[v] for v in order))


def official_order(spec: Spec) -> Spec:
    """`spec` with its inner vertices in the order of the graph NAS-Bench-101 trained for its hash.

    The order decides which vertices get the remainder channels when the output's fan-in does not
    divide the channel count, hence the exact parameter count.
    """
    return min(vertex_orders(spec), key=_enumeration_rank)


def _as_rows(matrix: object) -> Matrix:
    """A square 0/1 matrix as a tuple of int rows; anything else is an InvalidArchError."""
    if hasattr(matrix, "tolist"):
        matrix = matrix.tolist()
    if not isinstance(matrix, list | tuple) or not all(isinstance(r, list | tuple) for r in matrix):
        raise InvalidArchError(f"NB101 matrix must be a list of rows, got {type(matrix).__name__}")
    n = len(matrix)
    if n < 2 or any(len(row) != n for row in matrix):
        raise InvalidArchError(
            f"NB101 matrix must be square with at least 2 rows, got row lengths {[len(r) for r in matrix]}"
        )
    rows = []
    for row in matrix:
        if not all(isinstance(x, numbers.Integral) and x in (0, 1) for x in row):
            raise InvalidArchError(f"NB101 matrix entries must be 0 or 1, got row {list(row)!r}")
        rows.append(tuple(int(x) for x in row))
    return tuple(rows)


def make_spec(matrix: object, ops: object) -> Spec:
    """Check, prune and bound a raw (matrix, ops) pair; InvalidArchError names the first defect."""
    rows = _as_rows(matrix)
    n = len(rows)
    if not isinstance(ops, list | tuple) or not all(isinstance(o, str) for o in ops):
        raise InvalidArchError(f"NB101 ops must be a list of op names, got {ops!r}")
    ops = tuple(o.strip() for o in ops)
    if len(ops) != n:
        raise InvalidArchError(f"NB101 spec has {len(ops)} ops for a {n}x{n} matrix")
    if ops[0] != INPUT or ops[-1] != OUTPUT:
        raise InvalidArchError(f"NB101 ops must start with 'input' and end with 'output', got {list(ops)!r}")
    unknown = sorted({o for o in ops[1:-1] if o not in INNER_OPS})
    if unknown:
        raise InvalidArchError(f"unknown NB101 op(s) {', '.join(unknown)}; ops are {', '.join(INNER_OPS)}")
    if any(rows[s][t] for s in range(n) for t in range(s + 1)):
        raise InvalidArchError(
            "NB101 matrix must be strictly upper-triangular (edges only from lower to higher vertex)"
        )
    spec = prune(rows, ops)
    if spec is None:
        raise InvalidArchError("NB101 cell is disconnected: no path from the input to the output")
    if spec.num_vertices > MAX_VERTICES:
        raise InvalidArchError(f"NB101 cell has {spec.num_vertices} vertices after pruning; at most {MAX_VERTICES}")
    if spec.num_edges > MAX_EDGES:
        raise InvalidArchError(f"NB101 cell has {spec.num_edges} edges after pruning; at most {MAX_EDGES}")
    return spec
