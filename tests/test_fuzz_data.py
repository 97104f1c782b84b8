"""Bad inputs at the data edge: every one ends in one clean error naming the option or file, never a traceback.

Cases: explicit data directories that are not one (CLI, $ZERONAS_DATA_DIR), truncated / garbage data files
read by commands and by the Python loaders, batch requests numpy or memory cannot serve, and files
`data check` must flag. Data files are generated here, so nothing needs ../shared.
"""

from __future__ import annotations

import functools
import gzip
import io
import itertools
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from zeronas.data import load_batch, npz_batch, synthetic_batch
from zeronas.datacheck import check_data
from zeronas.errors import DataNotFoundError, InvalidInputError
from zeronas.groundtruth.importers import import_suite_zero
from zeronas.groundtruth.reference import load_reference_full, load_reference_zc
from zeronas.hardware.tables import edge_table, nb201_latency_table, timm_benchmark, torchvision_table
from zeronas.spaces.nb201 import nb201_accuracy
from zeronas.spaces.nb201.space import ops_to_string

ACC = [f"{p}_{m}_acc" for p in ("cifar10", "cifar100", "imagenet16_120") for m in ("val", "test")]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    """No inherited data directory (conftest restores the environment a --data-dir changed)."""
    monkeypatch.delenv("ZERONAS_DATA_DIR", raising=False)


# --- generated data files ---------------------------------------------------------------------------
def npz_bytes(n: int = 24, size: int = 8, images: np.ndarray | None = None, **arrays: np.ndarray) -> bytes:
    rng = np.random.default_rng(0)
    data = {"images": rng.integers(0, 256, (n, 3, size, size), dtype=np.uint8), "labels": np.arange(n) % 10}
    if images is not None:
        data["images"] = images
    data.update(arrays)
    buffer = io.BytesIO()
    data = {name: array for name, array in data.items() if array is not None}
    np.savez_compressed(buffer, **data)
    return buffer.getvalue()


def half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def cut_mid_row(text: str) -> bytes:
    """`text` cut just before a comma past its middle: the last row is left short of fields."""
    return text[: text.index(",", len(text) // 2)].encode()


def bad_crc(data: bytes) -> bytes:
    """A zip whose first member's data is damaged (the central directory stays intact)."""
    offset = zipfile.ZipFile(io.BytesIO(data)).infolist()[0].header_offset + 60
    damaged = bytearray(data)
    damaged[offset : offset + 8] = bytes(b ^ 0xFF for b in damaged[offset : offset + 8])
    return bytes(damaged)


GARBAGE = bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8))


@functools.cache
def nb201_frame() -> pd.DataFrame:
    """A complete, valid NAS-Bench-201 table (15,625 cells) with made-up accuracies."""
    ops = list(itertools.product(range(5), repeat=6))
    frame = pd.DataFrame({"nb201_index": range(len(ops)), "arch_str": [ops_to_string(o) for o in ops]})
    for i, column in enumerate(ACC):
        frame[column] = (np.arange(len(ops)) * (i + 3)) % 9000 / 100
    return frame


def nb201_csv(frame: pd.DataFrame | None = None, rows: int | None = None) -> str:
    frame = nb201_frame() if frame is None else frame
    return (frame if rows is None else frame.head(rows)).to_csv(index=False)


def latency_csv(rows: int | None = 40, negative: bool = False) -> str:
    frame = nb201_frame().head(rows)[["nb201_index", "arch_str"]].copy()
    frame["raspi4"] = np.linspace(1, 5, len(frame))
    if negative:
        frame.loc[7, "raspi4"] = -2.0
    return frame.to_csv(index=False)


def edge_gz(rows: int = 400) -> bytes:
    header = "nb201_index,device,framework,task,status,lat_ms_median,lat_ms_var,energy_mj,accuracy\n"
    return gzip.compress(
        (header + "".join(f"{i},pi5,litert,cifar100,ok,1.5,0.1,2.0,50.0\n" for i in range(rows))).encode()
    )


def zc_json(value: str = "62.5", key: str = "(0, 2, 3, 2, 3, 1)") -> str:
    return f'{{"{key}": {{"flops": {{"score": 1.5, "time": 0.1}}, "val_accuracy": {value}, "idx": "3"}}}}'


