#!/usr/bin/env python3
"""Benchmark ``hardneg sample`` against one plain pass over the same data.

The target (issue 2, section 7): on a 24-hour, 1 kHz, 6-channel IMU log with
2,000 events, the whole ``hardneg sample`` process takes at most 2x the wall
time of a plain pass (read the Parquet with pyarrow + float64 cumulative sums
of every channel and of its square), and its peak memory stays under 3x the
log's in-memory size (the Arrow table's ``nbytes``).

What it does:

1. Generates the log once (cached under ``benchmarks/_data/``, git-ignored):
   one Parquet file with columns ``t_ms, ax, ay, az, gx, gy, gz`` (float64,
   ``t_ms = i * 1.0``), written one hour per chunk so memory stays bounded,
   and ``events.csv`` (``recording,t_ms``) with events at least 1.5 s apart
   and away from the edges. Generation is not timed.
2. Runs the plain pass and ``hardneg sample`` each as a fresh child process,
   ``--repeats`` times, alternating. Wall time is measured around the child
   (interpreter start-up and imports included, for both); peak RSS is the
   child's own ``ru_maxrss`` as returned by ``os.wait4`` for that child.
   Medians are reported.
3. Prints a Markdown table; ``--record`` appends it, with the machine and the
   date, to ``benchmarks/RESULTS.md``.

Run it with the project's virtual environment::

    .venv/bin/python benchmarks/bench_sample.py                 # 24 h log, 3 repeats
    .venv/bin/python benchmarks/bench_sample.py --hours 1       # quick try
    .venv/bin/python benchmarks/bench_sample.py --record        # append to RESULTS.md
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import _common

from _common import BENCH_DIR, REPO_ROOT, RESULTS_MD

DEFAULT_DATA_DIR = BENCH_DIR / "_data"

CHANNELS = ["ax", "ay", "az", "gx", "gy", "gz"]
COLUMNS = ["t_ms"] + CHANNELS
RATE_HZ = 1000
EVENTS_PER_DAY = 2000
MIN_EVENT_GAP_S = 1.5
EDGE_S = 10.0
# Bump when the generated data changes, so stale caches are regenerated.
GENERATOR_VERSION = 1

SAMPLE_OPTIONS = [
    "--time-col",
    "t_ms",
    "--lead-ms",
    "100",
    "--window-ms",
    "500",
    "--neg-strategy",
    "mixed",
    "--neg-mult",
    "8",
    "--neg-min-motion-quantile",
    "0.2",
    "--neg-match-pos-motion",
    "--neg-min-sep-ms",
    "200",
    "--neg-avoid-edges",
    "all",
    "--seed",
    "0",
    "--overwrite",
    "--quiet",
]

# The plain pass, run in a fresh interpreter. argv: parquet path, channels (comma-separated).
BASELINE_CODE = r"""
import json, sys, time
t_start = time.perf_counter()
import numpy as np
import pyarrow.parquet as pq
t_imported = time.perf_counter()
path, channels = sys.argv[1], sys.argv[2].split(",")
table = pq.read_table(path)
t_read = time.perf_counter()
nbytes = int(table.nbytes)
n_rows = int(table.num_rows)
check = 0.0
for name in channels:
    x = table.column(name).to_numpy()
    cs = np.cumsum(x, dtype=np.float64)
    cs2 = np.cumsum(np.square(x), dtype=np.float64)
    check += float(cs[-1]) + float(cs2[-1])
    del x, cs, cs2
