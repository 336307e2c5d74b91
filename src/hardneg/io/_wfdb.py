"""WFDB records (PhysioNet style ``.hea``/``.dat``/``.atr``), e.g. the MIT-BIH Arrhythmia Database."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from hardneg._progress import ProgressReporter, resolve
from hardneg.errors import InputError
from hardneg.io._events import EVENT_COLUMNS, empty_events
from hardneg.io._groups import resolve_groups
from hardneg.io._recording import Recording

#: Ends the message of a record without a requested signal; left out where that record is skipped instead.
_SKIP_HINT = ", or pass --skip-bad-files to leave out records without them"


def read_wfdb_records(
    paths: Sequence[str | Path],
    *,
    event_symbols: Sequence[str] | None,
    annotation_extension: str = "atr",
    channels: Sequence[str] | None = None,
    groups: Mapping[str, str] | str | Path | None = None,
    on_bad_file: Callable[[Path, str], None] | None = None,
    progress: ProgressReporter | None = None,
) -> tuple[list[Recording], pd.DataFrame]:
    """Read WFDB records; annotations with the given symbols become events.

    Samples are in physical units (``wfdb.rdrecord(...).p_signal``); sample
    ``i`` lies at ``i * 1000 / fs`` ms. The group is the record name unless
    ``groups`` says otherwise (MIT-BIH records 201 and 202 are one subject).

    Parameters
    ----------
    paths : sequence of path
        Record headers (``100.hea``) or record paths without suffix.
    event_symbols : sequence of str
        Annotation symbols that are events, e.g. ``["V"]`` for ventricular
        ectopic beats. ``event_id`` is the annotation's index in its record.
    annotation_extension : str
        Annotation file suffix (``atr`` for reference annotations).
    channels : sequence of str, optional
        Signal names to keep, in this order, wherever each record has them (MIT-BIH
        record 114 has MLII second); a record lacking one is refused, or passed to
        ``on_bad_file``.
    on_bad_file : callable, optional
        Called with ``(path, message)`` for a record that cannot be used, which is
        then left out; without it such a record raises :class:`InputError`.

    Examples
    --------
    A two-second record with one normal (``N``) and two ectopic (``V``) beats:

    >>> import tempfile, wfdb
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     wfdb.wrsamp("100", fs=360, units=["mV", "mV"], sig_name=["MLII", "V5"], p_signal=np.zeros((720, 2)),
    ...                 fmt=["212", "212"], write_dir=tmp)
    ...     wfdb.wrann("100", "atr", np.array([100, 360, 540]), np.array(["N", "V", "V"]), write_dir=tmp)
    ...     recs, events = read_wfdb_records([f"{tmp}/100.hea"], event_symbols=["V"])
    >>> recs[0].id, recs[0].sample_rate_hz, recs[0].channels, recs[0].n_samples
    ('100', 360.0, ['MLII', 'V5'], 720)
    >>> events[["t_ms", "label", "event_id"]].values.tolist()
    [[1000.0, 'V', 1], [1500.0, 'V', 2]]
    """
    try:
        import wfdb
    except ImportError:
        raise InputError("reading WFDB records needs the wfdb package: pip install 'hardneg[wfdb]'") from None
    if not paths:
        raise InputError("no WFDB records given; pass one or more .hea files")
    recordings: list[Recording] = []
    event_frames: list[pd.DataFrame] = []
    for path in resolve(progress).track(paths, total=len(paths), description="Reading WFDB records"):
        try:
            recording, events = _read_record(wfdb, Path(path), event_symbols, annotation_extension, channels)
        except InputError as error:
            if on_bad_file is None:
                raise
            on_bad_file(Path(path), str(error).removesuffix(_SKIP_HINT))
            continue
        recordings.append(recording)
        event_frames.append(events)
    if not recordings:
        raise InputError(f"none of the {len(paths)} WFDB records could be read; see the errors above")
    resolve_groups(recordings, groups)
    if event_symbols and not any(len(frame) for frame in event_frames):
        # no event anywhere: name the symbols the annotations do hold, not "no positive window" later
        present = sorted(set().union(*(frame.attrs.get("symbols", ()) for frame in event_frames)))
        which = f"record {recordings[0].id}" if len(recordings) == 1 else f"the {len(recordings)} records"
        raise InputError(
            f"event_symbols: no annotation of {which} is {', '.join(map(repr, event_symbols))}; "
            f"{'their' if len(recordings) > 1 else 'its'} annotations hold {', '.join(present) or 'no symbol'}",
            parameter="event_symbols",
        )
    events = pd.concat(event_frames, ignore_index=True) if event_frames else empty_events()
    return recordings, events[EVENT_COLUMNS]


def _read_record(
    wfdb, path: Path, event_symbols, annotation_extension: str, channels
) -> tuple[Recording, pd.DataFrame]:
    record_path = path.with_suffix("") if path.suffix == ".hea" else path
    header = record_path.with_suffix(".hea")
    if not header.is_file():
        raise InputError(f"{header}: WFDB header not found")
    try:
        record = wfdb.rdrecord(str(record_path))
    except Exception as error:  # wfdb raises many types for a damaged record; name it and stop
        raise InputError(f"{header}: cannot read WFDB record ({type(error).__name__}: {error})") from None
    if record.p_signal is None or record.p_signal.shape[0] == 0:
        raise InputError(f"{header}: WFDB record has no samples")
    names = list(record.sig_name)
    if channels:
        missing = [name for name in channels if name not in names]
        if missing:
            raise InputError(
                f"{header}: signal(s) {', '.join(missing)} not in record {record.record_name} (it has "
                f"{', '.join(names)}); choose signals every record has with --channels{_SKIP_HINT}"
            )
        keep = [names.index(name) for name in channels]
    else:
        keep = list(range(len(names)))
    signal = np.ascontiguousarray(record.p_signal[:, keep].T)
    recording = Recording(
        id=record.record_name,
        group=record.record_name,
        t0_ms=0.0,
        sample_rate_hz=float(record.fs),
        channels=[names[i] for i in keep],
        data=list(signal),
        source=str(header),
    )
    events = (
        _annotation_events(wfdb, record_path, annotation_extension, recording, event_symbols)
        if event_symbols
        else empty_events()
    )
    return recording, events


def _annotation_events(wfdb, record_path: Path, extension: str, recording: Recording, symbols) -> pd.DataFrame:
    annotation_file = record_path.with_suffix(f".{extension}")
    if not annotation_file.is_file():
        raise InputError(f"{annotation_file}: annotation file not found; pass --annotation-ext with the right suffix")
    try:
        with warnings.catch_warnings():
            # wfdb 4.3 calls a pandas API that pandas 3 deprecates; the notice is for wfdb, not for our users
            warnings.filterwarnings("ignore", message=".*inplace keyword.*", category=Warning)
            annotation = wfdb.rdann(str(record_path), extension)
    except Exception as error:  # as above: a damaged annotation file, named and refused
        raise InputError(f"{annotation_file}: cannot read annotations ({type(error).__name__}: {error})") from None
    symbol = np.asarray(annotation.symbol, dtype=object)
    index = np.flatnonzero(np.isin(symbol, list(symbols)))
    t_ms = np.asarray(annotation.sample, dtype=np.float64)[index] * (1000.0 / recording.sample_rate_hz)
    events = pd.DataFrame(
        {
            "recording": pd.Series([recording.id] * len(index), dtype=object),
            "t_ms": t_ms,
            "end_ms": t_ms.copy(),
            "label": pd.Series(symbol[index], dtype=object),
            "event_id": index.astype(np.int64),
        }
    )
    events.attrs["symbols"] = sorted({str(value) for value in symbol})
    return events
