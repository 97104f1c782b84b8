"""Fuzz suite over the Python API: bad models, batches, arguments, keys and model names.

Every case ends cleanly: a specific ZeronasError subclass with a one-line message naming the
problem, or a per-proxy status ('nan', 'not_applicable', 'error') with a one-line reason; never a
raw exception from inside torch or numpy, never a proxy silently dropped.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch import nn

import zeronas
from zeronas.errors import InvalidArchError, InvalidInputError, UnknownNameError, ZeronasError
from zeronas.spaces.zoo import build_named_model

STATUSES = {"ok", "nan", "not_applicable", "error"}
NB201 = zeronas.create_space("nb201")
MBV2 = zeronas.create_space("mbv2", resolution=32, num_classes=10)
GOOD_MBV2 = MBV2.default_key()
RNG_SEED = 0


class ModelError(Exception):
    """A user-defined exception raised by a model's forward."""


class Net(nn.Module):
    """conv 3->4, ReLU, spatial mean, linear 4->10; `pre` may touch the input, `post` the logits."""

    def __init__(self, post: Callable | None = None, pre: Callable | None = None, act: nn.Module | None = None):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.act = act if act is not None else nn.ReLU()
        self.fc = nn.Linear(4, 10)
        self.pre, self.post = pre, post

    def forward(self, x: torch.Tensor) -> object:
        if self.pre is not None:
            x = self.pre(x)
        logits = self.fc(self.act(self.conv(x)).mean((2, 3)))
        return self.post(logits) if self.post is not None else logits


def seeded(make: Callable[[], nn.Module]) -> nn.Module:
    torch.manual_seed(RNG_SEED)
    return make()


def batch(n: int = 4, res: int = 8, classes: int = 10) -> zeronas.Batch:
    return zeronas.load_batch("cifar10", n, 0, resolution=res, source="synthetic", num_classes=classes)


def check_details(scores: zeronas.Scores, names: list[str]) -> None:
    """Every requested proxy is reported, with a known status and a one-line reason when not ok."""
    assert list(scores.details) == names
    for name, detail in scores.details.items():
        assert detail.status in STATUSES, (name, detail.status)
        if detail.ok:
            assert math.isfinite(detail.value), name
        else:
            assert detail.reason and "\n" not in detail.reason, (name, detail.reason)
            assert "Traceback" not in detail.reason


def expect_error(exc_type: type[ZeronasError], fragment: str, call: Callable[[], object]) -> None:
    """`call()` raises exactly `exc_type` family with a one-line message containing `fragment`."""
    with pytest.raises(exc_type) as info:
        call()
    message = str(info.value)
    assert "\n" not in message, message
    assert fragment.lower() in message.lower(), message


def _raise(exc: Exception) -> Callable:
    def forward(_: torch.Tensor) -> torch.Tensor:
        raise exc

    return forward


ALL = zeronas.list_proxies()
#: reg_swap's options mu and sigma have no default: without them it is not applicable
REG_SWAP_UNSET = {"reg_swap": "not_applicable: needs options mu and sigma (thousands of parameters; no defaults)"}

