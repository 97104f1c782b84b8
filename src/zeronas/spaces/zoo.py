"""Named models from timm and torchvision (`timm:resnet18`, `torchvision:mobilenet_v2`), randomly initialised.

Weights are never downloaded: zero-shot proxies score architectures at initialisation.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

import torch
from torch import nn

from zeronas.errors import InvalidArchError, InvalidInputError, UnknownNameError
from zeronas.spaces.base import check_count

_LIBRARIES = ("timm", "torchvision")
#: constructor errors that mean "these arguments do not fit this model"
_BUILD_ERRORS = (TypeError, ValueError, AssertionError)


def _unknown(library: str, name: str, known: list[str], extra: list[str] | None = None) -> UnknownNameError:
    close = difflib.get_close_matches(name, known, n=3) or (extra or [])[:5]
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return UnknownNameError(f"unknown {library} model {name!r}{hint}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _build(
    library: str, name: str, make: Callable[..., nn.Module], size_kw: str, input_size: int | None, given: dict
) -> nn.Module:
    """`make()`, first with `size_kw=input_size` when given; constructor errors become one line.

    A constructor that does not take the size keyword is retried without it, with the random
    stream restored so the weights are those of a plain build.
    """
    try:
        if input_size is not None and size_kw not in given:
            state = torch.get_rng_state()
            try:
                return make(**{size_kw: input_size})
            except TypeError as exc:
                if size_kw not in str(exc):
                    raise
                torch.set_rng_state(state)
        return make()
    except _BUILD_ERRORS as exc:
        raise InvalidInputError(f"{library} model {name!r} cannot be built: {_first_line(exc)}") from None


def _check_patches(model: nn.Module, name: str, input_size: int | None) -> None:
    """A patch-embedding model cannot take inputs smaller than one patch."""
    patch = getattr(getattr(model, "patch_embed", None), "patch_size", None) or getattr(model, "patch_size", None)
    sizes = tuple(patch) if isinstance(patch, tuple | list) else (patch,) if isinstance(patch, int) else ()
    if input_size is not None and sizes and input_size < max(sizes):
        raise InvalidInputError(
            f"model {name!r} cannot take {input_size}x{input_size} inputs: its patches are {max(sizes)} pixels wide"
        )


def build_named_model(spec: str, num_classes: int = 1000, input_size: int | None = None, **kwargs: object) -> nn.Module:
    """Build `library:name` (library timm or torchvision; bare names go to timm) without pretrained weights.

    `input_size` builds a model that fixes its input size (timm ViT, Swin, ...: `img_size`;
    torchvision ViT: `image_size`) for that resolution, so a reduced-resolution proxy batch fits it;
    models without such an argument (CNNs) take any input and are built as they are. Bad names,
    sizes or keyword arguments give a one-line ZeronasError.
    """
    if not isinstance(spec, str):
        raise InvalidInputError(f"model spec must be a string like 'timm:resnet18', got {type(spec).__name__}")
    library, sep, name = spec.strip().partition(":")
    if not sep:
        library, name = "timm", library
    library, name = library.strip().lower(), name.strip()
    if not name:
        raise InvalidArchError(f"model spec {spec!r} needs a name, e.g. timm:resnet18")
    num_classes = check_count(num_classes, "num_classes", 1)
    if input_size is not None:
        input_size = check_count(input_size, "input_size", 1)
    for key in ("pretrained", "weights"):
        if key in kwargs:
            raise InvalidInputError(f"{key}= is not accepted: named models are built at random initialisation")
    if library == "timm":
        import timm

        if not timm.is_model(name):
            raise _unknown("timm", name, timm.list_models(), timm.list_models(f"*{name}*"))

        def make(**size: object) -> nn.Module:
            return timm.create_model(name, pretrained=False, num_classes=num_classes, **kwargs, **size)

        model = _build("timm", name, make, "img_size", input_size, kwargs)
    elif library == "torchvision":
        from torchvision import models

        if name not in models.list_models():
            raise _unknown("torchvision", name, models.list_models())

        def make(**size: object) -> nn.Module:
            return models.get_model(name, weights=None, num_classes=num_classes, **kwargs, **size)

        model = _build("torchvision", name, make, "image_size", input_size, kwargs)
    else:
        close = difflib.get_close_matches(library, _LIBRARIES, n=1)
        hint = f"did you mean {close[0]}:? " if close else ""
        raise UnknownNameError(f"unknown model library {library!r} in {spec!r}; {hint}use timm: or torchvision:")
    _check_patches(model, name, input_size)
    return model
