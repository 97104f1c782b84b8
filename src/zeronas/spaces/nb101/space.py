"""NAS-Bench-101: the 423,624 distinct cells of at most 7 vertices and 9 edges.

Canonical key: the official NAS-Bench-101 graph hash (32 lower-case hex chars). Also accepted on
input, each pruned, bounded and hashed:
  - a spec: JSON text ``{"matrix": [[...]], "ops": ["input", ..., "output"]}``, a dict with those
    keys, or a ``(matrix, ops)`` pair;
  - the NAS-Bench-Suite-Zero key: the V x V adjacency flattened row by row, then V op codes
    (0 input, 1 output, 2 maxpool3x3, 3 conv1x1-bn-relu, 4 conv3x3-bn-relu), as a tuple or its text;
  - the table's strings ``"<adjacency_rows>;<ops>"`` (rows joined by '|', ops by ','), or their pair.
A hash is checked against the table `benchmarks/nasbench101.csv.gz` and built from its stored
graph put in the vertex order NAS-Bench-101 trained (`official_order`); a key given as a spec
builds from that spec as given. The vertex order decides which vertices get the remainder
channels, so isomorphic specs may differ by a few parameters.
"""

from __future__ import annotations

import ast
import functools
import json
import numbers
import os
import re
from collections.abc import Iterator

import numpy as np
import pandas as pd
from torch import nn

from zeronas.errors import DataNotFoundError, InvalidArchError, InvalidInputError
from zeronas.spaces.base import SearchSpace, check_num_classes
from zeronas.spaces.graph_features import dag_paths, path_descriptors
from zeronas.spaces.nb101.hashing import (
    CONV1X1,
    CONV3X3,
    INNER_OPS,
    INPUT,
    MAX_VERTICES,
    OUTPUT,
    Spec,
    graph_hash,
    make_spec,
    official_order,
)
from zeronas.spaces.nb101.model import NasBench101Network
from zeronas.spaces.nb101.truth import NUM_CELLS, load_nasbench101

#: NAS-Bench-Suite-Zero op codes
SUITE_ZERO_OPS = {0: INPUT, 1: OUTPUT, 2: "maxpool3x3", 3: "conv1x1-bn-relu", 4: "conv3x3-bn-relu"}
_HASH = re.compile(r"^[0-9a-f]{32}$")
_TABLE_KEY = re.compile(r"^([01]+(?:\|[01]+)*)\s*[;\s]\s*(input(?:,[a-z0-9-]+)*)$")
_INNER = MAX_VERTICES - 2
_UPPER = [(s, t) for t in range(MAX_VERTICES) for s in range(t)]


def _suite_zero(codes: tuple[int, ...]) -> Spec:
    """Spec of a NAS-Bench-Suite-Zero key: V*V adjacency entries then V op codes."""
    n = next((v for v in range(2, MAX_VERTICES + 3) if v * v + v == len(codes)), None)
    if n is None or not all(isinstance(c, numbers.Integral) for c in codes):
        raise InvalidArchError(f"NB101 op-code key needs V*V + V integers (56 for V=7), got {len(codes)} values")
    if any(c not in SUITE_ZERO_OPS for c in codes[n * n :]):
        raise InvalidArchError(f"NB101 op codes must be 0..4, got {list(codes[n * n :])}")
    matrix = [list(codes[r * n : (r + 1) * n]) for r in range(n)]
    return make_spec(matrix, [SUITE_ZERO_OPS[c] for c in codes[n * n :]])


def table_spec(rows: str, ops: str) -> Spec:
    """Spec of the table's `adjacency_rows` and `ops` strings."""
    if not re.fullmatch(r"[01]+(\|[01]+)*", rows.strip()):
        raise InvalidArchError(f"NB101 adjacency rows must be 0/1 strings joined by '|', got {rows!r}")
    return make_spec([[int(c) for c in row] for row in rows.strip().split("|")], ops.strip().split(","))


@functools.lru_cache(maxsize=1 << 16)
def _trained_spec(rows: str, ops: str) -> Spec:
    """The table's graph in the vertex order NAS-Bench-101 trained (cached: the search is ~1 ms)."""
    return official_order(table_spec(rows, ops))


