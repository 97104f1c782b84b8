"""The timm models of the zoo: which 2022 names the installed timm builds, their kind and family, counted costs.

Names are the 2022 table's. A name timm has since renamed is built through timm's own deprecation
mapping (`timm.models.get_deprecated_models`): the current architecture, its pretrained tag dropped
(weights are never loaded, and some tags, such as ViT's `sam`, no longer exist). A name timm neither
registers nor maps is excluded with its reason (`excluded_models`); nothing is ever substituted by a
similar name.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import json
import math
import os
import re
import warnings
from pathlib import Path

import torch
from torch import nn

from zeronas.errors import InvalidInputError
from zeronas.modelstats import count_macs, count_params
from zeronas.spaces.timm_zoo.tables import in1k_results, in1k_without_results
from zeronas.spaces.zoo import build_named_model

KINDS = ("cnn", "vit")
#: the families, as regular expressions matched against the current timm name (renames resolved):
#:  resnet: ResNet, ResNeXt and Wide ResNet with any stem/depth/activation variant (resnet*, resnetrs*,
#:    resnetv2*, resnet*ts, ...), also with squeeze-excite, ECA, global-context or selective-kernel
#:    channel attention (se-, eca-, eca_-, gc-, sk-, legacy_se- prefixes); not ResNeSt, Res2Net, CSPResNet,
#:    TResNet, BAT-ResNeXt, nor SENet-154
#:  mobilenetv2: MobileNetV2 at any width (mobilenetv2_*)
FAMILIES: dict[str, re.Pattern[str]] = {
    "resnet": re.compile(r"^(legacy_)?(se|eca_?|gc|sk)?(resnet|resnext|wide_resnet)"),
    "mobilenetv2": re.compile(r"^mobilenetv2_"),
}
#: per-model facts `benchmarks/timm_zoo_build.py` writes, read when made by the installed timm version (in a
#: source checkout; elsewhere, or for another timm version, the facts are measured on first use)
CACHE_FILE = Path(__file__).resolve().parents[4] / "benchmarks" / "results" / "timm_zoo_models.json"
#: self-attention: a module with query and key projections (or torch's MultiheadAttention)
_QUERY_KEY = (("qkv",), ("qk",), ("q", "k"), ("q", "kv"), ("wq", "wk"))
#: token mixing without attention: MLP-Mixer's and ResMLP's token MLPs, gMLP's spatial gating unit, recurrent mixers
_TOKEN_CHILDREN = ("mlp_tokens", "linear_tokens")
_TOKEN_TYPES = ("SpatialGatingUnit",)
_BUILD_ERRORS = (RuntimeError, AssertionError, ValueError, TypeError, NotImplementedError, IndexError)


def timm_version() -> str:
    import timm

    return str(timm.__version__)


@functools.lru_cache(maxsize=1)
def _deprecated() -> dict[str, str | None]:
    from timm.models import get_deprecated_models

    return get_deprecated_models()


def current_name(name: str) -> str | None:
    """The architecture the installed timm builds for a 2022 `name` (itself, or its rename); None when none."""
    import timm

    if name in _deprecated():
        target = _deprecated()[name]
        arch = target.split(".")[0] if target else None
        return arch if arch and timm.is_model(arch) else None
    return name if timm.is_model(name) else None


def exclusion_reason(name: str) -> str | None:
    """Why the installed timm cannot build the 2022 model `name`, in one line; None when it can."""
    import timm

    if current_name(name) is not None:
        return None
    version = timm_version()
    if name in _deprecated():
        return f"timm {version} maps {name} to {_deprecated()[name]}, which it does not register"
    close = difflib.get_close_matches(name.split("_", 1)[-1], timm.list_models(), n=2, cutoff=0.8)
    nearest = f" (registered names near it: {', '.join(close)}; not substituted)" if close else ""
    return f"timm {version} neither registers {name} nor maps it to a current name{nearest}"


def zoo_models(data_dir: str | os.PathLike | None = None) -> list[str]:
    """The zoo: `in1k` models with a 2022 results row that the installed timm builds, sorted by name."""
    return sorted(m for m in in1k_results(data_dir).index if current_name(m) is not None)


def excluded_models(data_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """name -> reason of every `in1k` model of the metadata that is not in the zoo."""
    out = {m: "no row in results-imagenet-2022.csv (no ground truth)" for m in in1k_without_results(data_dir)}
    for name in in1k_results(data_dir).index:
        reason = exclusion_reason(name)
        if reason is not None:
            out[name] = reason
    return dict(sorted(out.items()))


def family_of(name: str) -> str | None:
    """The family of a 2022 model name (see FAMILIES), judged on its current timm name; None for the others."""
    arch = current_name(name) or name
    return next((family for family, pattern in FAMILIES.items() if pattern.match(arch)), None)


def _children(module: nn.Module) -> set[str]:
    return {name for name, _ in module.named_children()}


def is_attention(module: nn.Module) -> bool:
    """Self-attention between positions: torch's MultiheadAttention, or a module with query and key projections.

    Channel attention (squeeze-excite, ECA, global context, split attention) has no query/key pair.
    """
    if isinstance(module, nn.MultiheadAttention):
        return True
    children = _children(module)
    return any(all(part in children for part in pattern) for pattern in _QUERY_KEY)


def is_token_mixer(module: nn.Module) -> bool:
    """Token mixing without attention: token MLPs (MLP-Mixer, ResMLP), gMLP's gating unit, recurrent layers."""
    if isinstance(module, nn.RNNBase) or type(module).__name__ in _TOKEN_TYPES:
        return True
    return bool(_children(module) & set(_TOKEN_CHILDREN))