t_done = time.perf_counter()
print(json.dumps({
    "nbytes": nbytes,
    "rows": n_rows,
    "columns": table.num_columns,
    "check": check,
    "import_s": t_imported - t_start,
    "read_s": t_read - t_imported,
    "cumsum_s": t_done - t_read,
}))
"""


# --------------------------------------------------------------------------------------
# Data generation
# --------------------------------------------------------------------------------------


def data_paths(data_dir: Path, hours: float, n_events: int, seed: int) -> tuple[Path, Path, Path]:
    hours_tag = f"{hours:g}".replace(".", "p")
    stem = f"imu_{hours_tag}h_{n_events}ev_s{seed}"
    return (
        data_dir / f"{stem}.parquet",
        data_dir / f"{stem}_events.csv",
        data_dir / f"{stem}.json",
    )


def _event_times_ms(rng, duration_s: float, n_events: int) -> "np.ndarray":
    """Sorted event times (ms), >= MIN_EVENT_GAP_S apart, >= EDGE_S from both ends."""
    import numpy as np

    slack = duration_s - 2 * EDGE_S - (n_events - 1) * MIN_EVENT_GAP_S
    if n_events < 1 or slack <= 0:
        raise SystemExit(
            f"error: cannot place {n_events} events {MIN_EVENT_GAP_S} s apart in {duration_s:g} s; "
            "use fewer --n-events or more --hours"
        )
    u = np.sort(rng.uniform(0.0, slack, n_events))
    t_s = EDGE_S + u + np.arange(n_events) * MIN_EVENT_GAP_S
    # Round to 0.1 ms: events are not all on the 1 ms sample grid.
    t_ms = np.round(t_s * 1000.0, 1)
    return t_ms


def _covered(starts_s, ends_s, n: int) -> "np.ndarray":
    """Boolean mask over seconds 0..n-1 touched by any [start, end] interval (difference array)."""
    import numpy as np

    lo = np.clip(np.floor(starts_s).astype(np.int64), 0, n)
    hi = np.clip(np.ceil(ends_s).astype(np.int64) + 1, 0, n)
    d = np.zeros(n + 1, dtype=np.int64)
    np.add.at(d, lo, 1)
    np.add.at(d, hi, -1)
    return np.cumsum(d)[:n] > 0


def _activity_schedule(rng, n_seconds: int, events_ms, hold_ms) -> dict:
    """Per-second knots of the slow signals, shared by all chunks (continuity across chunks)."""
    import numpy as np

    # Walking / handling bursts: alternate idle and active runs of random length.
    n_runs = max(4, n_seconds // 20)
    run_len = np.maximum(1, rng.exponential(45.0, n_runs).astype(np.int64))
    while run_len.sum() < n_seconds + 1:
        run_len = np.concatenate([run_len, run_len])
    state = np.repeat(np.arange(run_len.size) % 2, run_len)[: n_seconds + 1].astype(np.float64)
    level = np.repeat(rng.uniform(0.4, 1.6, run_len.size), run_len)[: n_seconds + 1]
    walk = state * level
    # Before each shot the shooter holds still (aiming): no bursts around events.
    sec = np.arange(n_seconds + 1, dtype=np.float64)
    ev_s = np.asarray(events_ms) / 1000.0
    hold_s = np.asarray(hold_ms) / 1000.0
    walk[_covered(ev_s - hold_s - 1.0, ev_s + 1.0, n_seconds + 1)] = 0.0
    # "Aiming but no shot" holds: quiet stretches that look like pre-shot holds (hard negatives).
    n_fake = max(1, len(ev_s) // 2)
    fake_start = rng.uniform(0.0, n_seconds, n_fake)
    walk[_covered(fake_start, fake_start + rng.uniform(1.5, 4.0, n_fake), n_seconds + 1)] = 0.0
    # Slow orientation drift (radians): a few slow sinusoids (periods 2 min to 3 h) plus jitter.
    periods = rng.uniform(120.0, 3 * 3600.0, (2, 5))
    phases = rng.uniform(0.0, 2 * np.pi, (2, 5))
    amps = rng.uniform(0.03, 0.12, (2, 5))
    drift = (amps[:, :, None] * np.sin(2 * np.pi * sec[None, None, :] / periods[:, :, None] + phases[:, :, None])).sum(
        axis=1
    )
    drift += rng.normal(0.0, 0.005, drift.shape)
    pitch = 0.1 + drift[0]
    roll = -0.05 + drift[1]
    return {"sec": sec, "walk": walk, "pitch": pitch, "roll": roll}


def generate(
    parquet_path: Path,
    events_path: Path,
    meta_path: Path,
    hours: float,
    n_events: int,
    seed: int,
    chunk_hours: float = 1.0,
) -> float:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    t0 = time.perf_counter()
    n_rows = int(round(hours * 3600 * RATE_HZ))
    duration_s = (n_rows - 1) / RATE_HZ
    n_seconds = int(np.ceil(duration_s)) + 1
    rng = np.random.default_rng([seed, 0])

    events_ms = _event_times_ms(rng, duration_s, n_events)
    hold_ms = rng.uniform(1500.0, 4000.0, n_events)
    sched = _activity_schedule(rng, n_seconds, events_ms, hold_ms)
    step_hz = rng.uniform(1.6, 2.1)
    g = 9.80665
    acc_lsb = g / 2048.0  # +-16 g, 16-bit
    gyr_lsb = np.deg2rad(2000.0 / 32768.0)  # +-2000 dps, 16-bit
    recoil_n = 120  # samples of the recoil transient after a shot
    recoil_k = np.arange(recoil_n, dtype=np.float64)
    recoil_env = np.exp(-recoil_k / 18.0)
    recoil_osc = np.sin(2 * np.pi * 35.0 * recoil_k / RATE_HZ)
    ev_sample = np.ceil(events_ms * RATE_HZ / 1000.0 - 1e-9).astype(np.int64)
    ev_amp = rng.uniform(20.0, 60.0, n_events)

    schema = pa.schema([(c, pa.float64()) for c in COLUMNS])
    parquet_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = parquet_path.with_name(parquet_path.name + ".tmp")
    chunk = int(round(chunk_hours * 3600 * RATE_HZ))
    with pq.ParquetWriter(tmp, schema, compression="snappy") as writer:
        for c_idx, a in enumerate(range(0, n_rows, chunk)):
            b = min(a + chunk, n_rows)
            crng = np.random.default_rng([seed, 1, c_idx])
            n = b - a
            t_ms = np.arange(a, b, dtype=np.float64)
            sec = t_ms / 1000.0
            walk = np.interp(sec, sched["sec"], sched["walk"])
            pitch = np.interp(sec, sched["sec"], sched["pitch"])
            roll = np.interp(sec, sched["sec"], sched["roll"])
            phase = 2 * np.pi * step_hz * sec
            # Gravity in the sensor frame + walking accelerations + noise.
            cp, sp, cr, sr = np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
            ax = g * sp + walk * (1.2 * np.sin(phase)) + crng.normal(0.0, 0.04, n)
            ay = -g * cp * sr + walk * (0.6 * np.sin(0.5 * phase + 0.3)) + crng.normal(0.0, 0.04, n)
            az = g * cp * cr + walk * (2.0 * np.sin(phase + 1.0) ** 2 - 1.0) + crng.normal(0.0, 0.05, n)
            bias = crng.normal(0.0, 0.003, 3)
            gx = bias[0] + walk * 0.8 * np.sin(phase + 0.7) + crng.normal(0.0, 0.01, n)
            gy = bias[1] + walk * 0.5 * np.sin(0.5 * phase) + crng.normal(0.0, 0.01, n)
            gz = bias[2] + walk * 0.3 * np.cos(phase) + crng.normal(0.0, 0.01, n)
            del walk, pitch, roll, phase, cp, sp, cr, sr
            # Recoil transients at the shots in this chunk (events >= 1.5 s apart: no overlap).
            sel = (ev_sample >= a - recoil_n) & (ev_sample < b)
            if sel.any():
                idx = ev_sample[sel][:, None] + np.arange(recoil_n)[None, :] - a
                shape = ev_amp[sel][:, None] * recoil_env[None, :] * recoil_osc[None, :]
                ok = (idx >= 0) & (idx < n)
                idx, shape = idx[ok], shape[ok]
                ax[idx] -= shape
                az[idx] += 0.4 * shape
                gy[idx] += 0.15 * shape
                gx[idx] += 0.05 * shape
            # Quantise like a 16-bit IMU.
            for arr, lsb in ((ax, acc_lsb), (ay, acc_lsb), (az, acc_lsb), (gx, gyr_lsb), (gy, gyr_lsb), (gz, gyr_lsb)):
                np.round(arr / lsb, out=arr)
                arr *= lsb
            table = pa.Table.from_arrays([t_ms, ax, ay, az, gx, gy, gz], schema=schema)
            writer.write_table(table)
            del table, t_ms, ax, ay, az, gx, gy, gz
    os.replace(tmp, parquet_path)

    stem = parquet_path.stem
    tmp_ev = events_path.with_name(events_path.name + ".tmp")
    with open(tmp_ev, "w", encoding="utf-8") as fh:
        fh.write("recording,t_ms\n")
        fh.writelines(f"{stem},{t:.1f}\n" for t in events_ms)
    os.replace(tmp_ev, events_path)

    elapsed = time.perf_counter() - t0
    meta = {
        "generator_version": GENERATOR_VERSION,
        "hours": hours,
        "rows": n_rows,
        "rate_hz": RATE_HZ,
        "n_events": n_events,
        "seed": seed,
        "parquet_bytes": parquet_path.stat().st_size,
        "generation_s": round(elapsed, 2),
        "created": _dt.datetime.now().isoformat(timespec="seconds"),
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return elapsed


def ensure_data(args) -> tuple[Path, Path, dict]:
    parquet_path, events_path, meta_path = data_paths(args.data_dir, args.hours, args.n_events, args.seed)
    meta = None
    if meta_path.exists() and parquet_path.exists() and events_path.exists() and not args.regenerate:
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except ValueError:
            meta = None
        if meta is not None and meta.get("generator_version") != GENERATOR_VERSION:
            meta = None
    if meta is None:
        print(
            f"generating {args.hours:g} h log at {RATE_HZ} Hz with {args.n_events} events "
            f"-> {_rel(parquet_path)} (not timed) ...",
            flush=True,
        )
        # In a child process: a child's ru_maxrss starts from its parent's high-water mark
        # (Linux copies it at fork/exec), so this process must stay small to measure children.
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--_generate-child",
            "--hours",
            repr(args.hours),
            "--n-events",
            str(args.n_events),
            "--seed",
            str(args.seed),
            "--data-dir",
            str(args.data_dir),
        ]
        rc = subprocess.run(cmd).returncode
        if rc != 0:
            raise SystemExit(f"error: generating the data failed (exit status {rc})")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        print(
            f"generated in {meta['generation_s']:.1f} s ({meta['parquet_bytes'] / 2**30:.2f} GiB on disk)", flush=True
        )
    else:
        print(
            f"using cached {_rel(parquet_path)} "
            f"({meta['parquet_bytes'] / 2**30:.2f} GiB; generated in {meta['generation_s']} s)",
            flush=True,
        )
    return parquet_path, events_path, meta


# --------------------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------------------


def _maxrss_bytes(ru) -> int:
    # Linux reports KiB, macOS bytes.
    return int(ru.ru_maxrss) * (1 if sys.platform == "darwin" else 1024)


def run_measured(cmd: list[str], timeout: float, cwd: Path | None = None) -> dict:
    """Run ``cmd`` as a child; wall time and that child's own peak RSS (os.wait4).

    On Linux a child's ru_maxrss starts at its parent's RSS high-water mark (copied at
    fork/exec), so this process never loads the data itself and stays at a few tens of MiB;
    main() prints that floor.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd)
        except OSError as exc:
            return {
                "ok": False,
                "returncode": None,
                "wall_s": 0.0,
                "maxrss_bytes": 0,
                "stdout": "",
                "stderr": f"could not start {cmd[0]}: {exc}",
                "timed_out": False,
            }
        timed_out = threading.Event()

        def _kill():
            timed_out.set()
            proc.kill()

        timer = threading.Timer(timeout, _kill)
        timer.start()
        try:
            _, status, ru = os.wait4(proc.pid, 0)
        except KeyboardInterrupt:
            proc.kill()
            os.wait4(proc.pid, 0)
            raise
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    return {
        "ok": proc.returncode == 0 and not timed_out.is_set(),
        "returncode": proc.returncode,
        "timed_out": timed_out.is_set(),
        "wall_s": wall,
        "maxrss_bytes": _maxrss_bytes(ru),
        "stdout": stdout,
        "stderr": stderr,
    }


