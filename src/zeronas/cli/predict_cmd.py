"""`zeronas predict`: a few-shot accuracy predictor on stored proxy values (reads the store, never scores)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from zeronas.cli.app import MAX_SEED, DataDirOption, DatasetOption, StoreOption, app, console
from zeronas.cli.evaluate_cmd import MetricOption, OutOption, frame_table
from zeronas.config import use_data_dir
from zeronas.data import get_dataset
from zeronas.errors import DataNotFoundError, InvalidInputError
from zeronas.evaluation.fewshot import (
    ENCODING_PREFIX,
    ENSEMBLE_PREFIX,
    GRAPH_PREFIX,
    FewShotPredictor,
    feature_table,
    fewshot_curve,
    stored_pool,
    summarise_curve,
    target_for,
)
from zeronas.groundtruth.truth import ground_truth
from zeronas.proxies import resolve_proxies
from zeronas.spaces import DEFAULT_SPACE, create_space, get_benchmark
from zeronas.store import ResultStore, default_store_path


def parse_counts(text: str) -> list[int]:
    """'10,25,50,100' -> [10, 25, 50, 100]; one line naming the bad entry otherwise."""
    counts = []
    for part in text.split(","):
        try:
            counts.append(int(part))
        except ValueError:
            raise InvalidInputError(f"--labels must be comma-separated counts, got {part.strip()!r}") from None
    return counts


def read_labels(path: Path) -> pd.Series:
    """arch -> accuracy from a CSV with columns `arch` and `accuracy` (or arch then one number per row)."""
    if not path.is_file():
        raise DataNotFoundError(f"--train file {path} does not exist")
    try:
        table = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"--train file {path} is not a readable CSV: {exc}") from exc
    if "arch" not in table.columns or len(table.columns) < 2:
        raise InvalidInputError(f"--train file {path} needs columns 'arch' and 'accuracy', got {list(table.columns)}")
    column = "accuracy" if "accuracy" in table.columns else [c for c in table.columns if c != "arch"][0]
    values = pd.to_numeric(table[column], errors="coerce")
    if values.isna().any():
        row = int(values.isna().to_numpy().argmax()) + 2
        raise InvalidInputError(
            f"--train file {path} line {row}: {column} is not a number ({table[column].iloc[row - 2]!r})"
        )
    duplicated = table["arch"][table["arch"].duplicated()]
    if len(duplicated):
        raise InvalidInputError(f"--train file {path} lists cell {duplicated.iloc[0]!r} twice")
    return pd.Series(values.to_numpy(), index=table["arch"].astype(str), name="accuracy")


def _canonical(space: object, labels: pd.Series) -> pd.Series:
    """The labels keyed by the space's canonical cell keys (a malformed key fails with its own message)."""
    return pd.Series(labels.to_numpy(), index=[space.validate(key) for key in labels.index], name=labels.name)