# --- models -------------------------------------------------------------------------------------
# (factory, {proxy: (status, reason fragment)}); proxies not named must come back 'ok' or as listed
MODEL_CASES = {
    "forward-raises-ValueError": (
        lambda: Net(pre=_raise(ValueError("bad value in forward"))),
        {"snip": ("error", "ValueError: bad value"), "zen": ("error", "bad value"), "params": ("ok", "")},
    ),
    "forward-raises-RuntimeError": (
        lambda: Net(pre=_raise(RuntimeError("boom"))),
        {"grad_norm": ("error", "RuntimeError: boom"), "synflow": ("error", "boom"), "gradsign": ("error", "boom")},
    ),
    "forward-raises-custom": (
        lambda: Net(pre=_raise(ModelError("custom failure"))),
        {"ntk_cond": ("error", "ModelError: custom failure"), "flops": ("error", "custom failure")},
    ),
    "returns-NaN": (
        lambda: Net(post=lambda z: z * float("nan")),
        {n: ("nan", "non-finite") for n in ("snip", "gradsign", "zico", "ntk_cond", "jacob_cov", "synflow")},
    ),
    "returns-inf": (
        lambda: Net(post=lambda z: z * float("inf")),
        {n: ("nan", "non-finite") for n in ("grad_norm", "fisher", "gradsign", "zico", "ntk_cond", "logsynflow")},
    ),
    "returns-NCHW": (
        lambda: Net(post=lambda z: z[:, :, None, None].expand(-1, -1, 2, 2)),
        {n: ("not_applicable", "2-D") for n in ("snip", "gradsign", "synflow", "zico", "nwot")},
    ),
    "returns-dict": (
        lambda: Net(post=lambda z: {"logits": z}),
        {n: ("not_applicable", "dict") for n in ("snip", "gradsign", "synflow", "epe_nas")},
    ),
    "returns-1d": (
        lambda: Net(post=lambda z: z.sum(1)),
        {n: ("not_applicable", "2-D") for n in ("grasp", "gradsign", "logsynflow")},
    ),
    "returns-wrong-batch": (
        lambda: Net(post=lambda z: z[:1]),
        {n: ("not_applicable", "1 rows of logits for 4 inputs") for n in ("snip", "jacob_cov", "ntk_cond")},
    ),
    "returns-non-tensor": (
        lambda: Net(post=lambda z: 3.0),
        {n: ("not_applicable", "float, not a logits tensor") for n in ("snip", "gradsign", "synflow")},
    ),
    "returns-integers": (
        lambda: Net(post=lambda z: z.long()),
        {n: ("not_applicable", "floating point") for n in ("snip", "gradsign", "synflow", "zico")},
    ),
    "no-parameters": (
        lambda: nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()),
        {
            **{
                n: ("not_applicable", "no Conv/Linear weights")
                for n in ("snip", "fisher", "gradsign", "synflow", "zico")
            },
            "ntk_cond": ("not_applicable", "no weight parameters"),
            "params": ("ok", ""),
            "l2_norm": ("ok", ""),
        },
    ),
    "parameters-but-no-conv-linear": (
        lambda: nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.BatchNorm1d(3), nn.Hardtanh()),
        {
            **{
                n: ("not_applicable", "no Conv/Linear weights")
                for n in ("snip", "grasp", "synflow", "gradsign", "zico")
            },
            "nwot": ("not_applicable", "no ReLU"),
            "l2_norm": ("ok", ""),
        },
    ),
    "no-relu": (
        lambda: Net(act=nn.GELU()),
        {"nwot": ("ok", ""), "linear_regions": ("ok", ""), "snip": ("ok", "")},  # GELU: the pre-activation sign
    ),
}


@pytest.mark.parametrize("case", list(MODEL_CASES))
def test_bad_models_are_reported_per_proxy(case):
    make, expected = MODEL_CASES[case]
    data = batch(classes=3) if case in ("no-parameters", "parameters-but-no-conv-linear") else batch()
    scores = zeronas.score(seeded(make), data, "all", seed=0)
    check_details(scores, ALL)
    for name, (status, fragment) in expected.items():
        detail = scores.details[name]
        assert detail.status == status, (name, detail.status, detail.reason)
        assert fragment in detail.reason, (name, detail.reason)


def test_nan_output_under_naslib_policy_is_minus_1e8():
    scores = zeronas.score(seeded(lambda: Net(post=lambda z: z * float("nan"))), batch(), ["snip", "gradsign"])
    naslib = zeronas.score(
        seeded(lambda: Net(post=lambda z: z * float("nan"))), batch(), ["snip", "gradsign"], nan_policy="naslib"
    )
    assert all(math.isnan(v) for v in scores.values())
    assert naslib["snip"] == naslib["gradsign"] == -1e8
    assert naslib.details["snip"].status == "nan" and "replaced by -1e+08" in naslib.details["snip"].reason