def build_dir(root: Path, files: dict[str, bytes | str]) -> Path:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


# --- explicit data directories that are not one -------------------------------------------------------
def _missing(tmp: Path) -> Path:
    return tmp / "no-such-dir"


def _a_file(tmp: Path) -> Path:
    (tmp / "passwd").write_text("root:x:0:0\n")
    return tmp / "passwd"


def _empty(tmp: Path) -> Path:
    (tmp / "empty").mkdir()
    return tmp / "empty"


def _unrelated(tmp: Path) -> Path:
    return build_dir(tmp / "photos", {"notes.txt": "hello", "sub/table.csv": "a,b\n1,2\n"})


BAD_DIRS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "missing": (_missing, "does not exist"),
    "file": (_a_file, "not a directory"),
    "empty": (_empty, "holds none of the files"),
    "unrelated": (_unrelated, "holds none of the files"),
}
COMMANDS = {
    "score": ["score", "--arch", "433000", "--proxies", "params"],
    "rank": ["rank", "-n", "2", "--proxies", "params", "--batch-size", "4"],
    "evaluate": ["evaluate", "--sample", "2", "--proxies", "params", "--batch-size", "4"],
    "data-info": ["data", "info"],
    "data-check": ["data", "check"],
    "hardware-cost": ["hardware", "cost", "433000", "--cost", "nb201_latency"],
}


@pytest.mark.parametrize("kind", sorted(BAD_DIRS))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_cli_explicit_data_dir_that_is_not_one(cli, tmp_path: Path, command: str, kind: str) -> None:
    make, reason = BAD_DIRS[kind]
    path = make(tmp_path)
    cli(*COMMANDS[command], "--data-dir", str(path)).assert_clean_error("--data-dir", path.name, reason)


