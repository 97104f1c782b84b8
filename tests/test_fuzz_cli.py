"""Fuzz suite of the command line: every bad value exits 2 with one line naming the option and the problem.

Each case fails before any proxy is computed, so the whole file runs in seconds.
"""

from __future__ import annotations

import pytest

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
SCORE = ("score", "--arch", ARCH, "--source", "synthetic", "-p", "params")
EVALUATE = ("evaluate", "--proxies", "params", "--seeds", "0")
SEARCH = ("search", "-n", "2", "--no-export", "--no-store", "--source", "synthetic")
PARETO = ("pareto", "--no-store", "--source", "synthetic")

SCORE_CASES = [
    (("--seed", "abc"), "--seed"),
    (("--seed", "-1"), "--seed"),
    (("--seed", "99999999999999999999"), "--seed"),
    (("--seed", "1.5"), "--seed"),
    (("--seed", ""), "--seed"),
    (("-b", "0"), "--batch-size"),
    (("-b", "-3"), "--batch-size"),
    (("-b", "x"), "--batch-size"),
    (("-b", "10000000"), "--batch-size"),
    (("-r", "3"), "--resolution"),
    (("-r", "0"), "--resolution"),
    (("-r", "100000"), "--resolution"),
    (("-r", "big"), "--resolution"),
    (("--num-classes", "0"), "--num-classes"),
    (("--num-classes", "-10"), "--num-classes"),
    (("--num-classes", "1000000000"), "--num-classes"),
    (("--dataset", "mnist"), "mnist"),
    (("--dataset", ""), "dataset"),
    (("--space", "nb999"), "nb999"),
    (("--option", "zen"), "proxy.option=value"),
    (("--option", "zen.repeat"), "proxy.option=value"),
    (("--option", "=3"), "proxy.option=value"),
    (("--source", "/nonexistent/batch.npz"), "/nonexistent/batch.npz"),
    (("--model", "timm:resnet18"), "either"),
    (("--json", "--json", "--nope"), "--nope"),
]


@pytest.mark.parametrize(("extra", "fragment"), SCORE_CASES, ids=[" ".join(c[0]) or "empty" for c in SCORE_CASES])
def test_score_bad_values(cli, extra, fragment):
    cli(*SCORE, *extra).assert_clean_error(fragment)


ARCH_CASES = [
    "",
    "|bad|",
    "|nor_conv_3x3~0|",
    ARCH.replace("nor_conv_3x3~0", "conv_9x9~0", 1),
    ARCH.replace("~0|+", "~7|+", 1),
    ARCH.replace("+", "-"),
    ARCH + "+|none~0|",
    "433",
    "4330009",
    "(0, 2, 3, 2, 3, 9)",
    "(0, 2, 3)",
    "[[1]]",
    "None",
]


@pytest.mark.parametrize("arch", ARCH_CASES, ids=[f"arch{i}" for i in range(len(ARCH_CASES))])
def test_score_malformed_arch(cli, arch):
    cli("score", "--arch", arch, "--source", "synthetic", "-p", "params").assert_clean_error()


PROXY_CASES = [("nope", "nope"), ("synflow,nope", "nope"), ("", "prox"), (",", "prox"), ("Synflow ", "synflow")]


@pytest.mark.parametrize(("proxies", "fragment"), PROXY_CASES, ids=[f"proxies{i}" for i in range(len(PROXY_CASES))])
def test_score_bad_proxy_lists(cli, proxies, fragment):
    cli("score", "--arch", ARCH, "--source", "synthetic", "-p", proxies).assert_clean_error(fragment)


MODEL_CASES = [
    ("timm:doesnotexist", "doesnotexist"),
    ("timm:", "model"),
    ("torchvision:nope", "nope"),
    ("nope:resnet18", "nope"),
    ("timm:resnet18:extra", "resnet18:extra"),
]


@pytest.mark.parametrize(("model", "fragment"), MODEL_CASES, ids=[m for m, _ in MODEL_CASES])
def test_score_bad_named_models(cli, model, fragment):
    cli("score", "--model", model, "--source", "synthetic", "-p", "params", "-r", "32").assert_clean_error(fragment)


EVALUATE_CASES = [
    (("--sample", "-5"), "--sample"),
    (("--sample", "x"), "--sample"),
    (("--sample", "10000000"), "--sample"),
    (("--sample", "15626"), "15,625"),
    (("--sample", "0"), "no cells"),
    (("--sample", "3", "--workers", "0"), "--workers"),
    (("--sample", "3", "--workers", "-1"), "--workers"),
    (("--sample", "3", "--workers", "10000"), "--workers"),
    (("--sample", "3", "--workers", "many"), "--workers"),
    (("--sample", "3", "--seeds", "0-100000000"), "--seeds"),
    (("--sample", "3", "--seeds", "abc"), "--seeds"),
    (("--sample", "3", "--seeds", "5-2"), "--seeds"),
    (("--sample", "3", "--seeds", "-1"), "--seeds"),
    (("--sample", "3", "--seeds", ""), "--seeds"),
    (("--sample", "3", "--seeds", "4294967296"), "--seeds"),
    (("--sample", "3", "--sample-seed", "-2"), "--sample-seed"),
    (("--sample", "3", "--include-top", "101"), "--include-top"),
    (("--sample", "3", "--include-top", "-1"), "--include-top"),
    (("--sample", "3", "--metric", "loss"), "--metric"),
    (("--sample", "3", "--space", "nb999"), "nb999"),
    (("--sample", "3", "--dataset", "svhn"), "svhn"),
    (("--sample", "3", "--backend", "dask"), "--backend"),
    (("--sample", "3", "--ray-address", "auto"), "--ray-address"),
    (("--sample", "3", "--top", "0"), "--top"),
    (("--sample", "3", "--option", "nope.x=1"), "nope"),
    (("--sample", "3", "--proxies", "nope"), "nope"),
]