def test_tuple_output_uses_the_last_tensor_as_logits():
    names = ["snip", "gradsign", "synflow", "zico"]
    plain = zeronas.score(seeded(Net), batch(), names, seed=1)
    pair = zeronas.score(seeded(lambda: Net(post=lambda z: (z.detach() * 0, z))), batch(), names, seed=1)
    assert plain.failures() == {} and dict(pair) == dict(plain)


@pytest.mark.parametrize("labelled", [True, False], ids=["labelled", "unlabelled"])
def test_model_writing_into_its_input_sees_fresh_inputs_and_leaves_the_batch_alone(labelled):
    data = batch()
    given = (data.x, data.y) if labelled else data.x
    before = data.x.clone()
    in_place = zeronas.score(seeded(lambda: Net(pre=lambda x: x.mul_(2).add_(1))), given, "all", seed=2)
    out_of_place = zeronas.score(seeded(lambda: Net(pre=lambda x: x * 2 + 1)), given, "all", seed=2)
    assert torch.equal(data.x, before)
    check_details(in_place, ALL)
    no_cells = {"nn_degree": "not_applicable: no residual or dense cells in the model's graph (no long-range links)"}
    labels = {} if labelled else {"epe_nas": "not_applicable: needs real class labels"}
    assert in_place.failures() == {**no_cells, **labels, **REG_SWAP_UNSET}
    for name in ALL:
        assert in_place[name] == out_of_place[name] or not in_place.details[name].ok, name


def test_eval_mode_model_keeps_its_mode():
    model = seeded(
        lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.LazyLinear(10))
    )
    model(torch.randn(2, 3, 8, 8))  # materialise the lazy layer
    model.eval()
    model[1].train()  # a mixed-mode model
    modes = {n: m.training for n, m in model.named_modules()}
    stats = model[1].running_mean.clone()
    scores = zeronas.score(model, batch(), ["snip", "zen", "nwot", "gradsign"], seed=0)
    assert scores.failures() == {}
    assert {n: m.training for n, m in model.named_modules()} == modes
    assert torch.equal(model[1].running_mean, stats)


# --- batches ------------------------------------------------------------------------------------
X = batch().x
BAD_BATCHES = {
    "nan-images": (lambda: X * float("nan"), "NaN or inf"),
    "inf-images": (lambda: X * float("inf"), "NaN or inf"),
    "nan-images-with-labels": (
        lambda: (X.clone().index_fill_(0, torch.tensor([1]), math.nan), torch.zeros(4).long()),
        "NaN",
    ),
    "uint8-images": (lambda: X.to(torch.uint8), "floating point"),
    "int64-images": (lambda: (X.long(), torch.zeros(4).long()), "floating point"),
    "rank-3-images": (lambda: X[0], "N x C x H x W"),
    "rank-5-images": (lambda: X[None], "N x C x H x W"),
    "empty-batch": (lambda: X[:0], "empty"),
    "float-labels": (lambda: (X, torch.rand(4)), "integer class indices"),
    "bool-labels": (lambda: (X, torch.zeros(4, dtype=torch.bool)), "integer class indices"),
    "2d-labels": (lambda: (X, torch.zeros(4, 2, dtype=torch.long)), "shape (4,)"),
    "short-labels": (lambda: (X, torch.zeros(3, dtype=torch.long)), "shape (4,)"),
    "list-labels": (lambda: (X, [0, 1, 2, 3]), "torch.Tensor"),
    "dict-batch": (lambda: {"x": X}, "got dict"),
    "int-batch": (lambda: 3, "got int"),
    "none-batch": (lambda: None, "got NoneType"),
    "triple": (lambda: (X, torch.zeros(4).long(), torch.zeros(4).long()), "got tuple"),
    "numpy-images": (lambda: X.numpy(), "got ndarray"),
    "batch-float-labels": (lambda: zeronas.Batch(X, torch.rand(4)), "integer class indices"),
    "second-draw-other-size": (
        lambda: zeronas.Batch(X, torch.zeros(4).long(), x2=X[:, :, :4], y2=torch.zeros(4).long()),
        "second-draw",
    ),
    "second-draw-nan": (
        lambda: zeronas.Batch(X, torch.zeros(4).long(), x2=X * math.nan, y2=torch.zeros(4).long()),
        "NaN",
    ),
    "second-draw-without-labels": (lambda: zeronas.Batch(X, torch.zeros(4).long(), x2=X), "x2"),
}


