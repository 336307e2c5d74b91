"""Run ``hardneg sample`` through its Python API or its command line (the code under test)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

#: SamplingConfig field -> CLI flag (booleans are switches)
SWITCHES = ("neg_match_pos_motion", "neg_with_replacement")

#: the exact command of the issue's second "Done when" bullet (after LOGS... --events EVENTS.csv --out DIR)
DONE_WHEN_OPTIONS = [
    "--time-col",
    "t_ms",
    "--lead-ms",
    "100",
    "--window-ms",
    "500",
    "--min-event-gap-ms",
    "1000",
    "--neg-strategy",
    "mixed",
    "--neg-mixed-near-frac",
    "0.6",
    "--neg-mult",
    "8",
    "--neg-min-motion-quantile",
    "0.2",
    "--neg-match-pos-motion",
    "--neg-pos-motion-q",
    "0.05",
    "--neg-min-sep-ms",
    "200",
    "--neg-with-replacement",
    "--neg-avoid-edges",
    "all",
    "--neg-avoid-post-ms",
    "2000",
    "--seed",
    "0",
]

#: the same, as reference-checker parameters
DONE_WHEN_PARAMS = dict(
    lead_ms=100,
    window_ms=500,
    min_event_gap_ms=1000,
    neg_strategy="mixed",
    neg_mixed_near_frac=0.6,
    neg_mult=8,
    neg_min_motion_quantile=0.2,
    neg_match_pos_motion=True,
    neg_pos_motion_q=0.05,
    neg_min_sep_ms=200,
    neg_with_replacement=True,
    neg_avoid_edges="all",
    neg_avoid_post_ms=2000,
    seed=0,
)


def sample_api(log_paths, events_path, out, params: dict, *, overwrite: bool = False):
    """read_sensor_logs -> read_events_csv -> sample_windows -> write_dataset; returns (Dataset, SampledWindows, recordings)."""
    from hardneg.sample import write_sampled as write_dataset
    from hardneg.io import read_events_csv, read_sensor_logs
    from hardneg.sample import SamplingConfig, sample_windows

    params = dict(params)
    seed = params.pop("seed", 0)
    recordings, _ = read_sensor_logs([str(p) for p in log_paths], time_col="t_ms")
    events = read_events_csv(events_path, recordings)
    config = SamplingConfig(**params)
    sampled = sample_windows(recordings, events, config, seed=seed)
    parameters = {**dataclasses.asdict(config), "seed": seed}
    for key in ("gyro_cols", "accel_cols"):
        if parameters[key] is not None:
            parameters[key] = list(parameters[key])
    ds = write_dataset(out, sampled, recordings, meta={"parameters": parameters, "inputs": []}, overwrite=overwrite)
    return ds, sampled, recordings


def params_to_cli(params: dict) -> list[str]:
    args: list[str] = []
    for key, value in params.items():
        flag = "--" + key.replace("_", "-")
        if key in SWITCHES:
            if value:
                args.append(flag)
            continue
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            value = ",".join(value)
        args += [flag, str(value)]
    return args


def run_cli(args: list[str], *, cwd=None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m hardneg ARGS`` in a subprocess (the way a user runs it)."""
    env = dict(os.environ)
    env.setdefault("COLUMNS", "200")
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "hardneg", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


def sample_cli(
    log_paths, events_path, out, options: list[str], *, extra: list[str] = ()
) -> subprocess.CompletedProcess:
    return run_cli(["sample", *map(str, log_paths), "--events", str(events_path), "--out", str(out), *options, *extra])


def files_bytes(path: Path) -> dict[str, bytes]:
    path = Path(path)
    return {name: (path / name).read_bytes() for name in ("index.parquet", "windows.npy", "meta.json")}