def hardneg_command(args) -> list[str]:
    return _common.hardneg_command(args.hardneg)


def _tail(text: str, n: int = 15) -> str:
    lines = text.strip().splitlines()
    return "\n".join(lines[-n:])


def _fail_message(what: str, cmd: list[str], res: dict, timeout: float) -> str:
    if res["timed_out"]:
        why = f"killed after the {timeout:g} s --timeout"
    elif res["returncode"] is None:
        why = res["stderr"]
    else:
        why = f"exit status {res['returncode']}"
    msg = [f"{what} failed ({why}).", f"  command: {shlex.join(cmd)}"]
    tail = _tail(res["stderr"]) or _tail(res["stdout"])
    if tail:
        msg.append("  last lines of its output:")
        msg.extend("    " + line for line in tail.splitlines())
    return "\n".join(msg)


def _dataset_summary(out_dir: Path) -> str:
    meta_path = out_dir / "meta.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        counts = meta.get("counts", {})
        neg = counts.get("negatives", {}).get("achieved", {})
        neg_s = ", ".join(f"{k} {v}" for k, v in neg.items())
        return f"{counts.get('windows', '?')} windows ({counts.get('positives', '?')} positives; {neg_s})"
    except (OSError, ValueError, AttributeError):
        return "(could not read meta.json)"


