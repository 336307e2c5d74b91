#!/usr/bin/env python3
"""Benchmark ``hardneg mine`` with an ONNX scorer against a bare onnxruntime loop over the same windows.

The target (issue 4, section 6): with an ONNX scorer, ``hardneg mine`` over a sensor pool takes at most
1.3x the wall time of a bare loop feeding the same windows to onnxruntime.

What it does:

1. Generates, once (cached under ``benchmarks/_data/``, git-ignored, not timed), a pool of ``--logs``
   Parquet IMU logs (``t_ms`` float64, ``ax, ay, az, gx, gy, gz`` float32, 100 Hz, ``--minutes`` each)
   and the scorer, built with ``onnx.helper``, taking the ``(N, 6, 50)`` window to a score ``(N,)``:

   - ``--model cnn`` (default): a small 1-D CNN detector (three k=5 convolutions of 32, 64, 64 channels,
     global average pooling, a dense layer, a sigmoid; about 1.1 MFLOP per window), the size of model
     people train on IMU windows;
   - ``--model mlp``: a tiny MLP (300 -> 256 -> 64 -> 1); its inference costs so little (about 1 us per
     window here) that the run measures reading the logs and the fixed start-up and output costs rather
     than the pipeline around a model.
2. Runs, each as a fresh child process timed from start to exit (interpreter start-up and imports
   included, for both), ``--repeats`` times, alternating:

   - the bare loop: for every log, read it with pyarrow, cut the windows (window 500 ms, hop 250 ms;
     window ``k`` starts at the first sample at or after ``k * hop``; full windows only) with numpy's
     ``sliding_window_view``, feed onnxruntime in batches of 256 and keep the scores; nothing else. Its
     onnxruntime session has intra-op spinning off, as ``hardneg mine`` sets it (``--bare-spinning on`` for
     onnxruntime's default, which a loaded machine pays dearly for);
   - ``hardneg mine POOL --model MODEL.onnx --window-ms 500 --hop-ms 250 --batch-size 256 --out TMP
     --overwrite --quiet`` (which also writes shards, candidates, items, tiers and statistics).

   Medians are reported; the ratio is the median over the back-to-back (bare, mine) pairs, since the speed
   of a shared VM drifts between minutes and each pair sees the same machine. The default pool, 100 hours of
   IMU (1.3 GB of Parquet), is the scale mining is for; on a pool of a few hours the fixed costs of a run
   (start-up imports, the score plot, about 1 s in all) weigh more in the ratio.
3. Checks that both scored the same number of windows per item (``items.parquet`` ``n_windows``) and
   found the same maximum score per item (to 1e-5), prints a Markdown table, and with ``--record``
   appends it, with the machine and the date, to ``benchmarks/RESULTS.md``.

Run it with the project's virtual environment::

    .venv/bin/python benchmarks/bench_mine.py              # 100 logs x 60 min (1.44 M windows), 5 repeats
    .venv/bin/python benchmarks/bench_mine.py --logs 4     # quick try
    .venv/bin/python benchmarks/bench_mine.py --model mlp --logs 40 --minutes 30   # the I/O-bound case
    .venv/bin/python benchmarks/bench_mine.py --record     # append to RESULTS.md
"""

from __future__ import annotations

import argparse
import datetime as _dt
import itertools
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common

from _common import BENCH_DIR, REPO_ROOT, RESULTS_MD

DEFAULT_DATA_DIR = BENCH_DIR / "_data"

CHANNELS = ["ax", "ay", "az", "gx", "gy", "gz"]
RATE_HZ = 100
WINDOW_MS = 500.0
HOP_MS = 250.0
BATCH_SIZE = 256
HIDDEN = (256, 64)
CNN_LAYERS = ((32, 1), (64, 2), (64, 2))  # (output channels, stride) of each k=5 convolution
CNN_VERSION = 1
MODELS = {
    "cnn": "1-D CNN 6-32-64-64 (k5, strides 1-2-2) + global average pool + dense + sigmoid, ~1.1 MFLOP/window",
    "mlp": "MLP 300-256-64-1 + sigmoid, ~0.1 MFLOP/window",
}
TARGET_RATIO = 1.3
SCORE_TOL = 1e-5
# Bump when the generated data or model changes, so stale caches are regenerated.
GENERATOR_VERSION = 1

