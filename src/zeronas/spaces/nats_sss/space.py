"""NATS-Bench size search space: 5 widths from {8, 16, ..., 64}, 8^5 = 32,768 networks of one fixed cell.

Canonical key: the five channel counts joined by ':', as NATS-Bench writes them, e.g.
``8:16:32:64:64``. Also accepted on input: the same numbers with spaces around them, separated by
',' or enclosed in brackets (``(8, 16, 32, 64, 64)``), a list or tuple of five ints, and the
official NATS-Bench SSS index 0..32767 as ``index:123``, ``#123`` or a Python int. The official
index orders the keys like nested loops over the positions, the last one fastest (index 1 is
``8:8:8:8:16``, index 8 is ``8:8:8:16:8``), which is NATS-Bench's `meta_archs` order.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence

import numpy as np
from torch import nn

from zeronas.errors import InvalidArchError, InvalidInputError
from zeronas.spaces.base import SearchSpace, check_count, check_num_classes
from zeronas.spaces.nats_sss.model import SizeNetwork

#: the width choices of every position
CHOICES = (8, 16, 24, 32, 40, 48, 56, 64)
NUM_LAYERS = 5
NUM_CHOICES = len(CHOICES)
SIZE = NUM_CHOICES**NUM_LAYERS
_CHOICE_ID = {c: i for i, c in enumerate(CHOICES)}
_INDEX = re.compile(r"^(?:index:|#)\s*(\d+)$")
_BRACKETS = {"(": ")", "[": "]"}
_FORMS = "five channel counts like '8:16:32:64:64' (each one of 8, 16, ..., 64) or an index like 'index:123'"


def _is_int(value: object) -> bool:
    """An integer that is not a bool."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def key_of(choices: Sequence[int]) -> str:
    """Choice indices (0..7 per position) -> canonical key."""
    return ":".join(str(CHOICES[c]) for c in choices)


def index_of_choices(choices: Sequence[int]) -> int:
    """Official NATS-Bench SSS index of choice indices (base-8 number, first position most significant)."""
    index = 0
    for c in choices:
        index = index * NUM_CHOICES + c
    return index


def choices_of_index(index: int) -> tuple[int, ...]:
    """Choice indices of an official index in 0..32767."""
    if not 0 <= index < SIZE:
        raise InvalidArchError(f"NATS-Bench SSS index {index} out of range 0..{SIZE - 1}")
    digits = []
    for _ in range(NUM_LAYERS):
        index, digit = divmod(index, NUM_CHOICES)
        digits.append(digit)
    return tuple(reversed(digits))


def _channel_choices(values: Sequence[object], key: object) -> tuple[int, ...]:
    """Choice indices of five channel counts; InvalidArchError names the first bad one."""
    if len(values) != NUM_LAYERS:
        raise InvalidArchError(f"NATS-Bench SSS key needs {NUM_LAYERS} channel counts, got {len(values)} in {key!r}")
    out = []
    for position, value in enumerate(values):
        if isinstance(value, str):
            text = value.strip()
            if not re.fullmatch(r"\d+", text):
                raise InvalidArchError(f"channel count {value!r} at position {position} of {key!r} is not an integer")
            value = int(text)
        if not _is_int(value) or int(value) not in _CHOICE_ID:
            raise InvalidArchError(
                f"channel count {value!r} at position {position} of {key!r} is not one of "
                f"{', '.join(map(str, CHOICES))}"
            )
        out.append(_CHOICE_ID[int(value)])
    return tuple(out)