def median(values):
    return statistics.median(values) if values else float("nan")


def fmt_s(x: float) -> str:
    return f"{x:.2f} s" if x == x else "n/a"


def fmt_gib(b: float) -> str:
    return f"{b / 2**30:.2f} GiB" if b == b else "n/a"


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def machine_info() -> dict:
    mem_total = None
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    mem_total = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    # importlib.metadata, not imports: this process stays small (see run_measured).
    versions = _common.package_versions(("hardneg", "numpy", "pyarrow", "pandas"))
    commit = _common.git_commit()
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "mem_total_bytes": mem_total,
        "python": platform.python_version(),
        "versions": versions,
        "commit": commit,
    }


def build_table(res: dict) -> str:
    b, s = res["baseline"], res["sample"]
    nbytes = res["nbytes"]
    ratio_t = s["wall_s"] / b["wall_s"] if s else float("nan")
    ratio_m = s["maxrss_bytes"] / nbytes if s else float("nan")
    ok_t = "meets" if ratio_t <= 2.0 else ("misses" if ratio_t == ratio_t else "n/a")
    ok_m = "meets" if ratio_m < 3.0 else ("misses" if ratio_m == ratio_m else "n/a")
    rows = [
        ("log in memory (Arrow `nbytes`)", fmt_gib(nbytes), ""),
        ("plain pass wall time (median)", fmt_s(b["wall_s"]), f"runs: {', '.join(f'{x:.2f}' for x in b['walls'])}"),
        (
            "`hardneg sample` wall time (median)",
            fmt_s(s["wall_s"]) if s else "n/a",
            f"runs: {', '.join(f'{x:.2f}' for x in s['walls'])}" if s else "did not run",
        ),
        ("**wall time ratio sample / plain**", f"**{ratio_t:.2f}**" if s else "n/a", f"target <= 2.0: {ok_t}"),
        ("plain pass peak RSS (median)", fmt_gib(b["maxrss_bytes"]), f"{b['maxrss_bytes'] / nbytes:.2f} x log"),
        ("`hardneg sample` peak RSS (median)", fmt_gib(s["maxrss_bytes"]) if s else "n/a", ""),
        ("**sample peak RSS / log in memory**", f"**{ratio_m:.2f}**" if s else "n/a", f"target < 3.0: {ok_m}"),
    ]
    lines = ["| measure | value | notes |", "|---|---|---|"]
    lines += [f"| {a} | {v} | {n} |" for a, v, n in rows]
    return "\n".join(lines)


