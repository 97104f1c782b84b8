"""Exporting store rows to a file and importing them into another store: lossless and idempotent."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from zeronas.cli import main
from zeronas.errors import DataNotFoundError, InvalidInputError
from zeronas.store import ResultRow, ResultStore
from zeronas.store.transfer import export_rows, import_rows


def filled(path: Path) -> ResultStore:
    store = ResultStore(path)
    store.register_settings("s1", {"batch_size": 64, "dataset": "cifar100"})
    store.register_settings("s2", {"batch_size": 32, "dataset": "cifar10"})
    store.add(
        [
            ResultRow("nb201", "|nor_conv_3x3~0|", "cifar100", "synflow", 0, "s1", 1.0 / 3.0, "ok", "", 0.25),
            ResultRow("nb201", "|skip_connect~0|", "cifar100", "nwot", 0, "s1", float("nan"), "failed", "inf, x", 0.5),
            ResultRow("nb201", "|none~0|", "cifar10", "params", 1, "s2", 1.2345678901234567e-7, "ok", "", 0.0),
        ]
    )
    return store


@pytest.mark.parametrize("name", ["rows.csv", "rows.csv.gz"])
def test_export_import_round_trip_is_lossless_and_idempotent(tmp_path: Path, name: str) -> None:
    source = filled(tmp_path / "a.sqlite")
    assert export_rows(source, tmp_path / name) == 3
    target = ResultStore(tmp_path / "b.sqlite")
    assert import_rows(target, tmp_path / name) == (3, 3)
    assert import_rows(target, tmp_path / name) == (3, 0)  # already there: nothing duplicated
    columns = ["space", "arch", "dataset", "proxy", "seed", "settings", "value", "status", "reason", "seconds"]
    before, after = source.frame()[columns], target.frame()[columns]
    assert after.drop(columns="value").equals(before.drop(columns="value"))
    assert after["value"].iloc[0] == 1.0 / 3.0 and after["value"].iloc[2] == 1.2345678901234567e-7  # bit-exact
    assert math.isnan(after["value"].iloc[1]) and after["reason"].iloc[1] == "inf, x"
    assert target.all_settings() == source.all_settings()


def test_export_carries_cell_roles_and_old_exports_still_import(tmp_path: Path) -> None:
    source = filled(tmp_path / "a.sqlite")
    source.mark_cells("nb201", "cifar100", "uniform:2:0", ["|nor_conv_3x3~0|", "|skip_connect~0|"])
    source.mark_cells("nb201", "cifar100", "top:5", ["|nor_conv_3x3~0|", "|not_exported~0|"])
    export_rows(source, tmp_path / "rows.csv.gz")
    target = ResultStore(tmp_path / "b.sqlite")
    import_rows(target, tmp_path / "rows.csv.gz")
    assert target.roles("nb201", "cifar100") == ["top:5", "uniform:2:0"]
    assert target.cells("nb201", "cifar100", "uniform:2:0") == {"|nor_conv_3x3~0|", "|skip_connect~0|"}
    assert target.cells("nb201", "cifar100", "top:5") == {"|nor_conv_3x3~0|"}  # only cells with exported rows
    assert target.roles("nb201", "cifar10") == []
    old = tmp_path / "old.csv"  # an export written before roles were carried
    old.write_text(
        "space,arch,dataset,proxy,seed,settings,value,status,reason,seconds,settings_json\n"
        'nb201,|none~0|,cifar10,flops,2,s3,5.0,ok,,0.1,"{""batch_size"": 32}"\n'
    )
    assert import_rows(target, old) == (1, 1)
    assert target.roles("nb201", "cifar10") == []


def test_export_filters_and_bad_files(tmp_path: Path) -> None:
    source = filled(tmp_path / "a.sqlite")
    assert export_rows(source, tmp_path / "c100.csv", dataset="cifar100") == 2
    assert export_rows(source, tmp_path / "seed1.csv", seeds=[1]) == 1  # only the cifar10 params row
    with pytest.raises(InvalidInputError, match="holds no rows"):
        export_rows(source, tmp_path / "none.csv", dataset="ImageNet16-120")
    target = ResultStore(tmp_path / "b.sqlite")
    with pytest.raises(DataNotFoundError, match="no export file"):
        import_rows(target, tmp_path / "missing.csv")
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InvalidInputError, match="missing column"):
        import_rows(target, tmp_path / "bad.csv")


def test_store_cli(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    filled(tmp_path / "a.sqlite")
    main(["store", "export", str(tmp_path / "x.csv.gz"), "--store", str(tmp_path / "a.sqlite"), "-p", "synflow"])
    main(["store", "import", str(tmp_path / "x.csv.gz"), "--store", str(tmp_path / "b.sqlite")])
    main(["store", "info", "--store", str(tmp_path / "b.sqlite")])
    out = capsys.readouterr().out
    assert "wrote 1 rows" in out and "1 new" in out and "cifar100" in out
    with pytest.raises(SystemExit) as exit_info:
        main(["store", "info", "--store", str(tmp_path / "missing.sqlite")])
    assert exit_info.value.code == 2
