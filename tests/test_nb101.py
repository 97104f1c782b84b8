"""NAS-Bench-101: the official graph hash, the network's parameter count, key forms and errors, the space."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch

import zeronas
from zeronas.config import find_data_dir
from zeronas.errors import DataNotFoundError, InvalidArchError, InvalidInputError
from zeronas.spaces import get_benchmark
from zeronas.spaces.nb101.hashing import Spec, graph_hash, make_spec, official_order
from zeronas.spaces.nb101.model import NasBench101Network, count_params, vertex_channels
from zeronas.spaces.nb101.space import NasBench101Space
from zeronas.spaces.nb101.truth import load_nasbench101

C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"
#: first row of the table (sorted by hash)
FIRST = "00005c142e6f48ac74fdcf73e3439874"
FIRST_ROWS = "0100110|0010000|0001001|0000010|0000010|0000001|0000000"
FIRST_OPS = f"input,{C3},{MP},{C3},{C3},{C1},output"


@pytest.fixture(scope="module")
def table():
    found = find_data_dir()
    if found is None or not (found / "benchmarks" / "nasbench101.csv.gz").exists():
        pytest.skip("the NAS-Bench-101 table (benchmarks/nasbench101.csv.gz) is not available")
    return load_nasbench101()


@pytest.fixture(scope="module")
def space() -> NasBench101Space:
    return NasBench101Space()


def rows_spec(rows: str, ops: str) -> Spec:
    return make_spec([[int(c) for c in r] for r in rows.split("|")], ops.split(","))


def test_hash_of_table_specs_equals_table_hash(table):
    picked = table.iloc[np.random.default_rng(0).choice(len(table), 50, replace=False)]
    for row in picked.itertuples():
        assert graph_hash(rows_spec(row.adjacency_rows, row.ops)) == row.hash


def test_hash_ignores_vertex_order_and_pruned_vertices(table):
    spec = rows_spec(FIRST_ROWS, FIRST_OPS)
    n = spec.num_vertices
    relabelled = 0
    for perm in itertools.permutations(range(1, n - 1)):
        order = (0, *perm, n - 1)
        matrix = [[spec.matrix[order[i]][order[j]] for j in range(n)] for i in range(n)]
        if any(matrix[i][j] for i in range(n) for j in range(i + 1)):
            continue
        relabelled += 1
        assert graph_hash(make_spec(matrix, [spec.ops[v] for v in order])) == FIRST
    assert relabelled > 1
    # a vertex fed by the input but feeding nothing is pruned away
    dangling = make_spec([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]], ["input", C3, MP, "output"])
    assert dangling == make_spec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", C3, "output"])
    # an op change changes the hash
    assert graph_hash(make_spec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", C1, "output"])) != graph_hash(dangling)


def test_params_equal_table_on_cells_of_every_size(table, space):
    rng = np.random.default_rng(1)
    picked = [table[table["num_vertices"] == v]["hash"].iloc[0] for v in range(2, 8)]
    picked += list(table["hash"].iloc[rng.choice(len(table), 4, replace=False)])
    # cells whose output has fan-in 3: the remainder channels depend on the vertex order
    fan_in3 = table[table["adjacency_rows"].str.split("|").map(lambda r: sum(x[-1] == "1" for x in r[1:-1])) == 3]
    picked += list(fan_in3["hash"].iloc[:2])
    for digest in picked:
        built = sum(p.numel() for p in space.build(digest).parameters())
        assert built == round(table.loc[digest, "params_M"] * 1e6), digest
        assert count_params(space.spec(digest)) == built


def test_hash_builds_in_the_trained_vertex_order(table, space):
    # the table stores an isomorphic representative; in its own order the remainder channels of
    # the fan-in-3 output land on other ops and the count is off by 1,165
    digest = "0001a2f6c8977346ccd12fa0c435bf42"
    row = table.loc[digest]
    stored = rows_spec(row["adjacency_rows"], row["ops"])
    trained = official_order(stored)
    assert trained != stored and graph_hash(trained) == digest and official_order(trained) == trained
    want = round(row["params_M"] * 1e6)
    assert sum(p.numel() for p in NasBench101Network(stored).parameters()) == want + 1165
    assert sum(p.numel() for p in space.build(digest).parameters()) == want


def test_vertex_channels_split_output_and_take_successor_max():
    # 1 -> 2 -> out, 1 -> out, 3 -> out: fan-in 3 splits 128 as 43, 43, 42; vertex 1 also feeds 2
    matrix = ((0, 1, 0, 1, 0), (0, 0, 1, 0, 1), (0, 0, 0, 0, 1), (0, 0, 0, 0, 1), (0, 0, 0, 0, 0))
    assert vertex_channels(64, 128, matrix) == [64, 43, 43, 42, 128]
    chain = ((0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1), (0, 0, 0, 0))
    assert vertex_channels(128, 256, chain) == [128, 256, 256, 256]


def test_network_forward_and_batchnorm_settings(space):
    model = space.build(json.dumps({"matrix": [[0, 1, 1], [0, 0, 1], [0, 0, 0]], "ops": ["input", MP, "output"]}))
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and all(m.momentum == pytest.approx(0.003) and m.eps == 1e-5 for m in bns)
    # stem, and per cell (9) the projections of the input into vertex 1 and into the output
    assert len(bns) == 1 + 2 * 9
    assert sum(isinstance(m, torch.nn.MaxPool2d) and m.kernel_size == 2 for m in model.modules()) == 2
    assert space.build(FIRST_ROWS + ";" + FIRST_OPS, num_classes=7).classifier.out_features == 7


def test_key_forms_give_the_table_hash(table, space):
    matrix = [[int(c) for c in r] for r in FIRST_ROWS.split("|")]
    ops = FIRST_OPS.split(",")
    codes = {"input": 0, "output": 1, MP: 2, C1: 3, C3: 4}
    suite_zero = tuple(itertools.chain.from_iterable(matrix)) + tuple(codes[o] for o in ops)
    forms = [
        FIRST,
        FIRST.upper(),
        json.dumps({"matrix": matrix, "ops": ops}),
        {"matrix": np.array(matrix), "ops": ops},
        (matrix, ops),
        suite_zero,
        str(suite_zero),
        f"{FIRST_ROWS};{FIRST_OPS}",
        (FIRST_ROWS, FIRST_OPS),
    ]
    for form in forms:
        assert space.validate(form) == FIRST, form


def test_reference_keys_are_table_cells(table, space):
    from zeronas.config import data_file, read_data_json

    reference = read_data_json(data_file("benchmarks/reference_zc/nasbench101__cifar10.json"))
    hashes = {space.validate(k) for k in list(reference)[:40]}
    assert hashes <= set(table.index)


SEVEN = ["input", C3, C3, C3, C3, C3, "output"]


def chain(n: int) -> list[list[int]]:
    return [[1 if j == i + 1 else 0 for j in range(n)] for i in range(n)]


def dense7() -> list[list[int]]:
    m = chain(7)
    for s, t in ((0, 2), (0, 3), (0, 6), (1, 6)):
        m[s][t] = 1
    return m


BAD_KEYS = [
    ("abc", "malformed NB101 key"),
    ("z" * 32, "malformed NB101 key"),
    ("0" * 32, "not one of the 423,624"),
    (42, "must be a hash"),
    ({"matrix": chain(8), "ops": ["input"] + [C3] * 6 + ["output"]}, "8 vertices"),
    ({"matrix": dense7(), "ops": SEVEN}, "10 edges"),
    ({"matrix": chain(3), "ops": ["input", "conv5x5", "output"]}, "unknown NB101 op"),
    ({"matrix": chain(3), "ops": [C3, C3, "output"]}, "start with 'input'"),
    (
        {"matrix": [[0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]], "ops": ["input", C3, C3, "output"]},
        "disconnected",
    ),
    ({"matrix": [[0, 1, 0], [0, 0, 1], [1, 0, 0]], "ops": ["input", C3, "output"]}, "upper-triangular"),
    ({"matrix": [[0, 2, 0], [0, 0, 1], [0, 0, 0]], "ops": ["input", C3, "output"]}, "0 or 1"),
    ({"matrix": [[0, 1], [0, 0, 1]], "ops": ["input", "output"]}, "square"),
    ({"matrix": chain(3), "ops": ["input", "output"]}, "2 ops for a 3x3"),
    ('{"matrix": [[0, 1]', "not valid JSON"),
    ("(0, 1, 0, 0, 1)", "V*V + V"),
    ("(0, 1, 0, 0, 0, 9)", "op codes must be 0..4"),
]


@pytest.mark.parametrize(("key", "fragment"), BAD_KEYS)
def test_bad_keys_give_one_line_errors(table, space, key, fragment):
    with pytest.raises(InvalidArchError) as info:
        space.validate(key)
    message = str(info.value)
    assert "\n" not in message
    assert fragment in message


def test_space_size_sampling_and_enumeration(table, space):
    assert space.size == 423_624
    keys = space.sample_many(20, np.random.default_rng(0))
    assert len(set(keys)) == 20 and set(keys) <= set(table.index)
    assert keys == space.sample_many(20, np.random.default_rng(0))
    first = list(itertools.islice(space.enumerate(), 3))
    assert first == sorted(table.index)[:3] and first[0] == FIRST


def test_neighbours_mutate_crossover_stay_in_the_table(table, space):
    rng = np.random.default_rng(3)
    key = space.sample(rng)
    spec = space.spec(key)
    near = space.neighbours(key)
    assert near and key not in near and len(set(near)) == len(near) and set(near) <= set(table.index)
    # every op change of an inner vertex is among them
    for v in range(1, spec.num_vertices - 1):
        for op in {C3, C1, MP} - {spec.ops[v]}:
            changed = {"matrix": spec.matrix, "ops": [op if i == v else o for i, o in enumerate(spec.ops)]}
            assert space.validate(changed) in near
    # the two-vertex cell grows by adding one vertex on a new path
    tiny = table[table["num_vertices"] == 2]["hash"].iloc[0]
    grown = {space.spec(k).num_vertices for k in space.neighbours(tiny)}
    assert grown == {3}
    assert space.mutate(key, rng) in near
    child = space.crossover(key, space.sample(rng), rng)
    assert child in table.index


def test_encode_bits_and_one_hot(space):
    code = space.encode(f"{FIRST_ROWS};{FIRST_OPS}")
    assert code.shape == (36,)
    matrix = [[int(c) for c in r] for r in FIRST_ROWS.split("|")]
    upper = [matrix[s][t] for t in range(7) for s in range(t)]
    assert code[:21].tolist() == upper
    assert code[21:].reshape(5, 3).argmax(axis=1).tolist() == [0, 2, 0, 0, 1]
    small = space.encode({"matrix": chain(3), "ops": ["input", C1, "output"]})
    assert small[21:].sum() == 1 and small[21 + 1] == 1
    assert small[:21].sum() == 2


def test_without_the_table_sampling_draws_valid_specs(tmp_path):
    lonely = NasBench101Space(data_dir=tmp_path)
    rng = np.random.default_rng(0)
    key = lonely.sample(rng)
    spec = lonely.spec(key)
    assert graph_hash(spec) == key and spec.num_vertices <= 7 and spec.num_edges <= 9
    assert isinstance(lonely.build(key), NasBench101Network)
    with pytest.raises(DataNotFoundError, match="nasbench101.csv.gz"):
        lonely.validate(FIRST)


def test_ground_truth_is_test_accuracy_percent(table):
    bench = get_benchmark("nb101")
    truth = bench.ground_truth("cifar10")
    assert len(truth) == 423_624 and truth.index.is_unique
    assert truth.max() == pytest.approx(94.3176)
    assert truth[FIRST] == pytest.approx(92.0606)
    with pytest.raises(InvalidInputError, match="metric"):
        bench.ground_truth("cifar10", "val")
    with pytest.raises(InvalidInputError, match="cifar10"):
        bench.ground_truth("cifar100")


def test_registered_with_create_space():
    assert "nb101" in zeronas.list_spaces()
    assert isinstance(zeronas.create_space("nb101"), NasBench101Space)


def test_cli_score_a_hash(table, cli):
    result = cli(
        "score",
        "--space",
        "nb101",
        "--arch",
        FIRST,
        "--proxies",
        "params,flops,synflow",
        "--source",
        "synthetic",
        "-b",
        "4",
    )
    assert result.code == 0, result.err
    assert "synflow" in result.out and "flops" in result.out
    assert "8.55553" in result.out or "8555530" in result.out


def test_cli_evaluate_without_a_top_set(table, cli, tmp_path):
    """The benchmark's default top sample applies only with --include-top: a plain uniform sweep runs."""
    result = cli(
        "evaluate",
        "--space",
        "nb101",
        "--sample",
        "3",
        "--proxies",
        "params",
        "--seeds",
        "0",
        "--workers",
        "1",
        "--store",
        tmp_path / "s.sqlite",
        "--out",
        tmp_path,
    )
    assert result.code == 0, result.err
    assert "3 cells (3 uniform, 0 top" in result.out
