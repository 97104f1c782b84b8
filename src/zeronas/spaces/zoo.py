"""Named models from timm and torchvision (`timm:resnet18`, `torchvision:mobilenet_v2`), randomly initialised.

Weights are never downloaded: zero-shot proxies score architectures at initialisation.
"""

from __future__ import annotations

from torch import nn

from zeronas.errors import InvalidArchError, UnknownNameError


def build_named_model(spec: str, num_classes: int = 1000, input_size: int | None = None, **kwargs: object) -> nn.Module:
    """Build `library:name` (library timm or torchvision; bare names go to timm) without pretrained weights.

    `input_size` builds a timm model that fixes its input size (ViT, Swin, ...: position embeddings,
    windows) for that resolution, so a reduced-resolution proxy batch fits it; models without an
    `img_size` argument (CNNs) take any input and are built as they are.
    """
    library, sep, name = spec.partition(":")
    if not sep:
        library, name = "timm", spec
    if not name:
        raise InvalidArchError(f"model spec {spec!r} needs a name, e.g. timm:resnet18")
    if library == "timm":
        import timm

        if not timm.is_model(name):
            close = timm.list_models(f"*{name}*")[:5]
            hint = f"; similar: {', '.join(close)}" if close else ""
            raise UnknownNameError(f"unknown timm model {name!r}{hint}")
        if input_size is not None and "img_size" not in kwargs:
            try:
                return timm.create_model(name, pretrained=False, num_classes=num_classes, img_size=input_size, **kwargs)
            except TypeError as exc:
                if "img_size" not in str(exc):
                    raise
        return timm.create_model(name, pretrained=False, num_classes=num_classes, **kwargs)
    if library == "torchvision":
        from torchvision import models

        if name not in models.list_models():
            raise UnknownNameError(f"unknown torchvision model {name!r}")
        return models.get_model(name, weights=None, num_classes=num_classes, **kwargs)
    raise UnknownNameError(f"unknown model library {library!r} in {spec!r}; use timm: or torchvision:")