@pytest.mark.parametrize("case", list(BAD_BATCHES))
def test_bad_batches_raise_one_line_errors(case):
    make, fragment = BAD_BATCHES[case]
    expect_error(InvalidInputError, fragment, lambda: zeronas.score(seeded(Net), make(), ["snip"]))


@pytest.mark.parametrize(
    "make",
    [
        lambda: zeronas.Batch(X, torch.rand(4)),
        lambda: zeronas.Batch(X, torch.zeros(4).long(), x2=X * math.nan, y2=torch.zeros(4).long()),
    ],
    ids=["float-labels", "nan-second-draw"],
)
def test_batch_constructor_rejects_bad_labels_and_second_draws(make):
    with pytest.raises(InvalidInputError):
        make()


def test_batch_of_one_marks_pairwise_proxies_not_applicable():
    scores = zeronas.score(seeded(Net), batch(1), "all", seed=0)
    check_details(scores, ALL)
    pairwise = {"nwot", "jacob_cov", "epe_nas", "ntk_cond"}
    for name in pairwise:
        assert scores.details[name].status == "not_applicable"
        assert "at least 2 samples, got 1" in scores.details[name].reason
    assert {n for n, d in scores.details.items() if not d.ok} == pairwise | {"nn_degree", "reg_swap"}  # no cells


def test_batch_norm_on_one_value_per_channel_is_not_applicable():
    model = seeded(
        lambda: nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4, 10))
    )
    scores = zeronas.score(model, batch(1, res=1), "all", seed=0)
    check_details(scores, ALL)
    for name in ("snip", "fisher", "zen", "zico"):
        assert scores.details[name].status == "not_applicable", name
        assert "one value per channel" in scores.details[name].reason
    assert "batch-1 forward fails" in scores.details["gradsign"].reason
    assert "smaller than the 3x3 crops" in scores.details["linear_regions"].reason
    assert scores.details["synflow"].ok and scores.details["params"].ok


@pytest.mark.parametrize(
    ("labels", "fragment"), [(50, "labels go up to 50 but the model has 10 outputs"), (-1, "labels must be >= 0")]
)
def test_labels_outside_the_classes_fail_only_label_proxies(labels, fragment):
    data = batch()
    names = ["snip", "grasp", "fisher", "gradsign", "zico", "nwot", "jacob_cov", "ntk_cond"]
    bad = zeronas.score(seeded(Net), (data.x, torch.full((4,), labels)), names, seed=0)
    check_details(bad, names)
    for name in ("snip", "grasp", "fisher", "gradsign", "zico"):
        assert bad.details[name].status == "error" and fragment in bad.details[name].reason, name
    alone = zeronas.score(seeded(Net), (data.x, torch.full((4,), labels)), ["nwot", "jacob_cov", "ntk_cond"], seed=0)
    for name in ("nwot", "jacob_cov", "ntk_cond"):  # label-free proxies do not depend on what else was asked
        assert bad.details[name].ok and bad[name] == alone[name], name


@pytest.mark.parametrize("labelled", [True, False], ids=["labelled", "unlabelled"])
def test_channel_mismatch_is_a_per_proxy_error(labelled):
    x = batch().x[:, :1]
    given = (x, torch.zeros(4, dtype=torch.long)) if labelled else x
    scores = zeronas.score(seeded(Net), given, "all", seed=0)
    check_details(scores, ALL)
    for name in ("snip", "gradsign", "synflow", "zen", "flops"):
        assert scores.details[name].status == "error" and "channels" in scores.details[name].reason, name
    assert scores.details["params"].ok and scores.details["l2_norm"].ok