@app.command("predict")
def predict_command(
    space: Annotated[str, typer.Option("--space", help="Search space of the stored proxy values.")] = DEFAULT_SPACE,
    dataset: DatasetOption = "cifar10",
    store: StoreOption = None,
    proxies: Annotated[
        str, typer.Option("--proxies", "-p", help="'stored' (every stored proxy) or comma-separated names.")
    ] = "stored",
    labels: Annotated[
        str, typer.Option("--labels", help="Labelled-cell counts of the learning curve.")
    ] = "10,25,50,100",
    draws: Annotated[int, typer.Option("--draws", min=1, max=1000, help="Random labelled sets per count.")] = 5,
    seed: Annotated[int, typer.Option("--seed", min=0, max=MAX_SEED, help="Seed of the labelled-set draws.")] = 0,
    encoding: Annotated[
        bool, typer.Option("--encoding/--no-encoding", help="Add the space's cell encoding and graph descriptors.")
    ] = True,
    train: Annotated[
        Path | None,
        typer.Option("--train", help="CSV (arch, accuracy) of your own trained cells: fit on them, rank the rest."),
    ] = None,
    settings: Annotated[str | None, typer.Option("--settings", help="Settings digest (default: most rows).")] = None,
    metric: MetricOption = None,
    out: OutOption = Path("zeronas-results"),
    data_dir: DataDirOption = None,
) -> None:
    """Few-shot prediction: XGBoost on stored proxy values (+ encoding), trained on N labelled cells.

    Without --train: a learning curve against the benchmark's ground truth (N random labelled cells of the
    pool, Spearman/Kendall on the rest, --draws draws per N). With --train: fit on your trained cells and
    write every pool cell's predicted accuracy, best first.
    """
    use_data_dir(data_dir)
    info = get_dataset(dataset)
    search_space = create_space(space)
    names = None if proxies == "stored" else resolve_proxies(proxies)
    path = store or default_store_path()
    if not Path(path).is_file():
        raise DataNotFoundError(f"result store {path} does not exist; run `zeronas evaluate --store {path}` first")
    opened = ResultStore(path, read_only=True)
    values, notes = stored_pool(opened, space, info.name, names, settings, uniform_only=train is None)
    features = feature_table(values, search_space if encoding else None)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"predict_{space}_{info.name}"
    bench = get_benchmark(space)
    target = target_for(bench.truth_unit)
    kinds = {
        p: sum(str(c).startswith(p) for c in features.columns) for p in (ENSEMBLE_PREFIX, ENCODING_PREFIX, GRAPH_PREFIX)
    }
    notes.append(
        f"features: {len(values.columns)} proxies, {kinds[ENSEMBLE_PREFIX]} ensembles of them, "
        f"{kinds[ENCODING_PREFIX]} encoding columns, {kinds[GRAPH_PREFIX]} graph descriptors; "
        f"target: {target.replace('_', ' ')}"
    )
    if train is not None:
        labelled = _canonical(search_space, read_labels(train))
        _predict_from(features, labelled, out / f"{stem}.csv", notes, target)
        return
    metric = metric or bench.metrics[0]
    truth = ground_truth(space, info.name, metric)
    curve = fewshot_curve(
        features, truth, parse_counts(labels), draws, seed, proxies=list(values.columns), model={"target": target}
    )
    summary = summarise_curve(curve)
    shown = pd.DataFrame(
        {
            "labels": summary["labels"],
            "SPR": [
                f"{m:.3f} ± {s:.3f}" for m, s in zip(summary["spearman_mean"], summary["spearman_std"], strict=True)
            ],
            "KT": [f"{m:.3f} ± {s:.3f}" for m, s in zip(summary["kendall_mean"], summary["kendall_std"], strict=True)],
            "SPR top 5%": [f"{m:.3f}" for m in summary["spearman_top_mean"]],
            "pick": [f"{m:.2f}" for m in summary["pick_mean"]],
            "best proxy SPR": [f"{m:.3f}" for m in summary["proxy_spearman_mean"]],
            "held out": summary["held_out"],
        }
    )
    title = (
        f"few-shot predictor on {space}/{info.name} ({metric}): mean ± std over {draws} draws; "
        f"'best proxy' = the one proxy that ranks the labelled cells best"
    )
    console.print(frame_table(shown, title))
    for line in notes:
        console.print(f"  {line}", highlight=False)
    curve.to_csv(out / f"{stem}_curve.csv", index=False)
    summary.to_csv(out / f"{stem}_summary.csv", index=False)
    meta = {
        "space": space,
        "dataset": info.name,
        "metric": metric,
        "draws": draws,
        "seed": seed,
        "encoding": encoding,
        "target": target,
        "notes": notes,
        "summary": summary.to_dict(orient="records"),
    }
    (out / f"{stem}.json").write_text(json.dumps(meta, indent=2, default=str))
    console.print(f"wrote {out / f'{stem}_curve.csv'}, {out / f'{stem}_summary.csv'}, {out / f'{stem}.json'}")


def _predict_from(features: pd.DataFrame, labelled: pd.Series, path: Path, notes: list[str], target: str) -> None:
    """Fit on the user's trained cells and write every other pool cell's predicted accuracy, best first."""
    unknown = labelled.index.difference(features.index)
    if len(unknown):
        raise InvalidInputError(
            f"{len(unknown)} trained cell(s) have no stored proxy values (e.g. {unknown[0]!r}); score them first"
        )
    model = FewShotPredictor(target=target).fit(features, labelled)
    rest = features.drop(index=labelled.index)
    if rest.empty:
        raise InvalidInputError("every pool cell is already trained; nothing is left to predict")
    ranked = model.predict(rest).sort_values(ascending=False).rename_axis("arch").reset_index()
    ranked.to_csv(path, index=False)
    console.print(frame_table(ranked.head(10).round(3), f"predicted best of {len(ranked)} untrained cells"))
    for line in notes:
        console.print(f"  {line}", highlight=False)
    console.print(f"fitted on {len(labelled)} trained cells; wrote {path}")