@pytest.mark.parametrize(("extra", "fragment"), EVALUATE_CASES, ids=[" ".join(c[0]) for c in EVALUATE_CASES])
def test_evaluate_bad_values(cli, tmp_path, extra, fragment):
    result = cli(*EVALUATE, "--store", tmp_path / "s.sqlite", "--out", tmp_path / "out", *extra)
    result.assert_clean_error(fragment)
    assert not (tmp_path / "out").exists()


SEARCH_CASES = [
    (("--budget", "flops<=abc"), "flops<=abc"),
    (("--budget", "flops<=-1"), "positive"),
    (("--budget", "flops=3"), "cost<=value"),
    (("--budget", "<=3"), "names no cost"),
    (("--budget", "nope<=3"), "nope"),
    (("--budget", "flops<=1M", "--budget", "flops<=2M"), "twice"),
    (("--budget", "flops<=1e999"), "flops<=1e999"),
    (("--space", "mbv2", "--budget", "nb201_latency<=5"), "nb201"),
    (("--algorithm", "annealing"), "annealing"),
    (("--set", "nope"), "name=value"),
    (("--set", "nope=1"), "nope"),
    (("--run", "../escape"), "--run"),
    (("--run", "a/b"), "--run"),
    (("--run", ".."), "--run"),
    (("--proxies", "nope"), "nope"),
    (("--proxies", "synflow", "--proxy", "nwot"), "--proxy"),
    (("--population", "1"), "--population"),
    (("-n", "0"), "--evaluations"),
    (("--algorithm", "prune", "--workers", "2"), "prune"),
    (("--tournament", "0"), "--tournament"),
    (("--proxy-seed", "-1"), "--proxy-seed"),
    (("--proxy-resolution", "4"), "--proxy-resolution"),
]


@pytest.mark.parametrize(("extra", "fragment"), SEARCH_CASES, ids=[" ".join(c[0]) for c in SEARCH_CASES])
def test_search_bad_values(cli, tmp_path, extra, fragment):
    cli(*SEARCH, "--out", tmp_path / "out", *extra).assert_clean_error(fragment)


PARETO_CASES = [
    (("--seeds", "a,b"), "--seeds"),
    (("--quantiles", "x"), "--quantiles"),
    (("--quantiles", "0.5,2"), "--quantiles"),
    (("--budgets", "-3"), "--budgets"),
    (("--budgets", "nan"), "--budgets"),
    (("--budgets", "1,y"), "--budgets"),
    (("--cost", "nope"), "nope"),
    (("--sample", "1"), "--sample"),
    (("--use-store",), "--no-store"),
    (("--proxies", "nope"), "nope"),
    (("--cost-opt", "device"), "key=value"),
]


@pytest.mark.parametrize(("extra", "fragment"), PARETO_CASES, ids=[" ".join(c[0]) for c in PARETO_CASES])
def test_pareto_bad_values(cli, tmp_path, extra, fragment):
    cli(*PARETO, "--out", tmp_path / "out", *extra).assert_clean_error(fragment)


OTHER_CASES = [
    (("rank", "--sample", "0"), "--sample"),
    (("rank", "--sample", "20000"), "15,625"),
    (("pareto", "--no-store", "--sample", "20000"), "15,625"),
    (("hardware", "measure", "--sample", "20000"), "15,625"),
    (("rank", "--space", "nope"), "nope"),
    (("rank", "--top", "0"), "--top"),
    (("hardware", "cost", "--cost", "nope", ARCH), "nope"),
    (("hardware", "measure", "--sample", "2", "--clock", "sundial"), "sundial"),
    (("hardware", "measure", "--sample", "2", "--runtime", "tvm"), "tvm"),
    (("hardware", "measure", "--sample", "2", "--device", "tpu"), "tpu"),
    (("hardware", "measure", "--sample", "2", "--all"), "exactly one"),
    (("hardware", "measure", "--sample", "2", "--workers", "100000"), "--workers"),
    (("report", "--store", "/nonexistent/store.sqlite"), "/nonexistent/store.sqlite"),
    (("run", "--evaluations", "0"), "--evaluations"),
    (("run", "--seed", "-4"), "--seed"),
    (("proxies", "--color"), "--color"),
    (("no-such-command",), "no-such-command"),
    (("score", "--no-such-option"), "--no-such-option"),
]


@pytest.mark.parametrize(("args", "fragment"), OTHER_CASES, ids=[" ".join(c[0][:3]) for c in OTHER_CASES])
def test_other_commands_bad_values(cli, args, fragment):
    cli(*args).assert_clean_error(fragment)
