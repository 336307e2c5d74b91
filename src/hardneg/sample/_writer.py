"""Sampled windows onto disk: the sampler's outcome as the arrays, index and meta a dataset is written from."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hardneg._progress import ProgressReporter
from hardneg.dataset import Dataset, write_dataset
from hardneg.io import Recording
from hardneg.sample._sampler import SampledWindows

__all__ = ["sampled_meta", "write_sampled"]


class _Extraction:
    """The windows of ``sampled``, copied from the recordings straight into the array being written."""

    def __init__(self, sampled: SampledWindows, recordings: Sequence[Recording], progress: ProgressReporter | None):
        self.sampled = sampled
        self.recordings = recordings
        self.progress = progress
        self.shape = (len(sampled), len(sampled.channels), sampled.samples_per_window)

    def write_into(self, out: np.ndarray) -> None:
        # Chunks of about 2**20 samples per channel: the int64 sample indices of 4,096 one-second 48 kHz windows
        # alone would take 1.5 GiB.
        per_chunk = int(min(4096, max(1, 2**20 // max(1, self.sampled.samples_per_window))))
        self.sampled.extract(self.recordings, out=out, progress=self.progress, chunk_windows=per_chunk)


def sampled_meta(sampled: SampledWindows, recordings: Sequence[Recording], meta: dict | None = None) -> dict:
    """``meta`` with what the sampling adds: counts, channels, rate, window shape and the recordings used.

    Parameters
    ----------
    sampled : SampledWindows
    recordings : sequence of Recording
        The recordings ``sampled`` was drawn from.
    meta : dict, optional
        Entries of the caller (parameters, inputs), kept first.

    Returns
    -------
    dict
    """
    shape = (len(sampled), len(sampled.channels), sampled.samples_per_window)
    return {
        **(meta or {}),
        "counts": sampled.report,
        "channels": sampled.channels,
        "samples_per_window": sampled.samples_per_window,
        "sample_rate_hz": sampled.sample_rate_hz,
        "windows_shape": list(shape),
        "recordings": [
            {
                "id": recording.id,
                "group": recording.group,
                "source": recording.source,
                "n_samples": recording.n_samples,
                "t0_ms": recording.t0_ms,
                "end_ms": recording.end_ms,
                "channels": recording.channels,
            }
            for recording in recordings
        ],
    }


def write_sampled(
    out_dir: str | Path,
    sampled: SampledWindows,
    recordings: Sequence[Recording],
    *,
    meta: dict | None = None,
    overwrite: bool = False,
    progress: ProgressReporter | None = None,
) -> Dataset:
    """Write sampled windows as a dataset directory (:func:`hardneg.dataset.write_dataset`), atomically.

    The windows are copied from the recordings straight into ``windows.npy``.

    Parameters
    ----------
    out_dir : path
    sampled : SampledWindows
    recordings : sequence of Recording
        The recordings ``sampled`` was drawn from (their samples are copied).
    meta : dict, optional
        Extra entries (parameters, inputs); counts, shapes and versions are added.
    overwrite : bool
        Replace an existing non-empty ``out_dir``.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from hardneg.sample import SamplingConfig, sample_windows
    >>> recordings = [Recording("s01", "s01", 0.0, 100.0, ["ax"], [np.sin(np.arange(2000) / 7)], "s01.csv")]
    >>> config = SamplingConfig(neg_mult=2)
    >>> sampled = sample_windows(recordings, pd.DataFrame({"recording": ["s01"], "t_ms": [3000.0]}), config)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     ds = write_sampled(f"{tmp}/shots", sampled, recordings, meta={"parameters": config.to_dict()})
    ...     ds.windows.shape, int(ds.labels.sum()), ds.meta["parameters"]["neg_mult"]
    ((3, 1, 50), 1, 2.0)
    """
    return write_dataset(
        out_dir,
        _Extraction(sampled, recordings, progress),
        sampled.index,
        sampled_meta(sampled, recordings, meta),
        overwrite=overwrite,
    )
