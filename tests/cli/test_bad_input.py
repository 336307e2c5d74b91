"""Issue section 6 through the real command line: bad input -> exit 2 and one ``error:`` line that names
the file/row/option, no traceback, no dataset; and the cases that are handled and counted instead.
"""

from __future__ import annotations

import json
import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

FS = 100.0
T = 50  # 500 ms at 100 Hz


def error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def assert_refused(result, *needles: str) -> str:
    """Exit 2, exactly one stderr line starting with 'error:' that contains every needle, no traceback."""
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output, output
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    return lines[0]


def squash(text: str) -> str:
    """The printed summary with rich's line wrapping undone."""
    return " ".join(text.split())


# ---------------------------------------------------------------------------- the bad inputs


def _log(world, name, frame):
    path = world.root / name
    frame.to_csv(path, index=False)
    return path


def case_missing_time_column(world):
    return [*world.logs, "--events", world.events, "--time-col", "time"], ["s1.csv", "--time-col", "'time'"]


def case_missing_channel_column(world):
    return [*world.logs, "--events", world.events, "--channels", "ax,qq"], ["s1.csv", "qq"]


def case_missing_recording_column(world):
    return [*world.logs, "--events", world.events, "--recording-col", "session"], [
        "s1.csv",
        "--recording-col",
        "session",
    ]


def case_events_missing_t_ms_column(world):
    world.events.write_text("recording,time\ns1,5000\n")
    return [*world.logs, "--events", world.events], ["events.csv", "t_ms"]


def case_non_numeric_channel_value(world):
    frame = world.data["s2"].astype({"gy": object})
    frame.loc[1234, "gy"] = "0.3.1"
    log = _log(world, "s2.csv", frame)
    return [world.logs[0], log, "--events", world.events], ["s2.csv", "line 1236", "'gy'", "0.3.1"]


def case_empty_log(world):
    world.logs[1].write_bytes(b"")
    return [*world.logs, "--events", world.events], ["s2.csv", "empty"]


def case_header_only_log(world):
    world.logs[1].write_text("t_ms,ax,ay,az,gx,gy,gz\n")
    return [*world.logs, "--events", world.events], ["s2.csv"]


def case_empty_events(world):
    world.events.write_bytes(b"")
    return [*world.logs, "--events", world.events], ["events.csv", "empty"]


def case_corrupt_parquet(world):
    path = world.root / "s3.parquet"
    world.data["s1"].to_parquet(path, index=False)
    path.write_bytes(path.read_bytes()[:-100])
    return [path, "--events", world.events], ["s3.parquet"]


def case_corrupt_csv(world):
    world.logs[0].write_text("t_ms,ax\n0,1\n10,2,7,8\n20,3\n")
    return [world.logs[0], "--events", world.events], ["s1.csv"]


def case_binary_garbage_csv(world):
    world.logs[0].write_bytes(bytes(range(256)) * 20)
    return [world.logs[0], "--events", world.events], ["s1.csv"]


def case_missing_log_file(world):
    return [world.root / "nothere.csv", "--events", world.events], ["nothere.csv"]


def case_missing_events_file(world):
    return [*world.logs, "--events", world.root / "nothere.csv"], ["nothere.csv"]


def case_unknown_recording_in_events(world):
    # events on recordings that are not inputs are skipped with a warning; none on any input is an error
    world.events.write_text("recording,t_ms\ns7,5000\ns8,8000\ns7,9000\n")
    return [*world.logs, "--events", world.events], ["events.csv", "line 2", "'s7'", "no event is on one of the inputs"]


def case_folder_as_input(world):
    return [world.root, "--events", world.events], [str(world.root), "is a folder", "*.parquet"]


def case_non_numeric_event_time(world):
    world.events.write_text("recording,t_ms\ns1,5000\ns2,eight\n")
    return [*world.logs, "--events", world.events], ["events.csv", "line 3", "t_ms"]


def case_unsorted_timestamps(world):
    frame = world.data["s1"].copy()
    frame.loc[[500, 501], "t_ms"] = frame.loc[[501, 500], "t_ms"].to_numpy()
    log = _log(world, "s1.csv", frame)
    return [log, world.logs[1], "--events", world.events], ["s1.csv", "line 503", "--sort-time"]


def case_duplicate_timestamps(world):
    frame = world.data["s2"].copy()
    frame.loc[700, "t_ms"] = frame.loc[699, "t_ms"]
    log = _log(world, "s2.csv", frame)
    return [world.logs[0], log, "--events", world.events], ["s2.csv", "line 702", "duplicate"]


