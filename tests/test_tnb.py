"""TransNAS-Bench-101: keys, the two spaces, the seven task networks, exact costs and the ground truth.

THE check: the params and FLOPs of the built networks equal NAS-Bench-Suite-Zero's reference values
on a seeded sample of cells per task (`benchmarks/tnb_check.py` runs all of them).
"""

from __future__ import annotations

import ast
import itertools
import json

import numpy as np
import pandas as pd
import pytest
import torch

from zeronas.config import find_data_dir
from zeronas.errors import DataNotFoundError, InvalidArchError, InvalidInputError, UnknownNameError
from zeronas.modelstats import count_flops, count_params
from zeronas.spaces.tnb import BENCHMARKS, SPACES, TASK_NAMES, TASKS, TransNASMacroSpace, TransNASMicroSpace
from zeronas.spaces.tnb.encoder import TransNASEncoder, decoder_upsamples
from zeronas.spaces.tnb.heads import to_tiles
from zeronas.spaces.tnb.ops import FactorizedReduce, Zero
from zeronas.spaces.tnb.truth import load_transnas, tnb_macro_truth, tnb_micro_truth

SAMPLE_PER_TASK = 10


@pytest.fixture(scope="module")
def data_dir():
    found = find_data_dir()
    if found is None or not (found / "benchmarks" / "transnas101_micro.csv").exists():
        pytest.skip("the TransNAS-Bench-101 micro table is not in the data directory")
    return found


def suite_zero_flops(net: torch.nn.Module, task: str) -> int:
    """Test-local: NAS-Bench-Suite-Zero's FLOPs convention (tensorwatch keeps one call per module).

    Jigsaw runs the shared encoder on 9 tiles; tensorwatch counts it once, so the reference is the
    encoder on one 64 x 64 tile plus the decoder. The other tasks are count_flops at 256 x 256.
    """
    info = next(t for t in TASKS if t.name == task)
    if not info.tiles:
        return count_flops(net, (1, 3, 256, 256))
    features = (1, net.encoder.out_channels * 9, 2, 2)
    return count_flops(net.encoder, (1, 3, 64, 64)) + count_flops(net.decoder, features)


def meta_build(space, key, **kwargs) -> torch.nn.Module:
    """`space.build` on the meta device: the same module tree without weights (the counters read shapes)."""
    with torch.device("meta"):
        return space.build(key, **kwargs)


# --- THE check -----------------------------------------------------------------------------------
@pytest.mark.parametrize("task", TASK_NAMES)
def test_params_and_flops_equal_reference(data_dir, task):
    reference = json.loads((data_dir / f"benchmarks/reference_zc/transnas101_micro__{task}.json").read_text())
    keys = sorted(reference)
    picks = np.random.default_rng(0).choice(len(keys), SAMPLE_PER_TASK, replace=False)
    space = TransNASMicroSpace()
    for i in picks:
        key = keys[int(i)]
        net = meta_build(space, ast.literal_eval(key), task=task)
        assert count_params(net) == round(reference[key]["params"]["score"] * 1e6), (task, key)
        assert suite_zero_flops(net, task) == round(reference[key]["flops"]["score"] * 1e6), (task, key)


def test_reference_values_of_one_cell_by_hand():
    """Cell 1_00_210 (the first reference key): values read from the reference files, per task."""
    space = TransNASMicroSpace()
    expected = {
        "class_object": (929_668, 263_318_016),
        "room_layout": (882_985, 263_271_424),
        "jigsaw": (5_487_368, 21_101_056),
        "segmentsemantic": (11_902_545, 1_198_817_280),
        "normal": (23_750_227, 1_885_700_096),
    }
    for task, (params, flops) in expected.items():
        net = space.build("64-41414-1_00_210", task=task)
        assert (count_params(net), suite_zero_flops(net, task)) == (params, flops)


