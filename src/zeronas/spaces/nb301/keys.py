"""NAS-Bench-301 keys: NASLib's compact encoding and DARTS genotypes, parsed without eval.

A key is two cells (normal, reduction), each 8 (input node, op index) pairs: pairs 2i and 2i+1
feed intermediate node i (genotype node i + 2) and may read nodes 0 (c_{k-2}), 1 (c_{k-1}) and
the earlier intermediate nodes 2..i+1. Op indices follow NASLib's list (`OP_NAMES`). The two
inputs of a node must differ (NAS-Bench-301's configuration space draws them as a set); their
order does not change the network (the node sums them), so the canonical key lists them by
ascending input node.
"""

from __future__ import annotations

import ast
import numbers
from collections.abc import Sequence

import numpy as np

from zeronas.errors import InvalidArchError
from zeronas.spaces.nb301.model import STEPS, Cell
from zeronas.spaces.nb301.ops import OP_NAMES

Arch = tuple[Cell, Cell]
CELL_NAMES = ("normal", "reduce")
PAIRS = 2 * STEPS
CONCAT = tuple(range(2, STEPS + 2))
_OP_ID = {name: i for i, name in enumerate(OP_NAMES)}


def _int(value: object) -> int | None:
    """`value` as an int when it is an integer other than a bool, else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        return None
    return int(value)


def canonical_cell(pairs: object, name: str) -> Cell:
    """A validated cell with each node's two inputs in ascending order; InvalidArchError names the defect."""
    if not isinstance(pairs, Sequence) or isinstance(pairs, str) or len(pairs) != PAIRS:
        count = len(pairs) if isinstance(pairs, Sequence) else type(pairs).__name__
        raise InvalidArchError(f"NB301 {name} cell needs {PAIRS} (input node, op) pairs, got {count}")
    cell: list[tuple[int, int]] = []
    for position, pair in enumerate(pairs):
        if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
            raise InvalidArchError(f"NB301 {name} cell pair {position} must be (input node, op index), got {pair!r}")
        node, op = _int(pair[0]), _int(pair[1])
        limit = position // 2 + 1
        if node is None or not 0 <= node <= limit:
            raise InvalidArchError(
                f"NB301 {name} cell pair {position} (node {position // 2 + 2}) reads input {pair[0]!r}; "
                f"allowed 0..{limit}"
            )
        if op is None or not 0 <= op < len(OP_NAMES):
            raise InvalidArchError(
                f"NB301 {name} cell pair {position} has op {pair[1]!r}; op indices are 0..{len(OP_NAMES) - 1}"
            )
        cell.append((node, op))
    for step in range(STEPS):
        a, b = cell[2 * step], cell[2 * step + 1]
        if a[0] == b[0]:
            raise InvalidArchError(
                f"NB301 {name} cell node {step + 2} reads input {a[0]} twice; its inputs must differ"
            )
        cell[2 * step : 2 * step + 2] = sorted((a, b))
    return tuple(cell)


def canonical_arch(cells: object) -> Arch:
    """Both cells validated and canonical."""
    if not isinstance(cells, Sequence) or isinstance(cells, str) or len(cells) != 2:
        count = len(cells) if isinstance(cells, Sequence) else type(cells).__name__
        raise InvalidArchError(f"NB301 key needs 2 cells (normal, reduction), got {count}")
    return canonical_cell(cells[0], "normal"), canonical_cell(cells[1], "reduction")


def compact_string(arch: Arch) -> str:
    """The canonical key text: the compact tuple as Python prints it."""
    return str(arch)


def genotype_cell(entries: object, name: str) -> Cell:
    """The canonical cell of a genotype list of (op name, input node) pairs."""
    if not isinstance(entries, Sequence) or isinstance(entries, str):
        raise InvalidArchError(f"NB301 genotype {name} must be a list of (op name, input node) pairs")
    pairs = []
    for entry in entries:
        if not isinstance(entry, Sequence) or len(entry) != 2 or not isinstance(entry[0], str):
            raise InvalidArchError(f"NB301 genotype {name} entry {entry!r} must be (op name, input node)")
        if entry[0] not in _OP_ID:
            raise InvalidArchError(f"unknown NB301 op {entry[0]!r} in genotype {name}; ops are {', '.join(OP_NAMES)}")
        pairs.append((entry[1], _OP_ID[entry[0]]))
    return canonical_cell(pairs, "normal" if name == "normal" else "reduction")