# The bare loop, run in a fresh interpreter. argv: model path, window samples, hop samples, batch size,
# channels (comma-separated), then the log paths. Prints one JSON line: per log, windows and max score.
BARE_CODE = r"""
import json, sys, time
t_start = time.perf_counter()
import numpy as np
import onnxruntime as ort
import pyarrow.parquet as pq
from numpy.lib.stride_tricks import sliding_window_view
t_imported = time.perf_counter()
model, length, hop, batch_size, channels = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5].split(",")
options = ort.SessionOptions()
if sys.argv[6] == "off":
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
session = ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
name_in, name_out = session.get_inputs()[0].name, session.get_outputs()[0].name
read_s = infer_s = 0.0
items = {}
for path in sys.argv[7:]:
    t0 = time.perf_counter()
    table = pq.read_table(path, columns=channels)
    data = np.stack([table.column(c).to_numpy() for c in channels]).astype(np.float32, copy=False)
    t1 = time.perf_counter()
    n = data.shape[1]
    count = int(np.floor((n - length) / hop + 1e-9)) + 1 if n >= length else 0
    starts = np.ceil(np.arange(count, dtype=np.float64) * hop - 1e-9).astype(np.int64)
    starts = starts[starts + length <= n]
    view = sliding_window_view(data, length, axis=1)  # (C, n - length + 1, length)
    scores = []
    for a in range(0, len(starts), batch_size):
        batch = np.ascontiguousarray(view[:, starts[a : a + batch_size], :].transpose(1, 0, 2))
        scores.append(session.run([name_out], {name_in: batch})[0].reshape(-1))
    scores = np.concatenate(scores) if scores else np.empty(0, dtype=np.float32)
    items[path] = {"n_windows": int(len(scores)), "max_score": float(scores.max()) if len(scores) else None}
    read_s += t1 - t0
    infer_s += time.perf_counter() - t1
print(json.dumps({"items": items, "import_s": t_imported - t_start, "read_s": read_s, "cut_and_infer_s": infer_s}))
"""


# --------------------------------------------------------------------------------------
# Data generation
# --------------------------------------------------------------------------------------


def data_paths(data_dir: Path, n_logs: int, minutes: float, seed: int) -> tuple[Path, Path, Path]:
    stem = f"minepool_{n_logs}x{f'{minutes:g}'.replace('.', 'p')}min_s{seed}"
    return data_dir / stem, data_dir / f"{stem}_mlp.onnx", data_dir / f"{stem}.json"


def cnn_path(data_dir: Path, n_logs: int, minutes: float, seed: int) -> Path:
    pool_dir, _, _ = data_paths(data_dir, n_logs, minutes, seed)
    return pool_dir.with_name(f"{pool_dir.name}_cnn_v{CNN_VERSION}.onnx")


