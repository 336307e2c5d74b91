"""The window sampler: positive windows per event, negative windows by strategy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hardneg._progress import ProgressReporter, resolve
from hardneg._schema import INDEX_COLUMNS as SCHEMA_INDEX_COLUMNS
from hardneg._schema import KINDS, check_columns
from hardneg._validation import check_seed
from hardneg._validation import rng as make_rng
from hardneg.errors import InputError
from hardneg.io import EVENT_COLUMNS, SAMPLE_TOLERANCE, Recording, channel_layouts, samples_per_window
from hardneg.sample._candidates import CandidatePool, MaskIndex, event_geometry, filter_candidates
from hardneg.sample._config import SamplingConfig
from hardneg.sample._draw import SeparationGuard, draw_with_replacement, draw_without_replacement
from hardneg.sample._hard import HardNegatives, hard_windows
from hardneg.sample._labelled import LABELLED_COUNTS, cap_labelled, labelled_windows
from hardneg.sample._motion import WindowStatistics
from hardneg.sample._negatives import NEGATIVE_POOLS, NEGATIVE_STRATEGIES
from hardneg.sample._shortfall import no_negative_warning, no_positive_error, shortfall_warnings

__all__ = [
    "INDEX_COLUMNS",
    "KINDS",
    "SampledWindows",
    "WindowSampler",
    "check_events",
    "check_recordings",
    "sample_windows",
    "samples_per_window",
]

#: the index columns, as a list (it selects DataFrame columns)
INDEX_COLUMNS = list(SCHEMA_INDEX_COLUMNS)


@dataclass
class SampledWindows:
    """The outcome of sampling: one index row per window, and what happened on the way.

    Attributes
    ----------
    index : pandas.DataFrame
        ``window_id, recording, group, start_ms, end_ms, label, kind, event_id,
        event_t_ms, motion, start_sample``, sorted by ``window_id``.
    samples_per_window : int
        ``T``, the last axis of the window array.
    sample_rate_hz : float
    channels : list of str
        Channel names of the first recording (positions are what is stacked).
    report : dict
        Counts: events used and skipped, candidates removed by each constraint,
        negatives requested and achieved per kind. Stored as ``meta.json["counts"]``.
    """

    index: pd.DataFrame
    samples_per_window: int
    sample_rate_hz: float
    channels: list[str]
    report: dict = field(default_factory=dict)
    recordings: list[str] = field(default_factory=list)  # ids of every recording the windows come from

    def __len__(self) -> int:
        return len(self.index)

    def extract(
        self,
        recordings: Sequence[Recording],
        out: np.ndarray | None = None,
        progress: ProgressReporter | None = None,
        chunk_windows: int = 4096,
    ) -> np.ndarray:
        """Copy every window's samples into ``out`` (N, channels, T) float32, created if not given."""
        count, channels, length = len(self.index), len(self.channels), self.samples_per_window
        if out is None:
            out = np.empty((count, channels, length), dtype=np.float32)
        by_id = {recording.id: recording for recording in recordings}
        codes, ids = pd.factorize(self.index["recording"], sort=False)
        starts = self.index["start_sample"].to_numpy(np.int64)
        offsets = np.arange(length, dtype=np.int64)
        work = [(by_id[recording_id], np.flatnonzero(codes == code)) for code, recording_id in enumerate(ids)]
        chunks = [(rec, rows[i : i + chunk_windows]) for rec, rows in work for i in range(0, len(rows), chunk_windows)]
        for recording, rows in resolve(progress).track(chunks, total=len(chunks), description="Writing windows"):
            sample_index = starts[rows, None] + offsets
            for channel, values in enumerate(recording.data):
                out[rows, channel, :] = values[sample_index]
        return out


