"""Hardware-aware Pareto studies (survey Fig 18-19): budgeted picks of each proxy against the true front.

`front` holds the fronts, budgeted picks, hypervolume and IGD; `study` gathers costs, proxy values
and ground truth for a set of candidates and runs a study; `timm_zoo` is the ImageNet-1k timm model
space of the survey's hardware study; `plot` draws one panel per proxy.
"""
