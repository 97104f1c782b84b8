"""Counted costs (peak activation memory), tabulated device tables, HW-NAS-Bench import."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from torch import nn

from zeronas.config import find_data_dir
from zeronas.errors import DataNotFoundError, InvalidInputError, NotApplicableError, UnknownNameError
from zeronas.hardware import get_cost, list_costs, peak_activation_memory

needs_data = pytest.mark.skipif(find_data_dir() is None, reason="needs the zeronas data directory (../shared)")

INDEX0 = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"


@pytest.fixture(scope="module")
def nb201():
    from zeronas.spaces import create_space

    return create_space("nb201")


def test_every_family_is_registered():
    names = set(list_costs())
    assert {"params", "flops", "macs", "peak_memory", "latency", "nb201_latency", "pi5_energy"} <= names
    assert {"torchvision_latency", "timm_latency", "hwnasbench", "predicted_latency"} <= names


def test_peak_memory_by_hand():
    # input 3*8*8*4 = 768 B; conv1 and relu outputs 8*64*4 = 2048 B each; conv2 4*64*4 = 1024 B.
    # During relu the input, conv1's and relu's outputs are live: 768 + 2048 + 2048 = 4864.
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 4, 1))
    assert peak_activation_memory(net, (1, 3, 8, 8)) == 4864
    assert peak_activation_memory(net, (2, 3, 8, 8)) == 2 * 4864
    # an in-place ReLU writes into conv1's storage: the peak is then conv2's step, 768 + 2048 + 1024
    inplace = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(8, 4, 1))
    assert peak_activation_memory(inplace, (1, 3, 8, 8)) == 3840


def test_peak_memory_sees_functional_ops():
    class Functional(nn.Module):
        def forward(self, x):
            y = x * 2.0  # 768 B
            z = y + 1.0  # 768 B, y still live
            return z.sum()  # 4 B, while y and z are still referenced by the frame

    assert peak_activation_memory(Functional(), (1, 3, 8, 8)) == 3 * 768 + 4


def test_peak_memory_cost_on_nb201(nb201):
    cost = get_cost("peak_memory")
    skip = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"
    conv = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    stem_out = 16 * 32 * 32 * 4 / 1e6  # the stem's feature map alone
    assert stem_out < cost(nb201, skip, "cifar10") < cost(nb201, conv, "cifar10")


@needs_data
def test_nb201_latency_table_known_values(nb201):
    raspi = get_cost("nb201_latency", device="raspi4")
    assert raspi(nb201, INDEX0, "cifar10") == pytest.approx(10.481976820010459)
    assert raspi(nb201, "index:0", "cifar100") == pytest.approx(10.481976820010459)
    assert get_cost("nb201_latency", device="eyeriss")(nb201, INDEX0, "cifar10") == pytest.approx(3.64562)
    assert raspi.unit == "ms"
    values = raspi.many(nb201, [INDEX0, "index:1"], "cifar10")
    np.testing.assert_allclose(values, [10.481976820010459, 54.77739761998237])
    with pytest.raises(NotApplicableError, match="ImageNet16-120"):
        raspi(nb201, INDEX0, "ImageNet16-120")
    with pytest.raises(UnknownNameError, match="raspi4"):
        get_cost("nb201_latency", device="raspi9")


@needs_data
def test_pi5_energy_and_latency_known_values(nb201):
    assert get_cost("pi5_energy", framework="litert")(nb201, "index:5", "cifar100") == pytest.approx(5.643271)
    assert get_cost("pi5_latency", framework="onnx")(nb201, "index:5", "cifar100") == pytest.approx(5.1326909999999994)
    assert get_cost("pixel_latency")(nb201, "index:5", "cifar100") == pytest.approx(2.96733)
    assert get_cost("pi5_energy").unit == "mJ"
    with pytest.raises(NotApplicableError, match="cifar100"):
        get_cost("pi5_energy")(nb201, "index:5", "cifar10")
    with pytest.raises(UnknownNameError):
        get_cost("pi5_latency", framework="tensorrt")


@needs_data
def test_named_model_tables():
    rpi = get_cost("torchvision_latency", device="rpi4_cpu")
    assert rpi(None, "torchvision:resnet18", "imagenet") == pytest.approx(5176.654577, rel=1e-6)
    timm_cpu = get_cost("timm_latency", table="cpu-i9_10940x")
    assert timm_cpu(None, "resnet18", "imagenet") == pytest.approx(7.907)  # the 224 px row, not the 160 px one
    assert get_cost("timm_latency", img_size=160)(None, "timm:resnet18", "imagenet") == pytest.approx(4.568)
    with pytest.raises(NotApplicableError, match="named models"):
        get_cost("nb201_latency")(None, "resnet18", "cifar10")


def _fake_pickle(path, n=15625, datasets=("cifar10", "cifar100")):
    rng = np.random.default_rng(0)
    data = {
        "nasbench201": {
            d: {
                "raspi4_latency": rng.random(n) + (i + 1),
                "edgegpu_energy": list(rng.random(n)),
                "config": [{"arch_str": "x"}] * n,
            }
            for i, d in enumerate(datasets)
        }
    }
    path.write_bytes(pickle.dumps(data))
    return data


@needs_data
def test_hwnasbench_import_round_trip(tmp_path, nb201):
    from zeronas.hardware.hwnasbench import hwnasbench_metrics, import_hwnasbench

    data = _fake_pickle(tmp_path / "hw.pickle")
    out = import_hwnasbench(tmp_path / "hw.pickle", tmp_path / "hw.csv")
    assert sorted(hwnasbench_metrics(out)) == ["edgegpu_energy", "raspi4_latency"]
    cost = get_cost("hwnasbench", metric="raspi4_latency", path=out)
    assert cost.unit == "ms"
    assert cost(nb201, "index:7", "cifar100") == pytest.approx(data["nasbench201"]["cifar100"]["raspi4_latency"][7])
    assert cost(nb201, "index:7", "cifar10") == pytest.approx(data["nasbench201"]["cifar10"]["raspi4_latency"][7])
    assert get_cost("hwnasbench", metric="edgegpu_energy", path=out).unit == "mJ"
    with pytest.raises(NotApplicableError):
        cost(nb201, "index:7", "ImageNet16-120")


def test_hwnasbench_import_errors(tmp_path):
    from zeronas.hardware.hwnasbench import import_hwnasbench

    with pytest.raises(DataNotFoundError, match="not found"):
        import_hwnasbench(tmp_path / "absent.pickle")
    (tmp_path / "junk.pickle").write_bytes(b"not a pickle at all")
    with pytest.raises(InvalidInputError, match="not a readable HW-NAS-Bench pickle"):
        import_hwnasbench(tmp_path / "junk.pickle")
    (tmp_path / "list.pickle").write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(InvalidInputError, match="no 'nasbench201'"):
        import_hwnasbench(tmp_path / "list.pickle")
    (tmp_path / "short.pickle").write_bytes(pickle.dumps({"nasbench201": {"cifar10": {"fpga_latency": [1.0, 2.0]}}}))
    with pytest.raises(InvalidInputError, match="expected 15625"):
        import_hwnasbench(tmp_path / "short.pickle")


def test_hwnasbench_refuses_code_in_pickles(tmp_path):
    from zeronas.hardware.hwnasbench import import_hwnasbench

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    (tmp_path / "evil.pickle").write_bytes(pickle.dumps({"nasbench201": Evil()}))
    with pytest.raises(InvalidInputError, match="refusing to load builtins.print"):
        import_hwnasbench(tmp_path / "evil.pickle")


def test_cli_import_error_is_one_line(tmp_path, capsys):
    from zeronas.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["hardware", "import", str(tmp_path / "absent.pickle")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "HW-NAS-Bench pickle not found" in err and len(err.splitlines()) == 1
