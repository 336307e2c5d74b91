"""Test-time augmentation: score several clips around each evaluated window and aggregate them.

A detector scored on one window per event depends on where that window was
cut; scoring ``clips`` windows ``spacing_ms`` apart, centred on it, and taking
their mean (or max) asks whether the event is found wherever the window
falls. The clips are cut from the recordings the dataset was built from (its
recipe in ``meta.json``), on the same sample grid as the dataset's windows;
a clip that would run past either end of its recording is left out, so a
window at the edge is scored on the clips that fit (the window itself always
does).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from hardneg.dataset import Dataset
from hardneg.experiment._config import TTA

__all__ = ["clip_windows", "tta_scores"]


@lru_cache(maxsize=4)
def _recordings(dataset_path: str) -> dict:
    """The dataset's recordings by id, read once per process (every run of a worker reuses them)."""
    from hardneg.build import read_inputs, recipe_of

    recipe = recipe_of(dataset_path)
    recordings, _ = read_inputs(list(recipe.paths), recipe.inputs)
    return {recording.id: recording for recording in recordings}


def clip_windows(dataset: Dataset, ids: np.ndarray, tta: TTA, recordings: dict | None = None):
    """The clips of windows ``ids``: ``(windows, rows, valid)``.

    ``windows`` is ``(len(ids) * clips, C, T)`` float32 (clip ``k`` of window ``i`` at row ``i * clips + k``),
    ``rows`` repeats each id ``clips`` times, ``valid`` says which clips lie inside their recording. A window
    whose recording is not among ``recordings`` (a hard negative from a pool item) has its own window as
    its only valid clip.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from hardneg.io import Recording
    >>> from hardneg.dataset import write_dataset
    >>> signal = np.arange(100.0)
    >>> index = pd.DataFrame({"window_id": [0, 1], "label": [1, 0], "recording": "r", "group": "r",
    ...                       "start_sample": [0, 50], "start_ms": [0.0, 500.0], "end_ms": [100.0, 600.0]})
    >>> tmp = tempfile.TemporaryDirectory()
    >>> windows = np.stack([signal[0:10], signal[50:60]])[:, None, :]
    >>> ds = write_dataset(f"{tmp.name}/ds", windows, index, {"channels": ["x"], "sample_rate_hz": 100.0})
    >>> rec = Recording("r", "r", 0.0, 100.0, ["x"], [signal], "r.csv")
    >>> clips, rows, valid = clip_windows(ds, np.array([0, 1]), TTA(3, 20.0), {"r": rec})
    >>> clips[:, 0, 0].tolist(), rows.tolist(), valid.tolist()
    ([0.0, 0.0, 2.0, 48.0, 50.0, 52.0], [0, 0, 0, 1, 1, 1], [False, True, True, True, True, True])
    >>> tmp.cleanup()
    """
    ids = np.asarray(ids, dtype=np.intp)
    recordings = _recordings(str(dataset.path)) if recordings is None else recordings
    rate = float(dataset.meta["sample_rate_hz"])
    offsets = np.rint(np.array(tta.offsets_ms()) * rate / 1000.0).astype(np.int64)
    length = dataset.windows.shape[2]
    channels = list(dataset.meta.get("channels") or [])
    out = np.repeat(np.asarray(dataset.windows[ids], dtype=np.float32), tta.clips, axis=0)
    valid = np.zeros(len(out), dtype=bool)
    valid[np.arange(len(ids)) * tta.clips + tta.clips // 2] = tta.clips % 2 == 1
    index = dataset.index.iloc[ids]
    recording_ids = index["recording"].astype(str).to_numpy()
    starts = index["start_sample"].to_numpy(dtype=np.int64)
    for recording_id in np.unique(recording_ids):
        recording = recordings.get(recording_id)
        mine = np.flatnonzero(recording_ids == recording_id)
        if recording is None:
            continue
        order = [recording.channels.index(name) for name in channels] if channels else range(len(recording.data))
        data = np.stack([np.asarray(recording.data[i], dtype=np.float32) for i in order])  # (C, n_samples)
        clip_starts = starts[mine, None] + offsets[None, :]  # (windows, clips)
        inside = (clip_starts >= 0) & (clip_starts + length <= recording.n_samples)
        safe = np.where(inside, clip_starts, 0)
        samples = safe[..., None] + np.arange(length)  # (windows, clips, T)
        cut = data[:, samples].transpose(1, 2, 0, 3)  # (windows, clips, C, T)
        rows = (mine[:, None] * tta.clips + np.arange(tta.clips)).ravel()
        out[rows] = np.where(inside.ravel()[:, None, None], cut.reshape(-1, *cut.shape[2:]), out[rows])
        valid[rows] = inside.ravel()
    # a window whose recording was not read, or an even number of clips: its own window stands in where none fit
    none = ~valid.reshape(len(ids), tta.clips).any(axis=1)
    valid[np.flatnonzero(none) * tta.clips] = True
    return out, np.repeat(ids, tta.clips), valid


def tta_scores(
    dataset: Dataset,
    ids: np.ndarray,
    tta: TTA,
    score: Callable[[np.ndarray, np.ndarray], np.ndarray],
    recordings: dict | None = None,
) -> tuple[np.ndarray, int]:
    """Each window's aggregated score over its valid clips, and how many clips were scored.

    ``score(windows, rows)`` scores clips whose index rows are ``rows``.
    """
    windows, rows, valid = clip_windows(dataset, ids, tta, recordings)
    found = np.full(len(windows), np.nan)
    found[valid] = score(windows[valid], rows[valid])
    per_window = found.reshape(len(ids), tta.clips)
    aggregate = np.nanmax if tta.aggregate == "max" else np.nanmean
    return aggregate(per_window, axis=1), int(valid.sum())