# --- networks ------------------------------------------------------------------------------------
def test_encoder_shapes_and_structure():
    enc = TransNASEncoder("41414", (3, 3, 3, 3, 3, 3))
    out = enc.eval()(torch.rand(1, 3, 256, 256))
    assert out.shape == (1, 512, 8, 8) and enc.out_channels == 512 and enc.reduction == 32
    stem = enc.stem
    assert (stem[0].kernel_size, stem[0].stride, stem[0].out_channels, stem[0].bias) == ((3, 3), (2, 2), 32, None)
    assert isinstance(stem[2][0], torch.nn.ReLU) and stem[2][1].stride == (2, 2) and stem[2][1].out_channels == 64
    assert len(enc.stages) == 5 and all(len(stage) == 2 for stage in enc.stages)
    # skip edges out of node 0 of a reducing cell are factorized reduces; the others identities
    cell = TransNASEncoder("41414", (1, 1, 1, 1, 1, 1)).stages[0][0]
    kinds = [type(e).__name__ for e in cell.edges]
    assert kinds == ["FactorizedReduce", "FactorizedReduce", "Identity", "FactorizedReduce", "Identity", "Identity"]
    macro = TransNASEncoder("1234")
    assert macro.out_channels == 256 and macro.reduction == 16
    assert macro.eval()(torch.rand(1, 3, 64, 64)).shape == (1, 256, 4, 4)


