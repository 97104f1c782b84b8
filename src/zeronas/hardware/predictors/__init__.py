"""Learned cost predictors: layer-wise lookup tables, MLP and GCN on the cell, few-shot device transfer."""

from zeronas.hardware.predictors.base import Predictor
from zeronas.hardware.predictors.cost import PredictedCost, known_costs, make_predictor
from zeronas.hardware.predictors.features import cell_graph, flat_features, graph_features
from zeronas.hardware.predictors.gcn import GCNPredictor
from zeronas.hardware.predictors.lut import LookupTablePredictor, OpLatencyTable, measure_op_table
from zeronas.hardware.predictors.metrics import predictor_metrics
from zeronas.hardware.predictors.mlp import MLPPredictor
from zeronas.hardware.predictors.transfer import FewShotTransfer

__all__ = [
    "FewShotTransfer",
    "GCNPredictor",
    "LookupTablePredictor",
    "MLPPredictor",
    "OpLatencyTable",
    "PredictedCost",
    "Predictor",
    "cell_graph",
    "flat_features",
    "graph_features",
    "known_costs",
    "make_predictor",
    "measure_op_table",
    "predictor_metrics",
]
