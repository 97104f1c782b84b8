"""`zeronas data check` / `data info` on temp copies of real data files: sound, truncated and garbage."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from zeronas.config import KNOWN_FILES, known_file_patterns
from zeronas.data import load_batch
from zeronas.datacheck import check_data, data_inventory
from zeronas.errors import InvalidInputError
from zeronas.groundtruth.reference import load_reference_zc
from zeronas.spaces.nb201 import nb201_accuracy

GOOD = {
    "benchmarks/nasbench201.csv": 15625,
    "benchmarks/reference_zc/nasbench201__cifar100.json": 725,
    "benchmarks/reference_full/nasbench201__cifar10.csv": 15625,
    "data/cifar10_test_head.npz": 846,
    "data/imagenet16_sample_960.npz": 960,
    "hardware/nasbench201_latency_ms.csv": 15625,
    "timm/results-imagenet.csv": 1556,
}
#: real files copied broken: the first half of their bytes, or garbage under their name
TRUNCATED = (
    "data/cifar10_test_head.npz",
    "benchmarks/nasbench201.csv",
    "benchmarks/reference_zc/nasbench201__cifar10.json",
    "hardware/nasbench201_edge_devices.csv.gz",
)
GARBAGE = "data/cifar100_sample_960.npz"


@pytest.fixture(autouse=True)
def _no_inherited_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZERONAS_DATA_DIR", raising=False)


def _link(shared: Path, root: Path, relative: str) -> None:
    (root / relative).parent.mkdir(parents=True, exist_ok=True)
    (root / relative).symlink_to(shared / relative)


@pytest.fixture
def good_dir(shared_dir: Path, tmp_path: Path) -> Path:
    for relative in GOOD:
        _link(shared_dir, tmp_path, relative)
    return tmp_path


@pytest.fixture
def broken_dir(shared_dir: Path, tmp_path: Path) -> Path:
    for relative in TRUNCATED:
        data = (shared_dir / relative).read_bytes()
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(data[: len(data) // 2])
    (tmp_path / GARBAGE).write_bytes(bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)))
    _link(shared_dir, tmp_path, "data/imagenet16_sample_960.npz")
    return tmp_path


def test_check_of_sound_copies_is_all_ok(good_dir: Path, cli) -> None:
    results = {item.file: item for item in check_data(good_dir)}
    assert {f: (r.status, r.rows) for f, r in results.items() if f in GOOD} == {f: ("ok", n) for f, n in GOOD.items()}
    missing = {f for f, r in results.items() if r.status == "missing"}
    optional = {pattern for pattern, _, _ in known_file_patterns()} - {p for p, _, _ in KNOWN_FILES}
    assert "benchmarks/nasbench101.csv.gz" in optional  # benchmarks register the files they read
    expected = {"benchmarks/reference_zc/nasbench101__*.json", "benchmarks/transnas101_micro.csv"}
    expected |= {"benchmarks/imported/*.csv"} | optional
    assert missing == expected
    assert not any(r.broken for r in results.values())
    result = cli("data", "check", "--data-dir", str(good_dir))
    assert result.code == 0 and result.err == ""
    assert f"7 file(s) ok, {len(expected)} known pattern(s) missing" in result.out


def test_check_of_the_whole_shared_dir(shared_dir: Path) -> None:
    results = check_data(shared_dir)
    statuses = {r.file: r.status for r in results}
    assert statuses["hardware/nasbench201_latency_ms.LICENSE"] == "skipped"
    assert [r.file for r in results if r.status not in ("ok", "skipped", "missing")] == []
    imported_only = {"benchmarks/imported/*.csv", "benchmarks/natsbench_sss.csv", "benchmarks/transnas101_macro.csv"}
    assert {r.file for r in results if r.status == "missing"} <= imported_only
    assert statuses["benchmarks/nasbench101.csv.gz"] == "ok"
    assert sum(s == "ok" for s in statuses.values()) >= 21


def test_check_names_every_broken_copy(broken_dir: Path, cli) -> None:
    results = {item.file: item for item in check_data(broken_dir)}
    assert results["data/imagenet16_sample_960.npz"].status == "ok"
    broken = {f: r.detail for f, r in results.items() if r.broken}
    assert sorted(broken) == sorted([*TRUNCATED, GARBAGE])
    assert "truncated or corrupt" in broken["data/cifar10_test_head.npz"]
    assert "not a zip archive" in broken[GARBAGE]
    assert "Compressed file ended" in broken["hardware/nasbench201_edge_devices.csv.gz"]
    assert "JSON" in broken["benchmarks/reference_zc/nasbench201__cifar10.json"]
    result = cli("data", "check", "--data-dir", str(broken_dir))
    result.assert_clean_error("5 broken file(s)", *TRUNCATED, GARBAGE)
    assert "imagenet16_sample_960.npz" not in result.err


def test_info_marks_broken_copies_unreadable(broken_dir: Path, cli) -> None:
    inventory = data_inventory(broken_dir).set_index("file")
    assert inventory.loc["data/imagenet16_sample_960.npz", "problem"] == ""
    assert inventory.loc["data/imagenet16_sample_960.npz", "rows"] == 960
    for relative in [*TRUNCATED, GARBAGE]:
        assert inventory.loc[relative, "present"] and "not a readable" in inventory.loc[relative, "problem"]
    result = cli("data", "info", "--data-dir", str(broken_dir))
    assert result.code == 0 and result.out.count("unreadable") == 5


def test_loaders_of_broken_copies_raise_naming_the_file(broken_dir: Path) -> None:
    cases = [
        (lambda: load_batch("cifar10", 8, data_dir=broken_dir), "cifar10_test_head.npz is not a readable .npz"),
        (lambda: load_batch("cifar100", 8, data_dir=broken_dir), "cifar100_sample_960.npz is not a readable .npz"),
        (lambda: nb201_accuracy("cifar10", data_dir=broken_dir), "nasbench201.csv is not a readable CSV"),
        (lambda: load_reference_zc("cifar10", data_dir=broken_dir), "nasbench201__cifar10.json is not a readable"),
    ]
    for load, fragment in cases:
        with pytest.raises(InvalidInputError, match=fragment.replace(".", r"\.")):
            load()
    assert load_batch("ImageNet16-120", 8, data_dir=broken_dir).x.shape == (8, 3, 16, 16)


def test_imported_dir_is_accepted_and_its_gaps_are_not_errors(shared_dir: Path, tmp_path: Path, cli) -> None:
    (tmp_path / "benchmarks").mkdir()  # what `zeronas data import NAS-Bench-201-....pth` writes
    shutil.copy(shared_dir / "benchmarks" / "nasbench201.csv", tmp_path / "benchmarks" / "nasbench201.csv")
    result = cli("data", "check", "--data-dir", str(tmp_path))
    missing = len(known_file_patterns()) - 1
    assert result.code == 0 and f"1 file(s) ok, {missing} known pattern(s) missing" in result.out
    assert nb201_accuracy("cifar100", data_dir=tmp_path).max() == pytest.approx(73.5133, abs=1e-3)
    assert load_batch("cifar10", 4, data_dir=tmp_path).synthetic
