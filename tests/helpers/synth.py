"""Small synthetic sensor logs and events for the sampling tests (independent of hardneg).

A *world* is a set of recordings written to disk (Parquet or CSV, one file per
recording, recording id = file stem) plus an events CSV, together with the raw
arrays the reference checker needs:

``World.logs``   {recording_id: (t_ms, {channel: values})}, channels in file order
``World.events`` DataFrame recording, t_ms, end_ms, event_id (event_id = data row in the CSV)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

IMU_CHANNELS = ["ax", "ay", "az", "gx", "gy", "gz"]


@dataclass
class World:
    root: Path
    log_paths: list[Path]
    events_path: Path
    logs: dict
    events: pd.DataFrame
    fs: float
    notes: dict = field(default_factory=dict)


def times(n: int, fs: float, t0: float = 0.0) -> np.ndarray:
    """Sample times ``t0 + i * 1000 / fs`` (computed as ``i * 1000 / fs``, as the issue writes it)."""
    return t0 + np.arange(n, dtype=np.float64) * 1000.0 / fs


def imu_channels(n: int, fs: float, rng: np.random.Generator, channels=IMU_CHANNELS) -> dict[str, np.ndarray]:
    """IMU-like signals whose motion level changes every 0.5-3 s (idle, holds, walking...)."""
    scale = np.empty(n)
    i = 0
    while i < n:
        seg = int(rng.uniform(0.5, 3.0) * fs)
        scale[i : i + seg] = rng.choice([0.02, 0.1, 0.4, 1.0, 2.5])
        i += seg
    out: dict[str, np.ndarray] = {}
    for c in channels:
        noise = rng.standard_normal(n) * scale
        if c.startswith("a"):
            base = 9.81 if c == "az" else 0.0
            out[c] = base + noise
        elif c.startswith("g"):
            out[c] = noise * 0.5
        else:
            out[c] = np.sin(np.arange(n) / (fs / 3.0) + rng.uniform(0, 6)) * scale + 0.1 * noise
    return out


def write_log(path: Path, t: np.ndarray, chans: dict[str, np.ndarray], time_col: str = "t_ms") -> Path:
    path = Path(path)
    cols = {time_col: t, **chans}
    if path.suffix == ".parquet":
        pq.write_table(pa.table({k: pa.array(np.asarray(v, dtype=np.float64)) for k, v in cols.items()}), path)
    elif path.suffix == ".csv":
        # repr floats round-trip exactly; NaN written as an empty field
        pd.DataFrame(cols).to_csv(path, index=False, na_rep="")
    else:  # pragma: no cover
        raise ValueError(path)
    return path


def write_events(path: Path, rows: list[tuple], with_end: bool = False) -> pd.DataFrame:
    """Write ``rows`` [(recording, t_ms[, end_ms])] in the given order; event_id = data row."""
    recs = [r[0] for r in rows]
    ts = [float(r[1]) for r in rows]
    df = pd.DataFrame({"recording": recs, "t_ms": ts})
    if with_end:
        df["end_ms"] = [float(r[2]) if len(r) > 2 and r[2] is not None else np.nan for r in rows]
    df.to_csv(path, index=False, na_rep="")
    out = pd.DataFrame(
        {
            "recording": recs,
            "t_ms": ts,
            "end_ms": df["end_ms"].where(df["end_ms"].notna(), df["t_ms"]).to_numpy() if with_end else ts,
            "event_id": np.arange(len(rows), dtype=np.int64),
        }
    )
    return out


def _shuffle(rows: list, seed: int) -> list:
    order = np.random.default_rng(seed).permutation(len(rows))
    return [rows[i] for i in order]


def world_1khz(root: Path, fmt: str = "parquet", *, with_end: bool = False, seed: int = 1) -> World:
    """Three 1 kHz IMU recordings: s1 (t0 = 1000 ms, 60 s), s2 (t0 = 0, 45 s, NaN blocks), s3 (0.3 s, too short).

    Events exercise: a window before the recording start (s1 @1300 with align end), a
    min-gap pair and a chain (s1 @5000, 5600, 6200: with gap 1000, 5600 is dropped; 6200's
    previous event 5600 is 600 ms before it, so 6200 is dropped too, although the previous
    *kept* event is 1200 ms before), an interval event (s1 @16000-18000 when ``with_end``),
    an event after the end (s1 @70000), a positive window holding NaN (s2 @9700 with align
    end), and an event on a too-short recording (s3 @200). Gaps of 10+ s leave room for far
    negatives with the default far_min_ms 3000.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    fs = 1000.0
    specs = {"s1": (1000.0, 60_000), "s2": (0.0, 45_000), "s3": (0.0, 300)}
    logs, paths = {}, []
    for rid, (t0, n) in specs.items():
        t = times(n, fs, t0)
        ch = imu_channels(n, fs, rng)
        if rid == "s2":
            for c in ("ax", "gz"):
                ch[c][9300:9320] = np.nan
            ch["gy"][27000:27050] = np.nan
        logs[rid] = (t, ch)
        paths.append(write_log(root / f"{rid}.{fmt}", t, ch))
    rows = [
        ("s1", 1300.0),
        ("s1", 5000.0),
        ("s1", 5600.0),
        ("s1", 6200.0),
        ("s1", 16000.0, 18000.0),
        ("s1", 30000.0),
        ("s1", 31500.0),
        ("s1", 45000.0),
        ("s1", 58700.0),
        ("s1", 70000.0),
        ("s2", 3000.0),
        ("s2", 9700.0),
        ("s2", 20000.0),
        ("s2", 20700.0),
        ("s2", 33000.0),
        ("s2", 42000.0),
        ("s3", 200.0),
    ]
    rows = _shuffle(rows, seed)
    ev_path = root / "events.csv"
    events = write_events(ev_path, rows, with_end=with_end)
    return World(root, paths, ev_path, logs, events, fs)