def test_float64_images_are_scored_as_float32():
    data = batch()
    names = ["snip", "zen", "nwot", "gradsign", "jacob_cov"]
    single = zeronas.score(seeded(Net), (data.x, data.y), names, seed=0)
    double = zeronas.score(seeded(Net), (data.x.double(), data.y), names, seed=0)
    assert double.failures() == {} and dict(double) == dict(single)


# --- arguments ----------------------------------------------------------------------------------
BAD_PROXIES = {
    "misspelt-snip": (["snipp"], UnknownNameError, "did you mean snip"),
    "misspelt-ntk": (["ntk_con"], UnknownNameError, "did you mean ntk_cond"),
    "upper-case": ("NTK_COND", UnknownNameError, "did you mean ntk_cond"),
    "misspelt-synflow": ("synflw", UnknownNameError, "did you mean synflow"),
    "all-in-a-list": ("all,snip", UnknownNameError, "unknown proxy 'all'"),
    "empty-list": ([], InvalidInputError, "no proxy requested"),
    "empty-string": ("", InvalidInputError, "no proxy requested"),
    "blank-string": (" , ", InvalidInputError, "no proxy requested"),
    "int": (3, InvalidInputError, "got int"),
    "none": (None, InvalidInputError, "got NoneType"),
    "list-of-int": ([3], InvalidInputError, "proxy names must be strings"),
    "list-with-none": (["snip", None], InvalidInputError, "proxy names must be strings"),
}


@pytest.mark.parametrize("case", list(BAD_PROXIES))
def test_bad_proxy_lists_raise_one_line_errors(case):
    proxies, exc_type, fragment = BAD_PROXIES[case]
    expect_error(exc_type, fragment, lambda: zeronas.score(seeded(Net), batch(), proxies))


@pytest.mark.parametrize("proxies", [["snip", "snip"], "snip,snip", ("snip", "snip", "snip")])
def test_duplicated_proxies_are_scored_once(proxies):
    scores = zeronas.score(seeded(Net), batch(), proxies, seed=0)
    assert list(scores) == ["snip"]
    assert scores["snip"] == zeronas.score(seeded(Net), batch(), "snip", seed=0)["snip"]


BAD_OPTIONS = {
    "unknown-option": (["zen"], {"zen": {"repeats": 2}}, "unknown option(s) repeats for proxy 'zen'"),
    "option-for-unrequested": (["snip"], {"zen": {"repeat": 2}}, "not requested: zen"),
    "options-not-a-dict": (["zen"], "zen", "options must map"),
    "proxy-options-not-a-dict": (["zen"], {"zen": 3}, "options of proxy 'zen' must be a dict"),
    "repeat-zero": (["zen"], {"zen": {"repeat": 0}}, "'repeat' of proxy 'zen' must be >= 1"),
    "repeat-negative": (["zen"], {"zen": {"repeat": -1}}, "must be >= 1"),
    "repeat-string": (["zen"], {"zen": {"repeat": "3"}}, "'repeat' of proxy 'zen' must be int"),
    "repeat-float": (["zen"], {"zen": {"repeat": 2.5}}, "must be int"),
    "repeat-bool": (["zen"], {"zen": {"repeat": True}}, "must be int"),
    "gamma-string": (["zen"], {"zen": {"mixup_gamma": "x"}}, "must be a finite number"),
    "gamma-nan": (["zen"], {"zen": {"mixup_gamma": math.nan}}, "must be a finite number"),
    "gamma-zero": (["zen"], {"zen": {"mixup_gamma": 0}}, "must be > 0"),
    "samples-zero": (["linear_regions"], {"linear_regions": {"samples": 0}}, "'samples'"),
    "crop-size-zero": (["linear_regions"], {"linear_regions": {"size": 0}}, "'size'"),
    "input-unknown": (["linear_regions"], {"linear_regions": {"input": "x"}}, "crops, gaussian, batch"),
    "reduce-unknown": (["gradsign"], {"gradsign": {"reduce": "max"}}, "sum, mean"),
    "branch-wrong-type": (["epe_nas"], {"epe_nas": {"branch": 3}}, "must be str"),
    "option-for-optionless-proxy": (["snip"], {"snip": {"scale": 2}}, "(known: none)"),
}