RESULTS_HEADER = """# `hardneg sample` benchmark results

Written by `benchmarks/bench_sample.py --record` (see `--help`); each run appends a dated section.

**What is measured.** A synthetic IMU log (one Parquet file, columns `t_ms, ax, ay, az, gx, gy, gz`,
float64, 1 kHz; 24 h = 86.4 M rows unless the section says otherwise) with 2,000 events in a separate
`events.csv` (scaled with the log's length for shorter logs), generated once and cached.

- **plain pass**: a fresh Python process reads the Parquet with `pyarrow.parquet.read_table`, converts each
  of the six channels to numpy and computes float64 `np.cumsum` of the channel and of its square.
- **`hardneg sample`**: the whole CLI process, `hardneg sample LOG --events EVENTS --out DIR --time-col t_ms
  --lead-ms 100 --window-ms 500 --neg-strategy mixed --neg-mult 8 --neg-min-motion-quantile 0.2
  --neg-match-pos-motion --neg-min-sep-ms 200 --neg-avoid-edges all --seed 0 --overwrite --quiet`.

Both are timed from process start to exit (interpreter start-up and imports included), with the file in the
page cache (one untimed warm-up plain pass first), alternating, `repeats` times; medians are reported. Peak memory
is each child's own peak RSS (`ru_maxrss` from `os.wait4` on that child). "Log in memory" is the Arrow
table's `nbytes` as measured in the plain-pass child.

**Targets** (issue 2, section 7): wall time ratio sample / plain <= 2.0; sample peak RSS < 3 x log in memory.
"""


