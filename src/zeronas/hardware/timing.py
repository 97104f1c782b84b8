"""Latency measured on this machine: PyTorch on CPU or GPU, and onnxruntime on an ONNX export.

Protocol of `measure_latency`: the model is put in eval mode and run under `torch.inference_mode`
(onnxruntime: the graph exported by `torch.onnx.export`, a session with the same thread count);
`warmup` untimed calls, then `repeats` timed calls, each timed alone (CPU: `time.perf_counter_ns`
around the call; GPU: a pair of `torch.cuda.Event`s with a synchronise). We report the median and
the spread as the interquartile range and the median absolute deviation, plus the thread count
actually used. The median, not the mean, because a shared machine adds one-sided outliers.

`clock="thread"` times each call with the CPU time of the calling thread
(`time.thread_time_ns`) instead of wall time. With one intra-op thread, PyTorch and onnxruntime
compute in the calling thread, so this is the latency the call would have on an idle core: time
the scheduler gives to other processes is not counted. Use it to build latency tables on a
shared, loaded machine; it misses only contention for caches and memory bandwidth.
"""

from __future__ import annotations

import contextlib
import io
import platform
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from zeronas.errors import InvalidInputError, NotApplicableError

BACKENDS = ("torch", "onnxruntime")
CLOCKS = ("wall", "thread")


@dataclass(frozen=True)
class LatencyStats:
    """Summary of `repeats` timed calls of one model at one batch size (milliseconds)."""

    median_ms: float
    q1_ms: float
    q3_ms: float
    mad_ms: float
    mean_ms: float
    min_ms: float
    repeats: int
    warmup: int
    batch: int
    threads: int
    backend: str
    device: str
    clock: str = "wall"

    @property
    def iqr_ms(self) -> float:
        return self.q3_ms - self.q1_ms

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "iqr_ms": self.iqr_ms}


def summarise(samples_ms: list[float], **meta: object) -> LatencyStats:
    """Median, quartiles, MAD, mean and min of timed samples."""
    arr = np.asarray(samples_ms, dtype=float)
    q1, med, q3 = np.percentile(arr, [25, 50, 75])
    mad = float(np.median(np.abs(arr - med)))
    return LatencyStats(float(med), float(q1), float(q3), mad, float(arr.mean()), float(arr.min()), **meta)


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[int]:
    """Temporarily set torch's intra-op thread count; yields the count in effect."""
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


def device_name(device: str) -> str:
    """Human name of the device the latency was measured on (CPU model or GPU name)."""
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _check(backend: str, device: str, clock: str, threads: int | None) -> None:
    check_settings(backend, device, clock, threads)
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise NotApplicableError(f"latency on {device} asked for, but no CUDA GPU is available here")


def check_settings(backend: str, device: str, clock: str, threads: int | None) -> None:
    """One-line errors for a latency protocol that cannot exist (unknown clock, runtime or device name)."""
    if clock not in CLOCKS:
        raise InvalidInputError(f"unknown clock {clock!r}; choose one of {', '.join(CLOCKS)}")
    if clock == "thread" and (device != "cpu" or threads != 1):
        raise InvalidInputError("the thread clock times CPU work of the calling thread: it needs device cpu, threads 1")
    if backend not in BACKENDS:
        raise InvalidInputError(f"unknown latency backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if not (device == "cpu" or device.startswith("cuda")):
        raise InvalidInputError(f"latency device must be 'cpu' or 'cuda[:N]', got {device!r}")


def _time_calls(call: Callable[[], object], warmup: int, repeats: int, device: str, clock: str) -> list[float]:
    for _ in range(warmup):
        call()
    samples = []
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)
        for _ in range(repeats):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            call()
            end.record()
            torch.cuda.synchronize(device)
            samples.append(float(start.elapsed_time(end)))
        return samples
    now = time.thread_time_ns if clock == "thread" else time.perf_counter_ns
    for _ in range(repeats):
        t0 = now()
        call()
        samples.append((now() - t0) / 1e6)
    return samples


def export_onnx(model: nn.Module, example: torch.Tensor) -> bytes:
    """ONNX bytes of `model` traced on `example` (the TorchScript exporter: fast, and enough for CNNs)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(model, (example,), buffer, input_names=["x"], output_names=["y"], dynamo=False)
        except TypeError:  # a torch without the legacy exporter's keyword
            program = torch.onnx.export(model, (example,), dynamo=True, verbose=False)
            return program.model_proto.SerializeToString()
    return buffer.getvalue()


def _onnx_call(model: nn.Module, x: torch.Tensor, threads: int, device: str) -> Callable[[], object]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    providers = ["CUDAExecutionProvider"] if device.startswith("cuda") else ["CPUExecutionProvider"]
    if providers[0] not in ort.get_available_providers():
        raise NotApplicableError(f"onnxruntime here has no {providers[0]}")
    session = ort.InferenceSession(export_onnx(model, x.cpu()), options, providers=providers)
    feed = {"x": x.cpu().numpy()}
    return lambda: session.run(None, feed)


def measure_latency(
    model: nn.Module,
    input_shape: tuple[int, ...],
    backend: str = "torch",
    device: str = "cpu",
    warmup: int = 5,
    repeats: int = 30,
    threads: int | None = None,
    clock: str = "wall",
) -> LatencyStats:
    """Median latency (ms) of `model` on an input of `input_shape` (its first dimension is the batch)."""
    _check(backend, device, clock, threads)
    if repeats < 1 or warmup < 0:
        raise InvalidInputError(f"need repeats >= 1 and warmup >= 0, got {repeats} and {warmup}")
    net = model.eval().to(device)
    x = torch.randn(*input_shape, generator=torch.Generator().manual_seed(0)).to(device)
    with torch_threads(threads) as used:
        if backend == "torch":

            def call() -> object:
                with torch.inference_mode():
                    return net(x)

        else:
            call = _onnx_call(net, x, used, device)
        samples = _time_calls(call, warmup, repeats, device, clock)
    return summarise(
        samples,
        repeats=repeats,
        warmup=warmup,
        batch=int(input_shape[0]),
        threads=used,
        backend=backend,
        device=device,
        clock=clock,
    )


def repeat_ratio(model: nn.Module, input_shape: tuple[int, ...], **kwargs: object) -> float:
    """Median of one measurement over the median of a second, independent one (1.0 = perfectly repeatable)."""
    first = measure_latency(model, input_shape, **kwargs)  # type: ignore[arg-type]
    second = measure_latency(model, input_shape, **kwargs)  # type: ignore[arg-type]
    return first.median_ms / second.median_ms