def build_cnn(path: Path, pool_dir: Path, seed: int) -> None:
    """A small 1-D CNN event detector, the size people train on IMU windows, as ONNX.

    ``(N, 6, 50)`` -> Conv(32, k5) -> ReLU -> Conv(64, k5, stride 2) -> ReLU -> Conv(64, k5, stride 2) -> ReLU
    -> global average pool -> Gemm(1) -> sigmoid -> ``(N,)``; about 1.1 MFLOP per window. The output bias is
    set so that about 2% of the first log's windows score above 0.5, a realistic false-positive tail.
    """
    import numpy as np
    import onnx
    import onnxruntime as ort
    import pyarrow.parquet as pq
    from numpy.lib.stride_tricks import sliding_window_view
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng([seed, 7])
    length = int(WINDOW_MS * RATE_HZ / 1000)

    def graph_with_bias(bias: float):
        inits, nodes = [], []
        previous = "windows"
        for i, (out_channels, stride) in enumerate(CNN_LAYERS):
            inits.append(numpy_helper.from_array(rng_weights[i], f"w{i}"))
            inits.append(numpy_helper.from_array(np.zeros(out_channels, np.float32), f"b{i}"))
            nodes.append(helper.make_node("Conv", [previous, f"w{i}", f"b{i}"], [f"c{i}"], kernel_shape=[5],
                                          pads=[2, 2], strides=[stride]))  # fmt: skip
            nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"]))
            previous = f"r{i}"
        inits.append(numpy_helper.from_array(dense, "dense_w"))
        inits.append(numpy_helper.from_array(np.array([bias], np.float32), "dense_b"))
        inits.append(numpy_helper.from_array(np.array([-1], dtype=np.int64), "out_shape"))
        nodes.append(helper.make_node("GlobalAveragePool", [previous], ["pooled"]))
        nodes.append(helper.make_node("Flatten", ["pooled"], ["features"]))
        nodes.append(helper.make_node("Gemm", ["features", "dense_w", "dense_b"], ["logit"]))
        nodes.append(helper.make_node("Sigmoid", ["logit"], ["p"]))
        nodes.append(helper.make_node("Reshape", ["p", "out_shape"], ["score"]))
        graph = helper.make_graph(
            nodes,
            "imu_cnn",
            [helper.make_tensor_value_info("windows", TensorProto.FLOAT, ["N", len(CHANNELS), length])],
            [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N"])],
            initializer=inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="bench_mine")
        model.ir_version = 9  # onnx 1.23 writes IR 14, which this onnxruntime refuses
        onnx.checker.check_model(model)
        return model

    rng_weights, channels_in = [], len(CHANNELS)
    for out_channels, _ in CNN_LAYERS:
        rng_weights.append(rng.normal(0.0, np.sqrt(2.0 / (channels_in * 5)), (out_channels, channels_in, 5))
                           .astype(np.float32))  # fmt: skip
        channels_in = out_channels
    dense = rng.normal(0.0, 1.0 / np.sqrt(channels_in), (channels_in, 1)).astype(np.float32)
    # Calibrate the output bias on the first log's windows: logit = log(p / (1 - p)) of the unbiased model.
    first_log = sorted(pool_dir.glob("*.parquet"))[0]
    table = pq.read_table(first_log, columns=CHANNELS)
    data = np.stack([table.column(c).to_numpy() for c in CHANNELS]).astype(np.float32)
    windows = np.ascontiguousarray(sliding_window_view(data, length, axis=1)[:, :: int(HOP_MS * RATE_HZ / 1000)]
                                   .transpose(1, 0, 2))  # fmt: skip
    session = ort.InferenceSession(graph_with_bias(0.0).SerializeToString(), providers=["CPUExecutionProvider"])
    p = np.clip(session.run(None, {"windows": windows})[0].astype(np.float64), 1e-7, 1 - 1e-7)
    logits = np.log(p / (1 - p))
    model = graph_with_bias(-float(np.quantile(logits, 0.98)))
    tmp = path.with_name(path.name + ".tmp")
    onnx.save(model, str(tmp))
    os.replace(tmp, path)


def _build_model(path: Path, seed: int) -> None:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng([seed, 99])
    n_in = len(CHANNELS) * int(WINDOW_MS * RATE_HZ / 1000)
    sizes = (n_in, *HIDDEN, 1)
    inits, nodes = [], []
    inits.append(numpy_helper.from_array(np.array([-1, n_in], dtype=np.int64), "flat_shape"))
    inits.append(numpy_helper.from_array(np.array([-1], dtype=np.int64), "out_shape"))
    nodes.append(helper.make_node("Reshape", ["windows", "flat_shape"], ["h0"]))
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        w = rng.normal(0.0, 1.0 / np.sqrt(a), (a, b)).astype(np.float32)
        if i == 0:
            w *= 0.5  # inputs are in m/s^2 (gravity ~9.8) and rad/s
        bias = rng.normal(0.0, 0.1, b).astype(np.float32)
        last = i == len(sizes) - 2
        if last:  # most windows score low, a few percent above 0.5: a realistic false-positive tail
            w *= 4.0
            bias[:] = -4.5
        inits.append(numpy_helper.from_array(w, f"w{i}"))
        inits.append(numpy_helper.from_array(bias, f"b{i}"))
        nodes.append(helper.make_node("MatMul", [f"h{i}", f"w{i}"], [f"m{i}"]))
        nodes.append(helper.make_node("Add", [f"m{i}", f"b{i}"], [f"z{i}" if last else f"a{i}"]))
        if not last:
            nodes.append(helper.make_node("Relu", [f"a{i}"], [f"h{i + 1}"]))
    nodes.append(helper.make_node("Sigmoid", [f"z{len(sizes) - 2}"], ["p"]))
    nodes.append(helper.make_node("Reshape", ["p", "out_shape"], ["score"]))
    graph = helper.make_graph(
        nodes,
        "imu_mlp",
        [helper.make_tensor_value_info("windows", TensorProto.FLOAT, ["N", len(CHANNELS), n_in // len(CHANNELS)])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N"])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="bench_mine")
    model.ir_version = 9
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def _one_log(path: Path, minutes: float, seed: int, index: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng([seed, index])
    n = round(minutes * 60 * RATE_HZ)
    t_s = np.arange(n, dtype=np.float64) / RATE_HZ
    # Idle / walking bursts (a few tens of seconds each), orientation drift, noise; a few sharp transients.
    run = np.maximum(1, rng.exponential(30.0 * RATE_HZ, max(4, n // (30 * RATE_HZ) + 4)).astype(np.int64))
    walk = np.repeat((np.arange(run.size) % 2) * rng.uniform(0.4, 1.6, run.size), run)
    walk = np.resize(walk, n) if walk.size < n else walk[:n]
    phase = 2 * np.pi * rng.uniform(1.6, 2.1) * t_s
    pitch = 0.1 + 0.1 * np.sin(2 * np.pi * t_s / rng.uniform(120, 900) + rng.uniform(0, 6.3))
    roll = -0.05 + 0.1 * np.sin(2 * np.pi * t_s / rng.uniform(120, 900) + rng.uniform(0, 6.3))
    g = 9.80665
    cols = {
        "ax": g * np.sin(pitch) + walk * 1.2 * np.sin(phase) + rng.normal(0, 0.04, n),
        "ay": -g * np.cos(pitch) * np.sin(roll) + walk * 0.6 * np.sin(0.5 * phase + 0.3) + rng.normal(0, 0.04, n),
        "az": g * np.cos(pitch) * np.cos(roll) + walk * (2.0 * np.sin(phase + 1.0) ** 2 - 1.0) + rng.normal(0, 0.05, n),
        "gx": walk * 0.8 * np.sin(phase + 0.7) + rng.normal(0, 0.01, n),
        "gy": walk * 0.5 * np.sin(0.5 * phase) + rng.normal(0, 0.01, n),
        "gz": walk * 0.3 * np.cos(phase) + rng.normal(0, 0.01, n),
    }
    shots = rng.integers(RATE_HZ, n - RATE_HZ, max(1, round(minutes)))
    k = np.arange(12)
    for s in shots:
        cols["ax"][s + k] -= rng.uniform(20, 60) * np.exp(-k / 2.0) * np.sin(2 * np.pi * 35.0 * k / RATE_HZ + 0.5)
    arrays = [pa.array(t_s * 1000.0)] + [pa.array(cols[c].astype(np.float32)) for c in CHANNELS]
    table = pa.Table.from_arrays(arrays, names=["t_ms", *CHANNELS])
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp, compression="snappy")
    os.replace(tmp, path)


def generate(pool_dir: Path, model_path: Path, meta_path: Path, n_logs: int, minutes: float, seed: int) -> None:
    t0 = time.perf_counter()
    if pool_dir.exists():
        shutil.rmtree(pool_dir)
    staging = pool_dir.with_name(pool_dir.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for i in range(n_logs):
        _one_log(staging / f"log{i:03d}.parquet", minutes, seed, i)
    os.replace(staging, pool_dir)
    _build_model(model_path, seed)
    meta = {
        "generator_version": GENERATOR_VERSION,
        "logs": n_logs,
        "minutes": minutes,
        "rate_hz": RATE_HZ,
        "rows_per_log": round(minutes * 60 * RATE_HZ),
        "seed": seed,
        "pool_bytes": sum(p.stat().st_size for p in pool_dir.iterdir()),
        "model": f"MLP {len(CHANNELS) * int(WINDOW_MS * RATE_HZ / 1000)}-{'-'.join(map(str, HIDDEN))}-1 + sigmoid, "
        "opset 17, IR 9",
        "generation_s": round(time.perf_counter() - t0, 2),
        "created": _dt.datetime.now().isoformat(timespec="seconds"),
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def ensure_data(args) -> tuple[Path, Path, dict]:
    pool_dir, model_path, meta_path = data_paths(args.data_dir, args.logs, args.minutes, args.seed)
    meta = None
    if meta_path.exists() and pool_dir.is_dir() and model_path.exists() and not args.regenerate:
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except ValueError:
            meta = None
        if meta is not None and meta.get("generator_version") != GENERATOR_VERSION:
            meta = None
    if meta is None:
        print(
            f"generating {args.logs} logs x {args.minutes:g} min at {RATE_HZ} Hz and the ONNX model "
            f"-> {_rel(pool_dir)} (not timed) ...",
            flush=True,
        )
        generate(pool_dir, model_path, meta_path, args.logs, args.minutes, args.seed)
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        print(f"generated in {meta['generation_s']:.1f} s ({meta['pool_bytes'] / 2**20:.0f} MiB on disk)", flush=True)
    else:
        print(f"using cached {_rel(pool_dir)} ({meta['pool_bytes'] / 2**20:.0f} MiB)", flush=True)
    return pool_dir, model_path, meta


# --------------------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------------------


def timed(cmd: list[str], what: str, timeout: float) -> tuple[float, str]:
    """Wall time of ``cmd`` as a fresh child, from start to exit; its stdout."""
    started = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=timeout,
                              cwd=REPO_ROOT, check=False)  # fmt: skip
    except subprocess.TimeoutExpired:
        raise SystemExit(f"error: {what} ran past {timeout:g} s") from None
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"error: {what} failed (exit status {done.returncode})\n{done.stderr[-3000:]}")
    return elapsed, done.stdout


def hardneg_command(args) -> list[str]:
    return _common.hardneg_command(args.hardneg)


def compare(bare: dict, out_dir: Path) -> dict:
    """Same windows per item and the same max score per item (to SCORE_TOL)?"""
    import pandas as pd

    items = pd.read_parquet(out_dir / "items.parquet")
    mined = {str(Path(p).resolve()): (int(n), float(m)) for p, n, m in zip(items["path"], items["n_windows"],
                                                                            items["max_score"])}  # fmt: skip
    base = {str(Path(p).resolve()): v for p, v in bare["items"].items()}
    problems = []
    if set(mined) != set(base):
        problems.append(f"items differ: {len(set(mined) ^ set(base))} not in both")
    worst = 0.0
    for path in sorted(set(mined) & set(base)):
        n, m = mined[path]
        if n != base[path]["n_windows"]:
            problems.append(f"{Path(path).name}: {n} windows mined, {base[path]['n_windows']} in the bare loop")
        worst = max(worst, abs(m - base[path]["max_score"]))
    if worst > SCORE_TOL:
        problems.append(f"max score per item differs by up to {worst:.3g} (> {SCORE_TOL:g})")
    return {
        "windows_mined": int(sum(n for n, _ in mined.values())),
        "windows_bare": int(sum(v["n_windows"] for v in base.values())),
        "max_abs_diff": worst,
        "problems": problems,
    }


def machine_line() -> str:
    versions = [f"{dist} {version}" for dist, version in _common.package_versions(("onnxruntime", "numpy", "pyarrow"))
                .items() if version != "not installed"]  # fmt: skip
    commit = _common.git_commit()
    return (f"`{platform.platform()}`, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"{', '.join(versions)}" + (f", commit {commit}" if commit else ""))  # fmt: skip


def build_table(res: dict) -> str:
    b, m, check = res["bare_s"], res["mine_s"], res["check"]
    ratio = res["ratio"]
    pairs = ", ".join(f"{x:.2f}" for x in res["pair_ratios"])
    rows = [
        ("scored windows (bare / mine)", f"{check['windows_bare']:,} / {check['windows_mined']:,}"),
        ("max score per item, largest difference", f"{check['max_abs_diff']:.2g}"),
        ("bare onnxruntime loop wall time", f"{b:.2f} s (runs: {', '.join(f'{x:.2f}' for x in res['bare_walls'])})"),
        ("`hardneg mine` wall time", f"{m:.2f} s (runs: {', '.join(f'{x:.2f}' for x in res['mine_walls'])})"),
        ("mine / bare, median of the back-to-back pairs", f"{ratio:.2f}x (pairs: {pairs}; target <= "
         f"{TARGET_RATIO}x: {'meets' if ratio <= TARGET_RATIO else 'misses'})"),
        ("ratio of the medians", f"{m / b:.2f}x"),
    ]
    return "| measure | value |\n|---|---|\n" + "\n".join(f"| {name} | {value} |" for name, value in rows)


def _rel(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--logs", type=int, default=100, help="number of logs in the pool (default 100)")
    p.add_argument("--minutes", type=float, default=60.0, help="length of each log in minutes (default 60)")
    p.add_argument("--model", choices=sorted(MODELS), default="cnn",
                   help="the scorer: cnn, a small 1-D CNN detector (default), or mlp, a tiny MLP whose inference "
                   "is so cheap that reading the logs dominates")  # fmt: skip
    p.add_argument("--repeats", type=int, default=5, help="timed runs of each; medians reported (default 5)")
    p.add_argument("--record", action="store_true", help="append a dated section to benchmarks/RESULTS.md")
    p.add_argument("--no-warmup", action="store_true", help="skip the untimed warm-up bare loop")
    p.add_argument("--bare-spinning", choices=("off", "on"), default="off",
                   help="onnxruntime's intra-op spinning in the bare loop: off (default), as hardneg mine sets it, "
                        "so both run the same onnxruntime; on, onnxruntime's default, whose spinning threads cost "
                        "a busy machine a great deal")  # fmt: skip
    p.add_argument("--generate-only", action="store_true", help="generate (or check) the cached data and stop")
    p.add_argument("--regenerate", action="store_true", help="regenerate the data even if cached")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated data and model (default 0)")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="data cache (default benchmarks/_data)")
    p.add_argument("--hardneg", default=None, help="command that runs hardneg (default .venv/bin/hardneg)")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds before a child is killed (default 1800)")
    p.add_argument("--json", type=Path, default=None, help="also write the raw results as JSON to this file")
    args = p.parse_args(argv)
    if args.logs < 1 or args.minutes <= 0 or args.repeats < 1:
        p.error("--logs and --repeats must be >= 1, --minutes > 0")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    args.data_dir = args.data_dir.resolve()
    pool_dir, model_path, meta = ensure_data(args)
    if args.model == "cnn":
        model_path = cnn_path(args.data_dir, args.logs, args.minutes, args.seed)
        if not model_path.exists():
            build_cnn(model_path, pool_dir, args.seed)
    meta = {**meta, "model": MODELS[args.model]}
    if args.generate_only:
        return 0
    logs = sorted(str(p) for p in pool_dir.glob("*.parquet"))
    length = int(WINDOW_MS * RATE_HZ / 1000)
    hop = HOP_MS * RATE_HZ / 1000
    bare_cmd = [sys.executable, "-c", BARE_CODE, str(model_path), str(length), repr(hop), str(BATCH_SIZE),
                ",".join(CHANNELS), args.bare_spinning, *logs]  # fmt: skip
    out_root = Path(tempfile.mkdtemp(prefix="bench_mine_", dir=args.data_dir))
    out_dir = out_root / "mined"
    mine_cmd = hardneg_command(args) + [
        "mine", str(pool_dir), "--model", str(model_path), "--window-ms", f"{WINDOW_MS:g}", "--hop-ms",
        f"{HOP_MS:g}", "--batch-size", str(BATCH_SIZE), "--out", str(out_dir), "--overwrite", "--quiet",
    ]  # fmt: skip
    print(
        f"bare loop: {shlex.join([sys.executable, '-c', '<bare loop>', str(model_path), '...', f'<{len(logs)} logs>'])}"
    )
    print(f"mine:      {shlex.join(mine_cmd)}", flush=True)
    try:
        if not args.no_warmup:
            wall, _ = timed(bare_cmd, "the bare loop", args.timeout)
            print(f"warm-up bare loop (not counted): {wall:.2f} s", flush=True)
        bare_walls, mine_walls, bare_info = [], [], None
        for rep in range(args.repeats):
            wall, stdout = timed(bare_cmd, "the bare loop", args.timeout)
            bare_info = json.loads(stdout.strip().splitlines()[-1])
            bare_walls.append(wall)
            print(f"[{rep + 1}/{args.repeats}] bare loop: {wall:.2f} s (imports {bare_info['import_s']:.2f} s, "
                  f"read {bare_info['read_s']:.2f} s, cut + infer {bare_info['cut_and_infer_s']:.2f} s)",
                  flush=True)  # fmt: skip
            wall, _ = timed(mine_cmd, "`hardneg mine`", args.timeout)
            mine_walls.append(wall)
            print(f"[{rep + 1}/{args.repeats}] hardneg mine: {wall:.2f} s", flush=True)
        check = compare(bare_info, out_dir)
    finally:
        shutil.rmtree(out_root, ignore_errors=True)

    res = {
        "bare_s": statistics.median(bare_walls),
        "mine_s": statistics.median(mine_walls),
        # This VM's speed drifts by up to 2x between minutes; a bare run and the mine run right after it see
        # the same machine, so the ratio is taken per pair and the median of those is the result.
        "pair_ratios": [m / b for b, m in zip(bare_walls, mine_walls, strict=True)],
        "ratio": statistics.median(m / b for b, m in zip(bare_walls, mine_walls, strict=True)),
        "bare_walls": bare_walls,
        "mine_walls": mine_walls,
        "check": check,
        "bare_child": bare_info,
        "mine_cmd": mine_cmd,
        "data": meta,
    }
    title = (f"{args.logs} logs x {args.minutes:g} min at {RATE_HZ} Hz, {check['windows_bare']:,} windows "
             f"({WINDOW_MS:g} ms, hop {HOP_MS:g} ms), {meta['model']}")  # fmt: skip
    table_md = build_table(res)
    print(f"\n### {title}\n\n{table_md}\n")
    if args.json:
        args.json.write_text(json.dumps(res, indent=2, default=str) + "\n", encoding="utf-8")
    if check["problems"]:
        print("the outputs differ:\n  " + "\n  ".join(check["problems"]), file=sys.stderr)
        if args.record:
            print("not recording a run whose outputs differ.", file=sys.stderr)
        return 1
    if args.record:
        stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
        with RESULTS_MD.open("a", encoding="utf-8") as handle:
            handle.write(
                f"\n## {stamp} - `hardneg mine` (ONNX) vs a bare onnxruntime loop\n\n"
                f"- machine: {machine_line()}\n"
                f"- pool: {title}\n"
                f"- command: `hardneg mine POOL --model MODEL.onnx --window-ms {WINDOW_MS:g} --hop-ms {HOP_MS:g} "
                f"--batch-size {BATCH_SIZE} --out TMP --overwrite --quiet`; bare loop: pyarrow read + "
                f"`sliding_window_view` + `InferenceSession.run` per {BATCH_SIZE} windows, onnxruntime spinning "
                f"{args.bare_spinning} (hardneg: off); both fresh child "
                f"processes timed start to exit, median of {args.repeats}\n\n{table_md}\n"
            )
        print(f"appended to {_rel(RESULTS_MD)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
