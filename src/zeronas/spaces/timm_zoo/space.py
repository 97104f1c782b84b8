"""The timm model zoo as a finite search space: one key per ImageNet-1k-only timm model of the 2022 table.

Keys are the model names as `timm/results-imagenet-2022.csv` writes them (`resnet18`,
`gluon_resnet50_v1b`, `deit_tiny_patch16_224`); input is matched case-insensitively. The space is a
list, not a grammar, so its variation operators stay inside natural groups: a neighbour is another model
of the same family (ResNet/WRN, MobileNetV2) when the key has one, else another model of the same kind
(CNN or ViT); crossover returns one parent. Models are built by timm at random initialisation, for the
model's own evaluation size unless a resolution is asked for.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Iterator

import numpy as np
from torch import nn

from zeronas.data.datasets import get_dataset
from zeronas.errors import InvalidArchError, InvalidInputError
from zeronas.spaces.base import SearchSpace, check_count, check_num_classes
from zeronas.spaces.timm_zoo.models import (
    FAMILIES,
    KINDS,
    build,
    excluded_models,
    family_of,
    kind_of,
    model_facts,
    zoo_models,
)
from zeronas.spaces.timm_zoo.tables import in1k_results


class TimmZooSpace(SearchSpace):
    """ImageNet-1k-only timm models (2022), optionally one family ('resnet', 'mobilenetv2') or kind ('cnn', 'vit').

    `input_size` fixes the build resolution of every model (None: each model's own evaluation size);
    `for_dataset` sets it to the data set's resolution, so a sweep's batch fits fixed-size models.
    """

    name = "timm_zoo"
    resolution = 224
    num_classes = 1000

    def __init__(
        self,
        data_dir: str | os.PathLike | None = None,
        input_size: int | None = None,
        family: str | None = None,
        kind: str | None = None,
    ):
        if family is not None and family not in FAMILIES:
            raise InvalidInputError(f"timm_zoo family must be one of {', '.join(FAMILIES)}, got {family!r}")
        if kind is not None and kind not in KINDS:
            raise InvalidInputError(f"timm_zoo kind must be one of {', '.join(KINDS)}, got {kind!r}")
        self.data_dir = data_dir
        self.input_size = None if input_size is None else check_count(input_size, "input_size", 1)
        self.family = family
        self.kind = kind
        self._keys: list[str] | None = None

    # --- keys ---------------------------------------------------------------------------------
    def models(self) -> list[str]:
        """The models of this space, sorted by name (the family filter needs no build; the kind filter does)."""
        if self._keys is None:
            names = zoo_models(self.data_dir)
            if self.family is not None:
                names = [n for n in names if family_of(n) == self.family]
            if self.kind is not None:
                names = [n for n in names if self.kind_of(n) == self.kind]
            self._keys = names
        return self._keys

    def img_size(self, key: str) -> int:
        """The resolution the 2022 table evaluated `key` at (its ground truth's)."""
        return int(in1k_results(self.data_dir).loc[self.validate(key), "img_size"])

    def kind_of(self, key: str) -> str:
        """'cnn' or 'vit' (`model_kind` of the model, cached per name)."""
        return kind_of(key if key in in1k_results(self.data_dir).index else self.validate(key), self.data_dir)

    def validate(self, key: str) -> str:
        if not isinstance(key, str):
            raise InvalidArchError(f"timm_zoo key must be a timm model name, got {type(key).__name__}")
        text = key.strip().lower()
        keys = self.models()
        if text in keys:
            return text
        excluded = excluded_models(self.data_dir)
        if text in excluded:
            raise InvalidArchError(f"timm model {text!r} is not in timm_zoo: {excluded[text]}")
        if text in zoo_models(self.data_dir):
            what = f"family {self.family}" if self.family else f"kind {self.kind}"
            raise InvalidArchError(f"timm model {text!r} is not of {what}, the filter of this timm_zoo space")
        close = difflib.get_close_matches(text, keys, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise InvalidArchError(f"unknown timm_zoo model {key!r} (ImageNet-1k-only timm models of 2022){hint}")

    @property
    def size(self) -> int:
        return len(self.models())

    def enumerate(self) -> Iterator[str]:
        yield from self.models()

    def sample(self, rng: np.random.Generator) -> str:
        keys = self.models()
        return keys[int(rng.integers(len(keys)))]

    # --- variation ----------------------------------------------------------------------------
    def neighbours(self, key: str) -> list[str]:
        """The other models of the key's family when it has one here, else the other models of its kind."""
        key = self.validate(key)
        family = family_of(key)
        peers = [n for n in self.models() if n != key and family is not None and family_of(n) == family]
        if not peers:
            kind = self.kind_of(key)
            peers = [n for n in self.models() if n != key and self.kind_of(n) == kind]
        return peers

    def mutate(self, key: str, rng: np.random.Generator) -> str:
        """A uniform draw among `neighbours`; any other model of the space when the key has none."""
        options = self.neighbours(key) or [n for n in self.models() if n != self.validate(key)]
        if not options:
            raise InvalidArchError(f"timm_zoo space holds only {key!r}: nothing to mutate to")
        return options[int(rng.integers(len(options)))]

    def crossover(self, a: str, b: str, rng: np.random.Generator) -> str:
        """One of the two parents, uniformly: a list of models has no choices to mix."""
        a, b = self.validate(a), self.validate(b)
        return a if rng.random() < 0.5 else b

    def encode(self, key: str) -> np.ndarray:
        """[ln params, ln MACs at the eval size, 1 for a ViT, eval size / 224]; counted lazily, cached per name."""
        key = self.validate(key)
        size = self.img_size(key)
        facts = model_facts(key, size)
        params, macs = float(facts["params"]), float(facts["macs"])
        if not math.isfinite(macs) or macs <= 0:
            raise InvalidInputError(f"timm_zoo cannot encode {key!r}: its MACs at {size} px cannot be counted")
        vit = 1.0 if facts["kind"] == "vit" else 0.0
        return np.asarray([math.log(params), math.log(macs), vit, size / 224.0], dtype=np.float32)

    # --- models -------------------------------------------------------------------------------
    def for_dataset(self, dataset: str) -> SearchSpace:
        """This space with models built at the data set's resolution (kept when `input_size` is set)."""
        if self.input_size is not None:
            return self
        size = get_dataset(dataset).resolution
        return TimmZooSpace(self.data_dir, input_size=size, family=self.family, kind=self.kind)

    def build(
        self, key: str, num_classes: int | None = None, resolution: int | None = None, **kwargs: object
    ) -> nn.Module:
        """timm's model of `key` (pretrained=False) for `resolution` (else `input_size`, else its eval size) inputs."""
        if kwargs:
            raise InvalidInputError(f"unexpected options for timm_zoo build: {', '.join(kwargs)}")
        key = self.validate(key)
        if resolution is not None:
            resolution = check_count(resolution, "resolution", 1)
        classes = check_num_classes(num_classes, self.num_classes)
        return build(key, self.img_size(key), classes, resolution or self.input_size)
