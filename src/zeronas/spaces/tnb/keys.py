"""Keys of the two TransNAS-Bench-101 spaces: parsing, validation and the enumeration of the macro space.

Micro canonical key: the six op digits (0 none, 1 skip, 2 conv1x1, 3 conv3x3) of the arch string
`64-41414-a_bc_def`, in string order, e.g. '100210' (the ground-truth table's `op_indices`). Also
accepted: the arch string itself or its cell part `1_00_210`, and the NAS-Bench-Suite-Zero tuple
`(1, 0, 0, 2, 1, 0)` (same order) or its text.

Macro canonical key: the skeleton's digits, e.g. '41414' (4 to 6 stages, each 1 keep, 2 double the
channels, 3 halve the resolution, 4 both; 1 to 4 halving stages and 1 to 3 doubling stages: 3,256
skeletons). Also accepted: `64-41414-basic` and NASLib's length-6 tuple with trailing zero padding,
`(4, 1, 4, 1, 4, 0)`, as a tuple or text (the digits alone may carry the zeros too: '414140').
"""

from __future__ import annotations

import functools
import itertools
import re

import numpy as np

from zeronas.errors import InvalidArchError

MICRO_EDGES = 6
MICRO_OPS = 4
MICRO_SKELETON = "41414"
BASE_CHANNELS = 64
MACRO_LENGTHS = (4, 5, 6)
MACRO_DIGITS = (1, 2, 3, 4)
#: allowed numbers of halving (3, 4) and doubling (2, 4) stages
MACRO_DOWNSAMPLES = range(1, 5)
MACRO_DOUBLINGS = range(1, 4)

_TUPLE = re.compile(r"^[\(\[]\s*(\d+(?:\s*,\s*\d+)*)\s*,?\s*[\)\]]$")
_MICRO_STRING = re.compile(r"^(?:(\d+)-(\d+)-)?([0-9])_([0-9]{2})_([0-9]{3})$")
_MACRO_STRING = re.compile(r"^(\d+)-(\d+)-basic$")


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _sequence(key: object, what: str) -> tuple[int, ...] | None:
    """The integers of a tuple/list key or of its text form; None when `key` is no such form."""
    if isinstance(key, tuple | list | np.ndarray):
        values = list(key)
        if not all(_is_int(v) for v in values):
            raise InvalidArchError(f"{what} tuple must hold integers, got {key!r}")
        return tuple(int(v) for v in values)
    if isinstance(key, str) and (m := _TUPLE.match(key.strip())):
        return tuple(int(v) for v in m.group(1).split(","))
    return None


# --- micro ------------------------------------------------------------------------------------------
def micro_ops(key: object) -> tuple[int, ...]:
    """The six op digits of any accepted micro key form; InvalidArchError names the defect."""
    ops = _sequence(key, "TNB micro op")
    if ops is None:
        if not isinstance(key, str):
            raise InvalidArchError(f"TNB micro key must be a string or a tuple, got {type(key).__name__}")
        text = key.strip()
        if m := _MICRO_STRING.match(text):
            channels, skeleton = m.group(1), m.group(2)
            if channels is not None and (channels != str(BASE_CHANNELS) or skeleton != MICRO_SKELETON):
                raise InvalidArchError(
                    f"TNB micro arch strings start with '{BASE_CHANNELS}-{MICRO_SKELETON}-', got {text!r}"
                )
            text = "".join(m.group(3, 4, 5))
        if not re.fullmatch(r"\d+", text):
            raise InvalidArchError(
                f"malformed TNB micro key {key!r}: expected 6 op digits like '100210', "
                "an arch string '64-41414-1_00_210' or a tuple '(1, 0, 0, 2, 1, 0)'"
            )
        ops = tuple(int(c) for c in text)
    if len(ops) != MICRO_EDGES:
        raise InvalidArchError(f"TNB micro key needs {MICRO_EDGES} op digits, got {len(ops)} in {key!r}")
    if any(not 0 <= o < MICRO_OPS for o in ops):
        raise InvalidArchError(f"TNB micro op digits must be 0..3 (none, skip, conv1x1, conv3x3), got {key!r}")
    return ops