def test_encoder_init_is_kaiming_fan_out():
    torch.manual_seed(0)
    enc = TransNASEncoder("41414", (3, 3, 3, 3, 3, 3))
    conv = enc.stages[4][1].edges[5][1]  # 512 -> 512 3x3: fan-out 512 * 9
    assert conv.weight.std().item() == pytest.approx((2.0 / (512 * 9)) ** 0.5, rel=0.02)
    bns = [m for m in enc.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert all(bool((m.weight == 1).all()) and bool((m.bias == 0).all()) for m in bns)


def test_zero_and_factorized_reduce_shapes():
    x = torch.rand(2, 8, 7, 7)
    assert Zero(8, 16, 2)(x).shape == (2, 16, 4, 4) and Zero(8, 8, 2)(x).shape == (2, 8, 4, 4)
    assert float(Zero(8, 8, 1)(x).abs().sum()) == 0.0
    assert FactorizedReduce(8, 16, 2)(torch.rand(2, 8, 8, 8)).shape == (2, 16, 4, 4)
    with pytest.raises(ValueError, match="even"):
        FactorizedReduce(8, 15, 2)


def test_decoder_upsamples_follow_transnas_sizing():
    assert decoder_upsamples("41414") == 5  # 224 / 4 / 8 = 7 -> floor(log2(256 / 7))
    assert [decoder_upsamples(m) for m in ("1311", "3311", "33311", "33331")] == [3, 4, 5, 6]


@pytest.mark.parametrize("task", TASKS, ids=TASK_NAMES)
def test_every_task_output_shape(task):
    for space, key in ((TransNASMicroSpace(), "321023"), (TransNASMacroSpace(), "3412")):
        net = space.build(key, task=task.name).eval()
        batch = 1 if task.dense else 2
        with torch.no_grad():
            out = net(torch.rand(batch, *task.input_shape))
        assert tuple(out.shape) == (batch, *task.output_shape), (space.name, task.name)


def test_jigsaw_cuts_an_image_into_a_row_major_grid_and_shares_the_encoder():
    image = torch.arange(2 * 3 * 6 * 6, dtype=torch.float32).reshape(2, 3, 6, 6)
    tiles = to_tiles(image, 9)
    assert tiles.shape == (2, 9, 3, 2, 2)
    assert torch.equal(tiles[:, 5], image[:, :, 2:4, 4:6])  # tile 5: row 1, column 2
    net = TransNASMicroSpace(task="jigsaw").build("333333").eval()
    x = torch.rand(1, 3, 192, 192)
    with torch.no_grad():
        assert torch.allclose(net(x), net(to_tiles(x, 9)))
    with pytest.raises(InvalidInputError, match="divisible by 3"):
        net(torch.rand(1, 3, 64, 65))
    assert count_params(net) == count_params(net.encoder) + 512 * 9 * 1000 + 1000


def test_num_classes_where_it_makes_sense():
    space = TransNASMicroSpace()
    assert meta_build(space, "333333", num_classes=10).decoder.fc.out_features == 10
    assert meta_build(space, "333333", task="segmentsemantic", num_classes=5).decoder.last_conv.out_channels == 5
    assert meta_build(space, "333333", task="room_layout", num_classes=9).decoder.fc.out_features == 9
    with pytest.raises(InvalidInputError, match="room_layout has 9 fixed outputs"):
        space.build("333333", task="room_layout", num_classes=10)
    with pytest.raises(InvalidInputError, match="unexpected options"):
        space.build("333333", width=3)
    with pytest.raises(UnknownNameError, match="unknown TransNAS-Bench-101 task"):
        space.build("333333", task="depth")


# --- costs ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("space_cls,key", [(TransNASMicroSpace, "302113"), (TransNASMacroSpace, "414213")])
@pytest.mark.parametrize("task", ["class_object", "jigsaw", "segmentsemantic", "normal"])
def test_analytic_cost_equals_counting_the_built_network(space_cls, key, task):
    space = space_cls(task=task)
    net = meta_build(space, key)
    shape = (1, 3, space.resolution, space.resolution)
    assert space.analytic_cost(key, "params") == count_params(net) / 1e6
    assert space.analytic_cost(key, "flops") == count_flops(net, shape) / 1e6


def test_meta_build_counts_equal_real_build():
    for space, key in ((TransNASMicroSpace(task="autoencoder"), "301122"), (TransNASMacroSpace(task="jigsaw"), "4213")):
        shape = (1, 3, space.resolution, space.resolution)
        real, meta = space.build(key), meta_build(space, key)
        assert (count_params(real), count_flops(real, shape)) == (count_params(meta), count_flops(meta, shape))


def test_analytic_cost_options():
    space = TransNASMicroSpace()
    small = space.analytic_cost("333333", "flops", resolution=128)
    assert small == count_flops(meta_build(space, "333333"), (1, 3, 128, 128)) / 1e6
    ten = count_params(meta_build(space, "333333", num_classes=10))
    assert space.analytic_cost("333333", "params", num_classes=10) == ten / 1e6
    assert space.analytic_cost("000000", "macs") < space.analytic_cost("333333", "macs")
    with pytest.raises(InvalidArchError, match="no analytic cost 'latency'"):
        space.analytic_cost("333333", "latency")


# --- keys and the spaces -------------------------------------------------------------------------
def test_micro_key_forms():
    space = TransNASMicroSpace()
    for form in (
        "100210",
        "64-41414-1_00_210",
        "1_00_210",
        (1, 0, 0, 2, 1, 0),
        "(1, 0, 0, 2, 1, 0)",
        [1, 0, 0, 2, 1, 0],
    ):
        assert space.validate(form) == "100210"
    assert space.arch_string("100210") == "64-41414-1_00_210"
    for bad, message in (
        ("10021", "needs 6 op digits"),
        ("100214", "must be 0..3"),
        ("64-41314-1_00_210", "start with '64-41414-'"),
        ("1-0-0", "malformed TNB micro key"),
        ((1, 0, 0, 2, 1, True), "must hold integers"),
        (100210, "must be a string or a tuple"),
    ):
        with pytest.raises(InvalidArchError, match=message):
            space.validate(bad)


def test_macro_key_forms_and_constraints():
    space = TransNASMacroSpace()
    for form in ("41414", "64-41414-basic", (4, 1, 4, 1, 4, 0), "(4, 1, 4, 1, 4, 0)", "414140", 41414):
        assert space.validate(form) == "41414"
    assert space.arch_string("41414") == "64-41414-basic"
    for bad, message in (
        ("414", "needs 4 to 6 stages"),
        ("4141411", "zero padding|needs 4 to 6"),
        ("41410", "zero padding"),
        ("41514", "digits must be 1..4"),
        ("1111", "1 to 4 resolution-halving"),
        ("3311", "1 to 3 channel-doubling"),
        ("444411", "1 to 3 channel-doubling"),
        ("333331", "1 to 4 resolution-halving"),
        ("32-41414-basic", "start with '64-'"),
    ):
        with pytest.raises(InvalidArchError, match=message):
            space.validate(bad)


def test_sizes_enumeration_and_counts_by_length():
    micro, macro = TransNASMicroSpace(), TransNASMacroSpace()
    assert micro.size == 4096 == len(set(micro.enumerate()))
    keys = list(macro.enumerate())
    assert macro.size == 3256 == len(set(keys))
    assert [sum(len(k) == n for k in keys) for n in (4, 5, 6)] == [15 * 14, 30 * 25, 56 * 41]
    assert all(macro.validate(k) == k for k in keys[::97])


@pytest.mark.parametrize("space", [TransNASMicroSpace(), TransNASMacroSpace()], ids=["micro", "macro"])
def test_variation_operators_stay_in_the_space(space):
    rng = np.random.default_rng(0)
    keys = space.sample_many(30, rng)
    assert len(set(keys)) == 30
    for a, b in zip(keys[::2], keys[1::2], strict=True):
        child = space.mutate(a, rng)
        assert child != a and child in space.neighbours(a)
        mixed = space.crossover(a, b, rng)
        assert space.validate(mixed) == mixed
    first = keys[0]
    assert first not in space.neighbours(first) and len(set(space.neighbours(first))) == len(space.neighbours(first))
    vec = space.encode(first)
    assert vec.dtype == np.float32 and vec.shape == (24,) and vec.sum() == len(space.validate(first))


def test_micro_neighbours_and_crossover_are_exact():
    space = TransNASMicroSpace()
    assert len(space.neighbours("000000")) == 18
    assert space.crossover("000000", "333333", np.random.default_rng(3)) in {
        "".join(p) for p in itertools.product("03", repeat=6)
    }
    assert space.encode("012301").reshape(6, 4).argmax(1).tolist() == [0, 1, 2, 3, 0, 1]


def test_macro_neighbours_change_insert_or_remove_one_stage():
    space = TransNASMacroSpace()
    near = space.neighbours("41414")
    assert "41411" in near and "4141" in near and "414141" in near
    assert all(abs(len(n) - 5) <= 1 for n in near)
    assert space.encode("4123").reshape(6, 4).sum(1).tolist() == [1, 1, 1, 1, 0, 0]


def test_config_rebuilds_the_space():
    for cls in SPACES:
        space = cls(task="segmentsemantic")
        again = cls(**space.config())
        assert again.config() == {"task": "segmentsemantic", "data_dir": None}
        assert (again.resolution, again.num_classes) == (256, 17)
    assert TransNASMicroSpace(task="jigsaw").resolution == 192
    with pytest.raises(UnknownNameError):
        TransNASMicroSpace(task="depth")


def test_tasks_table():
    by = {t.name: t for t in TASKS}
    assert list(by) == [
        "class_object",
        "class_scene",
        "jigsaw",
        "room_layout",
        "segmentsemantic",
        "normal",
        "autoencoder",
    ]
    assert [by[n].outputs for n in by] == [100, 63, 1000, 9, 17, 3, 3]
    assert by["jigsaw"].input_shape == (9, 3, 64, 64) and by["jigsaw"].tiles == 9
    assert [by[n].loss for n in by] == ["ce", "ce", "ce", "mse", "pixel ce", "l1", "l1"]
    assert all(t.higher_is_better for t in TASKS)


# --- ground truth --------------------------------------------------------------------------------
def test_micro_truth(data_dir):
    table = load_transnas(False, data_dir)
    assert len(table) == 4096 and table.index.is_unique and table.index[0] == "000000"
    scene = tnb_micro_truth("class_scene", "val", data_dir)
    assert scene.dtype == np.float64 and len(scene) == 4096
    assert scene["232323"] == pytest.approx(53.836585998535156)
    assert tnb_micro_truth("room_layout", data_dir=data_dir)["232323"] == pytest.approx(-0.7173932790756226)
    assert tnb_micro_truth("jigsaw", data_dir=data_dir)["000022"] == pytest.approx(0.04976114630699158)
    space = TransNASMicroSpace()
    assert all(space.validate(k) == k for k in scene.index[::101])
    with pytest.raises(InvalidInputError, match="'val' only"):
        tnb_micro_truth("class_scene", "test", data_dir)


def test_macro_truth_missing_is_one_line(data_dir):
    if (data_dir / "benchmarks" / "transnas101_macro.csv").exists():
        pytest.skip("a macro table is present")
    with pytest.raises(DataNotFoundError, match="transnas101_macro.csv") as info:
        tnb_macro_truth("class_scene", data_dir=data_dir)
    assert "\n" not in str(info.value)


def test_macro_truth_reads_a_table(tmp_path):
    (tmp_path / "benchmarks").mkdir()
    header = "op_indices," + ",".join(f"{t}_metric" for t in TASK_NAMES)
    rows = ["41414," + ",".join(["1.5"] * 7), "64-1234-basic," + ",".join(["2.5"] * 7)]
    (tmp_path / "benchmarks" / "transnas101_macro.csv").write_text("\n".join([header, *rows]) + "\n")
    truth = tnb_macro_truth("normal", data_dir=tmp_path)
    assert truth.to_dict() == {"1234": 2.5, "41414": 1.5}
    (tmp_path / "benchmarks" / "transnas101_macro.csv").write_text(header + "\n3311," + ",".join(["1"] * 7) + "\n")
    with pytest.raises(InvalidInputError, match="channel-doubling"):
        tnb_macro_truth("normal", data_dir=tmp_path)


def test_benchmarks():
    micro, macro = BENCHMARKS
    assert (micro.name, macro.name) == ("tnb_micro", "tnb_macro")
    assert micro.datasets == TASK_NAMES and micro.default_dataset in TASK_NAMES
    assert micro.metrics == ("val",) and micro.reference_stem == "transnas101_micro"
    assert [p for p, _ in micro.data_files] == ["benchmarks/transnas101_micro.csv"]
    assert [p for p, _ in macro.data_files] == ["benchmarks/transnas101_macro.csv"]
    assert [cls.name for cls in SPACES] == ["tnb_micro", "tnb_macro"]


# --- search and Pareto on a task -------------------------------------------------------------------------
def test_search_under_a_budget_and_pareto_against_measured_latency_on_a_task(data_dir, cli, tmp_path):
    """Surface normals: the ground truth is an SSIM (no '%'); the latency cost is measured on this CPU."""
    args = ("--space", "tnb_micro", "--dataset", "normal", "-p", "params", "-b", 2, "-r", 64, "--no-store")
    found = cli("search", *args, "-a", "random", "-n", 3, "--budget", "params<=25", "--no-export", "--out", tmp_path)
    assert found.code == 0, found.err
    best = pd.read_csv(tmp_path / "best.csv", dtype={"arch": str}).to_dict("records")
    assert best and all(row["cost_params"] <= 25 for row in best)
    truth = tnb_micro_truth("normal", data_dir=data_dir)
    assert f"ground truth (normal val): {truth[best[0]['arch']]:.2f}, rank" in found.out
    assert f"(optimum {truth.max():.2f})" in found.out and "%" not in found.out.split("ground truth")[1].split("\n")[0]
    study = cli("pareto", *args, "-c", "latency", "-o", "repeats=3", "-o", "warmup=1", "-n", 4, "--out", tmp_path)
    assert study.code == 0, study.err
    (path,) = tmp_path.glob("tnb_micro_normal_latency*.json")
    picks = json.loads(path.read_text())["picks"]
    assert all(p["pick_cost"] <= p["budget"] and p["pick_acc"] == pytest.approx(truth[p["pick"]]) for p in picks)
    assert "true best" in study.out and "ground-truth metric lost per budget" in study.out
