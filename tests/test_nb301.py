"""NAS-Bench-301 (DARTS cells): parameter/FLOP counts against DARTS's own code, key forms and errors, the space."""

from __future__ import annotations

import ast
from collections import Counter, namedtuple

import numpy as np
import pandas as pd
import pytest
import torch

import zeronas
from zeronas.errors import DataNotFoundError, InvalidArchError, InvalidInputError
from zeronas.modelstats import count_flops, count_macs, count_params
from zeronas.spaces import create_space, get_benchmark
from zeronas.spaces.nb301.model import DartsNetwork
from zeronas.spaces.nb301.space import NasBench301Space

#: DARTS-V2 as DARTS's genotypes.py writes it (lists, node inputs not in ascending order)
DARTS_V2 = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], "
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), "
    "('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)
DARTS_V2_KEY = (
    "(((0, 3), (1, 3), (0, 3), (1, 3), (0, 2), (1, 3), (0, 2), (2, 5)), "
    "((0, 0), (1, 0), (1, 0), (2, 2), (0, 0), (2, 2), (1, 0), (2, 2)))"
)
#: the compact specs of NASLib's NB301 tests; SPEC_B lists some node inputs in descending order
SPEC_A = (
    ((0, 6), (1, 4), (0, 0), (1, 5), (1, 4), (3, 2), (0, 6), (3, 2)),
    ((0, 1), (1, 4), (0, 1), (1, 4), (2, 6), (3, 4), (1, 5), (2, 1)),
)
SPEC_B = (
    ((0, 1), (1, 4), (0, 6), (2, 0), (2, 6), (1, 4), (0, 5), (2, 2)),
    ((0, 5), (1, 6), (0, 1), (1, 5), (2, 5), (1, 2), (3, 3), (0, 3)),
)
SPEC_B_KEY = (
    "(((0, 1), (1, 4), (0, 6), (2, 0), (1, 4), (2, 6), (0, 5), (2, 2)), "
    "((0, 5), (1, 6), (0, 1), (1, 5), (1, 2), (2, 5), (0, 3), (3, 3)))"
)
#: the architecture of NAS-Bench-301's data_generation/configs/config_0.json (edges and inputs_node_* read
#: the way Auto-PyTorch's get_gene_from_config reads them)
CONFIG_0 = (
    "Genotype(normal=[('skip_connect', 0), ('sep_conv_3x3', 1), ('dil_conv_5x5', 1), ('avg_pool_3x3', 2), "
    "('dil_conv_5x5', 2), ('sep_conv_3x3', 3), ('dil_conv_3x3', 0), ('dil_conv_3x3', 1)], normal_concat=range(2, 6), "
    "reduce=[('dil_conv_3x3', 0), ('skip_connect', 1), ('max_pool_3x3', 0), ('dil_conv_5x5', 1), "
    "('dil_conv_3x3', 1), ('avg_pool_3x3', 2), ('sep_conv_3x3', 0), ('sep_conv_3x3', 2)], reduce_concat=range(2, 6))"
)


@pytest.fixture(scope="module")
def space() -> NasBench301Space:
    return NasBench301Space()


# --- the network against DARTS's own code ---
def test_darts_v2_at_36_channels_20_layers_has_the_published_parameter_count():
    """DARTS reports 'param size = 3.349342MB' for its CIFAR-10 network (auxiliary head excluded)."""
    model = NasBench301Space(init_channels=36, layers=20).build(DARTS_V2)
    assert count_params(model) == 3_349_342


# Obtained by running DARTS's cnn/model.py + operations.py (github quark0/darts) from a scratch folder:
# NetworkCIFAR(32, 10, 8, auxiliary=False, genotype), parameters summed, and zeronas.modelstats
# count_flops / count_macs on it at (1, 3, 32, 32). The same script loaded DARTS's state_dict into
# the network built here and found identical logits (eval and train mode) and identical default init.
@pytest.mark.parametrize(
    ("key", "params", "flops", "macs"),
    [
        (DARTS_V2, 919_722, 167_056_896, 159_765_504),
        (SPEC_A, 973_226, 170_096_128, 162_780_160),
        (SPEC_B, 975_658, 170_644_992, 162_518_016),
        (CONFIG_0, 972_330, 167_769_600, 160_183_296),
    ],
)
def test_counts_at_the_nb301_setting_equal_darts_code(space, key, params, flops, macs):
    model = space.build(key)
    assert count_params(model) == params
    assert count_flops(model, (1, 3, 32, 32)) == flops
    assert count_macs(model, (1, 3, 32, 32)) == macs
    assert space.analytic_cost(key, "params") == pytest.approx(params / 1e6, abs=1e-12)
    assert space.analytic_cost(key, "flops") == pytest.approx(flops / 1e6, abs=1e-9)