class NatsSizeSpace(SearchSpace):
    """The NATS-Bench size search space (SSS)."""

    name = "nats_sss"

    resolution = 32
    num_classes = 10

    # --- keys ---------------------------------------------------------------------------------
    def choices(self, key: str | int | Sequence[int]) -> tuple[int, ...]:
        """Choice indices (0..7 per position) of any accepted key form."""
        if _is_int(key):
            return choices_of_index(int(key))
        if isinstance(key, tuple | list):
            return _channel_choices(key, key)
        if not isinstance(key, str):
            raise InvalidArchError(f"NATS-Bench SSS key must be a string, got {type(key).__name__}")
        text = key.strip()
        if m := _INDEX.match(text):
            return choices_of_index(int(m.group(1)))
        if text[:1] in _BRACKETS:
            if not text.endswith(_BRACKETS[text[0]]):
                raise InvalidArchError(f"malformed NATS-Bench SSS key {key!r}: unclosed {text[0]!r}")
            text = text[1:-1]
        separator = ":" if ":" in text else ","
        if separator not in text:
            raise InvalidArchError(f"malformed NATS-Bench SSS key {key!r}: expected {_FORMS}")
        return _channel_choices(text.split(separator), key)

    def validate(self, key: str | int | Sequence[int]) -> str:
        return key_of(self.choices(key))

    def channels(self, key: str | int | Sequence[int]) -> tuple[int, int, int, int, int]:
        """The five channel counts of `key`."""
        c0, c1, c2, c3, c4 = (CHOICES[c] for c in self.choices(key))
        return c0, c1, c2, c3, c4

    def index_of(self, key: str | int | Sequence[int]) -> int:
        """Official NATS-Bench SSS index (0..32767) of `key`."""
        return index_of_choices(self.choices(key))

    def arch_of_index(self, index: int) -> str:
        """Canonical key of the official NATS-Bench SSS index."""
        if not _is_int(index):
            raise InvalidArchError(f"NATS-Bench SSS index must be an integer, got {type(index).__name__}")
        return key_of(choices_of_index(int(index)))

    # --- enumeration and variation ------------------------------------------------------------
    @property
    def size(self) -> int:
        return SIZE

    def enumerate(self) -> Iterator[str]:
        """Every key in official index order."""
        for choices in itertools.product(range(NUM_CHOICES), repeat=NUM_LAYERS):
            yield key_of(choices)

    def sample(self, rng: np.random.Generator) -> str:
        return key_of([int(c) for c in rng.integers(0, NUM_CHOICES, size=NUM_LAYERS)])

    def mutate(self, key: str, rng: np.random.Generator) -> str:
        """One position moved to one of its 7 other widths, uniformly."""
        choices = list(self.choices(key))
        position = int(rng.integers(NUM_LAYERS))
        choices[position] = int((choices[position] + rng.integers(1, NUM_CHOICES)) % NUM_CHOICES)
        return key_of(choices)

    def crossover(self, a: str, b: str, rng: np.random.Generator) -> str:
        """Each position's width from either parent with probability 1/2."""
        take_a = rng.random(NUM_LAYERS) < 0.5
        pairs = zip(self.choices(a), self.choices(b), take_a, strict=True)
        return key_of([x if t else y for x, y, t in pairs])

    def neighbours(self, key: str) -> list[str]:
        """The 35 keys that differ from `key` in the width of one position."""
        choices = self.choices(key)
        return [
            key_of(choices[:position] + (c,) + choices[position + 1 :])
            for position in range(NUM_LAYERS)
            for c in range(NUM_CHOICES)
            if c != choices[position]
        ]

    def encode(self, key: str) -> np.ndarray:
        """Per position the width's choice index scaled to [0, 1] (8 -> 0, 64 -> 1)."""
        return np.asarray(self.choices(key), dtype=np.float32) / (NUM_CHOICES - 1)

    def analytic_cost(
        self, key: str, what: str, num_classes: int | None = None, resolution: int | None = None
    ) -> float:
        """Exact 'params' (M), 'flops' (MFLOPs, tensorwatch), 'macs' (M) or 'nats_flops' (MFLOPs as NATS-Bench)."""
        from zeronas.spaces.nats_sss.costs import COUNTED, count

        if what not in COUNTED:
            raise InvalidInputError(f"nats_sss has no analytic cost {what!r}; choose {', '.join(COUNTED)}")
        classes = check_num_classes(num_classes, self.num_classes)
        size = self.resolution if resolution is None else check_count(resolution, "resolution", 4)
        return count(self.channels(key), classes, size)[what] / 1e6

    # --- models -------------------------------------------------------------------------------
    def build(self, key: str, num_classes: int | None = None, **kwargs: object) -> nn.Module:
        if kwargs:
            raise InvalidInputError(f"unexpected options for nats_sss build: {', '.join(kwargs)}")
        return SizeNetwork(self.channels(key), num_classes=check_num_classes(num_classes, self.num_classes))