class WindowSampler:
    """Cut labelled windows out of recordings.

    Positives: one window per event (``align="end"``: ``[t - lead - window,
    t - lead)``; ``"center"``: ``[t - window/2, t + window/2)``). Negatives:
    ``neg_mult`` per positive, drawn from candidate windows that hold no NaN,
    keep away from the chosen recording edges and overlap no event's exclusion
    zone ``[w_start, max(w_end, t, end_ms) + neg_avoid_post_ms)``, by strategy
    ``near``, ``far``, ``mixed`` or ``uniform``, optionally filtered by motion,
    with a minimum start separation per recording.

    Parameters
    ----------
    config : SamplingConfig, optional
    seed : int
        Same inputs and seed give the same windows.

    Examples
    --------
    Two 20-second recordings at 100 Hz with three events between them:

    >>> recordings = [Recording(r, r, 0.0, 100.0, ["ax"], [np.sin(np.arange(2000) / 7)], f"{r}.csv")
    ...               for r in ("s01", "s02")]
    >>> events = pd.DataFrame({"recording": ["s01", "s01", "s02"], "t_ms": [3000.0, 7000.0, 5000.0]})
    >>> sampler = WindowSampler(SamplingConfig(neg_strategy="far", neg_mult=2), seed=0)
    >>> windows = sampler.sample(recordings, events)
    >>> windows.index.kind.value_counts().to_dict(), windows.samples_per_window
    ({'far': 6, 'pos': 3}, 50)
    """

    def __init__(self, config: SamplingConfig | None = None, *, seed: int = 0):
        self.config = config if config is not None else SamplingConfig()
        self.seed = seed

    def sample(
        self,
        recordings: Sequence[Recording],
        events: pd.DataFrame,
        progress: ProgressReporter | None = None,
        hard: HardNegatives | None = None,
    ) -> SampledWindows:
        """Validate the inputs, seed the generator and sample (adding mined ``hard`` negatives when given)."""
        config = self.config  # checked when it was made
        seed = check_seed(self.seed)
        known = {recording.id for recording in recordings}
        extra = [recording for recording in (hard.recordings if hard else []) if recording.id not in known]
        rate, length, warnings = check_recordings([*recordings, *extra], config.window_ms)
        events = check_events(events, recordings)
        warnings = [*warnings, *events.attrs.get("warnings", [])]
        generator = make_rng(seed)
        return _sample(recordings, events, config, rate, length, generator, warnings, resolve(progress), hard, extra)


def sample_windows(
    recordings: Sequence[Recording],
    events: pd.DataFrame,
    config: SamplingConfig | None = None,
    *,
    seed: int = 0,
    progress: ProgressReporter | None = None,
    hard: HardNegatives | None = None,
) -> SampledWindows:
    """Sample positive and negative windows; see :class:`WindowSampler`.

    Examples
    --------
    Recordings usually come from :func:`hardneg.io.read_sensor_logs` and events
    from :func:`hardneg.io.read_events_csv`; here they are made in memory:

    >>> recordings = [Recording(r, r, 0.0, 100.0, ["ax"], [np.sin(np.arange(2000) / 7)], f"{r}.csv")
    ...               for r in ("s01", "s02")]
    >>> events = pd.DataFrame({"recording": ["s01", "s01", "s02"], "t_ms": [3000.0, 7000.0, 5000.0]})
    >>> windows = sample_windows(recordings, events, SamplingConfig(neg_mult=2), seed=0)
    >>> windows.index.kind.value_counts().sort_index().to_dict()
    {'far': 3, 'near': 3, 'pos': 3}
    >>> windows.index.query("kind == 'pos'")[["recording", "start_ms", "end_ms"]].values.tolist()
    [['s01', 2400.0, 2900.0], ['s01', 6400.0, 6900.0], ['s02', 4400.0, 4900.0]]
    """
    return WindowSampler(config, seed=seed).sample(recordings, events, progress=progress, hard=hard)


def check_recordings(recordings: Sequence[Recording], window_ms: float) -> tuple[float, int, list[str]]:
    """Common sample rate, samples per window and warnings; refuse what cannot be stacked."""
    if not recordings:
        raise InputError("no recordings to sample from")
    ids = [recording.id for recording in recordings]
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise InputError(f"recording id {duplicate!r} appears twice; recording ids must be unique")
    timed = [recording for recording in recordings if recording.n_samples >= 2]
    reference = timed[0] if timed else recordings[0]
    warnings: list[str] = []
    for recording in timed:
        if abs(recording.sample_rate_hz - reference.sample_rate_hz) > 1e-9 * reference.sample_rate_hz:
            raise InputError(
                f"{recording.source}: sample rate {recording.sample_rate_hz:g} Hz differs from "
                f"{reference.sample_rate_hz:g} Hz in {reference.source}; pass --resample-hz to put all on one rate"
            )
    for recording in recordings:
        if len(recording.channels) != len(reference.channels):
            raise InputError(
                f"{recording.source}: {len(recording.channels)} channels ({', '.join(recording.channels)}) but "
                f"{reference.source} has {len(reference.channels)}; choose common channels with --channels"
            )
    described = channel_layouts(recordings)  # allowed by --allow-mixed-channels, or made in memory
    if described:
        warnings.append(
            f"channel names differ across recordings and windows stack channels by position: {described}; "
            "pass --channels to keep only named channels every recording has"
        )
    length = samples_per_window(window_ms, reference.sample_rate_hz)
    if length < 1:
        raise InputError(
            f"window_ms {window_ms:g} holds no whole sample at {reference.sample_rate_hz:g} Hz; "
            f"use at least {1000.0 / reference.sample_rate_hz:g}",
            parameter="window_ms",
        )
    return reference.sample_rate_hz, length, warnings


