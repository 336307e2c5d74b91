#!/usr/bin/env python3
"""Peak memory of ``hardneg sample`` beyond the interpreter's baseline, on float32 audio and a float32 IMU log.

The targets (issue 10, section 7): the peak RSS of ``hardneg sample`` on a big
input, minus the peak RSS of the same command on a tiny input of the same kind
(both fresh processes: imports, interpreter and libraries cancel out), is at
most 3x the input's float32 size for audio and at most 2x for a float32 log.

Cases (generated once, cached under ``benchmarks/_data/``, git-ignored):

- **audio**: a 15 min, 48 kHz mono float WAV (noise with short tone bursts at
  the events, one every ~10 s) and its ``events.csv``; the tiny input is 2 s.
  Options: ``--window-ms 1000 --neg-strategy mixed --neg-mult 4 --neg-min-sep-ms 500 --seed 0``.
  float32 size = samples x channels x 4 bytes.
- **imu**: a 6 h log at 400 Hz, Parquet, ``t_ms`` float64 and six float32
  channels ``ax..gz``, with a shot every ~30 s; the tiny input is 10 s. Options
  as ``bench_sample.py`` (window 500 ms, mixed, x8, motion quantile 0.2, matched
  motion, separation 200 ms, edges avoided). float32 size = the Arrow table's
  in-memory size (``t_ms`` 8 bytes + 6 x 4 bytes per row); the ratio against the
  channels alone (6 x 4 bytes per row) is printed beside it.

Peak RSS is each child's own ``ru_maxrss`` from ``os.wait4``; medians over
``--repeats``. ``--record`` appends the table to ``benchmarks/RESULTS.md``.

    .venv/bin/python benchmarks/bench_sample_memory.py             # both cases
    .venv/bin/python benchmarks/bench_sample_memory.py --case audio
    .venv/bin/python benchmarks/bench_sample_memory.py --record
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import _common
import bench_sample  # run_measured: a fresh child and its own peak RSS

DATA_DIR = _common.BENCH_DIR / "_data"
GENERATOR_VERSION = 1

AUDIO_RATE = 48000
AUDIO_OPTIONS = ["--window-ms", "1000", "--neg-strategy", "mixed", "--neg-mult", "4", "--neg-min-sep-ms", "500"]
IMU_RATE = 400
IMU_CHANNELS = ["ax", "ay", "az", "gx", "gy", "gz"]
IMU_OPTIONS = ["--time-col", "t_ms", "--lead-ms", "100", "--window-ms", "500", "--neg-strategy", "mixed",
               "--neg-mult", "8", "--neg-min-motion-quantile", "0.2", "--neg-match-pos-motion",
               "--neg-min-sep-ms", "200", "--neg-avoid-edges", "all"]  # fmt: skip
COMMON_OPTIONS = ["--seed", "0", "--overwrite", "--quiet"]
TARGETS = {"audio": 3.0, "imu": 2.0}


def _paths(case: str, seconds: float) -> tuple[Path, Path]:
    stem = f"mem_{case}_{seconds:g}s_v{GENERATOR_VERSION}"
    suffix = ".wav" if case == "audio" else ".parquet"
    return DATA_DIR / f"{stem}{suffix}", DATA_DIR / f"{stem}_events.csv"


def _event_times_ms(seconds: float, every_s: float, first_s: float, rng) -> list[float]:
    times, t = [], first_s
    while t < seconds - first_s:
        times.append(round(t * 1000.0, 1))
        t += every_s * rng.uniform(0.7, 1.3)
    return times


def generate(case: str, seconds: float) -> None:
    """Write the input and its events (run in a child, so this process stays small)."""
    import numpy as np

    path, events_path = _paths(case, seconds)
    rng = np.random.default_rng(0)
    tiny = seconds < 60
    events = [1500.0] if (tiny and case == "audio") else (
        [3000.0, 7000.0] if tiny else _event_times_ms(seconds, 10.0 if case == "audio" else 30.0, 5.0, rng))  # fmt: skip
    tmp = path.with_name(path.name + ".tmp")
    if case == "audio":
        import soundfile

        n = int(seconds * AUDIO_RATE)
        with soundfile.SoundFile(str(tmp), "w", AUDIO_RATE, 1, subtype="FLOAT", format="WAV") as handle:
            chunk = 60 * AUDIO_RATE
            for begin in range(0, n, chunk):
                block = rng.normal(0.0, 0.05, min(chunk, n - begin)).astype(np.float32)
                t = (begin + np.arange(len(block))) / AUDIO_RATE
                for event_ms in events:
                    near = np.abs(t - event_ms / 1000.0) < 0.2
                    block[near] += (0.5 * np.sin(2 * np.pi * 2000.0 * t[near])).astype(np.float32)
                handle.write(block)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        n = int(seconds * IMU_RATE)
        schema = pa.schema([("t_ms", pa.float64())] + [(name, pa.float32()) for name in IMU_CHANNELS])
        with pq.ParquetWriter(tmp, schema) as writer:
            chunk = 3600 * IMU_RATE
            for begin in range(0, n, chunk):
                size = min(chunk, n - begin)
                t_ms = (begin + np.arange(size)) * (1000.0 / IMU_RATE)
                columns = [t_ms]
                for k, name in enumerate(IMU_CHANNELS):
                    base = 9.81 if name == "az" else 0.0
                    walk = np.sin(2 * np.pi * t_ms / 1000.0 * (1.7 + 0.1 * k))
                    columns.append((base + 0.5 * walk + rng.normal(0.0, 0.05, size)).astype(np.float32))
                writer.write_table(pa.Table.from_arrays(columns, schema=schema))
    tmp.replace(path)
    events_path.write_text("recording,t_ms\n" + "".join(f"{path.stem},{t:.1f}\n" for t in events))


def ensure(case: str, seconds: float) -> tuple[Path, Path]:
    path, events_path = _paths(case, seconds)
    if not (path.exists() and events_path.exists()):
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        print(f"generating {path.name} ...", flush=True)
        command = [sys.executable, __file__, "--_generate", case, str(seconds)]
        result = bench_sample.run_measured(command, 3600)
        if not result["ok"]:
            sys.exit(f"generation failed:\n{result['stderr'][-2000:]}")
    return path, events_path


def float32_size(case: str, path: Path) -> tuple[int, int]:
    """(the input's float32 size, its channels' float32 size), read from the file's header/metadata."""
    if case == "audio":
        import soundfile

        info = soundfile.info(str(path))
        size = info.frames * info.channels * 4
        return size, size
    import pyarrow.parquet as pq

    rows = pq.ParquetFile(path).metadata.num_rows
    return rows * (8 + 4 * len(IMU_CHANNELS)), rows * 4 * len(IMU_CHANNELS)