@pytest.mark.parametrize("case", list(BAD_OPTIONS))
def test_bad_options_raise_at_the_edge(case):
    proxies, options, fragment = BAD_OPTIONS[case]
    expect_error(InvalidInputError, fragment, lambda: zeronas.score(seeded(Net), batch(), proxies, options=options))


def test_crop_larger_than_the_images_is_not_applicable():
    scores = zeronas.score(seeded(Net), batch(), ["linear_regions"], options={"linear_regions": {"size": 100}})
    assert scores.details["linear_regions"].status == "not_applicable"
    assert "8x8 images are smaller than the 100x100 crops" in scores.details["linear_regions"].reason


@pytest.mark.parametrize(
    ("seed", "fragment"),
    [
        (-1, "0..2**63-1"),
        (2**63, "0..2**63-1"),
        (2**70, "0..2**63-1"),
        (1.5, "must be an integer"),
        ("3", "must be an integer"),
        (None, "must be an integer"),
        (True, "must be an integer"),
        (math.nan, "must be an integer"),
    ],
)
def test_bad_seeds_raise(seed, fragment):
    expect_error(InvalidInputError, fragment, lambda: zeronas.score(seeded(Net), batch(), ["zen"], seed=seed))


def test_extreme_valid_seeds_work_and_numpy_ints_equal_python_ints():
    top = zeronas.score(seeded(Net), batch(), ["zen"], seed=2**63 - 1)
    assert top.details["zen"].ok
    assert (
        zeronas.score(seeded(Net), batch(), ["zen"], seed=np.int64(7))["zen"]
        == zeronas.score(seeded(Net), batch(), ["zen"], seed=7)["zen"]
    )


@pytest.mark.parametrize("policy", ["zero", None, 3, "NaN", ["nan"]])
def test_unknown_nan_policy_raises(policy):
    expect_error(
        InvalidInputError, "nan_policy", lambda: zeronas.score(seeded(Net), batch(), ["snip"], nan_policy=policy)
    )


@pytest.mark.parametrize("model", ["resnet18", nn.Linear, None], ids=["str", "class", "none"])
def test_non_module_models_raise(model):
    expect_error(InvalidInputError, "must be a torch.nn.Module", lambda: zeronas.score(model, batch(), ["snip"]))


# --- search spaces ------------------------------------------------------------------------------
NB201_KEYS = {
    "empty": ("", "malformed NB201 key"),
    "blank": ("   ", "malformed NB201 key"),
    "none": (None, "must be a string, got NoneType"),
    "float": (3.5, "must be a string, got float"),
    "bytes": (b"433000", "must be a string, got bytes"),
    "missing-closing-bar": (
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|skip_connect~1|skip_connect~2",
        "must start and end with '|'",
    ),
    "wrong-op": ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown NB201 op 'conv'"),
    "too-few-edges": ("|none~0|+|none~0|+|none~0|none~1|none~2|", "node 2 needs 2 incoming edge(s)"),
    "four-nodes": ("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|+|none~0|", "needs 3 '+'-separated node groups"),
    "wrong-source": ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "must read 'op~0'"),
    "no-source": ("|none|+|none~0|none~1|+|none~0|none~1|none~2|", "must read 'op~0'"),
    "digit-out-of-range": ("433005", "malformed NB201 key '433005'"),
    "five-digits": ("43300", "malformed NB201 key"),
    "tuple-string-out-of-range": ("(5, 0, 0, 0, 0, 0)", "malformed NB201 key"),
    "tuple-out-of-range": ((5, 0, 0, 0, 0, 0), "6 ints in 0..4"),
    "tuple-negative": ((0, 0, 0, 0, 0, -1), "6 ints in 0..4"),
    "tuple-too-short": ((0, 0, 0, 0, 0), "6 ints in 0..4"),
    "tuple-of-floats": ((0.0, 0, 0, 0, 0, 0), "6 ints in 0..4"),
    "tuple-of-bools": ((True, 0, 0, 0, 0, 0), "6 ints in 0..4"),
    "bool-key": (True, "must be a string, got bool"),
    "negative-index": ("index:-1", "malformed NB201 key"),
}