def check_events(events: pd.DataFrame, recordings: Sequence[Recording]) -> pd.DataFrame:
    """The events table with its standard columns, on known recordings, sorted per recording by time."""
    check_columns(events, ("recording", "t_ms"), "events table")
    warnings = list(events.attrs.get("warnings", []))
    events = events.copy()
    # ``negative``: a labelled look-alike that anchors a ``labelled`` negative (see hardneg.io.select_events)
    events["negative"] = events["negative"].astype(bool) if "negative" in events.columns else False
    if "end_ms" not in events.columns:
        events["end_ms"] = events["t_ms"]
    if "label" not in events.columns:
        events["label"] = None
    if "event_id" not in events.columns:
        events["event_id"] = np.arange(len(events), dtype=np.int64)
    events["recording"] = events["recording"].astype(str)
    known = {recording.id for recording in recordings}
    unknown = sorted(set(events["recording"]) - known)
    if unknown:
        raise InputError(f"events name recording(s) {', '.join(unknown[:5])} that are not among the inputs")
    events["t_ms"] = events["t_ms"].astype(np.float64)
    events["end_ms"] = np.fmax(events["end_ms"].astype(np.float64), events["t_ms"])
    checked = events[[*EVENT_COLUMNS, "negative"]].sort_values(["recording", "t_ms", "event_id"], kind="stable")
    checked = checked.reset_index(drop=True)
    checked.attrs["warnings"] = warnings
    return checked


def _candidate_starts(recording: Recording, n_starts: int, hop_ms: float | None) -> np.ndarray | None:
    """Start samples of candidate windows every ``hop_ms``; None for every sample (kept implicit: no array)."""
    if hop_ms is None:
        return None
    last_start_ms = recording.sample_time_ms(n_starts - 1)
    steps = int(np.floor((last_start_ms - recording.t0_ms) / hop_ms + SAMPLE_TOLERANCE)) + 1
    starts = np.unique(recording.first_sample_at_or_after(recording.t0_ms + np.arange(steps) * hop_ms))
    return starts[starts < n_starts]


def _empty_report(recordings: Sequence[Recording]) -> dict:
    return {
        "recordings": len(recordings),
        "recordings_too_short": [],
        "events": {"total": 0, "used": 0, "dropped_min_gap": 0, "outside_recording": 0, "contains_nan": 0},
        "positives": 0,
        "negatives": {"requested": {}, "achieved": {}, "shortfall": {}},
        "candidates": {"total": 0, "removed": {"contains_nan": 0, "edges": 0, "exclusion_zone": 0}, "remaining": 0},
        "pools": {},
        "windows": 0,
        "warnings": [],
    }


