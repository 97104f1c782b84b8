"""The package layering: dependencies between zeronas's packages point one way (no import cycles)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import zeronas

ROOT = Path(zeronas.__file__).parent
#: the entry points sit on top of everything
TOP = {"cli", "__main__", "__init__"}


def package_graph() -> dict[str, set[str]]:
    """package -> the other zeronas packages (or top-level modules) its modules import, lazily or not."""
    graph: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        package = parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")
        deps = graph.setdefault(package, set())
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("zeronas."):
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith("zeronas.")]
            else:
                continue
            deps.update(n.split(".")[1] for n in names if n.split(".")[1] != package)
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One dependency cycle among the packages below the entry points, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if dep in TOP:
                continue
            if state.get(dep) == 1:
                return stack[stack.index(dep) :] + [dep]
            if dep not in state and (found := visit(dep)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(set(graph) - TOP):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_packages_depend_one_way():
    graph = package_graph()
    assert cycle(graph) is None, f"import cycle: {' -> '.join(cycle(graph))}"
    assert not graph["executors"] - {"errors", "registry"}  # executors sit below evaluation, hardware and search
    assert "cli" not in set().union(*(deps for name, deps in graph.items() if name not in TOP))


def test_the_cycle_finder_finds_a_cycle():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("package", ["executors", "store", "hardware", "evaluation", "search", "datacheck"])
def test_each_package_imports_alone(package):
    result = subprocess.run(
        [sys.executable, "-c", f"import zeronas.{package}"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr.strip().splitlines()[-1:]