def test_network_structure_and_forward(space):
    model = space.build(DARTS_V2_KEY, num_classes=100)
    assert isinstance(model, DartsNetwork)
    assert [i for i, cell in enumerate(model.cells) if cell.ops[0].__class__.__name__ == "MaxPool2d"] == [2, 5]
    assert model.stem[0].out_channels == 96 and model.classifier.in_features == 4 * 128
    assert not any("auxiliary" in name for name, _ in model.named_modules())
    out = model(torch.randn(2, 3, 32, 32))
    assert isinstance(out, torch.Tensor) and out.shape == (2, 100)
    pools = [m for m in model.modules() if isinstance(m, torch.nn.AvgPool2d | torch.nn.MaxPool2d)]
    assert all(isinstance(m, torch.nn.MaxPool2d) or m.count_include_pad is False for m in pools)


def test_analytic_costs_equal_counted_costs_for_other_classes_and_resolutions(space):
    rng = np.random.default_rng(3)
    key = space.sample(rng)
    model = space.build(key, num_classes=100)
    assert space.analytic_cost(key, "params", num_classes=100) * 1e6 == pytest.approx(count_params(model), abs=1e-6)
    small = NasBench301Space(init_channels=8, layers=5)
    for key in (space.sample(rng), space.sample(rng)):
        model = small.build(key, num_classes=7)
        expected = count_flops(model, (1, 3, 16, 16))
        assert small.analytic_cost(key, "flops", num_classes=7, resolution=16) * 1e6 == pytest.approx(
            expected, abs=1e-6
        )
        expected = count_macs(model, (1, 3, 16, 16))
        assert small.analytic_cost(key, "macs", num_classes=7, resolution=16) * 1e6 == pytest.approx(expected, abs=1e-6)
    with pytest.raises(InvalidArchError, match="latency"):
        space.analytic_cost(key, "latency")


