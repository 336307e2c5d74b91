"""hardneg: honest negatives, splits and evaluation for event detectors.

The Python API mirrors the command line:

>>> from hardneg import build_dataset, InputOptions, SamplingConfig, Dataset
>>> ds = build_dataset(["s01.parquet"], "shots", inputs=InputOptions(events="events.csv"))  # doctest: +SKIP
>>> Dataset.load("shots").index.kind.value_counts()  # doctest: +SKIP
"""

from importlib.metadata import PackageNotFoundError, version

from hardneg.build import InputOptions, build_dataset, read_inputs
from hardneg.dataset import Dataset, write_dataset
from hardneg.errors import InputError
from hardneg.sample import SampledWindows, SamplingConfig, WindowSampler, sample_windows

try:
    __version__ = version("hardneg")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "Dataset",
    "InputError",
    "InputOptions",
    "SampledWindows",
    "SamplingConfig",
    "WindowSampler",
    "build_dataset",
    "read_inputs",
    "sample_windows",
    "write_dataset",
]