@pytest.mark.parametrize("kind", ["missing", "file", "empty"])
def test_cli_env_data_dir_that_is_not_one(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    make, reason = BAD_DIRS[kind]
    monkeypatch.setenv("ZERONAS_DATA_DIR", str(make(tmp_path)))
    cli(*COMMANDS["score"]).assert_clean_error("$ZERONAS_DATA_DIR", reason)


# --- corrupt files read by commands ---------------------------------------------------------------------
C10 = "data/cifar10_test_head.npz"
NB201 = "benchmarks/nasbench201.csv"
LATENCY = "hardware/nasbench201_latency_ms.csv"
CORRUPT_CLI = {
    "score-npz-truncated": ("score", {C10: half(npz_bytes(200, 32))}, "not a readable .npz"),
    "score-npz-garbage": ("score", {C10: GARBAGE}, "not a zip archive"),
    "score-npz-empty": ("score", {C10: b""}, "not a zip archive"),
    "score-npz-bad-crc": ("score", {C10: bad_crc(npz_bytes(200, 32))}, "not a readable .npz"),
    "score-npz-no-labels": ("score", {C10: npz_bytes(labels=None)}, "'images' and 'labels'"),
    "score-npz-float-images": ("score", {C10: npz_bytes(images=np.zeros((24, 3, 8, 8)))}, "uint8"),
    "rank-npz-truncated": ("rank", {C10: half(npz_bytes(200, 32))}, "not a readable .npz"),
    "evaluate-csv-truncated": ("evaluate", {NB201: cut_mid_row(nb201_csv(rows=300))}, "last row is cut off"),
    "evaluate-csv-garbage": ("evaluate", {NB201: GARBAGE}, "not a readable CSV"),
    "evaluate-csv-empty": ("evaluate", {NB201: b""}, "is empty"),
    "evaluate-csv-no-accuracy": ("evaluate", {NB201: "nb201_index,arch_str\n"}, "lacks column cifar10_test_acc"),
    "evaluate-npz-truncated": ("evaluate", {NB201: nb201_csv(), C10: half(npz_bytes(200, 32))}, "not a readable"),
    "hardware-latency-truncated": ("hardware-cost", {LATENCY: cut_mid_row(latency_csv())}, "last row is cut off"),
    "hardware-latency-garbage": ("hardware-cost", {LATENCY: GARBAGE}, "not a readable CSV"),
}


@pytest.mark.parametrize("case", sorted(CORRUPT_CLI))
def test_cli_corrupt_data_file_is_one_clean_error(cli, tmp_path: Path, case: str) -> None:
    command, files, fragment = CORRUPT_CLI[case]
    root = build_dir(tmp_path / "data-dir", files)
    [broken] = [name for name in files if name != NB201] or [NB201]
    cli(*COMMANDS[command], "--data-dir", str(root)).assert_clean_error(Path(broken).name, fragment)


def test_cli_batch_beyond_memory_names_the_options(cli) -> None:
    result = cli("score", "--arch", "433000", "--proxies", "params", "-b", "65536", "-r", "4096")
    result.assert_clean_error("--batch-size 65536", "--resolution 4096", "TB")


# --- load_batch: requests numpy or memory cannot serve ---------------------------------------------------
BAD_REQUESTS = {
    "seed-negative": ({"seed": -1}, "seed must be an integer in [0, 2**32)"),
    "seed-too-large": ({"seed": 2**32}, "seed must be an integer in [0, 2**32)"),
    "seed-float": ({"seed": 1.5}, "seed must be an integer in [0, 2**32)"),
    "seed-text": ({"seed": "7"}, "seed must be an integer in [0, 2**32)"),
    "seed-bool": ({"seed": True}, "seed must be an integer in [0, 2**32)"),
    "batch-zero": ({"batch_size": 0}, "--batch-size) must be an integer >= 1"),
    "batch-negative": ({"batch_size": -3}, "--batch-size) must be an integer >= 1"),
    "batch-float": ({"batch_size": 2.5}, "--batch-size) must be an integer >= 1"),
    "resolution-negative": ({"resolution": -8}, "--resolution) must be an integer >= 1"),
    "too-large-synthetic": ({"batch_size": 4096, "resolution": 100_000, "source": "synthetic"}, "lower --batch-size"),
    "too-large-auto": ({"batch_size": 64, "resolution": 100_000}, "--resolution 100000"),
    "too-large-real": ({"batch_size": 1_000_000, "resolution": 4096, "source": "real"}, "--batch-size 1000000"),
}


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_load_batch_refuses_bad_requests(case: str) -> None:
    kwargs, fragment = BAD_REQUESTS[case]
    with pytest.raises(InvalidInputError) as error:
        load_batch("cifar10", **{"batch_size": 4, **kwargs})
    assert fragment in str(error.value) and "\n" not in str(error.value)


def test_npz_and_synthetic_batches_refuse_before_reading(tmp_path: Path) -> None:
    path = build_dir(tmp_path, {"x.npz": GARBAGE}) / "x.npz"
    with pytest.raises(InvalidInputError, match="needs .* TB"):
        npz_batch(path, "cifar10", batch_size=65536, resolution=4096)  # refused before the garbage is read
    with pytest.raises(InvalidInputError, match=r"--num-classes\) must be an integer >= 1, got 0"):
        synthetic_batch(0, 8, batch_size=2)


# --- Python loaders of data-dir files -------------------------------------------------------------------
ZC = "benchmarks/reference_zc/nasbench201__cifar10.json"
FULL = "benchmarks/reference_full/nasbench201__cifar10.csv"
EDGE = "hardware/nasbench201_edge_devices.csv.gz"
TV = "hardware/torchvision_models_latency.csv"
TIMM = "timm/benchmark-infer-fp32-nchw-pt240-cpu-i9_10940x-dynamo.csv"
LOADERS: dict[str, Callable[[Path], object]] = {
    "nb201": lambda d: nb201_accuracy("cifar10", data_dir=d),
    "zc": lambda d: load_reference_zc("cifar10", data_dir=d),
    "full": lambda d: load_reference_full("cifar10", data_dir=d),
    "latency": lambda d: nb201_latency_table(d),
    "edge": lambda d: edge_table(d),
    "torchvision": lambda d: torchvision_table(d),
    "timm": lambda d: timm_benchmark("cpu-i9_10940x", d),
}
CORRUPT_API = {
    "nb201-truncated": ("nb201", {NB201: cut_mid_row(nb201_csv(rows=200))}, NB201, "last row is cut off"),
    "nb201-garbage": ("nb201", {NB201: GARBAGE}, NB201, "not a readable CSV"),
    "nb201-empty": ("nb201", {NB201: b""}, NB201, "is empty"),
    "nb201-directory": ("nb201", {f"{NB201}/inside.txt": "x"}, NB201, "not a readable CSV"),
    "nb201-no-columns": ("nb201", {NB201: "a,b\n1,2\n"}, NB201, "lacks column(s) nb201_index, arch_str"),
    "zc-truncated": ("zc", {ZC: half(zc_json().encode())}, ZC, "not a readable JSON"),
    "zc-garbage": ("zc", {ZC: GARBAGE}, ZC, "not a readable JSON"),
    "zc-list": ("zc", {ZC: "[1, 2]"}, ZC, "holds no NAS-Bench-Suite-Zero entries"),
    "zc-text-value": ("zc", {ZC: zc_json('"high"')}, ZC, "holds a non-number"),
    "zc-bad-key": ("zc", {ZC: zc_json(key="(9, 9)")}, ZC, "not an NB201 op tuple"),
    "full-truncated": ("full", {FULL: cut_mid_row("nb201_index,params\n" + "1,0.5\n" * 50)}, FULL, "cut off"),
    "full-garbage": ("full", {FULL: GARBAGE}, FULL, "not a readable CSV"),
    "full-text-index": ("full", {FULL: "nb201_index,params\nfirst,0.5\n"}, FULL, "must hold integers"),
    "full-unknown-index": ("full", {FULL: "nb201_index,params\n99999,0.5\n", NB201: nb201_csv(rows=5)}, FULL, "99999"),
    "latency-truncated": ("latency", {LATENCY: cut_mid_row(latency_csv())}, LATENCY, "last row is cut off"),
    "edge-truncated-gz": ("edge", {NB201: nb201_csv(rows=5), EDGE: half(edge_gz())}, EDGE, "Compressed file ended"),
    "edge-not-gzip": ("edge", {NB201: nb201_csv(rows=5), EDGE: b"nb201_index\n1\n"}, EDGE, "Not a gzipped file"),
    "edge-empty": ("edge", {NB201: nb201_csv(rows=5), EDGE: gzip.compress(b"")}, EDGE, "is empty"),
    "edge-no-status": ("edge", {NB201: nb201_csv(rows=5), EDGE: gzip.compress(b"nb201_index\n1\n")}, EDGE, "status"),
    "torchvision-no-columns": ("torchvision", {TV: "model,latency\nresnet18,0.1\n"}, TV, "lacks column(s) source"),
    "timm-garbage": ("timm", {TIMM: GARBAGE}, TIMM, "not a readable CSV"),
}


@pytest.mark.parametrize("case", sorted(CORRUPT_API))
def test_loader_of_corrupt_file_raises_invalid_input_naming_it(tmp_path: Path, case: str) -> None:
    loader, files, broken, fragment = CORRUPT_API[case]
    root = build_dir(tmp_path, files)
    with pytest.raises(InvalidInputError) as error:
        LOADERS[loader](root)
    message = str(error.value)
    assert str(root / broken) in message and fragment in message and "\n" not in message


def test_import_of_truncated_suite_zero_file_names_it(tmp_path: Path) -> None:
    source = build_dir(tmp_path, {"zc_nasbench201.json": half(zc_json().encode())}) / "zc_nasbench201.json"
    with pytest.raises(InvalidInputError, match="zc_nasbench201.json is not a readable JSON file"):
        import_suite_zero(source, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_loader_data_dir_arguments_are_checked(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match=f"data directory {tmp_path / 'gone'} does not exist"):
        nb201_accuracy("cifar10", data_dir=tmp_path / "gone")
    with pytest.raises(DataNotFoundError, match="is a file, not a directory"):
        load_batch("cifar10", 4, data_dir=_a_file(tmp_path))


# --- data check: content problems --------------------------------------------------------------------
def _nb201_with(change: Callable[[pd.DataFrame], None]) -> str:
    frame = nb201_frame().copy()
    change(frame)
    return frame.to_csv(index=False)


def _transnas(op: str) -> str:
    tasks = ("class_scene", "class_object", "jigsaw", "room_layout", "segmentsemantic", "normal", "autoencoder")
    ops = ["".join(map(str, o)) for o in itertools.product(range(4), repeat=6)]
    ops[7] = op
    frame = pd.DataFrame({"op_indices": ops, **{f"{t}_metric": 0.5 for t in tasks}})
    return frame.to_csv(index=False)


def _set(column: str, row: int, value: object) -> Callable[[pd.DataFrame], None]:
    def change(frame: pd.DataFrame) -> None:
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value

    return change


CHECK_PROBLEMS = {
    "npz-float-images": ("data/cifar10_x.npz", npz_bytes(images=np.zeros((24, 3, 8, 8))), "must be uint8"),
    "npz-nhwc": ("data/cifar10_x.npz", npz_bytes(images=np.zeros((24, 8, 8, 3), np.uint8)), "N x 3 x H x H"),
    "npz-label-10": ("data/cifar10_x.npz", npz_bytes(labels=np.arange(24)), "must lie in [0, 9]"),
    "npz-in16-label-0": ("data/imagenet16_x.npz", npz_bytes(labels=np.zeros(24, int)), "must lie in [1, 1000]"),
    "npz-labels-short": ("data/cifar10_x.npz", npz_bytes(labels=np.zeros(5, int)), "'labels' must be 24 integers"),
    "npz-float-labels": ("data/x.npz", npz_bytes(labels=np.zeros(24)), "'labels' must be 24 integers"),
    "nb201-rows": (NB201, nb201_csv(rows=30), "expected 15,625 rows, got 30"),
    "nb201-accuracy-150": (NB201, _nb201_with(_set("cifar100_test_acc", 5, 150.0)), "outside [0, 100]"),
    "nb201-accuracy-nan": (NB201, _nb201_with(_set("cifar10_val_acc", 9, np.nan)), "1 empty value"),
    "nb201-accuracy-text": (NB201, _nb201_with(_set("cifar10_val_acc", 9, "high")), "non-numeric"),
    "nb201-bad-arch": (NB201, _nb201_with(_set("arch_str", 3, "|conv~0|")), "not a canonical"),
    "nb201-duplicate-index": (NB201, _nb201_with(_set("nb201_index", 3, 4)), "distinct integers"),
    "transnas-bad-op": ("benchmarks/transnas101_micro.csv", _transnas("000009"), "op_indices"),
    "zc-accuracy-250": (ZC, zc_json("250"), "outside [0, 100]"),
    "latency-rows": (LATENCY, latency_csv(), "expected 15,625 rows, got 40"),
    "latency-negative": (LATENCY, latency_csv(rows=None, negative=True), "column raspi4 has values outside [0, None]"),
    "timm-top1-text": ("timm/results-imagenet.csv", "model,top1,top5\nresnet,abc,90\n", "non-numeric"),
    "npz-truncated": ("data/cifar10_x.npz", half(npz_bytes(200, 32)), "not a readable .npz"),
}


@pytest.mark.parametrize("case", sorted(CHECK_PROBLEMS))
def test_data_check_flags_the_file(tmp_path: Path, case: str) -> None:
    relative, content, fragment = CHECK_PROBLEMS[case]
    root = build_dir(tmp_path, {relative: content, "data/cifar100_fine.npz": npz_bytes()})
    results = {item.file: item for item in check_data(root)}
    assert results[relative].status == "problem" and fragment in results[relative].detail
    assert results["data/cifar100_fine.npz"].status == "ok" and results["data/cifar100_fine.npz"].rows == 24
    assert [item.file for item in results.values() if item.broken] == [relative]


def test_unreadable_file_permissions(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    root = build_dir(tmp_path, {C10: npz_bytes()})
    (root / C10).chmod(0)
    with pytest.raises(InvalidInputError, match="Permission denied"):
        load_batch("cifar10", 4, data_dir=root)
