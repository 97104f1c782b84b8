"""Search over a space with zero-shot proxies: exhaustive, random, regularised evolution, NSGA-II, TE-NAS pruning,
and few-shot (a predictor on proxies chooses the few cells to train).

`search(space, dataset, proxy, algorithm, evaluations, budgets, seed, store=...)` returns a
`SearchResult`; budgets read like `flops<=600M`; `export_model` writes TorchScript, a state file
and a checked ONNX file.
"""

from zeronas.search import fewshot as _fewshot  # noqa: F401  (registers "fewshot")
from zeronas.search import nsga2 as _nsga2  # noqa: F401  (registers "nsga2")
from zeronas.search import pruning as _pruning  # noqa: F401  (registers "prune")
from zeronas.search.algorithms import get_algorithm, list_algorithms, register_algorithm
from zeronas.search.budget import Budget, BudgetChecker, EmptyFeasibleSetError, parse_budget, parse_budgets
from zeronas.search.evaluator import Evaluator, Record
from zeronas.search.export import ExportResult, export_model
from zeronas.search.objective import Objective, ProxyObjective
from zeronas.search.outcome import SearchResult, benchmark_truth, plot_front, plot_trace
from zeronas.search.runner import search

__all__ = [
    "Budget",
    "BudgetChecker",
    "EmptyFeasibleSetError",
    "Evaluator",
    "ExportResult",
    "Objective",
    "ProxyObjective",
    "Record",
    "SearchResult",
    "export_model",
    "get_algorithm",
    "list_algorithms",
    "benchmark_truth",
    "parse_budget",
    "parse_budgets",
    "plot_front",
    "plot_trace",
    "register_algorithm",
    "search",
]
