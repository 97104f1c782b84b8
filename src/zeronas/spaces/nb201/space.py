"""NAS-Bench-201: 5 ops on the 6 edges of a 4-node cell, 5^6 = 15,625 architectures.

Canonical key: the NB201 arch string, target-major,
``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``. Also accepted on input: a 6-digit op-index string in
NAS-Bench-Suite-Zero order (source-major edges (1,2),(1,3),(1,4),(2,3),(2,4),(3,4); digits
0 skip_connect, 1 none, 2 nor_conv_3x3, 3 nor_conv_1x1, 4 avg_pool_3x3), its tuple form
``(4, 3, 3, 0, 0, 0)``, and the official benchmark index (``index:123``, through the table
``benchmarks/nasbench201.csv`` of the data directory).
"""

from __future__ import annotations

import functools
import itertools
import os
import re
from collections.abc import Iterator

import numpy as np
from torch import nn

from zeronas.config import data_file
from zeronas.errors import InvalidArchError, InvalidInputError
from zeronas.spaces.base import SearchSpace, check_count, check_num_classes
from zeronas.spaces.graph_features import four_node_cell, live_four_node_paths
from zeronas.spaces.nb201.model import OP_NAMES, TinyNetwork

NUM_EDGES = 6
NUM_OPS = len(OP_NAMES)
#: (source, target) of each position of the op-index string (source-major, NB201 node ids)
EDGES = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
#: position in the op-index string of each edge of the arch string, in arch-string order
_STRING_ORDER = (0, 1, 3, 2, 4, 5)
_OP_ID = {name: i for i, name in enumerate(OP_NAMES)}
_DIGITS = re.compile(r"^[0-4]{6}$")
_TUPLE = re.compile(r"^\(\s*([0-4])\s*,\s*([0-4])\s*,\s*([0-4])\s*,\s*([0-4])\s*,\s*([0-4])\s*,\s*([0-4])\s*\)$")
_INDEX = re.compile(r"^(?:index:|#)(\d+)$")


def ops_to_string(ops: tuple[int, ...]) -> str:
    """Op indices (source-major) -> NB201 arch string."""
    names = [OP_NAMES[o] for o in ops]
    t0, t1, t2, t3, t4, t5 = names
    return f"|{t0}~0|+|{t1}~0|{t3}~1|+|{t2}~0|{t4}~1|{t5}~2|"


def string_to_ops(arch: str) -> tuple[int, ...]:
    """NB201 arch string -> op indices (source-major); InvalidArchError names the defect."""
    groups = arch.strip().split("+")
    if len(groups) != 3:
        raise InvalidArchError(f"NB201 arch string needs 3 '+'-separated node groups, got {len(groups)}: {arch!r}")
    ops = [0] * NUM_EDGES
    for target, group in enumerate(groups, start=1):
        if not (group.startswith("|") and group.endswith("|")):
            raise InvalidArchError(f"NB201 node group {group!r} must start and end with '|'")
        entries = group[1:-1].split("|")
        if len(entries) != target:
            raise InvalidArchError(
                f"NB201 node {target} needs {target} incoming edge(s), got {len(entries)} in {group!r}"
            )
        for source, entry in enumerate(entries):
            name, sep, src = entry.partition("~")
            if not sep or src != str(source):
                raise InvalidArchError(f"NB201 edge {entry!r} of node {target} must read 'op~{source}'")
            if name not in _OP_ID:
                raise InvalidArchError(f"unknown NB201 op {name!r}; ops are {', '.join(OP_NAMES)}")
            ops[EDGES.index((source, target))] = _OP_ID[name]
    return tuple(ops)


def genotype(ops: tuple[int, ...]) -> tuple[tuple[tuple[str, int], ...], ...]:
    """Op indices -> AutoDL genotype: per target node, its (op name, source) edges."""
    return tuple(tuple((OP_NAMES[ops[EDGES.index((s, t))]], s) for s in range(t)) for t in range(1, 4))


