"""timm_zoo: build every model of the zoo once and record its kind, family, parameters and MACs.

Every `in1k` model of `timm/model_metadata-in1k-2022.csv` is listed: the zoo's models are built on the
meta device (no weight init, no arithmetic; on the CPU when meta fails), their kind taken from their
modules (`model_kind`), their parameters counted and their MACs counted at their own evaluation size;
the others carry the reason they are not in the zoo. Each row also names the activation module types
the model holds, so the activations nwot/linear_regions code in models without ReLU can be checked.
The JSON (`benchmarks/results/timm_zoo_models.json`) is the per-name cache `zeronas.spaces.timm_zoo`
reads when it was made by the installed timm version.

    python benchmarks/timm_zoo_build.py [--limit N] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch
from torch import nn

from zeronas.proxies.activation import is_sign_activation
from zeronas.proxies.context import is_relu
from zeronas.spaces.timm_zoo.models import (
    CACHE_FILE,
    create_counted,
    current_name,
    excluded_models,
    family_of,
    measure,
    timm_version,
)
from zeronas.spaces.timm_zoo.tables import in1k_results


def activation_types(model: nn.Module) -> list[str]:
    """Distinct type names of the leaf activation modules (torch's and timm's activation modules)."""
    names = {
        type(m).__name__
        for m in model.modules()
        if not any(True for _ in m.children()) and "activation" in type(m).__module__
    }
    return sorted(names)


def describe(name: str, img_size: int) -> dict[str, object]:
    """One zoo model's row: built once on meta (CPU when meta fails), with its kind, costs and activations."""
    start = time.perf_counter()
    model, device = create_counted(name)
    facts = measure(name, img_size, (model, device))
    relu = any(is_relu(m) for m in model.modules())
    signed = sorted({type(m).__name__ for m in model.modules() if is_sign_activation(m)})
    return {
        "timm_name": current_name(name),
        "kind": facts["kind"],
        "family": family_of(name),
        "params": facts["params"],
        "macs": None if math.isnan(facts["macs"]) else facts["macs"],
        "device": facts["device"],
        "has_relu": relu,
        "sign_coded": signed,
        "activations": activation_types(model),
        "seconds": round(time.perf_counter() - start, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N zoo models (a quick check)")
    parser.add_argument("--out", type=Path, default=CACHE_FILE)
    args = parser.parse_args()
    torch.set_num_threads(1)
    table = in1k_results()
    excluded = excluded_models()
    rows = []
    names = sorted(set(table.index) | set(excluded))
    zoo = [n for n in names if n not in excluded][: args.limit]
    start = time.perf_counter()
    for name in names:
        base = {"name": name}
        if name in table.index:
            base.update(top1=float(table.loc[name, "top1"]), img_size=int(table.loc[name, "img_size"]))
            base["param_count_table_M"] = float(table.loc[name, "param_count"])
        if name in excluded:
            rows.append({**base, "buildable": False, "reason": excluded[name]})
            continue
        if name not in zoo:
            continue
        try:
            rows.append({**base, **describe(name, int(table.loc[name, "img_size"])), "buildable": True, "reason": ""})
        except Exception as exc:  # recorded, never dropped: the row says why
            reason = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
            rows.append({**base, "buildable": False, "reason": f"timm.create_model failed: {reason}"})
        print(f"{len(rows):4d} {name}: {rows[-1].get('kind', rows[-1]['reason'])}", flush=True)
    built = [r for r in rows if r["buildable"]]
    counts = {
        "listed": len(rows),
        "buildable": len(built),
        "cnn": sum(r["kind"] == "cnn" for r in built),
        "vit": sum(r["kind"] == "vit" for r in built),
        "failed": len(rows) - len(built),
        "create_failed": sum(r["reason"].startswith("timm.create_model failed") for r in rows),
        "resnet": sum(r["family"] == "resnet" for r in built),
        "mobilenetv2": sum(r["family"] == "mobilenetv2" for r in built),
        "macs_uncounted": sum(r["macs"] is None for r in built),
        "params_off_table": sum(abs(r["params"] / 1e6 - r["param_count_table_M"]) > 0.01 for r in built),
    }
    payload = {
        "timm_version": timm_version(),
        "torch_version": torch.__version__,
        "seconds": round(time.perf_counter() - start, 1),
        "counts": counts,
        "models": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=1) + "\n")
    print(json.dumps(counts, indent=1))


if __name__ == "__main__":
    main()
