"""NATS-Bench size space: published #params/#FLOPs, keys and the official index, variation, importer, CLI."""

from __future__ import annotations

import collections
import pickle
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from zeronas.errors import DataNotFoundError, InvalidArchError, InvalidInputError, ZeronasError
from zeronas.modelstats import count_flops, count_macs, count_params
from zeronas.spaces import create_space, get_benchmark, list_spaces
from zeronas.spaces.nats_sss.importer import import_nats_sss
from zeronas.spaces.nats_sss.model import CELL, ChannelProjection
from zeronas.spaces.nats_sss.space import NatsSizeSpace

#: (FLOPs M, params M) as NATS-Bench reports them (`api.get_cost_info(i, dataset)`). The first three are
#: the records of indices 0, 11 and 284 in the official archive excerpt the NATS-Bench repository ships
#: (fake_torch_dir/NATS-sss-v1_0-50262-simple); no published record of 64:64:64:64:64 was found, so its
#: numbers are those AutoDL's own `get_cell_based_tiny_net` + `get_model_infos` compute for it.
PUBLISHED = {
    "8:8:8:8:8": {
        "cifar10": (4.481114, 0.011714),
        "cifar100": (4.481924, 0.012524),
        "ImageNet16-120": (1.121336, 0.012704),
    },
    "8:8:8:16:32": {
        "cifar10": (6.84065, 0.049202),
        "cifar100": (6.84362, 0.052172),
        "ImageNet16-120": (1.71404, 0.052832),
    },
    "8:8:40:32:40": {
        "cifar10": (21.827994, 0.144834),
        "cifar100": (21.831684, 0.148524),
        "ImageNet16-120": (5.461816, 0.149344),
    },
    "64:64:64:64:64": {
        "cifar10": (274.399882, 0.713674),
        "cifar100": (274.405732, 0.719524),
        "ImageNet16-120": (68.607608, 0.720824),
    },
}
DATASETS = {"cifar10": (10, 32), "cifar100": (100, 32), "ImageNet16-120": (120, 16)}
#: positions in the official archive's `meta_archs`
OFFICIAL_INDEX = {0: "8:8:8:8:8", 1: "8:8:8:8:16", 8: "8:8:8:16:8", 11: "8:8:8:16:32", 284: "8:8:40:32:40"}
OFFICIAL_INDEX[32767] = "64:64:64:64:64"


@pytest.fixture(scope="module")
def space() -> NatsSizeSpace:
    return NatsSizeSpace()


def nats_convention_flops(model: nn.Module, resolution: int) -> int:
    """FLOPs counted the way NATS-Bench did: conv and linear multiply-adds plus their biases, nothing else."""
    total = 0

    def hook(module: nn.Module, args: tuple, out: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            total += kh * kw * module.in_channels * module.out_channels // module.groups * out[0, 0].numel()
        else:
            total += module.in_features * module.out_features
        if module.bias is not None:
            total += module.out_features if isinstance(module, nn.Linear) else out[0].numel()

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, resolution, resolution))
    for handle in handles:
        handle.remove()
    return total


@pytest.mark.parametrize("key", list(PUBLISHED))
def test_params_and_flops_equal_published(space, key):
    for dataset, (flops, params) in PUBLISHED[key].items():
        classes, resolution = DATASETS[dataset]
        model = space.build(key, num_classes=classes)
        assert count_params(model) == round(params * 1e6), (key, dataset)
        assert nats_convention_flops(model, resolution) == round(flops * 1e6), (key, dataset)
        assert space.analytic_cost(key, "params", classes, resolution) == pytest.approx(params, abs=1e-12)
        assert space.analytic_cost(key, "nats_flops", classes, resolution) == pytest.approx(flops, abs=1e-12)


def test_analytic_costs_equal_counted_costs(space):
    keys = ["8:64:8:64:8", "64:8:64:8:64", *space.sample_many(3, np.random.default_rng(5))]
    for key in keys:
        for classes, resolution in DATASETS.values():
            model = space.build(key, num_classes=classes)
            shape = (1, 3, resolution, resolution)
            assert space.analytic_cost(key, "params", classes, resolution) * 1e6 == pytest.approx(count_params(model))
            assert space.analytic_cost(key, "flops", classes, resolution) * 1e6 == pytest.approx(
                count_flops(model, shape)
            )
            assert space.analytic_cost(key, "macs", classes, resolution) * 1e6 == pytest.approx(
                count_macs(model, shape)
            )
    with pytest.raises(InvalidInputError, match="latency"):
        space.analytic_cost(keys[0], "latency")
    with pytest.raises(InvalidInputError, match="divisible by 4"):
        space.analytic_cost(keys[0], "flops", resolution=30)