def model_kind(model: nn.Module) -> str:
    """'vit' when any module attends over or mixes tokens (attention, token MLP), else 'cnn'.

    Hybrids with self-attention layers (BoTNet, HaloNet, LambdaNet, CoaT, LeViT-style) count as 'vit'.
    """
    return "vit" if any(is_attention(m) or is_token_mixer(m) for m in model.modules()) else "cnn"


def create(name: str, num_classes: int = 1000, device: str | None = None, **kwargs: object) -> nn.Module:
    """timm's model of the 2022 `name` at random initialisation (on `device`, e.g. 'meta', when given)."""
    import timm

    arch = current_name(name)
    if arch is None:
        raise InvalidInputError(f"timm model {name!r} cannot be built: {exclusion_reason(name)}")
    place = torch.device(device) if device else contextlib.nullcontext()
    with warnings.catch_warnings(), place:
        warnings.simplefilter("ignore")
        return timm.create_model(arch, pretrained=False, num_classes=num_classes, **kwargs)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def build(name: str, img_size: int, num_classes: int = 1000, resolution: int | None = None) -> nn.Module:
    """The randomly initialised model of `name` for `resolution` x `resolution` inputs (`img_size`, its own, when None).

    Models with a fixed input size (ViT, Swin, BoTNet, ...) are built for it; a model that still cannot
    run at a resolution other than its own gives a one-line InvalidInputError, found by a one-image forward.
    """
    arch = current_name(name)
    if arch is None:
        raise InvalidInputError(f"timm model {name!r} cannot be built: {exclusion_reason(name)}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build_named_model(f"timm:{arch}", num_classes=num_classes, input_size=resolution or img_size)
    if resolution is not None and resolution != img_size:
        check_runs(model, name, resolution)
    return model


def check_runs(model: nn.Module, name: str, resolution: int) -> None:
    """Raise a one-line InvalidInputError unless `model` maps one resolution x resolution image to outputs.

    Runs in eval mode without gradients (no running statistic or random stream changes); modes restored.
    """
    modes = {m: m.training for m in model.modules()}
    param = next(model.parameters(), None)
    x = torch.zeros(1, 3, resolution, resolution, device=param.device if param is not None else None)
    model.eval()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model(x)
    except _BUILD_ERRORS as exc:
        raise InvalidInputError(
            f"timm model {name!r} cannot run on {resolution}x{resolution} inputs: {_first_line(exc)}"
        ) from None
    finally:
        for module, mode in modes.items():
            module.training = mode


def _macs(model: nn.Module, img_size: int) -> float | None:
    """`count_macs` at `img_size`, None when the forward fails.

    Parameters are frozen meanwhile: torch's module tracker asserts on a parameter handed to a submodule
    as an argument (PiT's class token) under no_grad.
    """
    frozen = [p for p in model.parameters() if p.requires_grad]
    for p in frozen:
        p.requires_grad_(False)
    try:
        return float(count_macs(model, (1, 3, img_size, img_size)))
    except _BUILD_ERRORS:
        return None
    finally:
        for p in frozen:
            p.requires_grad_(True)


def create_counted(name: str) -> tuple[nn.Module, str]:
    """The model of `name` for counting and inspection, and where it was built: 'meta', or 'cpu' where meta fails."""
    try:
        return create(name, device="meta"), "meta"
    except _BUILD_ERRORS:
        return create(name), "cpu"


def measure(name: str, img_size: int, built: tuple[nn.Module, str] | None = None) -> dict[str, object]:
    """kind, params and MACs at `img_size` of `name` (`built`: the `create_counted` result, when at hand).

    `device` says where the counted model was built; MACs are NaN when no forward at `img_size` works.
    """
    model, device = built or create_counted(name)
    kind, params = model_kind(model), count_params(model)
    macs = _macs(model, img_size)
    if macs is None and device == "meta":
        model, device = create(name), "cpu"
        macs = _macs(model, img_size)
    return {"kind": kind, "params": params, "macs": math.nan if macs is None else macs, "device": device}


@functools.lru_cache(maxsize=1)
def _cached_facts() -> dict[str, dict[str, object]]:
    """The build script's per-model facts, when it ran with the installed timm version (else none)."""
    try:
        payload = json.loads(CACHE_FILE.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(payload, dict) or payload.get("timm_version") != timm_version():
        return {}
    return {row["name"]: row for row in payload.get("models", []) if isinstance(row, dict) and row.get("buildable")}


@functools.cache
def model_facts(name: str, img_size: int) -> dict[str, object]:
    """kind, params and MACs at `img_size` (its eval size) of a zoo model: the build script's file, else measured."""
    cached = _cached_facts().get(name)
    if cached is not None and cached.get("img_size") == img_size and cached.get("kind") in KINDS:
        macs = cached.get("macs")
        return {"kind": cached["kind"], "params": int(cached["params"]), "macs": math.nan if macs is None else macs}
    facts = measure(name, img_size)
    return {k: facts[k] for k in ("kind", "params", "macs")}


def kind_of(name: str, data_dir: str | os.PathLike | None = None) -> str:
    """`model_kind` of the zoo model `name`, cached per name (the build script's file, else a meta-device build)."""
    return str(model_facts(name, int(in1k_results(data_dir).loc[name, "img_size"]))["kind"])


def zoo_subsets(data_dir: str | os.PathLike | None = None) -> dict[str, list[str]]:
    """The zoo's report groups: its CNNs and its ViTs (kind decided from the modules), then each of FAMILIES."""
    names = zoo_models(data_dir)
    subsets = {kind: [n for n in names if kind_of(n, data_dir) == kind] for kind in KINDS}
    subsets.update({family: [n for n in names if family_of(n) == family] for family in FAMILIES})
    return subsets