@pytest.mark.parametrize("case", list(NB201_KEYS))
def test_malformed_nb201_keys(case):
    key, fragment = NB201_KEYS[case]
    expect_error(InvalidArchError, fragment, lambda: NB201.validate(key))


@pytest.mark.parametrize("method", ["mutate", "neighbours", "encode", "crossover", "build", "is_connected"])
def test_nb201_operators_validate_their_keys(method):
    rng = np.random.default_rng(0)
    calls = {
        "mutate": lambda: NB201.mutate("433009", rng),
        "neighbours": lambda: NB201.neighbours("433009"),
        "encode": lambda: NB201.encode("433009"),
        "crossover": lambda: NB201.crossover("433000", "433009", rng),
        "build": lambda: NB201.build("433009"),
        "is_connected": lambda: NB201.is_connected("433009"),
    }
    expect_error(InvalidArchError, "malformed NB201 key '433009'", calls[method])


def _mbv2(first_stage: str) -> str:
    return GOOD_MBV2.replace(GOOD_MBV2.split("|")[1], first_stage, 1)


MBV2_KEYS = {
    "empty": ("", "needs 'w<width>'"),
    "none": (None, "must be a string"),
    "width-only": ("w1.0", "needs 'w<width>'"),
    "width-not-allowed": (GOOD_MBV2.replace("w1.0", "w2.0"), "width 2 not in"),
    "width-not-a-number": (GOOD_MBV2.replace("w1.0", "wx"), "is not a number"),
    "kernel-not-allowed": (_mbv2("k4e6,k3e6"), "kernel must be in (3, 5, 7)"),
    "expansion-not-allowed": (_mbv2("k3e5,k3e6"), "expansion in (3, 4, 6)"),
    "garbled-block": (_mbv2("kxe6,k3e6"), "must read k<kernel>e<expansion>"),
    "too-shallow": (_mbv2("k3e6"), "needs 2-4 blocks, got 1"),
    "too-deep": (_mbv2(",".join(["k3e6"] * 5)), "needs 2-4 blocks, got 5"),
    "extra-stage": (GOOD_MBV2 + "|k3e3", "6 '|'-separated stages"),
    "empty-block": (_mbv2("k3e6,,k3e6"), "block ''"),
}


@pytest.mark.parametrize("case", list(MBV2_KEYS))
def test_malformed_mbv2_keys(case):
    key, fragment = MBV2_KEYS[case]
    expect_error(InvalidArchError, fragment, lambda: MBV2.validate(key))
    expect_error(InvalidArchError, fragment, lambda: MBV2.mutate(key, np.random.default_rng(0)))


