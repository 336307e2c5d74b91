"""The built-in audit checks, one module each; importing this package registers them in :data:`BUILTIN` order."""

from importlib import import_module

__all__ = ["BUILTIN"]

#: The built-in checks in the order they run and are reported: the split's leaks first, then what the data says
#: about confounds and balance, then (given predictions) the model's scores.
BUILTIN = (
    "group_overlap",
    "temporal_overlap",
    "near_duplicates",
    "group_confound",
    "placement_shortcut",
    "class_balance",
    "prediction_clustering",
    "roc_below_chance",
    "calibration",
    "per_group_spread",
    "val_test_gap",
)

for _name in BUILTIN:
    import_module(f"{__name__}.{_name}")  # each module registers its check on import
