"""Shared fixtures: the data directory (tests needing it skip with a reason when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from zeronas.config import find_data_dir

torch.set_num_threads(int(os.environ.get("ZERONAS_TEST_THREADS", "1")))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    found = find_data_dir()
    if found is None or not (found / "benchmarks" / "nasbench201.csv").exists():
        pytest.skip("the zeronas data directory (../shared) is not available")
    return found
