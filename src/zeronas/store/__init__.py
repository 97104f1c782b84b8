"""Durable results: (space, arch, dataset, proxy, seed, settings) -> value, resumable and concurrent-safe."""

from zeronas.store.checks import StoreLockedError, StoreReadOnlyError
from zeronas.store.sqlite import ResultRow, ResultStore, default_store_path

__all__ = ["ResultRow", "ResultStore", "StoreLockedError", "StoreReadOnlyError", "default_store_path"]