# --- keys ---
def test_key_forms_give_one_canonical_key(space):
    Genotype = namedtuple("Genotype", "normal normal_concat reduce reduce_concat")
    normal = [("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1)]
    normal += [("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)]
    reduce = [("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1)]
    reduce += [("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)]
    forms = [
        DARTS_V2,
        DARTS_V2.replace("[2, 3, 4, 5]", "range(2, 6)"),
        Genotype(normal, range(2, 6), reduce, [2, 3, 4, 5]),
        DARTS_V2_KEY,
        DARTS_V2_KEY.replace(" ", ""),
        "  " + DARTS_V2_KEY.replace("(", "[").replace(")", "]") + "\n",
        ast.literal_eval(DARTS_V2_KEY),  # a tuple value, as NASLib holds it
    ]
    assert {space.validate(form) for form in forms} == {DARTS_V2_KEY}
    assert space.validate(SPEC_A) == str(SPEC_A)  # NASLib's specs are keys as they stand
    assert space.validate(SPEC_B) == space.validate(str(SPEC_B)) == SPEC_B_KEY
    assert space.validate(np.array(SPEC_A)) == str(SPEC_A)


def test_compact_and_genotype_round_trip(space):
    assert space.genotype(DARTS_V2_KEY) == (
        "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
        "('skip_connect', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), ('dil_conv_3x3', 2)], "
        "normal_concat=range(2, 6), reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('max_pool_3x3', 1), "
        "('skip_connect', 2), ('max_pool_3x3', 0), ('skip_connect', 2), ('max_pool_3x3', 1), ('skip_connect', 2)], "
        "reduce_concat=range(2, 6))"
    )
    rng = np.random.default_rng(0)
    for key in space.sample_many(50, rng):
        genotype = space.genotype(key)
        assert space.validate(genotype) == key
        assert space.genotype(genotype) == genotype


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        ("(((0, 3), (1, 3)),)", "2 cells"),
        (str((SPEC_A[0][:7], SPEC_A[1])), "8 (input node, op) pairs, got 7"),
        (str(((SPEC_A[0][0], (2, 3)) + SPEC_A[0][2:], SPEC_A[1])), "reads input 2; allowed 0..1"),
        (str((SPEC_A[0], SPEC_A[1][:6] + ((5, 1), (2, 1)))), "node 5) reads input 5; allowed 0..4"),
        (str((SPEC_A[0][:7] + ((3, 7),), SPEC_A[1])), "op 7; op indices are 0..6"),
        (str((SPEC_A[0][:7] + ((3, -1),), SPEC_A[1])), "op -1"),
        (str((SPEC_A[0][:6] + ((3, 1), (3, 2)), SPEC_A[1])), "node 5 reads input 3 twice"),
        (str((SPEC_A[0], SPEC_A[1][:1] + ((0, 2),) + SPEC_A[1][2:])), "reduction cell node 2 reads input 0 twice"),
        (str((SPEC_A[0][:7] + ((True, 1),), SPEC_A[1])), "reads input True"),
        (str((SPEC_A[0][:7] + ((3, 1, 0),), SPEC_A[1])), "pair 7 must be (input node, op index)"),
        (DARTS_V2.replace("'dil_conv_3x3'", "'none'"), "unknown nb301 op 'none'"),
        (DARTS_V2.replace("reduce_concat=[2, 3, 4, 5]", "reduce_concat=range(2, 7)"), "reduce_concat must be"),
        (DARTS_V2.replace(", reduce_concat=[2, 3, 4, 5]", ""), "lacks reduce_concat"),
        (DARTS_V2.replace("normal=[", "normal=__import__('os').listdir('.') + ["), "not a literal"),
        ("Genotype(normal=[", "not valid syntax"),
        ("genotype", "malformed nb301 key"),
        ("(((0, 3)", "not a tuple"),
        (42, "got int"),
    ],
)
def test_bad_keys_give_one_line_errors(space, key, fragment):
    with pytest.raises(InvalidArchError) as info:
        space.validate(key)
    message = str(info.value)
    assert "\n" not in message and fragment.lower() in message.lower(), message


# --- the space ---
def test_sampling_is_valid_canonical_and_uniform_over_inputs(space):
    rng = np.random.default_rng(1)
    keys = [space.sample(rng) for _ in range(2000)]
    assert all(space.validate(k) == k for k in keys[:200])
    archs = [ast.literal_eval(k) for k in keys]
    last_inputs = Counter((arch[0][6][0], arch[0][7][0]) for arch in archs)
    assert set(last_inputs) == {(a, b) for a in range(5) for b in range(a + 1, 5)}  # 10 unordered pairs
    assert max(last_inputs.values()) < 1.3 * 200 and min(last_inputs.values()) > 0.7 * 200
    ops = Counter(op for arch in archs for cell in arch for _, op in cell)
    assert set(ops) == set(range(7)) and max(ops.values()) < 1.1 * min(ops.values())
    assert space.size is None
    assert len(space.sample_many(20, rng)) == 20


def test_neighbours_are_every_one_edge_change(space):
    encoded = space.encode(SPEC_B)
    near = space.neighbours(SPEC_B)
    assert len(near) == len(set(near)) == 2 * (8 * 6 + 12)
    assert SPEC_B_KEY not in near
    assert all(space.validate(k) == k for k in near)
    assert all(np.abs(space.encode(k) - encoded).sum() == 2 for k in near)  # one edge moved or relabelled
    rng = np.random.default_rng(2)
    mutants = [space.mutate(SPEC_B, rng) for _ in range(200)]
    assert set(mutants) <= set(near)
    moved = [
        k
        for k in mutants
        if [n for c in space.arch(k) for n, _ in c] != [n for c in ast.literal_eval(SPEC_B_KEY) for n, _ in c]
    ]
    assert 40 < len(moved) < 160  # op and input changes both drawn


def test_crossover_takes_each_node_from_one_parent(space):
    rng = np.random.default_rng(4)
    a, b = space.sample(rng), space.sample(rng)
    pa, pb = space.arch(a), space.arch(b)
    children = [space.arch(space.crossover(a, b, rng)) for _ in range(30)]
    for child in children:
        for c in range(2):
            for step in range(4):
                node = child[c][2 * step : 2 * step + 2]
                assert node in (pa[c][2 * step : 2 * step + 2], pb[c][2 * step : 2 * step + 2])
    assert len({str(child) for child in children}) > 5


def test_encode_is_a_one_hot_op_per_present_edge(space):
    vec = space.encode(DARTS_V2_KEY)
    assert vec.shape == (196,) and vec.dtype == np.float32 and vec.sum() == 16
    grid = vec.reshape(2, 14, 7)
    assert grid[0, 0, 3] == 1 and grid[0, 1, 3] == 1  # node 2: sep_conv_3x3 on c_{k-2} and c_{k-1}
    assert grid[1, 2 + 3 + 4 + 2, 2] == 1  # reduction node 5 reads node 2 through skip_connect
    assert np.array_equal(space.encode(SPEC_B), space.encode(SPEC_B_KEY))


def test_options_config_and_registration(space):
    assert "nb301" in zeronas.list_spaces()
    assert space.config() == {"init_channels": 32, "layers": 8}
    rebuilt = create_space("nb301", **NasBench301Space(init_channels=16, layers=5).config())
    assert count_params(rebuilt.build(DARTS_V2_KEY)) < count_params(space.build(DARTS_V2_KEY))
    with pytest.raises(InvalidInputError, match="even"):
        create_space("nb301", init_channels=33)
    with pytest.raises(InvalidInputError, match="layers"):
        create_space("nb301", layers=0)
    with pytest.raises(InvalidInputError, match="auxiliary"):
        space.build(DARTS_V2_KEY, auxiliary=True)
    with pytest.raises(InvalidInputError, match="num_classes"):
        space.build(DARTS_V2_KEY, num_classes=0)


def test_benchmark_has_no_shipped_ground_truth(tmp_path):
    bench = get_benchmark("nb301")
    assert bench.datasets == ("cifar10",) and bench.metrics == ("val",) and bench.truth is None
    assert not bench.truth_available(tmp_path)
    with pytest.raises(DataNotFoundError, match="zeronas data import FILE --space nb301"):
        bench.ground_truth("cifar10", "val", tmp_path)


# --- the CLI ---
def test_cli_score(cli):
    args = ["score", "--space", "nb301", "--arch", DARTS_V2_KEY, "-p", "params,synflow", "-b", "2"]
    result = cli(*args, "--source", "synthetic")
    assert result.code == 0, result.err
    assert "synflow" in result.out and "0.919722" in result.out
    bad = str((SPEC_A[0][:6] + ((3, 1), (3, 2)), SPEC_A[1]))
    cli("score", "--space", "nb301", "--arch", bad, "-p", "params").assert_clean_error("reads input 3 twice")


def test_cli_search_evolution(cli, tmp_path):
    args = ["search", "--space", "nb301", "--algorithm", "evolution", "--evaluations", "10", "-p", "synflow"]
    args += ["--population", "4", "--tournament", "2", "-b", "2", "--proxy-resolution", "16", "--source", "synthetic"]
    result = cli(*args, "--budget", "params<=1.0M", "--no-store", "--no-export", "--out", tmp_path)
    assert result.code == 0, result.err
    best = pd.read_csv(tmp_path / "best.csv")
    space = NasBench301Space()
    assert len(best) > 0 and all(space.validate(key) == key for key in best["arch"])
    assert all(space.analytic_cost(key, "params") <= 1.0 for key in best["arch"])


def test_cli_evaluate_without_ground_truth(cli, tmp_path):
    (tmp_path / "hardware").mkdir()
    (tmp_path / "hardware" / "notes.txt").write_text("a data directory without an imported NB301 table\n")
    result = cli("evaluate", "--space", "nb301", "-p", "params", "--source", "synthetic", "--data-dir", tmp_path)
    result.assert_clean_error("nb301", "zeronas data import")
