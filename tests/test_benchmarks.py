"""Ground truth, reference tables and the importers of official benchmark files."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pandas as pd
import pytest

from zeronas.cli import main
from zeronas.config import find_data_dir
from zeronas.datacheck import data_inventory
from zeronas.errors import DataNotFoundError, InvalidInputError, UnknownNameError, ZeronasError
from zeronas.groundtruth.importers import import_nasbench201, import_suite_zero
from zeronas.groundtruth.reference import load_reference_full, load_reference_zc
from zeronas.groundtruth.truth import ground_truth
from zeronas.spaces import create_space
from zeronas.spaces.nb201 import nb201_accuracy
from zeronas.spaces.nb201.space import ops_to_string

DATA = find_data_dir()
needs_data = pytest.mark.skipif(
    DATA is None or not (DATA / "benchmarks" / "nasbench201.csv").exists(),
    reason="the zeronas data directory (../shared with benchmarks/nasbench201.csv) is not available",
)


@needs_data
def test_ground_truth_is_test_accuracy_over_the_whole_space_with_canonical_keys() -> None:
    truth = ground_truth("nb201", "cifar100")
    assert len(truth) == 15625 and truth.index.is_unique
    assert truth.max() == pytest.approx(73.5133, abs=1e-3)  # the survey's CIFAR-100 optimum
    assert ground_truth("nb201", "in16").max() == pytest.approx(47.3111, abs=1e-3)
    val = ground_truth("nb201", "cifar100", metric="val")
    assert val.max() == pytest.approx(73.26, abs=1e-2) and not val.equals(truth)
    space = create_space("nb201")
    assert all(space.validate(key) == key for key in truth.index)
    with pytest.raises(UnknownNameError, match="nb201"):
        ground_truth("darts", "cifar10")
    with pytest.raises(InvalidInputError):
        nb201_accuracy("cifar10", metric="train")


def test_missing_and_malformed_ground_truth_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError) as missing:
        nb201_accuracy("cifar10", data_dir=tmp_path)
    message = str(missing.value)
    assert "benchmarks/nasbench201.csv" in message and "zeronas data import" in message and "\n" not in message
    bad = tmp_path / "benchmarks" / "nasbench201.csv"
    bad.parent.mkdir()
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(InvalidInputError, match="nasbench201.csv lacks column"):
        nb201_accuracy("cifar10", data_dir=tmp_path)
    bad.write_bytes(b"\x00\xff\xfe garbage \x00" * 50)
    with pytest.raises(InvalidInputError, match="nasbench201.csv"):
        nb201_accuracy("cifar10", data_dir=tmp_path)


@needs_data
def test_reference_zc_is_keyed_by_canonical_arch_with_our_proxy_names() -> None:
    ref = load_reference_zc("cifar100")
    assert 700 <= len(ref) <= 800 and ref.index.is_unique
    assert "jacob_cov" in ref.columns and "jacov" not in ref.columns
    arch = ops_to_string((0, 2, 3, 2, 3, 1))
    assert ref.loc[arch, "flops"] == pytest.approx(88.313152)
    assert ref.loc[arch, "val_accuracy"] == pytest.approx(62.02, abs=1e-2)
    assert ref.loc[arch, "naslib_idx"] == 534
    times = load_reference_zc("cifar100", what="time")
    assert times.loc[arch, "flops"] == pytest.approx(0.4938527, rel=1e-6)


@needs_data
def test_reference_full_maps_nb201_index_to_arch() -> None:
    ref = load_reference_full("cifar10")
    assert len(ref) == 15625
    first = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    assert ref.index[0] == first and ref.loc[first, "params"] == pytest.approx(0.129306)
    assert set(ref.index) == set(ground_truth("nb201", "cifar10").index)


@needs_data
def test_import_suite_zero_multi_and_single_dataset_files(tmp_path: Path) -> None:
    shared = DATA / "benchmarks" / "reference_zc"
    subsets = {}
    for name in ("cifar10", "cifar100"):
        entries = json.loads((shared / f"nasbench201__{name}.json").read_text())
        subsets[name] = dict(list(entries.items())[:5])
    official = tmp_path / "zc_nasbench201.json"
    official.write_text(json.dumps(subsets))
    out = tmp_path / "userdata"
    written = import_suite_zero(official, out)
    assert sorted(p.name for p in written) == ["nasbench201__cifar10.json", "nasbench201__cifar100.json"]
    for name in ("cifar10", "cifar100"):
        mine = load_reference_zc(name, data_dir=out)
        theirs = load_reference_zc(name).loc[mine.index]
        pd.testing.assert_frame_equal(mine.sort_index(axis=1), theirs[mine.columns].sort_index(axis=1))

    digits = {"023231": next(iter(subsets["cifar100"].values()))}  # keys are written in canonical form
    single = tmp_path / "zc_nasbench201_ImageNet16-120.json"
    single.write_text(json.dumps(digits))
    [path] = import_suite_zero(single, out)
    assert path.name == "nasbench201__ImageNet16-120.json"
    assert list(json.loads(path.read_text())) == [ops_to_string((0, 2, 3, 2, 3, 1))]
    anonymous = tmp_path / "scores.json"
    anonymous.write_text(json.dumps(digits))
    with pytest.raises(InvalidInputError, match="--dataset"):
        import_suite_zero(anonymous, out, space="nb201")
    assert import_suite_zero(anonymous, out, dataset="c10", space="nb201")[0].name == "nasbench201__cifar10.json"
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(InvalidInputError, match="broken.json"):
        import_suite_zero(tmp_path / "broken.json", out)
    (tmp_path / "nb101.json").write_text(json.dumps({"(0, 1, 1)": {"val_accuracy": 1.0}}))
    with pytest.raises(InvalidInputError, match="is not a nb201 architecture"):
        import_suite_zero(tmp_path / "nb101.json", out, dataset="cifar10", space="nb201")


def _fake_nas_201_api(archs: list[str]) -> types.ModuleType:
    class FakeAPI:
        def __init__(self, path: str, verbose: bool = True) -> None:
            self.meta_archs = list(archs)

        def get_more_info(self, index: int, dataset: str, iepoch=None, hp="12", is_random=True) -> dict:
            assert hp == "200" and is_random is False
            base = {"cifar10-valid": 10.0, "cifar10": 20.0, "cifar100": 30.0, "ImageNet16-120": 40.0}[dataset]
            return {"valid-accuracy": base + index, "test-accuracy": base + index + 0.5}

    module = types.ModuleType("nas_201_api")
    module.NASBench201API = FakeAPI
    return module


def test_import_nasbench201_through_the_official_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pth = tmp_path / "NAS-Bench-201-v1_1-096897.pth"
    pth.write_bytes(b"not read by the fake api")
    monkeypatch.setitem(sys.modules, "nas_201_api", None)  # not installed
    with pytest.raises(ZeronasError, match="pip install nas-bench-201"):
        import_nasbench201(pth, tmp_path / "out")
    archs = [ops_to_string((4, 3, 3, 0, 0, 0)), ops_to_string((2, 2, 2, 2, 2, 2)), ops_to_string((1, 1, 1, 1, 1, 1))]
    monkeypatch.setitem(sys.modules, "nas_201_api", _fake_nas_201_api(archs))
    csv = import_nasbench201(pth, tmp_path / "out")
    assert csv == tmp_path / "out" / "benchmarks" / "nasbench201.csv"
    test = nb201_accuracy("cifar100", "test", data_dir=tmp_path / "out")
    assert test.to_dict() == {archs[0]: 30.5, archs[1]: 31.5, archs[2]: 32.5}
    assert nb201_accuracy("cifar10", "val", data_dir=tmp_path / "out")[archs[1]] == 11.0
    assert nb201_accuracy("cifar10", "test", data_dir=tmp_path / "out")[archs[2]] == 22.5
    assert nb201_accuracy("in16", "val", data_dir=tmp_path / "out")[archs[0]] == 40.0
    assert list(pd.read_csv(csv)["op_indices"].astype(str).str.zfill(6)) == ["433000", "222222", "111111"]
    with pytest.raises(DataNotFoundError, match="missing.pth"):
        import_nasbench201(tmp_path / "missing.pth", tmp_path / "out")


def test_data_inventory_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = data_inventory(tmp_path)
    needed = empty[empty["file"] == "benchmarks/nasbench201.csv"].iloc[0]
    assert not needed["present"] and "needed by" in needed["what"]
    if DATA is not None and (DATA / "benchmarks" / "nasbench201.csv").exists():
        full = data_inventory(DATA).set_index("file")
        assert (
            full.loc["benchmarks/nasbench201.csv", "rows"] == 15625
            and full.loc["benchmarks/nasbench201.csv", "present"]
        )
        assert full.loc["benchmarks/reference_zc/nasbench201__cifar100.json", "rows"] == 725
    imported = tmp_path / "imported" / "benchmarks" / "nasbench201.csv"
    imported.parent.mkdir(parents=True)
    imported.write_text("nb201_index,arch_str\n0,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|\n")
    main(["data", "info", "--data-dir", str(tmp_path / "imported")])
    out = capsys.readouterr().out
    assert "nasbench201.csv" in out and "missing" in out and "unreadable" not in out
    pth = tmp_path / "NAS-Bench-201.pth"
    pth.write_bytes(b"x")
    with pytest.raises(SystemExit) as code:
        main(["data", "import", str(pth), "--to", str(tmp_path / "out")])
    assert code.value.code == 2
    error = capsys.readouterr().err
    assert "pip install nas-bench-201" in error


def _suite_zero_nb301(n: int, seed: int) -> dict[str, dict]:
    """A NAS-Bench-Suite-Zero-style {dataset: {key: entry}} of `n` NB301 cells, keys in NASLib's raw order.

    The made-up accuracy rises with the cell's #params, so the params proxy ranks it perfectly.
    """
    import numpy as np

    space = create_space("nb301")
    rng = np.random.default_rng(seed)
    entries = {}
    for key in space.sample_many(n, rng):
        cells = eval(key)  # noqa: S307  the test's own literal tuples
        raw = str(tuple(tuple(pair for j in range(0, 8, 2) for pair in cell[j : j + 2][::-1]) for cell in cells))
        params = space.analytic_cost(key, "params")
        entries[raw] = {"params": {"score": params, "time": 0.1}, "val_accuracy": 80.0 + 10 * params}
    return {"cifar10": entries}


def test_import_suite_zero_gives_a_benchmark_without_a_reader_its_ground_truth(tmp_path: Path, cli) -> None:
    source = tmp_path / "zc_nasbench301.json"
    content = _suite_zero_nb301(40, seed=3)
    source.write_text(json.dumps(content))
    out = tmp_path / "data"
    written = import_suite_zero(source, out)  # the benchmark from the file name's stem
    assert sorted(p.relative_to(out).as_posix() for p in written) == [
        "benchmarks/imported/nb301__cifar10.csv",
        "benchmarks/reference_zc/nasbench301__cifar10.json",
    ]
    truth = ground_truth("nb301", "cifar10", "val", data_dir=out)
    space = create_space("nb301")
    expected = {space.validate(k): e["val_accuracy"] for k, e in content["cifar10"].items()}
    assert len(truth) == 40 and truth.to_dict() == expected  # keys canonical (node inputs sorted)
    with pytest.raises(InvalidInputError, match="has no 'test' metric"):
        ground_truth("nb301", "cifar10", "test", data_dir=out)

    anonymous = tmp_path / "scores.json"  # no stem: the only benchmark whose space accepts the keys
    anonymous.write_text(json.dumps(content))
    assert import_suite_zero(anonymous, tmp_path / "again")[0].name == "nasbench301__cifar10.json"
    clash = {"cifar10": {**content["cifar10"], "bad": {"val_accuracy": 1.0}}}
    (tmp_path / "zc_nasbench301_bad.json").write_text(json.dumps(clash))
    with pytest.raises(InvalidInputError, match="key 'bad' is not a nb301 architecture"):
        import_suite_zero(tmp_path / "zc_nasbench301_bad.json", tmp_path / "bad")
    assert not (tmp_path / "bad").exists()  # nothing written unless the whole file is valid

    args = ["evaluate", "--space", "nb301", "-p", "params", "--seeds", "0", "--sample", "12", "-b", "2"]
    result = cli(*args, "--source", "synthetic", "--data-dir", out, "--out", tmp_path / "report")
    assert result.code == 0, result.err  # draws its cells from the labelled ones, metric 'val' by default
    summary = pd.read_csv(next((tmp_path / "report").glob("nb301_cifar10_*_summary.csv")))
    assert summary.loc[0, "proxy"] == "params" and summary.loc[0, "spr_all"] == pytest.approx(1.0)
    cli(*args[:-4], "--sample", "41", "--data-dir", out).assert_clean_error("41 is more than the 40 cells")


def test_data_import_picks_the_importer_by_kind_or_file_ending(tmp_path: Path, cli) -> None:
    listing = cli("data", "import", tmp_path, "--kind", "list")
    assert listing.code == 0 and "suite-zero" in listing.out and "nats_sss" in listing.out and "nb201" in listing.out
    cli("data", "import", tmp_path / "absent.json").assert_clean_error("file to import not found")
    (tmp_path / "x.bin").write_text("?")
    cli("data", "import", tmp_path / "x.bin").assert_clean_error("cannot tell the kind of x.bin", "--kind")
    cli("data", "import", tmp_path / "x.bin", "--kind", "nope").assert_clean_error("--kind must be auto or one of")
    source = tmp_path / "zc_nasbench301.json"
    source.write_text(json.dumps(_suite_zero_nb301(3, seed=0)))
    result = cli("data", "import", source, "--to", tmp_path / "d")
    assert result.code == 0 and "nb301__cifar10.csv" in result.out