def case_jittered_timestamps(world):
    frame = world.data["s1"].copy()
    frame["t_ms"] += np.random.default_rng(0).uniform(-1, 1, len(frame))
    log = _log(world, "s1.csv", frame)
    return [log, "--events", world.events], ["s1.csv", "--resample-hz"]


def case_infinite_timestamp(world):
    frame = world.data["s1"].astype({"t_ms": object})
    frame.loc[len(frame) - 1, "t_ms"] = "inf"
    log = _log(world, "s1.csv", frame)
    world.events.write_text("recording,t_ms\ns1,5000\n")
    return [log, "--events", world.events], ["s1.csv", f"line {len(frame) + 1}"]


def case_datetime_event_times(world):
    # Read as epoch milliseconds, so against logs on a relative clock every event falls outside: say where.
    world.events.write_text("recording,t_ms\ns1,2024-01-01T00:00:05\n")
    return [*world.logs, "--events", world.events], ["no positive window", "1.70407e+12", "recordings span"]


def case_groups_missing_a_recording(world):
    groups = world.root / "groups.csv"
    groups.write_text("recording,group\ns1,a\n")
    return [*world.logs, "--events", world.events, "--groups", groups], ["groups.csv", "s2"]


def case_group_col_not_constant(world):
    frame = world.data["s1"].copy()
    frame["who"] = np.where(np.arange(len(frame)) < 100, "ann", "bob")
    log = _log(world, "s1.csv", frame)
    return [log, "--events", world.events, "--group-col", "who"], ["s1.csv", "--group-col"]


def case_no_events_option(world):
    return [*world.logs], ["--events"]


def case_no_positive_at_all(world):
    # every window [t - 600, t - 100) starts before the recording
    world.events.write_text("recording,t_ms\ns1,50\ns2,550\ns2,580\n")
    return [*world.logs, "--events", world.events], ["no positive window"]


def option_case(*option):
    def case(world):
        return [*world.logs, "--events", world.events, *option], [option[0]]

    case.__name__ = "case_option_" + "_".join(option).strip("-")
    return case


CASES = [
    case_missing_time_column,
    case_missing_channel_column,
    case_missing_recording_column,
    case_events_missing_t_ms_column,
    case_non_numeric_channel_value,
    case_empty_log,
    case_header_only_log,
    case_empty_events,
    case_corrupt_parquet,
    case_corrupt_csv,
    case_binary_garbage_csv,
    case_missing_log_file,
    case_missing_events_file,
    case_unknown_recording_in_events,
    case_folder_as_input,
    case_non_numeric_event_time,
    case_unsorted_timestamps,
    case_duplicate_timestamps,
    case_jittered_timestamps,
    case_infinite_timestamp,
    case_datetime_event_times,
    case_groups_missing_a_recording,
    case_group_col_not_constant,
    case_no_events_option,
    case_no_positive_at_all,
    option_case("--window-ms", "0"),
    option_case("--window-ms", "0.5"),  # shorter than one sample at 100 Hz
    option_case("--neg-mixed-near-frac", "1.5"),
    option_case("--neg-strategy", "bogus"),
    option_case("--time-unit", "h"),
    option_case("--neg-pos-motion-q", "0.7"),
    option_case("--align", "sideways"),
    option_case("--resample-hz", "0"),
]


CASE_IDS = [case.__name__.removeprefix("case_") for case in CASES]


@pytest.fixture(scope="module")
def refused_runs(tmp_path_factory, world_builder, cli):
    """Every case in its own fresh world, run concurrently (each run is a separate ``python -m hardneg``)."""

    def run(case_id, case):
        world = world_builder(tmp_path_factory.mktemp(case_id))
        args, needles = case(world)
        out = world.root / "out"
        return case_id, (cli("sample", *args, "--out", out, cwd=world.root), needles, out)

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return dict(pool.map(lambda pair: run(*pair), zip(CASE_IDS, CASES)))


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_bad_input_exits_2_with_one_error_line(refused_runs, case_id):
    result, needles, out = refused_runs[case_id]
    assert_refused(result, *needles)
    assert not (out / "index.parquet").exists()  # a failed run leaves no dataset behind