def _sample(
    recordings: Sequence[Recording],
    events: pd.DataFrame,
    config: SamplingConfig,
    rate: float,
    length: int,
    rng: np.random.Generator,
    warnings: list[str],
    progress: ProgressReporter,
    hard: HardNegatives | None = None,
    hard_only: Sequence[Recording] = (),
) -> SampledWindows:
    report = _empty_report(recordings)
    report["warnings"] = list(warnings)
    all_events = events
    labelled_events = events[events["negative"].to_numpy()]
    events = events[~events["negative"].to_numpy()]
    report["events"]["total"] = len(events)
    events_by_recording = {key: frame for key, frame in events.groupby("recording", sort=False)}
    labelled_by_recording = {key: frame for key, frame in labelled_events.groupby("recording", sort=False)}
    if len(labelled_events):
        report["labelled"] = {key: 0 for key in LABELLED_COUNTS}
        report["labelled"]["events"] = len(labelled_events)
    positives: list[dict] = []
    labelled: list[dict] = []
    candidates: list[dict] = []

    for recording_index, recording in enumerate(
        progress.track(recordings, total=len(recordings), description="Sampling windows")
    ):
        frame = events_by_recording.get(recording.id, events.iloc[0:0])
        geometry = event_geometry(frame, config)
        t_ms = geometry.t_ms

        n_samples = recording.n_samples
        if n_samples < max(length, 2):
            report["recordings_too_short"].append(recording.id)
            report["events"]["outside_recording"] += len(t_ms)
            if recording.id in labelled_by_recording:
                report["labelled"]["outside_recording"] += len(labelled_by_recording[recording.id])
            continue
        statistics = WindowStatistics(
            recording,
            length,
            accel_weight=config.motion_accel_weight,
            gyro_cols=config.gyro_cols,
            accel_cols=config.accel_cols,
        )
        n_starts = n_samples - length + 1
        motion_by_start, nan_free_by_start = statistics.every_window()
        report.setdefault("motion_formula", statistics.formula)
        del statistics  # the prefix sums are the largest arrays; free them before the candidates

        positives.append(
            _positive_windows(
                recording,
                recording_index,
                frame,
                geometry.positive_start_ms,
                length,
                motion_by_start,
                nan_free_by_start,
                config,
                report["events"],
            )
        )

        if recording.id in labelled_by_recording:
            labelled.append(
                labelled_windows(
                    recording, recording_index, labelled_by_recording[recording.id], geometry, length,
                    motion_by_start, nan_free_by_start, config, report["labelled"],
                )
            )  # fmt: skip

        # Candidate negatives: windows starting on a sample, filtered in a fixed, reported order.
        starts = _candidate_starts(recording, n_starts, config.neg_candidate_hop_ms)
        report["candidates"]["total"] += n_starts if starts is None else len(starts)
        survivors = filter_candidates(
            recording,
            starts,
            n_starts,
            nan_free_by_start,
            geometry,
            window_ms=config.window_ms,
            avoid_edges=config.neg_avoid_edges,
            edge_ms=config.edge_ms,
            near_max_ms=config.near_max_ms,
            far_min_ms=config.far_min_ms,
            removed=report["candidates"]["removed"],
        )
        survivors["recording"] = recording_index
        survivors["motion"] = motion_by_start[survivors["start_sample"]]
        candidates.append(survivors)
        del motion_by_start, nan_free_by_start

    positive = _concatenate(positives)
    n_positive = len(positive.get("start_ms", ()))
    report["events"]["used"] = n_positive
    report["positives"] = n_positive
    if n_positive == 0:
        raise no_positive_error(report["events"], events, recordings)
    candidate = CandidatePool(candidates, list(recordings))
    del candidates
    report["candidates"]["remaining"] = len(candidate)
    negatives = _draw_negatives(candidate, positive["motion"], n_positive, config, rate, rng, report)
    all_recordings = [*recordings, *hard_only]
    extra_parts = []
    if hard is not None:
        extra_parts, report["hard"] = hard_windows(all_recordings, hard, events, config, length)
    if labelled:
        # drawn after every other kind, so that adding look-alikes leaves the other draws as they were
        extra_parts.append(cap_labelled(_concatenate(labelled), config, rng, report["labelled"]))
    index = _build_index(all_recordings, positive, candidate, negatives, config, extra_parts, all_events)
    report["windows"] = len(index)
    report["negatives"]["achieved"] = {
        kind: int((index["kind"] == kind).sum()) for kind in KINDS[1:] if (index["kind"] == kind).any()
    }
    for kind, requested in report["negatives"]["requested"].items():
        report["negatives"]["shortfall"][kind] = max(0, requested - report["negatives"]["achieved"].get(kind, 0))
    if (index["label"] == 0).any():
        report["warnings"].extend(shortfall_warnings(report, config.to_dict()))
    else:  # written (the positives may still serve), but said loudly
        if sum(report["negatives"]["requested"].values()) > 0:
            report["warnings"].append(no_negative_warning(report))
        else:
            report["warnings"].append(
                "the dataset holds no negative window (neg_mult 0, and no labelled or hard negatives): a detector "
                "cannot be trained or evaluated on it"
            )
    return SampledWindows(
        index=index,
        samples_per_window=length,
        sample_rate_hz=rate,
        channels=list(recordings[0].channels),
        report=report,
        recordings=[recording.id for recording in all_recordings],
    )