def record(res: dict, info: dict, args, meta: dict, table_md: str) -> None:
    if not RESULTS_MD.exists():
        RESULTS_MD.write_text(RESULTS_HEADER, encoding="utf-8")
    mem = info["mem_total_bytes"]
    vers = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    section = [
        "",
        f"## {_dt.datetime.now().strftime('%Y-%m-%d %H:%M')} - {args.hours:g} h log, {meta['n_events']} events",
        "",
        f"- machine: `{info['platform']}`, {info['cpus']} CPUs, "
        f"{fmt_gib(mem) if mem else 'unknown'} RAM; Python {info['python']} ({vers})",
        f"- commit: {info['commit'] or 'unknown'}; command: "
        f"`{shlex.join(res['sample_cmd']).replace(str(REPO_ROOT) + os.sep, '')}`",
        f"- log: {meta['rows']:,} rows, {meta['parquet_bytes'] / 2**30:.2f} GiB Parquet on disk; "
        f"repeats: {args.repeats}; output: {res.get('sample_summary', 'n/a')}",
        "",
        table_md,
        "",
    ]
    with open(RESULTS_MD, "a", encoding="utf-8") as fh:
        fh.write("\n".join(section))
    print(f"appended to {_rel(RESULTS_MD)}")


def _rel(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=(
            "Time `hardneg sample` on a synthetic 1 kHz 6-channel IMU log (default 24 h, 2,000 events) "
            "against a plain pass over the same data (pyarrow read + float64 cumulative sums of each "
            "channel and its square). Both run as fresh child processes; wall time and each child's "
            "peak RSS are measured, medians over --repeats. Targets: sample/plain wall time <= 2.0, "
            "sample peak RSS < 3 x the log's in-memory (Arrow) size. The log is generated once and "
            "cached in benchmarks/_data/ (git-ignored; generation is not timed)."
        ),
        epilog=(
            "Examples:  .venv/bin/python benchmarks/bench_sample.py --hours 1   (quick try)\n"
            "           .venv/bin/python benchmarks/bench_sample.py --record    (full run, append to RESULTS.md)"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--hours", type=float, default=24.0, help="length of the log in hours (default 24)")
    p.add_argument(
        "--n-events",
        type=int,
        default=None,
        help="number of events (default 2000 for 24 h, scaled with --hours, at least 10)",
    )
    p.add_argument(
        "--repeats", type=int, default=3, help="timed runs of each measurement; medians reported (default 3)"
    )
    p.add_argument("--record", action="store_true", help="append a dated section to benchmarks/RESULTS.md")
    p.add_argument(
        "--keep",
        action="store_true",
        help="keep the last dataset `hardneg sample` wrote (under benchmarks/_data/) instead of deleting it",
    )
    p.add_argument("--skip-sample", action="store_true", help="measure only the plain pass")
    p.add_argument(
        "--skip-baseline",
        action="store_true",
        help="measure only `hardneg sample` (the log's size still comes from one plain-pass run)",
    )
    p.add_argument("--generate-only", action="store_true", help="generate (or check) the cached data and stop")
    p.add_argument("--regenerate", action="store_true", help="regenerate the data even if cached")
    p.add_argument("--no-warmup", action="store_true", help="skip the untimed warm-up plain pass")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated data (default 0)")
    p.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="where the data is cached (default benchmarks/_data)"
    )
    p.add_argument(
        "--hardneg",
        default=None,
        help="command that runs hardneg (default .venv/bin/hardneg, else `python -m hardneg`)",
    )
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds before a child is killed (default 1800)")
    p.add_argument("--json", type=Path, default=None, help="also write the raw results as JSON to this file")
    p.add_argument("--_generate-child", dest="generate_child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.hours <= 0:
        p.error("--hours must be > 0")
    if args.repeats < 1:
        p.error("--repeats must be >= 1")
    if args.n_events is None:
        args.n_events = max(10, int(round(EVENTS_PER_DAY * args.hours / 24.0)))
    if args.n_events < 1:
        p.error("--n-events must be >= 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    args.data_dir = args.data_dir.resolve()
    if args.generate_child:
        generate(*data_paths(args.data_dir, args.hours, args.n_events, args.seed), args.hours, args.n_events, args.seed)
        return 0
    parquet_path, events_path, meta = ensure_data(args)
    if args.generate_only:
        return 0

    baseline_cmd = [sys.executable, "-c", BASELINE_CODE, str(parquet_path), ",".join(CHANNELS)]
    sample_base = hardneg_command(args)
    out_root = Path(tempfile.mkdtemp(prefix="bench_out_", dir=args.data_dir))
    out_dir = out_root / "dataset"
    sample_cmd = (
        sample_base
        + ["sample", str(parquet_path), "--events", str(events_path), "--out", str(out_dir)]
        + SAMPLE_OPTIONS
    )
    print(f"plain pass: {shlex.join([sys.executable, '-c', '<plain pass>', str(parquet_path)])}")
    print(f"sample:     {shlex.join(sample_cmd)}", flush=True)

    import resource

    floor = run_measured([sys.executable, "-c", "pass"], 60)["maxrss_bytes"]
    own = _maxrss_bytes(resource.getrusage(resource.RUSAGE_SELF))
    print(f"RSS floor: this process {fmt_gib(own)}, an empty child reports {fmt_gib(floor)}", flush=True)

    if not args.no_warmup:
        # One untimed plain pass: puts the file in the page cache and lets the machine hand out
        # the memory once (first touches of fresh memory are much slower on some VMs).
        r = run_measured(baseline_cmd, args.timeout)
        print(f"warm-up plain pass (not counted): {r['wall_s']:.2f} s", flush=True)

    base_runs, sample_runs = [], []
    sample_error = None
    baseline_info = None
    n_base = 1 if args.skip_baseline else args.repeats
    try:
        for rep in range(args.repeats):
            if rep < n_base:
                r = run_measured(baseline_cmd, args.timeout)
                if not r["ok"]:
                    print(
                        _fail_message(
                            "plain pass", baseline_cmd[:2] + ["<plain pass>"] + baseline_cmd[3:], r, args.timeout
                        ),
                        file=sys.stderr,
                    )
                    return 1
                baseline_info = json.loads(r["stdout"].strip().splitlines()[-1])
                base_runs.append(r)
                print(
                    f"[{rep + 1}/{args.repeats}] plain pass: {r['wall_s']:.2f} s, "
                    f"peak RSS {fmt_gib(r['maxrss_bytes'])} (read {baseline_info['read_s']:.2f} s, "
                    f"cumsums {baseline_info['cumsum_s']:.2f} s)",
                    flush=True,
                )
            if not args.skip_sample and sample_error is None:
                r = run_measured(sample_cmd, args.timeout, cwd=REPO_ROOT)
                if not r["ok"]:
                    sample_error = _fail_message("`hardneg sample`", sample_cmd, r, args.timeout)
                    print(sample_error, file=sys.stderr, flush=True)
                    continue
                sample_runs.append(r)
                print(
                    f"[{rep + 1}/{args.repeats}] hardneg sample: {r['wall_s']:.2f} s, "
                    f"peak RSS {fmt_gib(r['maxrss_bytes'])}",
                    flush=True,
                )
        sample_summary = _dataset_summary(out_dir) if sample_runs else None
    finally:
        if args.keep and sample_runs:
            print(f"kept the dataset in {_rel(out_dir)}")
        else:
            shutil.rmtree(out_root, ignore_errors=True)

    res = {
        "nbytes": baseline_info["nbytes"],
        "rows": baseline_info["rows"],
        "baseline": {
            "wall_s": median([r["wall_s"] for r in base_runs]),
            "walls": [r["wall_s"] for r in base_runs],
            "maxrss_bytes": median([r["maxrss_bytes"] for r in base_runs]),
        },
        "sample": None,
        "sample_cmd": sample_cmd,
    }
    if sample_runs:
        res["sample"] = {
            "wall_s": median([r["wall_s"] for r in sample_runs]),
            "walls": [r["wall_s"] for r in sample_runs],
            "maxrss_bytes": median([r["maxrss_bytes"] for r in sample_runs]),
        }
        res["sample_summary"] = sample_summary

    table_md = build_table(res)
    print()
    print(f"### {args.hours:g} h log, {res['rows']:,} rows, {meta['n_events']} events")
    print()
    print(table_md)
    if sample_runs:
        print(f"\n`hardneg sample` wrote {sample_summary}")
    print()
    if args.json:
        info = machine_info()
        args.json.write_text(
            json.dumps(
                {"results": res, "machine": info, "data": meta, "baseline_child": baseline_info}, indent=2, default=str
            )
            + "\n",
            encoding="utf-8",
        )
    if sample_error is not None:
        print("`hardneg sample` did not complete, so there is no ratio; see the message above.", file=sys.stderr)
        if args.record:
            print("not recording an incomplete run in RESULTS.md.", file=sys.stderr)
        return 1
    if args.record:
        if args.skip_sample:
            print("not recording: --skip-sample gives no ratio.", file=sys.stderr)
            return 1
        record(res, machine_info(), args, meta, table_md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
