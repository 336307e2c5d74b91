"""hardneg: honest negatives, splits and evaluation for event detectors.

The Python API mirrors the command line:

>>> from hardneg import build_dataset, InputOptions, SamplingConfig, Dataset
>>> import tempfile, numpy as np, pandas as pd
>>> tmp = tempfile.TemporaryDirectory()
>>> log = pd.DataFrame({"t_ms": np.arange(0.0, 20000.0, 10.0), "ax": np.sin(np.arange(2000) / 7), "az": 9.8})
>>> log.to_parquet(f"{tmp.name}/s01.parquet")
>>> pd.DataFrame({"recording": ["s01", "s01"], "t_ms": [3000.0, 7000.0]}).to_csv(f"{tmp.name}/events.csv")
>>> ds = build_dataset([f"{tmp.name}/s01.parquet"], f"{tmp.name}/shots",
...                    inputs=InputOptions(events=f"{tmp.name}/events.csv"), config=SamplingConfig(neg_mult=2))
>>> Dataset.load(f"{tmp.name}/shots").index.kind.value_counts().sort_index().to_dict()
{'far': 2, 'near': 2, 'pos': 2}
>>> tmp.cleanup()
"""

from importlib.metadata import PackageNotFoundError, version

from hardneg.build import DatasetRecipe, InputOptions, build_dataset, read_inputs, recipe_of
from hardneg.dataset import Dataset, write_dataset
from hardneg.errors import InputError
from hardneg.sample import SampledWindows, SamplingConfig, WindowSampler, sample_windows

try:
    __version__ = version("hardneg")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "Dataset",
    "DatasetRecipe",
    "InputError",
    "InputOptions",
    "SampledWindows",
    "SamplingConfig",
    "WindowSampler",
    "build_dataset",
    "read_inputs",
    "recipe_of",
    "sample_windows",
    "write_dataset",
]