def _positive_windows(
    recording: Recording,
    recording_index: int,
    events: pd.DataFrame,
    window_start: np.ndarray,
    length: int,
    motion_by_start: np.ndarray,
    nan_free_by_start: np.ndarray | None,
    config: SamplingConfig,
    counts: dict,
) -> dict:
    """One window per event that survives the gap rule, fits the recording and holds no NaN; the rest counted."""
    t_ms = events["t_ms"].to_numpy(np.float64)
    too_close = np.zeros(len(t_ms), dtype=bool)
    if config.min_event_gap_ms > 0 and len(t_ms) > 1:
        too_close[1:] = np.diff(t_ms) < config.min_event_gap_ms - SAMPLE_TOLERANCE * recording.step_ms
    first_sample = recording.first_sample_at_or_after(window_start)
    fits = (first_sample >= 0) & (first_sample + length <= recording.n_samples)
    usable = ~too_close & fits
    has_nan = np.zeros(len(t_ms), dtype=bool)
    if nan_free_by_start is not None:
        has_nan[usable] = ~nan_free_by_start[first_sample[usable]]
    keep = usable & ~has_nan
    counts["dropped_min_gap"] += int(too_close.sum())
    counts["outside_recording"] += int((~too_close & ~fits).sum())
    counts["contains_nan"] += int(has_nan.sum())
    return {
        "recording": np.full(int(keep.sum()), recording_index, dtype=np.int64),
        "start_ms": window_start[keep],
        "end_ms": window_start[keep] + config.window_ms,
        "start_sample": first_sample[keep],
        "motion": motion_by_start[first_sample[keep]],
        "event_id": events["event_id"].to_numpy(np.int64)[keep],
        "event_t_ms": t_ms[keep],
    }


def _concatenate(parts: list[dict]) -> dict:
    parts = [part for part in parts if len(next(iter(part.values())))]
    if not parts:
        return {}
    if len(parts) == 1:
        return parts[0]
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def _requested_counts(n_positive: int, config: SamplingConfig) -> dict[str, int]:
    total = int(np.floor(config.neg_mult * n_positive + 0.5))
    return NEGATIVE_STRATEGIES[config.neg_strategy].requested(total, config.neg_mixed_near_frac)


def _draw_negatives(
    candidate: CandidatePool,
    positive_motion: np.ndarray,
    n_positive: int,
    config: SamplingConfig,
    rate: float,
    rng,
    report: dict,
) -> dict[str, np.ndarray]:
    """Positions into ``candidate`` for each drawn kind (near first, so near-qualifying windows stay near)."""
    requested = _requested_counts(n_positive, config)
    report["negatives"]["requested"] = dict(requested)
    motion = candidate.motion
    motion_floor = motion_band = None
    if config.neg_min_motion_quantile is not None and len(motion):
        motion_floor = float(np.quantile(motion, config.neg_min_motion_quantile))
    if config.neg_match_pos_motion:
        low, high = np.quantile(positive_motion, [config.neg_pos_motion_q, 1.0 - config.neg_pos_motion_q])
        motion_band = (float(low), float(high))
    report["motion_thresholds"] = {"min_motion": motion_floor, "positive_band": motion_band}

    guard = SeparationGuard(config.neg_min_sep_ms, tolerance_ms=SAMPLE_TOLERANCE * 1000.0 / rate)
    drawn: dict[str, np.ndarray] = {}
    for kind in requested:  # in the strategy's draw order
        mask = NEGATIVE_POOLS[kind].mask(candidate)
        pool = {"qualifying": int(np.count_nonzero(mask)), "removed": {}}
        if motion_floor is not None:
            before = np.count_nonzero(mask)
            mask &= motion >= motion_floor
            pool["removed"]["min_motion_quantile"] = int(before - np.count_nonzero(mask))
        if motion_band is not None:
            before = np.count_nonzero(mask)
            mask &= motion >= motion_band[0]  # two steps: one temporary mask instead of three
            mask &= motion <= motion_band[1]
            pool["removed"]["match_pos_motion"] = int(before - np.count_nonzero(mask))
        positions = MaskIndex(mask)  # positions[rows] as np.flatnonzero(mask)[rows], without 8 bytes per member
        del mask
        pool["available"] = len(positions)

        def locate(pool_rows: np.ndarray, positions=positions):
            return candidate.locate(positions[pool_rows])

        if config.neg_with_replacement:
            chosen, duplicates, rejected = draw_with_replacement(rng, len(positions), requested[kind], locate, guard)
        else:
            chosen, rejected = draw_without_replacement(rng, len(positions), requested[kind], locate, guard)
            duplicates = 0
        pool["duplicates"] = duplicates
        pool["rejected_min_separation"] = rejected
        report["pools"][kind] = pool
        drawn[kind] = positions[chosen]
    return drawn