def test_network_structure_and_forward(space):
    model = space.build("8:16:32:64:64")
    assert [type(c).__name__ for c in model.cells] == ["ShapeCell", "ResNetBasicBlock"] * 2 + ["ShapeCell"]
    # the 16 -> 32 cell widens its skip edge with a 1x1 projection; the 64 -> 64 cell keeps an identity
    assert isinstance(model.cells[2].layers[3], ChannelProjection)
    assert isinstance(model.cells[4].layers[3], nn.Identity)
    assert model.classifier.in_features == 64
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert space.build("64:8:8:8:24", num_classes=120)(torch.randn(2, 3, 16, 16)).shape == (2, 120)
    with pytest.raises(InvalidInputError, match="depth"):
        space.build("8:8:8:8:8", depth=3)


@pytest.mark.parametrize(
    "given",
    [" 8 : 16:32: 64 :64 ", "8,16,32,64,64", "(8, 16, 32, 64, 64)", "[8,16,32,64,64]", (8, 16, 32, 64, 64)]
    + [[np.int64(8), 16, 32, 64, 64], "index:767", "# 767", 767, np.int32(767)],
)
def test_key_forms_canonicalise(space, given):
    assert space.validate(given) == "8:16:32:64:64"


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        ("8:16:32:64", "needs 5 channel counts, got 4"),
        ("8:16:32:64:64:8", "got 6"),
        ("8:16:32:64:65", "65 at position 4"),
        ("8:16:x:64:64", "'x' at position 2"),
        ("8:16::64:64", "not an integer"),
        ("8:-16:32:64:64", "not an integer"),
        ("", "malformed"),
        ("sixteen", "malformed"),
        ("(8,16,32,64,64", "unclosed"),
        ("index:32768", "out of range 0..32767"),
        (-1, "out of range"),
        ((8, 16, 32, 64, 0), "0 at position 4"),
        ((8, 16, 32, 64, True), "True at position 4"),
        (True, "must be a string"),
        (3.5, "must be a string"),
        (None, "must be a string"),
    ],
)
def test_invalid_keys_give_one_line_errors(space, key, fragment):
    with pytest.raises(InvalidArchError) as info:
        space.validate(key)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_official_index_and_enumeration(space):
    keys = list(space.enumerate())
    assert len(keys) == len(set(keys)) == space.size == 32768
    for index, key in OFFICIAL_INDEX.items():
        assert keys[index] == key == space.arch_of_index(index)
        assert space.index_of(key) == index
    assert all(space.index_of(key) == i for i, key in enumerate(keys))
    assert space.sample_many(32768, np.random.default_rng(0)) == keys
    with pytest.raises(InvalidArchError, match="integer"):
        space.arch_of_index("3")


def changed_positions(a: str, b: str) -> int:
    return sum(x != y for x, y in zip(a.split(":"), b.split(":"), strict=True))


def test_variation_operators(space):
    rng = np.random.default_rng(3)
    start = "8:16:32:64:64"
    for _ in range(30):
        child = space.mutate(start, rng)
        assert changed_positions(child, start) == 1
    neighbours = space.neighbours(start)
    assert len(neighbours) == len(set(neighbours)) == 35 and start not in neighbours
    assert all(changed_positions(n, start) == 1 for n in neighbours)
    a, b = "8:8:8:8:8", "64:64:64:64:64"
    children = {space.crossover(a, b, rng) for _ in range(40)}
    assert all(set(c.split(":")) <= {"8", "64"} for c in children) and len(children) > 5
    assert all(space.validate(space.sample(rng)) for _ in range(20))
    np.testing.assert_allclose(space.encode("8:16:32:64:64"), [0, 1 / 7, 3 / 7, 1, 1])
    assert space.encode("index:0").dtype == np.float32


def test_registration_and_config_rebuild(space):
    assert "nats_sss" in list_spaces()
    rebuilt = create_space("nats_sss", **space.config())
    assert pickle.loads(pickle.dumps(rebuilt)).validate(767) == "8:16:32:64:64"
    bench = get_benchmark("nats_sss")
    assert bench.datasets == ("cifar10", "cifar100", "ImageNet16-120")
    assert bench.default_cost == "flops" and "params" not in bench.default_proxies.split(",")
    assert [item.kind for item in bench.importers] == ["nats_sss"]
    assert bench.data_files[0][0] == "benchmarks/natsbench_sss.csv"


