"""Durable results: (space, arch, dataset, proxy, seed, settings) -> value, resumable and concurrent-safe."""

from zeronas.store.sqlite import ResultRow, ResultStore, default_store_path

__all__ = ["ResultRow", "ResultStore", "default_store_path"]
