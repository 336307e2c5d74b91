"""Hard negatives: windows a model wrongly scored high (from ``hardneg mine``), added as ``kind = hard``.

The mined windows arrive already read (:func:`hardneg.mine.read_mined` reads a mining
folder; :func:`hardneg.build.build_dataset` passes them on): sampling never reads mining outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hardneg.io import SAMPLE_TOLERANCE, Recording
from hardneg.sample._candidates import event_geometry
from hardneg.sample._config import SamplingConfig
from hardneg.sample._motion import WindowStatistics


@dataclass
class HardNegatives:
    """Mined windows to add, and the recordings they come from that are not otherwise sampled.

    Attributes
    ----------
    windows : pandas.DataFrame
        ``recording, start_ms, end_ms, score``: each becomes a window of the dataset's length centred on it.
    recordings : list of Recording
        Pool recordings that only provide hard negatives (no positives, no other negatives are drawn from them).
    """

    windows: pd.DataFrame
    recordings: list[Recording] = field(default_factory=list)


def hard_windows(
    recordings: Sequence[Recording],
    hard: HardNegatives,
    events: pd.DataFrame,
    config: SamplingConfig,
    length: int,
) -> tuple[dict, dict]:
    """Index rows for the hard negatives that fit, hold no NaN and overlap no event's exclusion zone.

    ``recordings`` are all recordings of the dataset (sampled ones first, then hard-only sources); the
    returned ``recording`` column indexes into them.
    """
    position = {recording.id: index for index, recording in enumerate(recordings)}
    table = hard.windows
    counts = {"requested": len(table), "unknown_recording": 0, "outside_recording": 0, "contains_nan": 0,
              "exclusion_zone": 0, "added": 0}  # fmt: skip
    parts = []
    for recording_id, block in table.groupby("recording", sort=True):
        if recording_id not in position:
            counts["unknown_recording"] += len(block)
            continue
        recording = recordings[position[recording_id]]
        centre = (block["start_ms"].to_numpy(np.float64) + block["end_ms"].to_numpy(np.float64)) / 2.0
        start_ms = centre - config.window_ms / 2.0
        first = recording.first_sample_at_or_after(start_ms)
        fits = (first >= 0) & (first + length <= recording.n_samples)
        counts["outside_recording"] += int((~fits).sum())
        start_ms, first = start_ms[fits], first[fits]
        statistics = WindowStatistics(
            recording, length, accel_weight=config.motion_accel_weight, gyro_cols=config.gyro_cols,
            accel_cols=config.accel_cols,
        )  # fmt: skip
        clean = statistics.nan_free(first)
        if clean is not None:
            counts["contains_nan"] += int((~clean).sum())
            start_ms, first = start_ms[clean], first[clean]
        own = events[events["recording"] == recording_id]
        if len(own):
            tolerance = SAMPLE_TOLERANCE * recording.step_ms
            geometry = event_geometry(own, config)
            zone_start, zone_end = geometry.zone_start_ms, geometry.zone_end_ms
            end_ms = start_ms + config.window_ms
            # few mined windows and events per recording: a pairwise test is clear and cheap
            overlaps = ((zone_start[None, :] < end_ms[:, None] - tolerance)
                        & (zone_end[None, :] > start_ms[:, None] + tolerance)).any(axis=1)  # fmt: skip
            counts["exclusion_zone"] += int(overlaps.sum())
            start_ms, first = start_ms[~overlaps], first[~overlaps]
        counts["added"] += len(first)
        parts.append(
            {
                "recording": np.full(len(first), position[recording_id], dtype=np.int64),
                "start_ms": start_ms,
                "end_ms": start_ms + config.window_ms,
                "label": np.zeros(len(first), dtype=np.int8),
                "kind": np.full(len(first), "hard", dtype=object),
                "event_id": np.full(len(first), -1, dtype=np.int64),
                "event_t_ms": np.full(len(first), np.nan),
                "motion": statistics.motion(first) if len(first) else np.empty(0),
                "start_sample": first.astype(np.int64),
            }
        )
    return parts, counts
