"""The TransNAS-Bench-101 micro (4,096 cells) and macro (3,256 skeletons) search spaces.

A space is made for one task (`task=`, default class_scene): the task fixes `resolution`,
`num_classes` and the decoder of `build`; `build(key, task=...)` builds another task's network on the
same encoder. Keys are described in `keys`.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import numpy as np
from torch import nn

from zeronas.errors import InvalidArchError, InvalidInputError
from zeronas.spaces.base import SearchSpace, check_count, check_num_classes
from zeronas.spaces.graph_features import four_node_cell
from zeronas.spaces.tnb.costs import COUNTED, network_cost
from zeronas.spaces.tnb.encoder import MICRO_EDGE_NODES, TransNASEncoder, decoder_upsamples
from zeronas.spaces.tnb.heads import TASK_NAMES, TaskInfo, TaskNetwork, get_task, make_decoder
from zeronas.spaces.tnb.keys import (
    BASE_CHANNELS,
    MACRO_DIGITS,
    MICRO_EDGES,
    MICRO_OPS,
    MICRO_SKELETON,
    macro_arch_string,
    macro_digits,
    macro_key,
    macro_keys,
    macro_problem,
    macro_variants,
    micro_arch_string,
    micro_key,
    micro_ops,
)
from zeronas.spaces.tnb.ops import OP_NAMES

DEFAULT_TASK = "class_scene"
_MACRO_SLOTS = 6


class _TransNASSpace(SearchSpace):
    """What the micro and macro spaces share: the task, building, costs."""

    def __init__(self, task: str = DEFAULT_TASK, data_dir: str | os.PathLike | None = None) -> None:
        self.task = get_task(task).name
        self.data_dir = data_dir

    @property
    def task_info(self) -> TaskInfo:
        return get_task(self.task)

    def for_dataset(self, dataset: str) -> SearchSpace:
        """This space for task `dataset` (a task is the benchmark's data set); self for anything else."""
        if dataset not in TASK_NAMES or dataset == self.task:
            return self
        return type(self)(task=dataset, data_dir=self.data_dir)

    @property
    def resolution(self) -> int:  # type: ignore[override]
        """Input side of this space's task (jigsaw: the image its 3 x 3 tiles are cut from)."""
        return self.task_info.resolution

    @property
    def num_classes(self) -> int:  # type: ignore[override]
        return self.task_info.outputs

    def _skeleton(self, key: object) -> tuple[str, tuple[int, ...] | None]:
        """(macro digits, cell op digits or None for basic blocks) of `key`."""
        raise NotImplementedError

    def arch_string(self, key: object) -> str:
        """The TransNAS-Bench-101 arch string of `key` (its API's key)."""
        raise NotImplementedError

    def _outputs(self, task: TaskInfo, num_classes: object) -> int:
        outputs = check_num_classes(num_classes, task.outputs)
        if outputs != task.outputs and not task.variable_outputs:
            raise InvalidInputError(
                f"{task.name} has {task.outputs} fixed outputs; num_classes {outputs} cannot change them"
            )
        return outputs

    def build(
        self, key: object, num_classes: int | None = None, task: str | None = None, **kwargs: object
    ) -> nn.Module:
        """Encoder plus the decoder of `task` (default: the space's), `num_classes` outputs where they may vary."""
        if kwargs:
            raise InvalidInputError(f"unexpected options for {self.name} build: {', '.join(kwargs)}")
        info = get_task(self.task if task is None else task)
        macro, cell = self._skeleton(key)
        encoder = TransNASEncoder(macro, cell, BASE_CHANNELS)
        decoder = make_decoder(info, encoder.out_channels, decoder_upsamples(macro), self._outputs(info, num_classes))
        return TaskNetwork(encoder, decoder, info)

    def analytic_cost(
        self,
        key: object,
        what: str,
        num_classes: int | None = None,
        resolution: int | None = None,
        task: str | None = None,
    ) -> float:
        """'params' (M), 'flops' (MFLOPs, tensorwatch) or 'macs' (M) of the built network, exact, from counted parts.

        They equal the counters on `build(key, num_classes, task)` at a batch-1 input of side
        `resolution` (default the task's). Jigsaw's encoder runs on 9 tiles, so its FLOPs count 9
        times; NAS-Bench-Suite-Zero's jigsaw 'flops' count one tile (tensorwatch keeps one call per module).
        """
        if what not in COUNTED:
            raise InvalidArchError(f"{self.name} has no analytic cost {what!r}; choose params, flops or macs")
        info = get_task(self.task if task is None else task)
        side = info.resolution if resolution is None else check_count(resolution, "resolution", 8)
        macro, cell = self._skeleton(key)
        return network_cost(what, macro, cell, info.name, self._outputs(info, num_classes), side) / 1e6


class TransNASMicroSpace(_TransNASSpace):
    """TransNAS-Bench-101 micro: one 4-node cell (6 edges, 4 ops) in the fixed 64-41414 skeleton."""

    name = "tnb_micro"

    def ops(self, key: object) -> tuple[int, ...]:
        """The six op digits (a, b, c, d, e, f) of `key`."""
        return micro_ops(key)

    def validate(self, key: object) -> str:
        return micro_key(micro_ops(key))

    def arch_string(self, key: object) -> str:
        return micro_arch_string(micro_ops(key))

    def _skeleton(self, key: object) -> tuple[str, tuple[int, ...] | None]:
        return MICRO_SKELETON, micro_ops(key)

    @property
    def size(self) -> int:
        return MICRO_OPS**MICRO_EDGES

    def enumerate(self) -> Iterator[str]:
        for ops in itertools.product(range(MICRO_OPS), repeat=MICRO_EDGES):
            yield micro_key(ops)

    def sample(self, rng: np.random.Generator) -> str:
        return micro_key(tuple(int(o) for o in rng.integers(0, MICRO_OPS, size=MICRO_EDGES)))

    def mutate(self, key: object, rng: np.random.Generator) -> str:
        ops = list(micro_ops(key))
        edge = int(rng.integers(MICRO_EDGES))
        ops[edge] = int((ops[edge] + rng.integers(1, MICRO_OPS)) % MICRO_OPS)
        return micro_key(tuple(ops))

    def crossover(self, a: object, b: object, rng: np.random.Generator) -> str:
        ops_a, ops_b = micro_ops(a), micro_ops(b)
        take_a = rng.random(MICRO_EDGES) < 0.5
        return micro_key(tuple(x if t else y for x, y, t in zip(ops_a, ops_b, take_a, strict=True)))

    def neighbours(self, key: object) -> list[str]:
        ops = micro_ops(key)
        return [
            micro_key(ops[:edge] + (op,) + ops[edge + 1 :])
            for edge in range(MICRO_EDGES)
            for op in range(MICRO_OPS)
            if op != ops[edge]
        ]

    def encode(self, key: object) -> np.ndarray:
        """One-hot (6 edges x 4 ops), edges in key order."""
        vec = np.zeros((MICRO_EDGES, MICRO_OPS), dtype=np.float32)
        vec[np.arange(MICRO_EDGES), list(micro_ops(key))] = 1.0
        return vec.ravel()

    def graph_features(self, key: object) -> dict[str, float]:
        """Op counts and input->output path statistics of the cell (`four_node_cell`; key order is target-major)."""
        ops = {edge: OP_NAMES[o] for edge, o in zip(MICRO_EDGE_NODES, micro_ops(key), strict=True)}
        return four_node_cell(ops, OP_NAMES, ("nor_conv_3x3", "nor_conv_1x1"))


class TransNASMacroSpace(_TransNASSpace):
    """TransNAS-Bench-101 macro: 4 to 6 stages of 2 ResNet basic blocks, each keeping or changing the shape."""

    name = "tnb_macro"

    def digits(self, key: object) -> tuple[int, ...]:
        """The stage digits of `key`."""
        return macro_digits(key)

    def validate(self, key: object) -> str:
        return macro_key(macro_digits(key))

    def arch_string(self, key: object) -> str:
        return macro_arch_string(macro_digits(key))

    def _skeleton(self, key: object) -> tuple[str, tuple[int, ...] | None]:
        return macro_key(macro_digits(key)), None

    @property
    def size(self) -> int:
        return len(macro_keys())

    def enumerate(self) -> Iterator[str]:
        yield from macro_keys()

    def sample(self, rng: np.random.Generator) -> str:
        """A uniform draw over the 3,256 skeletons."""
        keys = macro_keys()
        return keys[int(rng.integers(len(keys)))]

    def neighbours(self, key: object) -> list[str]:
        """Skeletons one stage digit changed, one stage removed or one stage inserted away."""
        return [macro_key(d) for d in macro_variants(macro_digits(key))]

    def mutate(self, key: object, rng: np.random.Generator) -> str:
        """A uniform draw among `neighbours` (every skeleton has some)."""
        options = self.neighbours(key)
        return options[int(rng.integers(len(options)))]

    def crossover(self, a: object, b: object, rng: np.random.Generator) -> str:
        """Position-wise uniform crossover with a parent's length; a parent when 20 draws are all invalid."""
        da, db = macro_digits(a), macro_digits(b)
        for _ in range(20):
            length = len(da) if rng.random() < 0.5 else len(db)
            child = []
            for i in range(length):
                options = [p[i] for p in (da, db) if i < len(p)]
                child.append(options[int(rng.integers(len(options)))])
            if macro_problem(tuple(child)) is None:
                return macro_key(tuple(child))
        return macro_key(da if rng.random() < 0.5 else db)

    def encode(self, key: object) -> np.ndarray:
        """One-hot digit (4) per stage slot (6); absent stages all zero."""
        vec = np.zeros((_MACRO_SLOTS, len(MACRO_DIGITS)), dtype=np.float32)
        for i, d in enumerate(macro_digits(key)):
            vec[i, d - 1] = 1.0
        return vec.ravel()