def _is_int(value: object) -> bool:
    """An integer that is not a bool (True is no op index or benchmark index)."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


@functools.lru_cache(maxsize=4)
def _index_table(path: str) -> tuple[list[str], dict[str, int]]:
    from zeronas.config import read_data_csv

    frame = read_data_csv(path, ("nb201_index", "arch_str"), usecols=["nb201_index", "arch_str"])
    frame = frame.sort_values("nb201_index")
    archs = frame["arch_str"].tolist()
    return archs, {a: i for i, a in enumerate(archs)}


class NasBench201Space(SearchSpace):
    """The NAS-Bench-201 / NATS-Bench topology search space."""

    name = "nb201"

    resolution = 32
    num_classes = 10

    def __init__(self, channels: int = 16, cells_per_stage: int = 5, data_dir: str | os.PathLike | None = None):
        self.channels = check_count(channels, "nb201 channels", 1)
        self.cells_per_stage = check_count(cells_per_stage, "nb201 cells_per_stage", 1)
        self.data_dir = data_dir

    # --- keys ---------------------------------------------------------------------------------
    def ops(self, key: str | int | tuple[int, ...]) -> tuple[int, ...]:
        """Op indices (source-major) of any accepted key form."""
        if isinstance(key, tuple | list):
            if len(key) != NUM_EDGES or not all(_is_int(o) and 0 <= o < NUM_OPS for o in key):
                raise InvalidArchError(f"NB201 op tuple needs 6 ints in 0..4, got {key!r}")
            return tuple(int(o) for o in key)
        if _is_int(key):
            return string_to_ops(self.arch_of_index(int(key)))
        if not isinstance(key, str):
            raise InvalidArchError(f"NB201 key must be a string, got {type(key).__name__}")
        text = key.strip()
        if text.startswith("|"):
            return string_to_ops(text)
        if _DIGITS.match(text):
            return tuple(int(c) for c in text)
        if m := _TUPLE.match(text):
            return tuple(int(g) for g in m.groups())
        if m := _INDEX.match(text):
            return string_to_ops(self.arch_of_index(int(m.group(1))))
        raise InvalidArchError(
            f"malformed NB201 key {key!r}: expected an arch string '|op~0|+|op~0|op~1|+...', "
            "6 op digits like '433000', a tuple '(4, 3, 3, 0, 0, 0)' or 'index:N'"
        )

    def validate(self, key: str | int | tuple[int, ...]) -> str:
        return ops_to_string(self.ops(key))

    def op_string(self, key: str) -> str:
        """The 6-digit op-index form of `key` (NAS-Bench-Suite-Zero order)."""
        return "".join(str(o) for o in self.ops(key))

    def _table(self) -> tuple[list[str], dict[str, int]]:
        path = data_file("benchmarks/nasbench201.csv", self.data_dir, hint="the NB201 index table")
        return _index_table(str(path))

    def arch_of_index(self, index: int) -> str:
        """Arch string of the official NB201 index (0..15624)."""
        archs, _ = self._table()
        if not 0 <= index < len(archs):
            raise InvalidArchError(f"NB201 index {index} out of range 0..{len(archs) - 1}")
        return archs[index]

    def index_of(self, key: str) -> int:
        """Official NB201 index of `key`."""
        return self._table()[1][self.validate(key)]

    # --- enumeration and variation ------------------------------------------------------------
    @property
    def size(self) -> int:
        return NUM_OPS**NUM_EDGES

    def enumerate(self) -> Iterator[str]:
        for ops in itertools.product(range(NUM_OPS), repeat=NUM_EDGES):
            yield ops_to_string(ops)

    def sample(self, rng: np.random.Generator) -> str:
        return ops_to_string(tuple(int(o) for o in rng.integers(0, NUM_OPS, size=NUM_EDGES)))

    def mutate(self, key: str, rng: np.random.Generator) -> str:
        ops = list(self.ops(key))
        edge = int(rng.integers(NUM_EDGES))
        ops[edge] = int((ops[edge] + rng.integers(1, NUM_OPS)) % NUM_OPS)
        return ops_to_string(tuple(ops))

    def crossover(self, a: str, b: str, rng: np.random.Generator) -> str:
        ops_a, ops_b = self.ops(a), self.ops(b)
        take_a = rng.random(NUM_EDGES) < 0.5
        return ops_to_string(tuple(x if t else y for x, y, t in zip(ops_a, ops_b, take_a, strict=True)))

    def neighbours(self, key: str) -> list[str]:
        ops = self.ops(key)
        out = []
        for edge in range(NUM_EDGES):
            for op in range(NUM_OPS):
                if op != ops[edge]:
                    out.append(ops_to_string(ops[:edge] + (op,) + ops[edge + 1 :]))
        return out

    def encode(self, key: str) -> np.ndarray:
        """One-hot (6 edges x 5 ops) vector, edges in op-index order."""
        vec = np.zeros((NUM_EDGES, NUM_OPS), dtype=np.float32)
        vec[np.arange(NUM_EDGES), list(self.ops(key))] = 1.0
        return vec.ravel()

    def _edge_ops(self, key: str) -> dict[tuple[int, int], str]:
        """(source, target) -> op name of every edge of the cell."""
        return {edge: OP_NAMES[o] for edge, o in zip(EDGES, self.ops(key), strict=True)}

    def graph_features(self, key: str) -> dict[str, float]:
        """Op counts and input->output path statistics of the cell (`four_node_cell`)."""
        return four_node_cell(self._edge_ops(key), OP_NAMES, ("nor_conv_3x3", "nor_conv_1x1"))

    def is_connected(self, key: str) -> bool:
        """Whether some path of non-'none' edges joins the cell input to its output."""
        return bool(live_four_node_paths(self._edge_ops(key)))

    def analytic_cost(
        self, key: str, what: str, num_classes: int | None = None, resolution: int | None = None
    ) -> float:
        """'params' (M), 'flops' (MFLOPs) or 'macs' (M) of `key`, exact, summed from a calibrated edge table."""
        from zeronas.modelstats import COUNTED
        from zeronas.spaces.nb201.costs import cost_table

        if what not in COUNTED:
            raise InvalidArchError(f"nb201 has no analytic cost {what!r}; choose params, flops or macs")
        classes = check_num_classes(num_classes, self.num_classes)
        base, table = cost_table(self.channels, self.cells_per_stage, classes, resolution or self.resolution, what)
        return (base + sum(table[edge][op] for edge, op in enumerate(self.ops(key)))) / 1e6

    # --- models -------------------------------------------------------------------------------
    def build(self, key: str, num_classes: int | None = None, **kwargs: object) -> nn.Module:
        if kwargs:
            raise InvalidInputError(f"unexpected options for nb201 build: {', '.join(kwargs)}")
        return TinyNetwork(
            genotype(self.ops(key)),
            num_classes=check_num_classes(num_classes, self.num_classes),
            channels=self.channels,
            cells_per_stage=self.cells_per_stage,
        )