@pytest.mark.parametrize(
    ("name", "kwargs", "exc_type", "fragment"),
    [
        ("nope", {}, UnknownNameError, "unknown search space 'nope'"),
        ("nb20", {}, UnknownNameError, "did you mean nb201"),
        (None, {}, InvalidInputError, "must be a string"),
        (3, {}, InvalidInputError, "must be a string"),
        ("nb201", {"foo": 1}, InvalidInputError, "unknown option(s) foo for search space 'nb201'"),
        ("nb201", {"channels": 0}, InvalidInputError, "channels must be >= 1"),
        ("mbv2", {"widths": ()}, InvalidInputError, "distinct positive numbers"),
        ("mbv2", {"widths": (1.0, 1.0)}, InvalidInputError, "distinct positive numbers"),
        ("mbv2", {"resolution": 8}, InvalidInputError, "resolution must be >= 32"),
        ("mbv2", {"resolution": "x"}, InvalidInputError, "resolution must be an integer"),
    ],
)
def test_create_space_bad_names_and_options(name, kwargs, exc_type, fragment):
    expect_error(exc_type, fragment, lambda: zeronas.create_space(name, **kwargs))


@pytest.mark.parametrize(
    ("n", "fragment"),
    [
        (15_626, "cannot sample 15,626 distinct architectures: space 'nb201' has 15,625"),
        (10_000_000, "has 15,625"),
        (-1, "must be >= 0"),
        (2.5, "must be an integer"),
        ("3", "must be an integer"),
        (None, "must be an integer"),
        (True, "must be an integer"),
    ],
)
def test_sample_many_rejects_impossible_counts_at_once(n, fragment):
    start = time.perf_counter()
    expect_error(InvalidInputError, fragment, lambda: NB201.sample_many(n, np.random.default_rng(0)))
    assert time.perf_counter() - start < 1.0


def test_sample_many_whole_space_and_bad_rng():
    assert len(set(NB201.sample_many(NB201.size, np.random.default_rng(0)))) == 15_625
    expect_error(InvalidInputError, "numpy.random.Generator", lambda: NB201.sample_many(3, 0))
    expect_error(InvalidInputError, "must be >= 0", lambda: MBV2.sample_many(-1, np.random.default_rng(0)))


@pytest.mark.parametrize(
    ("space", "kwargs", "fragment"),
    [
        (NB201, {"num_classes": 0}, "num_classes must be >= 1"),
        (NB201, {"num_classes": -3}, "num_classes must be >= 1"),
        (NB201, {"foo": 1}, "unexpected options for nb201 build: foo"),
        (MBV2, {"num_classes": 2.0}, "num_classes must be an integer"),
    ],
)
def test_build_rejects_bad_arguments(space, kwargs, fragment):
    key = "433000" if space is NB201 else GOOD_MBV2
    expect_error(InvalidInputError, fragment, lambda: space.build(key, **kwargs))


# --- named models -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "kwargs", "exc_type", "fragment"),
    [
        ("timm:doesnotexist", {}, UnknownNameError, "unknown timm model 'doesnotexist'"),
        ("timm:resnet_18", {}, UnknownNameError, "did you mean resnet18"),
        ("torchvision:nope", {}, UnknownNameError, "unknown torchvision model 'nope'"),
        ("torchvision:resnet_18", {}, UnknownNameError, "did you mean resnet18"),
        ("nope:resnet18", {}, UnknownNameError, "unknown model library 'nope'"),
        ("timm:", {}, InvalidArchError, "needs a name"),
        ("", {}, InvalidArchError, "needs a name"),
        (None, {}, InvalidInputError, "must be a string"),
        ("timm:vit_tiny_patch16_224", {"input_size": 8}, InvalidInputError, "cannot take 8x8 inputs"),
        ("timm:resnet18", {"input_size": 0}, InvalidInputError, "input_size must be >= 1"),
        ("timm:resnet18", {"num_classes": 0}, InvalidInputError, "num_classes must be >= 1"),
        ("timm:resnet18", {"pretrained": True}, InvalidInputError, "random initialisation"),
        ("torchvision:resnet18", {"weights": "DEFAULT"}, InvalidInputError, "random initialisation"),
        ("timm:resnet18", {"foo": 1}, InvalidInputError, "unexpected keyword argument 'foo'"),
    ],
)
def test_bad_named_models(spec, kwargs, exc_type, fragment):
    expect_error(exc_type, fragment, lambda: build_named_model(spec, **{"num_classes": 10, **kwargs}))
