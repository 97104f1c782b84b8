"""Where spaces, proxies and benchmarks meet: scoring architectures, metrics, sweeps, reports."""

from zeronas.evaluation.scoring import ScoreSettings, score_arch

__all__ = ["ScoreSettings", "score_arch"]