def micro_key(ops: tuple[int, ...]) -> str:
    return "".join(str(o) for o in ops)


def micro_arch_string(ops: tuple[int, ...]) -> str:
    """The TransNAS-Bench-101 arch string of six op digits."""
    a, b, c, d, e, f = ops
    return f"{BASE_CHANNELS}-{MICRO_SKELETON}-{a}_{b}{c}_{d}{e}{f}"


# --- macro ------------------------------------------------------------------------------------------
def macro_problem(digits: tuple[int, ...]) -> str | None:
    """Why `digits` is not a TransNAS-Bench-101 skeleton, or None when it is one."""
    if len(digits) not in MACRO_LENGTHS:
        return f"needs 4 to 6 stages, got {len(digits)}"
    if any(d not in MACRO_DIGITS for d in digits):
        return "stage digits must be 1..4 (1 keep, 2 double channels, 3 halve resolution, 4 both)"
    down = sum(d in (3, 4) for d in digits)
    if down not in MACRO_DOWNSAMPLES:
        return f"needs 1 to 4 resolution-halving stages (digits 3, 4), got {down}"
    double = sum(d in (2, 4) for d in digits)
    if double not in MACRO_DOUBLINGS:
        return f"needs 1 to 3 channel-doubling stages (digits 2, 4), got {double}"
    return None


def macro_digits(key: object) -> tuple[int, ...]:
    """The stage digits of any accepted macro key form; InvalidArchError names the defect."""
    digits = _sequence(key, "TNB macro")
    if digits is None:
        if _is_int(key):
            key = str(key)
        if not isinstance(key, str):
            raise InvalidArchError(f"TNB macro key must be a string or a tuple, got {type(key).__name__}")
        text = key.strip()
        if m := _MACRO_STRING.match(text):
            if m.group(1) != str(BASE_CHANNELS):
                raise InvalidArchError(f"TNB macro arch strings start with '{BASE_CHANNELS}-', got {text!r}")
            text = m.group(2)
        if not re.fullmatch(r"\d+", text):
            raise InvalidArchError(
                f"malformed TNB macro key {key!r}: expected stage digits like '41414', "
                "an arch string '64-41414-basic' or a tuple '(4, 1, 4, 1, 4, 0)'"
            )
        digits = tuple(int(c) for c in text)
    body = digits
    while body and body[-1] == 0:
        body = body[:-1]
    if len(digits) > max(MACRO_LENGTHS) or (len(body) < len(digits) and len(digits) != max(MACRO_LENGTHS)):
        raise InvalidArchError(f"TNB macro key {key!r}: zero padding only fills a length-6 tuple")
    problem = macro_problem(body)
    if problem:
        raise InvalidArchError(f"TNB macro key {key!r} {problem}")
    return body


def macro_key(digits: tuple[int, ...]) -> str:
    return "".join(str(d) for d in digits)


def macro_arch_string(digits: tuple[int, ...]) -> str:
    """The TransNAS-Bench-101 arch string of a skeleton."""
    return f"{BASE_CHANNELS}-{macro_key(digits)}-basic"


@functools.lru_cache(maxsize=1)
def macro_keys() -> tuple[str, ...]:
    """Every skeleton: by length, then in lexicographic digit order."""
    return tuple(
        macro_key(digits)
        for length in MACRO_LENGTHS
        for digits in itertools.product(MACRO_DIGITS, repeat=length)
        if macro_problem(digits) is None
    )


def macro_variants(digits: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Skeletons one change away: a stage's digit changed, a stage removed, or a stage inserted."""
    out: dict[tuple[int, ...], None] = {}
    candidates = []
    for i, d in enumerate(digits):
        candidates += [digits[:i] + (o,) + digits[i + 1 :] for o in MACRO_DIGITS if o != d]
        candidates.append(digits[:i] + digits[i + 1 :])
    for i in range(len(digits) + 1):
        candidates += [digits[:i] + (o,) + digits[i:] for o in MACRO_DIGITS]
    for candidate in candidates:
        if candidate != digits and macro_problem(candidate) is None:
            out.setdefault(candidate, None)
    return list(out)