@pytest.mark.parametrize(
    ("field", "value", "option"),
    [
        ("window_ms", -5.0, "--window-ms"),
        ("window_ms", float("inf"), "--window-ms"),
        ("lead_ms", float("nan"), "--lead-ms"),
        ("neg_mult", -1, "--neg-mult"),
        ("neg_mixed_near_frac", -0.1, "--neg-mixed-near-frac"),
        ("neg_avoid_edges", "both", "--neg-avoid-edges"),
        ("neg_min_motion_quantile", 2.0, "--neg-min-motion-quantile"),
        ("neg_pos_motion_q", 0.5, "--neg-pos-motion-q"),
        ("neg_candidate_hop_ms", 0.0, "--neg-candidate-hop-ms"),
        ("neg_min_sep_ms", -1.0, "--neg-min-sep-ms"),
        ("edge_ms", -1.0, "--edge-ms"),
        ("near_max_ms", -1.0, "--near-max-ms"),
        ("far_min_ms", -1.0, "--far-min-ms"),
        ("min_event_gap_ms", -1.0, "--min-event-gap-ms"),
        ("neg_avoid_post_ms", -1.0, "--neg-avoid-post-ms"),
        ("motion_accel_weight", -0.1, "--motion-accel-weight"),
        ("gyro_cols", ("gx", "gy"), "--gyro-cols"),
        ("accel_cols", ("ax",), "--accel-cols"),
    ],
)
def test_every_impossible_option_value_names_its_option(field, value, option):
    """The same check and message the CLI gives (in process: one subprocess per value would cost too much time).

    The library names the parameter (``window_ms must be ...``); the CLI prints it as the flag the user typed.
    """
    from hardneg.cli.main import describe, load_commands
    from hardneg.errors import InputError
    from hardneg.sample import SamplingConfig

    with pytest.raises(InputError) as info:
        SamplingConfig(**{field: value}).validate()
    assert info.value.parameter == field
    message = describe(info.value, load_commands("sample")["sample"])
    assert option in message
    assert "\n" not in str(info.value)


def test_non_numeric_option_value_is_one_error_line(world, cli):
    """``--window-ms abc`` is an impossible option value too: one ``error:`` line, not a usage panel."""
    result = cli("sample", *world.logs, "--events", world.events, "--window-ms", "abc", "--out", world.root / "o")
    assert_refused(result, "--window-ms")


@pytest.mark.parametrize(
    "case",
    [case_unknown_recording_in_events, option_case("--window-ms", "0"), case_no_positive_at_all],
    ids=["unknown_recording", "window_ms_0", "no_positive"],
)
def test_stderr_holds_only_the_error_line(world, cli, case):
    """Issue §6: 'one clear line on stderr' — no progress-bar residue around it (stderr is not a terminal here)."""
    args, _ = case(world)
    result = cli("sample", *args, "--out", world.root / "out", cwd=world.root)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == error_lines(result), result.stderr


def test_existing_non_empty_out_is_refused_without_overwrite(world, cli):
    out = world.root / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = cli("sample", *world.logs, "--events", world.events, "--out", out, "-q")
    assert_refused(result, "--out", "--overwrite")
    assert (out / "keep.txt").read_text() == "mine"
    assert not (out / "index.parquet").exists()

    result = cli("sample", *world.logs, "--events", world.events, "--out", out, "-q", "--overwrite")
    assert result.returncode == 0, result.stderr
    assert (out / "index.parquet").is_file()
    assert not (out / "keep.txt").exists()


def test_out_that_is_a_file_is_refused(world, cli):
    out = world.root / "out"
    out.write_text("x")
    assert_refused(cli("sample", *world.logs, "--events", world.events, "--out", out), "--out")


def test_bad_input_does_not_damage_an_existing_dataset(world, cli):
    out = world.root / "out"
    assert cli("sample", *world.logs, "--events", world.events, "--out", out, "-q").returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    world.events.write_text("recording,t_ms\ns9,1\n")
    result = cli("sample", *world.logs, "--events", world.events, "--out", out, "--overwrite")
    assert_refused(result, "s9")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


# ---------------------------------------------------------------------------- handled, counted and printed


def first_sample(t_ms: float) -> int:
    return math.ceil(t_ms * FS / 1000.0 - 1e-9)