def _build_index(
    recordings: Sequence[Recording],
    positive: dict,
    candidate: CandidatePool,
    negatives: dict,
    config: SamplingConfig,
    extra_parts: Sequence[dict] = (),
    events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    parts = [
        {
            "recording": positive["recording"],
            "start_ms": positive["start_ms"],
            "end_ms": positive["end_ms"],
            "label": np.ones(len(positive["start_ms"]), dtype=np.int8),
            "kind": np.full(len(positive["start_ms"]), "pos", dtype=object),
            "event_id": positive["event_id"],
            "event_t_ms": positive["event_t_ms"],
            "motion": positive["motion"],
            "start_sample": positive["start_sample"],
        }
    ]
    for kind, positions in negatives.items():
        recording, start_ms = candidate.locate(positions)
        near_event, near_event_t = candidate.near_event(positions)
        kinds = NEGATIVE_POOLS[kind].labels(near_event)
        is_near = kinds == "near"
        parts.append(
            {
                "recording": recording.astype(np.int64),
                "start_ms": start_ms,
                "end_ms": start_ms + config.window_ms,
                "label": np.zeros(len(positions), dtype=np.int8),
                "kind": kinds,
                "event_id": np.where(is_near, near_event, -1),
                "event_t_ms": np.where(is_near, near_event_t, np.nan),
                "motion": candidate.motion[positions],
                "start_sample": candidate.start_sample[positions].astype(np.int64),
            }
        )
    parts.extend(extra_parts)
    columns = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    kind_rank = pd.Series(columns["kind"]).map({kind: rank for rank, kind in enumerate(KINDS)}).to_numpy()
    order = np.lexsort((kind_rank, columns["start_ms"], columns["recording"]))
    recording_code = columns["recording"][order]
    ids = np.array([recording.id for recording in recordings], dtype=object)
    groups = np.array([recording.group for recording in recordings], dtype=object)
    event_id = columns["event_id"][order]
    index = pd.DataFrame(
        {
            "window_id": np.arange(len(order), dtype=np.int64),
            "recording": ids[recording_code],
            "group": groups[recording_code],
            "start_ms": columns["start_ms"][order].astype(np.float64),
            "end_ms": columns["end_ms"][order].astype(np.float64),
            "label": columns["label"][order].astype(np.int8),
            "kind": columns["kind"][order],
            "event_id": pd.arrays.IntegerArray(np.where(event_id >= 0, event_id, 0).astype(np.int64), event_id < 0),
            "event_t_ms": columns["event_t_ms"][order].astype(np.float64),
            "motion": columns["motion"][order].astype(np.float64),
            "start_sample": columns["start_sample"][order].astype(np.int64),
        }
    )
    index["event_label"] = _event_labels(index, events)
    return index[INDEX_COLUMNS]


def _event_labels(index: pd.DataFrame, events: pd.DataFrame | None) -> pd.Series:
    """Each window's event label (its own event, or the positive a near negative sits by); None elsewhere."""
    empty = pd.Series([None] * len(index), dtype=object)
    if events is None or not len(events) or events["label"].isna().all():
        return empty
    known = events[["recording", "event_id", "label"]].drop_duplicates(["recording", "event_id"])
    known = known.assign(event_id=known["event_id"].astype("Int64"))
    found = index[["recording", "event_id"]].merge(known, how="left", on=["recording", "event_id"])["label"]
    return found.astype(object).where(found.notna(), None).reset_index(drop=True)
