"""The timm ImageNet model zoo: ImageNet-1k-only timm models of January 2022, their ImageNet top-1.

`tables` reads the timm tables of the data directory (also for the timm Pareto study), `models` decides
which 2022 names the installed timm builds, their kind (CNN / ViT, from their modules) and family,
`space` holds the keys and variation operators. `benchmarks/timm_zoo_build.py` builds every model once
and writes `benchmarks/results/timm_zoo_models.json` (kind, family, params, MACs, or why not buildable).
"""

from zeronas.spaces.benchmark import Benchmark
from zeronas.spaces.timm_zoo.models import (
    FAMILIES,
    excluded_models,
    family_of,
    kind_of,
    model_kind,
    zoo_models,
    zoo_subsets,
)
from zeronas.spaces.timm_zoo.space import TimmZooSpace
from zeronas.spaces.timm_zoo.tables import (
    TABLE_HINT,
    TIMM_METADATA,
    TIMM_RESULTS,
    TIMM_ZOO_DATASETS,
    in1k_results,
    timm_zoo_top1,
)

SPACE = TimmZooSpace
#: imagenet64 by default: the 1,000-image 64 px batch, the cheap setting a zoo of up to 900M-parameter models needs
BENCHMARK = Benchmark(
    name="timm_zoo",
    description="timm ImageNet-1k-only models of January 2022 (the 2022 results table's in1k models timm builds)",
    datasets=TIMM_ZOO_DATASETS,
    default_dataset="imagenet64",
    default_proxies="synflow",
    default_cost="macs",
    truth=timm_zoo_top1,
    metrics=("top1",),
    truth_label="ImageNet top-1 %",
    truth_hint=TABLE_HINT,
    subsets=zoo_subsets,
    survey_claims=(
        ("cnn", "survey Fig 15 (~200 timm CNNs trained on ImageNet-1k only): #Params and #FLOPs correlate best"),
        ("vit", "survey Fig 17 (~100 timm ViTs trained on ImageNet-1k only): #Params and #FLOPs correlate best"),
        (
            "resnet",
            "survey Fig 11 (ResNet/WRN family): SNIP, Zen-score, #Params, #FLOPs and NN-Mass reach Spearman > 0.9",
        ),
        (
            "mobilenetv2",
            "survey Fig 12 (a MobileNetV2 family): Grad_norm, SNIP, Fisher, Synflow, Zen-score and NN-Mass work best; "
            "here the family is timm's in1k MobileNetV2 widths only",
        ),
    ),
    data_files=(
        (TIMM_METADATA, "how each 2022 timm model was pretrained"),
        (TIMM_RESULTS, "ImageNet-1k top-1 of the 2022 timm models (timm_zoo ground truth)"),
    ),
)

__all__ = [
    "BENCHMARK",
    "FAMILIES",
    "SPACE",
    "TimmZooSpace",
    "excluded_models",
    "family_of",
    "in1k_results",
    "kind_of",
    "model_kind",
    "timm_zoo_top1",
    "zoo_models",
    "zoo_subsets",
]