def pad(spec: Spec) -> Spec:
    """`spec` on 7 vertices: isolated conv3x3 vertices inserted before the output (pruned away again)."""
    n = spec.num_vertices
    keep = list(range(n - 1)) + [MAX_VERTICES - 1]
    matrix = [[0] * MAX_VERTICES for _ in range(MAX_VERTICES)]
    for i, s in enumerate(keep):
        for j, t in enumerate(keep):
            matrix[s][t] = spec.matrix[i][j]
    ops = list(spec.ops[:-1]) + [INNER_OPS[0]] * (MAX_VERTICES - n) + [OUTPUT]
    return Spec(tuple(map(tuple, matrix)), tuple(ops))


class NasBench101Space(SearchSpace):
    """The NAS-Bench-101 cell space (CIFAR-10 network: 128-channel stem, 3 stacks of 3 cells)."""

    name = "nb101"

    resolution = 32
    num_classes = 10

    def __init__(self, data_dir: str | os.PathLike | None = None):
        self.data_dir = data_dir
        #: specs of hashes met as specs, so that they build when the table is absent
        self._specs: dict[str, Spec] = {}

    # --- keys ---------------------------------------------------------------------------------
    def _table(self):
        return load_nasbench101(self.data_dir)

    def _has_table(self) -> bool:
        try:
            self._table()
        except DataNotFoundError:
            return False
        return True

    def parse(self, key: object) -> tuple[str | None, Spec | None]:
        """(hash, None) for a hash key, (None, spec) for any spec form; InvalidArchError otherwise."""
        if isinstance(key, dict):
            if set(key) != {"matrix", "ops"}:
                raise InvalidArchError(f"NB101 spec dict needs exactly the keys 'matrix' and 'ops', got {sorted(key)}")
            return None, make_spec(key["matrix"], key["ops"])
        if isinstance(key, tuple | list):
            if len(key) == 2 and all(isinstance(k, str) for k in key):
                return None, table_spec(*key)
            if len(key) == 2:
                return None, make_spec(key[0], key[1])
            return None, _suite_zero(tuple(key))
        if not isinstance(key, str):
            raise InvalidArchError(f"NB101 key must be a hash, a spec or an op-code tuple, got {type(key).__name__}")
        text = key.strip()
        if _HASH.match(text.lower()):
            return text.lower(), None
        if text.startswith("{"):
            try:
                return self.parse(json.loads(text))
            except json.JSONDecodeError as exc:
                raise InvalidArchError(f"NB101 spec is not valid JSON: {exc.msg} at char {exc.pos}") from None
        if text.startswith("("):
            try:
                codes = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                raise InvalidArchError(f"NB101 op-code key {key!r} is not a tuple of integers") from None
            if isinstance(codes, tuple):
                return None, _suite_zero(codes)
        if m := _TABLE_KEY.match(text):
            return None, table_spec(m.group(1), m.group(2))
        raise InvalidArchError(
            f"malformed NB101 key {key!r}: expected a 32-hex-digit hash, a JSON spec "
            '\'{"matrix": [[...]], "ops": [...]}\', an op-code tuple or "<adjacency_rows>;<ops>"'
        )

    def _known_hash(self, digest: str) -> pd.Series | None:
        """The table row of `digest`; None when the table is absent and the hash was met as a spec."""
        if digest in self._specs and not self._has_table():
            return None
        table = self._table()
        if digest not in table.index:
            raise InvalidArchError(f"NB101 hash {digest} is not one of the {NUM_CELLS:,} cells of the table")
        return table.loc[digest]

    def spec(self, key: object) -> Spec:
        """The pruned spec of `key`: as given, or for a hash its graph in the vertex order NAS-Bench-101 trained."""
        digest, spec = self.parse(key)
        if spec is not None:
            return spec
        row = self._known_hash(digest)
        if row is None:
            return official_order(self._specs[digest])
        return _trained_spec(row["adjacency_rows"], row["ops"])

    def validate(self, key: object) -> str:
        digest, spec = self.parse(key)
        if spec is None:
            self._known_hash(digest)
            return digest
        digest = graph_hash(spec)
        self._specs.setdefault(digest, spec)
        return digest

    # --- enumeration and variation ------------------------------------------------------------
    @property
    def size(self) -> int:
        return NUM_CELLS

    def enumerate(self) -> Iterator[str]:
        """Every hash of the table, sorted (needs the table)."""
        yield from self._table().index

    def sample(self, rng: np.random.Generator) -> str:
        """A uniform draw from the table's hashes; without the table, a random valid spec.

        The fallback draws each of the 21 edges with probability 1/2 and each inner op uniformly,
        until the pruned cell is valid: valid cells, but not uniform over the 423,624.
        """
        if self._has_table():
            index = self._table().index
            return str(index[int(rng.integers(len(index)))])
        while True:
            matrix = [[0] * MAX_VERTICES for _ in range(MAX_VERTICES)]
            for s, t in _UPPER:
                matrix[s][t] = int(rng.integers(2))
            ops = [INPUT] + [INNER_OPS[int(i)] for i in rng.integers(len(INNER_OPS), size=_INNER)] + [OUTPUT]
            try:
                return self.validate({"matrix": matrix, "ops": ops})
            except InvalidArchError:
                continue

    def _variants(self, spec: Spec) -> Iterator[tuple[list[list[int]], list[str]]]:
        """Every (matrix, ops) one change from `spec` on 7 vertices.

        A change is an op changed, an edge between present vertices flipped, or a new vertex (any
        op) on a new path from a present vertex to the output: a new vertex on one edge alone
        would be pruned again, so the 2-vertex cell would have no neighbour.
        """
        padded = pad(spec)
        base = [list(row) for row in padded.matrix]
        output = MAX_VERTICES - 1
        isolated = set(range(spec.num_vertices - 1, output))
        for v in range(1, output):
            if v in isolated:
                continue
            for op in INNER_OPS:
                if op != padded.ops[v]:
                    yield base, list(padded.ops[:v]) + [op] + list(padded.ops[v + 1 :])
        for s, t in _UPPER:
            if s in isolated:
                continue
            matrix = [row[:] for row in base]
            matrix[s][t] = 1 - matrix[s][t]
            if t not in isolated:
                yield matrix, list(padded.ops)
                continue
            matrix[t][output] = 1
            for op in INNER_OPS:
                yield matrix, [op if v == t else o for v, o in enumerate(padded.ops)]

    def neighbours(self, key: object) -> list[str]:
        """The distinct valid cells one op change, edge flip or added vertex away (see `_variants`)."""
        own = self.validate(key)
        seen: dict[str, None] = {}
        for matrix, ops in self._variants(self.spec(key)):
            try:
                digest = self.validate({"matrix": matrix, "ops": ops})
            except InvalidArchError:
                continue
            if digest != own:
                seen.setdefault(digest, None)
        return list(seen)

    def mutate(self, key: object, rng: np.random.Generator) -> str:
        """One local change: a uniform draw among `neighbours`."""
        options = self.neighbours(key)
        return options[int(rng.integers(len(options)))]

    def crossover(self, a: object, b: object, rng: np.random.Generator) -> str:
        """Uniform crossover of the padded edge bits and inner ops; a parent when 20 draws are all invalid."""
        pa, pb = pad(self.spec(a)), pad(self.spec(b))
        for _ in range(20):
            take = rng.random(len(_UPPER) + _INNER) < 0.5
            matrix = [[0] * MAX_VERTICES for _ in range(MAX_VERTICES)]
            for i, (s, t) in enumerate(_UPPER):
                matrix[s][t] = (pa if take[i] else pb).matrix[s][t]
            ops = [INPUT] + [(pa if take[len(_UPPER) + i] else pb).ops[i + 1] for i in range(_INNER)] + [OUTPUT]
            try:
                return self.validate({"matrix": matrix, "ops": ops})
            except InvalidArchError:
                continue
        return self.validate(a if rng.random() < 0.5 else b)

    def encode(self, key: object) -> np.ndarray:
        """21 upper-triangular adjacency bits then a one-hot op (3) per inner vertex; padded vertices all zero."""
        spec = self.spec(key)
        padded = pad(spec)
        edges = [padded.matrix[s][t] for s, t in _UPPER]
        ops = np.zeros((_INNER, len(INNER_OPS)), dtype=np.float32)
        for v in range(1, spec.num_vertices - 1):
            ops[v - 1, INNER_OPS.index(spec.ops[v])] = 1.0
        return np.concatenate([np.asarray(edges, dtype=np.float32), ops.ravel()])

    def graph_features(self, key: object) -> dict[str, float]:
        """Op counts and input->output path statistics of the pruned cell (ops on its inner vertices)."""
        spec = self.spec(key)
        ops = {v: spec.ops[v] for v in range(1, spec.num_vertices - 1)}
        return path_descriptors(ops, dag_paths(spec.matrix), INNER_OPS, (CONV3X3, CONV1X1))

    # --- models -------------------------------------------------------------------------------
    def build(self, key: object, num_classes: int | None = None, **kwargs: object) -> nn.Module:
        if kwargs:
            raise InvalidInputError(f"unexpected options for nb101 build: {', '.join(kwargs)}")
        return NasBench101Network(self.spec(key), num_classes=check_num_classes(num_classes, self.num_classes))