def peak(command: list[str], repeats: int) -> tuple[int, list[int]]:
    peaks = []
    for _ in range(repeats):
        result = bench_sample.run_measured(command, 1800, cwd=_common.REPO_ROOT)
        if not result["ok"]:
            sys.exit(f"command failed ({result['returncode']}): {' '.join(command)}\n{result['stderr'][-3000:]}")
        peaks.append(result["maxrss_bytes"])
    return int(statistics.median(peaks)), peaks


def measure(case: str, hardneg: list[str], repeats: int, out_root: Path) -> list[tuple[str, str]]:
    big_seconds, tiny_seconds = (15 * 60.0, 2.0) if case == "audio" else (6 * 3600.0, 10.0)
    options = (AUDIO_OPTIONS if case == "audio" else IMU_OPTIONS) + COMMON_OPTIONS
    commands = {}
    for name, seconds in (("tiny", tiny_seconds), ("big", big_seconds)):
        path, events = ensure(case, seconds)
        commands[name] = (path, hardneg + ["sample", str(path), "--events", str(events),
                                           "--out", str(out_root / f"{case}_{name}")] + options)  # fmt: skip
    size, channels_size = float32_size(case, commands["big"][0])
    base, base_runs = peak(commands["tiny"][1], repeats)
    big, big_runs = peak(commands["big"][1], repeats)
    meta = json.loads((out_root / f"{case}_big" / "meta.json").read_text())
    ratio = (big - base) / size
    target = TARGETS[case]
    mib = 2**20
    label = "15 min 48 kHz mono float WAV" if case == "audio" else f"6 h {IMU_RATE} Hz IMU log, float32 channels"
    rows = [
        (f"{case}: input", f"{label}; {meta['counts']['windows']} windows written ({meta['windows_shape']})"),
        (f"{case}: options", "`" + " ".join(options[: -len(COMMON_OPTIONS)]) + "`"),
        (f"{case}: input float32 size", f"{size / mib:.1f} MiB"
         + ("" if size == channels_size else f" (channels alone {channels_size / mib:.1f} MiB)")),
        (f"{case}: baseline peak RSS ({tiny_seconds:g} s input)", f"{base / mib:.1f} MiB (runs {_list(base_runs)})"),
        (f"{case}: big input peak RSS", f"{big / mib:.1f} MiB (runs {_list(big_runs)})"),
        (f"**{case}: (big - baseline) / float32 size**", f"**{ratio:.2f}**"
         + ("" if size == channels_size else f" ({(big - base) / channels_size:.2f} against the channels alone)")),
        (f"{case}: target", f"<= {target:g}: {'meets' if ratio <= target else 'misses'}"),
    ]  # fmt: skip
    for name, value in rows:
        print(f"{name}: {value}", flush=True)
    return rows


def _list(values: list[int]) -> str:
    return ", ".join(f"{value / 2**20:.0f}" for value in values)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", choices=("audio", "imu", "both"), default="both")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each command; medians reported (default 2)")
    parser.add_argument("--record", action="store_true", help="append a dated section to benchmarks/RESULTS.md")
    parser.add_argument("--hardneg", default=None, help="command that runs hardneg (default the repository's)")
    parser.add_argument("--_generate", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._generate:
        generate(args._generate[0], float(args._generate[1]))
        return 0
    hardneg = _common.hardneg_command(args.hardneg)
    cases = ("audio", "imu") if args.case == "both" else (args.case,)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    out_root = Path(tempfile.mkdtemp(prefix="bench_mem_", dir=DATA_DIR))
    try:
        rows = [row for case in cases for row in measure(case, hardneg, args.repeats, out_root)]
    finally:
        shutil.rmtree(out_root, ignore_errors=True)
    table = _common.measure_table(rows)
    print("\n" + table)
    if args.record:
        commit = _common.git_commit() or "unknown"
        _common.append_results(
            f"`hardneg sample` peak memory beyond the baseline (`benchmarks/bench_sample_memory.py`, commit {commit})",
            f"`hardneg sample INPUT --events EVENTS --out DIR OPTIONS --seed 0 --overwrite --quiet`, fresh children, "
            f"median peak RSS of {args.repeats}",
            table,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