def test_missing_ground_truth_is_a_one_line_error(tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        get_benchmark("nats_sss").ground_truth("cifar10", data_dir=tmp_path)
    assert "natsbench_sss.csv" in str(info.value) and "nats_bench" in str(info.value)
    assert "\n" not in str(info.value)


# --- importer: archives written with NATS-Bench's own classes, read back through `nats_bench.create` ---
EVAL_SETS = {
    "cifar10-valid": ("x-valid", "ori-test"),
    "cifar10": ("ori-test",),
    "cifar100": ("x-valid", "x-test", "ori-test"),
    "ImageNet16-120": ("x-valid", "x-test", "ori-test"),
}
SET_OFFSET = {(d, s): float(i) for i, (d, s) in enumerate((d, s) for d, sets in EVAL_SETS.items() for s in sets)}
HPS = {"01": (1, -30.0), "12": (12, -10.0), "90": (90, 0.0)}
SEEDS = (777, 888)
ARCHIVED = (0, 11, 284, 767)


def accuracy(index: int, dataset: str, name: str, hp: str, seed: int, epoch: int) -> float:
    """The accuracy stored for one trial; the two seeds differ by +-0.5 so that their mean is exact."""
    epochs, hp_shift = HPS[hp]
    return 50.0 + index % 17 + SET_OFFSET[(dataset, name)] + hp_shift + epoch / epochs + (0.5 if seed == 777 else -0.5)


def arch_record(index: int, key: str) -> dict:
    """{hp: ArchResults state} of one architecture, as NATS-Bench stores it."""
    from nats_bench.api_utils import ArchResults, ResultsCount

    record = collections.OrderedDict()
    for hp, (epochs, _) in HPS.items():
        arch = ArchResults(index, key)
        for dataset, sets in EVAL_SETS.items():
            classes = {"cifar100": 100, "ImageNet16-120": 120}.get(dataset, 10)
            config = {
                "name": "infer.shape.tiny",
                "channels": key,
                "arch_str": key,
                "genotype": CELL,
                "class_num": classes,
            }
            for seed in SEEDS:
                train = {e: 60.0 + e for e in range(epochs)}
                result = ResultsCount(dataset, None, train, train, 0.1, 5.0, config, seed, epochs, [0.01])
                result.update_train_info(train, train, train, collections.OrderedDict(dict.fromkeys(train, 2.0)))
                names = [f"{s}@{e}" for s in sets for e in range(epochs)]
                accs = {n: accuracy(index, dataset, n.split("@")[0], hp, seed, int(n.split("@")[1])) for n in names}
                result.update_eval(accs, dict.fromkeys(names, 1.0), dict.fromkeys(names, 0.5))
                arch.update(dataset, seed, result)
        record[hp] = arch.state_dict()
    return record


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    """(single-file archive, fast-mode folder) holding the architectures ARCHIVED."""
    pytest.importorskip("nats_bench")
    from nats_bench.api_utils import pickle_save

    root = tmp_path_factory.mktemp("nats")
    meta_archs = list(NatsSizeSpace().enumerate())
    records = {i: arch_record(i, meta_archs[i]) for i in ARCHIVED}
    pickle_save(
        {"meta_archs": meta_archs, "arch2infos": records, "evaluated_indexes": set(ARCHIVED)}, root / "x.pickle"
    )
    (root / "x.pickle.pbz2").rename(root / "NATS-sss-v1_0-50262.pickle.pbz2")
    folder = root / "NATS-sss-v1_0-50262-simple"
    folder.mkdir()
    meta = {"meta_archs": meta_archs, "total_archs": len(meta_archs), "arch2infos": None, "evaluated_indexes": set()}
    pickle_save(meta, folder / "meta.pickle")
    for index, record in records.items():
        pickle_save(record, folder / f"{index:06d}.pickle")
    return root / "NATS-sss-v1_0-50262.pickle.pbz2", folder


def expected_table() -> pd.DataFrame:
    def mean(index, dataset, name):
        return np.mean([accuracy(index, dataset, name, "90", seed, 89) for seed in SEEDS])

    rows = []
    for index in ARCHIVED:
        row = {"nats_index": index, "arch": NatsSizeSpace().arch_of_index(index)}
        row["cifar10_val_acc"] = mean(index, "cifar10-valid", "x-valid")
        row["cifar10_test_acc"] = mean(index, "cifar10", "ori-test")
        for dataset, prefix in (("cifar100", "cifar100"), ("ImageNet16-120", "imagenet16_120")):
            row[f"{prefix}_val_acc"] = mean(index, dataset, "x-valid")
            row[f"{prefix}_test_acc"] = mean(index, dataset, "x-test")
        rows.append(row)
    return pd.DataFrame(rows)


@pytest.mark.parametrize("form", ["file", "folder"])
def test_importer_reads_official_archive(archives, tmp_path, form):
    source = archives[0] if form == "file" else archives[1]
    assert source.exists()
    written = import_nats_sss(source, tmp_path, None)
    assert written == [tmp_path / "benchmarks" / "natsbench_sss.csv"]
    table = pd.read_csv(written[0])
    pd.testing.assert_frame_equal(table, expected_table(), check_exact=False, rtol=1e-12)
    assert not list((tmp_path / "benchmarks").glob(".*tmp"))
    truth = get_benchmark("nats_sss").ground_truth("ImageNet16-120", "val", data_dir=tmp_path)
    assert truth["8:16:32:64:64"] == pytest.approx(50 + 767 % 17 + SET_OFFSET[("ImageNet16-120", "x-valid")] + 89 / 90)


def test_importer_errors(archives, tmp_path, monkeypatch):
    garbage = tmp_path / "garbage.pickle.pbz2"
    garbage.write_bytes(b"not an archive")
    for bad, fragment in ((garbage, "not a NATS-Bench size-space archive"), (tmp_path, "not a NATS-Bench")):
        with pytest.raises(InvalidInputError, match=fragment) as info:
            import_nats_sss(bad, tmp_path / "out", None)
        assert "\n" not in str(info.value)
    with pytest.raises(DataNotFoundError):
        import_nats_sss(tmp_path / "absent.pickle.pbz2", tmp_path / "out", None)
    with pytest.raises(InvalidInputError, match="not 'imagenet'"):
        import_nats_sss(archives[0], tmp_path / "out", "imagenet")
    assert not (tmp_path / "out").exists()
    monkeypatch.setitem(sys.modules, "nats_bench", None)
    with pytest.raises(ZeronasError, match="pip install nats_bench"):
        import_nats_sss(archives[0], tmp_path / "out", None)


# --- the CLI ---
def test_cli_score_and_bad_arch(cli):
    result = cli(
        "score",
        "--space",
        "nats_sss",
        "--arch",
        "8:16:32:64:64",
        "-p",
        "synflow,params",
        "-b",
        "2",
        "--source",
        "synthetic",
    )
    assert result.code == 0, result.err
    assert "synflow" in result.out and "0.287938" in result.out  # its parameters in M
    cli("score", "--space", "nats_sss", "--arch", "8:16:32:64:12", "-p", "params").assert_clean_error(
        "12", "position 4"
    )


def test_cli_search_evolution(cli, tmp_path):
    args = ["search", "--space", "nats_sss", "--algorithm", "evolution", "--evaluations", "20", "-p", "synflow"]
    args += ["--population", "6", "--tournament", "3", "-b", "2", "--proxy-resolution", "16", "--source", "synthetic"]
    result = cli(*args, "--budget", "flops<=100M", "--no-store", "--no-export", "--out", tmp_path)
    assert result.code == 0, result.err
    best = pd.read_csv(tmp_path / "best.csv")
    space = NatsSizeSpace()
    assert all(space.validate(key) == key for key in best["arch"])
    assert all(space.analytic_cost(key, "flops") <= 100 for key in best["arch"])


def test_cli_pareto_latency(cli, tmp_path):
    space = NatsSizeSpace()
    keys = list(space.enumerate())
    width = np.stack([space.encode(k) for k in keys]).sum(axis=1)
    table = pd.DataFrame({"nats_index": range(len(keys)), "arch": keys})
    for prefix in ("cifar10", "cifar100", "imagenet16_120"):
        table[f"{prefix}_val_acc"] = 59 + 5 * width
        table[f"{prefix}_test_acc"] = 60 + 5 * width
    (tmp_path / "benchmarks").mkdir()
    table.to_csv(tmp_path / "benchmarks" / "natsbench_sss.csv", index=False)
    args = ["pareto", "--space", "nats_sss", "--cost", "latency", "-o", "repeats=2", "-o", "warmup=1"]
    args += ["--sample", "5", "-p", "synflow", "-b", "2", "--source", "synthetic", "--no-store"]
    result = cli(*args, "--data-dir", tmp_path, "--out", tmp_path / "out")
    assert result.code == 0, result.err
    assert "5 nats_sss candidates" in result.out and "latency" in result.out
    assert list((tmp_path / "out").glob("nats_sss_cifar10_latency*.json"))


def test_cli_evaluate_without_ground_truth(cli, tmp_path):
    (tmp_path / "hardware").mkdir()
    (tmp_path / "hardware" / "notes.txt").write_text("a data directory without NATS-Bench ground truth\n")
    result = cli("evaluate", "--space", "nats_sss", "-p", "params", "--source", "synthetic", "--data-dir", tmp_path)
    result.assert_clean_error("natsbench_sss.csv", "nats_bench")


def test_cli_data_import(cli, archives, tmp_path):
    result = cli("data", "import", archives[0], "--kind", "nats_sss", "--to", tmp_path)
    assert result.code == 0, result.err
    table = pd.read_csv(tmp_path / "benchmarks" / "natsbench_sss.csv")
    assert table["nats_index"].tolist() == list(ARCHIVED)