def world_360(root: Path, fmt: str = "csv", *, generic: bool = False, seed: int = 2) -> World:
    """Two 360 Hz recordings (t = i*1000/360), r1 60 s and r2 45 s with a NaN block.

    Half of the events lie exactly on a sample time (j*1000/360, as WFDB annotations do),
    so window boundaries fall on samples up to float rounding; the rest are off-grid.
    ``generic=True`` uses channels ``ch1, ch2, ch3`` (no IMU names: generic motion formula).
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    fs = 360.0
    chans = ["ch1", "ch2", "ch3"] if generic else IMU_CHANNELS
    logs, paths = {}, []
    for rid, n in (("r1", 60 * 360), ("r2", 45 * 360)):
        t = np.arange(n, dtype=np.float64) * 1000.0 / 360.0
        ch = imu_channels(n, fs, rng, chans)
        if rid == "r2":
            ch[chans[1]][3000:3010] = np.nan  # ~8.3 - 8.36 s
        logs[rid] = (t, ch)
        paths.append(write_log(root / f"{rid}.{fmt}", t, ch))
    rows = []
    for rid, n in (("r1", 60 * 360), ("r2", 45 * 360)):
        js = np.sort(rng.choice(np.arange(400, n - 400), size=7, replace=False))
        for k, j in enumerate(js):
            if k % 2 == 0:
                rows.append((rid, float(j * 1000.0 / 360.0)))
            else:
                rows.append((rid, float(np.round(j * 1000.0 / 360.0 + rng.uniform(0.1, 2.6), 3))))
    rows.append(("r2", 3005 * 1000.0 / 360.0 + 150.0))  # positive window (align end) over the NaN block
    rows = _shuffle(rows, seed)
    ev_path = root / "events.csv"
    events = write_events(ev_path, rows)
    return World(root, paths, ev_path, logs, events, fs)


def burst_pool(folder: Path) -> Path:
    """A mining pool: three 10 s logs at 100 Hz, silent but for one burst each (loudness 0.5, 0.7, 0.9)."""
    folder.mkdir()
    for index, name in enumerate(["a", "b", "c"]):
        x = np.zeros(1000)
        x[300 + 100 * index : 350 + 100 * index] = 0.5 + 0.2 * index
        pd.DataFrame({"t_ms": np.arange(1000) * 10.0, "ax": x}).to_csv(folder / f"{name}.csv", index=False)
    return folder


#: a two-arm experiment file on :func:`grouped_dataset` (``dataset: ds`` beside it), quick enough for any test
SMALL_EXPERIMENT = (
    "dataset: ds\nseeds: 2\nmodel: logreg\nn_resamples: 100\nbaseline: {positives: all}\n"
    "arms: {positives: {all: {}, half: {fraction: 0.5}}}\neval: {iid: {split: group}}\n"
)


def grouped_dataset(path: Path, seed: int = 0):
    """Six groups of 40 windows (2 channels, 50 samples), a quarter positive and shifted up: easy for logreg."""
    from hardneg.dataset import write_dataset

    rng = np.random.default_rng(seed)
    n = 240
    index = pd.DataFrame({"window_id": np.arange(n), "label": np.tile([1, 0, 0, 0], n // 4),
                          "recording": np.repeat([f"r{i}" for i in range(6)], 40),
                          "group": np.repeat([f"g{i}" for i in range(6)], 40),
                          "start_sample": np.tile(np.arange(40) * 50, 6)})  # fmt: skip
    index["start_ms"] = index["start_sample"] * 10.0
    index["end_ms"] = index["start_ms"] + 500.0
    index["kind"] = np.where(index["label"] == 1, "pos", "near")
    windows = rng.normal(size=(n, 2, 50)).astype(np.float32) + index["label"].to_numpy()[:, None, None]
    return write_dataset(path, windows, index, {"channels": ["a", "b"], "sample_rate_hz": 100.0})