def check_concat(values: object, name: str) -> None:
    """A genotype's concat must be the 4 intermediate nodes 2..5."""
    try:
        ok = isinstance(values, Sequence) and len(values) == len(CONCAT) and [_int(v) for v in values] == list(CONCAT)
    except OverflowError:
        ok = False
    if not ok:
        raise InvalidArchError(f"NB301 genotype {name} must be range(2, 6) (nodes 2..5), got {values!r}")


def _literal(node: ast.expr, name: str) -> object:
    """A genotype field's value: a literal, or `range(a, b)` of literals."""
    try:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
            if node.keywords:
                raise ValueError
            return range(*(ast.literal_eval(arg) for arg in node.args))
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        raise InvalidArchError(f"NB301 genotype {name} is not a literal: {ast.unparse(node)[:60]}") from None


def parse_genotype(text: str) -> Arch:
    """The cells of a DARTS genotype string `Genotype(normal=[...], normal_concat=..., reduce=[...], ...)`."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise InvalidArchError(f"NB301 genotype is not valid syntax: {text[:60]!r}") from None
    if not (isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id == "Genotype"):
        raise InvalidArchError("NB301 genotype must read Genotype(normal=[...], normal_concat=..., reduce=[...], ...)")
    fields = ("normal", "normal_concat", "reduce", "reduce_concat")
    if len(tree.args) > len(fields):
        raise InvalidArchError(f"NB301 genotype takes {len(fields)} fields, got {len(tree.args)} positional")
    given = dict(zip(fields, tree.args, strict=False))
    for keyword in tree.keywords:
        if keyword.arg not in fields or keyword.arg in given:
            raise InvalidArchError(f"NB301 genotype field {keyword.arg!r} is unknown or repeated")
        given[keyword.arg] = keyword.value
    missing = [f for f in fields if f not in given]
    if missing:
        raise InvalidArchError(f"NB301 genotype lacks {', '.join(missing)}")
    values = {field: _literal(node, field) for field, node in given.items()}
    return genotype_arch(values["normal"], values["normal_concat"], values["reduce"], values["reduce_concat"])


def genotype_arch(normal: object, normal_concat: object, reduce: object, reduce_concat: object) -> Arch:
    """The canonical cells of a genotype's four fields."""
    check_concat(normal_concat, "normal_concat")
    check_concat(reduce_concat, "reduce_concat")
    return genotype_cell(normal, "normal"), genotype_cell(reduce, "reduce")


def genotype_string(arch: Arch) -> str:
    """The DARTS genotype text of `arch`, as DARTS prints a derived genotype."""
    normal, reduce = ([(OP_NAMES[op], node) for node, op in cell] for cell in arch)
    concat = f"range({CONCAT[0]}, {CONCAT[-1] + 1})"
    return f"Genotype(normal={normal}, normal_concat={concat}, reduce={reduce}, reduce_concat={concat})"


def parse_key(key: object) -> Arch:
    """The canonical cells of any accepted key form (compact text, tuple, list or array; genotype text or object)."""
    if isinstance(key, str):
        text = key.strip()
        if text.startswith("Genotype"):
            return parse_genotype(text)
        if text.startswith(("(", "[")):
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                raise InvalidArchError(f"NB301 compact key {text[:60]!r} is not a tuple of (input, op) pairs") from None
            return canonical_arch(value)
        raise InvalidArchError(
            f"malformed NB301 key {text[:60]!r}: expected a compact key '(((0, 3), (1, 4), ...), (...))' "
            "or a genotype 'Genotype(normal=[...], ...)'"
        )
    if hasattr(key, "normal") and hasattr(key, "reduce"):
        return genotype_arch(
            key.normal, getattr(key, "normal_concat", CONCAT), key.reduce, getattr(key, "reduce_concat", CONCAT)
        )
    if isinstance(key, np.ndarray):
        key = key.tolist()
    if isinstance(key, tuple | list):
        return canonical_arch(key)
    raise InvalidArchError(f"NB301 key must be a compact key or a genotype, got {type(key).__name__}")