def test_nan_short_recording_and_outside_events_are_counted(world, cli, log_maker):
    make_log, write_log = log_maker
    nan_rows = np.arange(1000, 1005)  # t = 10000 .. 10040 ms on s1
    s1 = world.data["s1"].copy()
    s1.loc[nan_rows, "gy"] = np.nan
    write_log(world.logs[0], s1)
    short = write_log(world.root / "s3.csv", make_log(20, 3))  # 200 ms: too short for a 500 ms window
    events = pd.DataFrame(
        {
            "recording": ["s1", "s1", "s1", "s1", "s2", "s2", "s3"],
            # 10500: window [9900, 10400) holds the NaN rows; 50 and 40000: windows outside s1; s3: too short
            "t_ms": [5000.0, 10500.0, 50.0, 40000.0, 8000.0, 25000.0, 150.0],
        }
    )
    events.to_csv(world.events, index=False)
    out = world.root / "out"

    result = cli("sample", *world.logs, short, "--events", world.events, "--out", out)

    assert result.returncode == 0, result.stderr
    meta = json.loads((out / "meta.json").read_text())
    counts = meta["counts"]
    sizes = {"s1": len(s1), "s2": len(world.data["s2"]), "s3": 20}
    nan_mask = {
        "s1": np.isin(np.arange(sizes["s1"]), nan_rows),
        "s2": np.zeros(sizes["s2"], bool),
        "s3": np.zeros(20, bool),
    }

    # independent: which events fit, which hold NaN
    outside = contains_nan = used = 0
    for rid, t in zip(events["recording"], events["t_ms"]):
        first = first_sample(t - 600.0)
        if first < 0 or first + T > sizes[rid]:
            outside += 1
        elif nan_mask[rid][first : first + T].any():
            contains_nan += 1
        else:
            used += 1
    assert (outside, contains_nan, used) == (3, 1, 3)
    assert counts["events"]["total"] == len(events)
    assert counts["events"]["outside_recording"] == outside
    assert counts["events"]["contains_nan"] == contains_nan
    assert counts["positives"] == used
    assert counts["recordings_too_short"] == ["s3"]

    # candidate negatives: every start sample; those whose window holds a NaN are removed first
    starts_with_nan = sum(
        int(nan_mask[rid][i : i + T].any()) for rid in ("s1", "s2") for i in range(sizes[rid] - T + 1)
    )
    assert starts_with_nan == T + len(nan_rows) - 1
    assert counts["candidates"]["removed"]["contains_nan"] == starts_with_nan
    assert counts["candidates"]["total"] == sum(sizes[rid] - T + 1 for rid in ("s1", "s2"))

    windows = np.load(out / "windows.npy", mmap_mode="r")
    assert not np.isnan(windows).any()
    index = pd.read_parquet(out / "index.parquet")
    assert "s3" not in set(index["recording"].astype(str))
    s1_windows = index[index["recording"].astype(str) == "s1"]
    for start in s1_windows["start_ms"]:
        first = first_sample(start)
        assert not nan_mask["s1"][first : first + T].any()

    printed = squash(result.stdout)
    assert "1 with NaN in their window" in printed
    assert "3 with a window outside their recording" in printed
    assert "recordings too short for a window: s3" in printed
    assert f"contains nan {starts_with_nan}" in printed


def test_nan_only_in_a_non_channel_column_is_harmless(world, cli):
    frame = world.data["s1"].copy()
    frame["note"] = "walk"
    frame.loc[10:20, "note"] = None
    frame.to_csv(world.logs[0], index=False)
    out = world.root / "out"
    (world.root / "ev1.csv").write_text("recording,t_ms\ns1,5000\ns1,20000\n")
    result = cli("sample", world.logs[0], "--events", world.root / "ev1.csv", "--out", out, "-q")
    assert result.returncode == 0, result.stderr
    meta = json.loads((out / "meta.json").read_text())
    assert meta["channels"] == ["ax", "ay", "az", "gx", "gy", "gz"]
    assert meta["counts"]["candidates"]["removed"]["contains_nan"] == 0


def test_events_of_other_recordings_are_skipped_with_one_warning(world, cli):
    """Two of the logs with the full events file: the others' events are counted in one warning line."""
    world.events.write_text("recording,t_ms\ns1,5000\ns2,8000\ns7,9000\ns7,12000\n")
    result = cli("sample", *world.logs, "--events", world.events, "--out", world.root / "out", "-q", cwd=world.root)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stderr.split())  # the console wraps long lines
    assert text.count("not among the inputs") == 1
    assert "2 events on 1 recording that is not among the inputs (s7) were skipped" in text
    assert text.startswith("warning:") or " warning:" in text


def test_a_dataset_without_negatives_is_written_with_a_warning(world, cli):
    """Every candidate negative filtered out: the run says which filter took the most, and what relaxes it."""
    result = cli("sample", *world.logs, "--events", world.events, "--neg-strategy", "far", "--far-min-ms", "1e9",
                 "--out", world.root / "out", "-q", cwd=world.root)  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stderr.split())
    assert "warning: the dataset holds no negative window" in text and "the far zone removed the most" in text and "relax --far-min-ms" in text


def test_demo_with_zero_seeds_is_refused(tmp_path, cli):
    result = cli("demo", "--seeds", "0", "--out", tmp_path / "demo", "-q")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: --seeds must be >= 1, got 0; pass --no-bench to skip the benchmark"
    ]
