"""Cost of an architecture on a device: counted, measured, tabulated or predicted, with units."""

from zeronas.hardware.costs import CostModel, get_cost, list_costs, register_cost

__all__ = ["CostModel", "get_cost", "list_costs", "register_cost"]
