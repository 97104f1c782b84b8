"""What a scoring worker imports: every module loaded at import time is resident in every worker process."""

from __future__ import annotations

import subprocess
import sys

#: loaded only where used: scipy.stats (AZ-NAS pool ranks, rank correlations; ~60 MiB) and torch's FLOP
#: counter (it loads triton, ~80 MiB; only `count_macs` needs it)
LAZY = ("scipy.stats", "torch.utils.flop_counter", "triton")


def test_scoring_imports_leave_heavy_modules_to_their_users() -> None:
    code = (
        "import sys, zeronas.evaluation.sweep, zeronas.proxies, zeronas.spaces; "
        f"print(','.join(m for m in {LAZY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_lazy_users_still_work() -> None:
    import pandas as pd
    import torch

    from zeronas.modelstats import count_macs
    from zeronas.proxies.aznas import az_nas_aggregate

    assert count_macs(torch.nn.Linear(4, 3), (2, 4)) == 2 * 4 * 3
    ranks = az_nas_aggregate(pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [3.0, 2.0, 1.0]}))
    assert list(ranks.round(6)) == [-1.098612, -0.81093, -1.098612]
