"""User mistakes with ``hardneg sample`` beyond tests/cli/test_bad_input.py: each exits 2 with one ``error:``
line that names what is wrong (the file, the row, the column, the option), and no traceback."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from tests.helpers.cli import assert_refused
from tests.helpers.mistakes import Cases, build_base

cases = Cases()


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return build_base(tmp_path_factory.getbasetemp() / "mistakes-base")


def sample(base, tmp, *options, logs=None, events=None):
    logs = base.logs[:2] if logs is None else logs
    events = base.events if events is None else events
    return ["sample", *logs, "--events", events, "--out", tmp / "out", "-q", *options]


def log_frame(base, number: int = 0) -> pd.DataFrame:
    return pd.read_parquet(base.logs[number])


@cases.add
def one_line_txt_log(base, tmp):
    (tmp / "s01.txt").write_text("accelerometer export of session 1\n")
    return sample(base, tmp, logs=[tmp / "s01.txt"]), ["s01.txt", "one line", ".parquet"]


@cases.add
def channels_that_name_nothing(base, tmp):
    return sample(base, tmp, "--channels", ","), ["--channels", "names nothing"]


@cases.add
def like_a_folder_that_is_no_dataset(base, tmp):
    return ["sample", "--like", tmp, "--out", tmp / "out"], ["--like", "no meta.json"]


@cases.add
def json_as_log(base, tmp):
    (tmp / "s01.json").write_text('{"t_ms": [0, 10], "ax": [1, 2]}')
    return sample(base, tmp, logs=[tmp / "s01.json"]), ["s01.json", ".json", ".csv"]


@cases.add
def events_given_as_json(base, tmp):
    (tmp / "events.json").write_text('[{"recording": "s01", "t_ms": 5000}]')
    return sample(base, tmp, events=tmp / "events.json"), ["events.json"]


@cases.add
def header_only_events(base, tmp):
    (tmp / "events.csv").write_text("recording,t_ms\n")
    return sample(base, tmp, events=tmp / "events.csv"), ["events.csv"]


@cases.add
def events_with_a_blank_time(base, tmp):
    (tmp / "events.csv").write_text("recording,t_ms\ns01,5000\ns01,\n")
    return sample(base, tmp, events=tmp / "events.csv"), ["events.csv", "line 3", "t_ms"]


@cases.add
def events_without_recording_column(base, tmp):
    (tmp / "events.csv").write_text("session,t_ms\ns01,5000\n")
    return sample(base, tmp, events=tmp / "events.csv"), ["events.csv", "recording"]


@cases.add
def log_given_as_events(base, tmp):
    return sample(base, tmp, events=base.logs[0]), ["s01.parquet"]


@cases.add
def nan_time_in_log(base, tmp):
    frame = log_frame(base)
    frame.loc[100, "t_ms"] = np.nan
    frame.to_csv(tmp / "s01.csv", index=False)
    return sample(base, tmp, logs=[tmp / "s01.csv"]), ["s01.csv", "line 102", "t_ms"]


@cases.add
def same_log_twice(base, tmp):
    return sample(base, tmp, logs=[base.logs[0], base.logs[0]]), ["s01"]


@cases.add
def two_logs_with_the_same_stem(base, tmp):
    (tmp / "b").mkdir()
    shutil.copy(base.logs[0], tmp / "b" / "s01.parquet")
    return sample(base, tmp, logs=[base.logs[0], tmp / "b" / "s01.parquet"]), ["s01"]


@cases.add
def logs_and_wfdb_mixed(base, tmp):
    (tmp / "100.hea").write_text("100 1 360 650000\n100.dat 212 200 11 1024 995 -22131 0 MLII\n")
    return sample(base, tmp, logs=[base.logs[0], tmp / "100.hea"]), ["mix"]


@cases.add
def wfdb_header_without_signal_file(base, tmp):
    (tmp / "100.hea").write_text("100 1 360 650000\n100.dat 212 200 11 1024 995 -22131 0 MLII\n")
    return sample(base, tmp, logs=[tmp / "100.hea"]), ["100"]


@cases.add
def wfdb_header_garbage(base, tmp):
    (tmp / "100.hea").write_text("this is not a header\n")
    return sample(base, tmp, logs=[tmp / "100.hea"]), ["100"]


@cases.add
def events_and_event_col(base, tmp):
    return sample(base, tmp, "--event-col", "shot"), ["--events", "--event-col"]


@cases.add
def event_col_not_in_log(base, tmp):
    return ["sample", *base.logs[:2], "--event-col", "shot", "--out", tmp / "out", "-q"], ["s01.parquet", "shot"]


@cases.add
def event_labels_without_label_column(base, tmp):
    pd.read_csv(base.events)[["recording", "t_ms"]].to_csv(tmp / "events.csv", index=False)
    return sample(base, tmp, "--event-labels", "V", events=tmp / "events.csv"), ["--event-labels", "'V'", "no label"]


@cases.add
def event_labels_matching_nothing(base, tmp):
    events = pd.read_csv(base.events).assign(label="shot")
    events.to_csv(tmp / "events.csv", index=False)
    return sample(base, tmp, "--event-labels", "Shot", events=tmp / "events.csv"), [
        "--event-labels",
        "'Shot'",
        "'shot'",
    ]


@cases.add
def negative_symbols_on_logs(base, tmp):
    return sample(base, tmp, "--negative-symbols", "N"), ["--negative-symbols"]


@cases.add
def groups_file_missing(base, tmp):
    return sample(base, tmp, "--groups", tmp / "groups.csv"), ["groups.csv"]


@cases.add
def groups_file_without_group_column(base, tmp):
    (tmp / "groups.csv").write_text("recording,subject\ns01,a\ns02,b\n")
    return sample(base, tmp, "--groups", tmp / "groups.csv"), ["groups.csv", "group"]


@cases.add
def group_col_not_in_log(base, tmp):
    return sample(base, tmp, "--group-col", "subject"), ["s01.parquet", "subject"]


@cases.add
def hard_negatives_folder_missing(base, tmp):
    return sample(base, tmp, "--hard-negatives", tmp / "mined"), ["mined"]


@cases.add
def hard_negatives_from_a_dataset(base, tmp):
    return sample(base, tmp, "--hard-negatives", base.dataset), ["dataset", "candidates"]


@cases.add
def hard_negatives_folder_without_candidates(base, tmp):
    done_args = ["mine", base.pool, "--model", base.model, "--trust-model", "--min-score", "1", "--out", tmp / "m"]
    from tests.helpers.cli import run_hardneg

    mined = run_hardneg(*done_args, "-q")
    assert mined.returncode == 0, mined.stderr
    return sample(base, tmp, "--hard-negatives", tmp / "m"), ["--hard-negatives", "no candidate", "--min-score"]


@cases.add
def hard_tier_above_one(base, tmp):
    return sample(base, tmp, "--hard-negatives", base.mined, "--hard-tier", "85"), ["--hard-tier"]


@cases.add
def hard_max_negative(base, tmp):
    return sample(base, tmp, "--hard-negatives", base.mined, "--hard-max", "-1"), ["--hard-max"]


@cases.add
def negative_seed(base, tmp):
    return sample(base, tmp, "--seed", "-1"), ["--seed"]


@cases.add
def negative_resample_rate(base, tmp):
    return sample(base, tmp, "--resample-hz", "-100"), ["--resample-hz"]


@cases.add
def one_column_txt_log(base, tmp):
    (tmp / "s01.txt").write_text("0.1\n0.2\n0.3\n")
    return sample(base, tmp, logs=[tmp / "s01.txt"]), ["s01.txt", "first line", "names its columns"]


@cases.add
def negative_window(base, tmp):
    return sample(base, tmp, "--window-ms", "-500"), ["--window-ms"]


@cases.add
def zero_candidate_hop(base, tmp):
    return sample(base, tmp, "--neg-candidate-hop-ms", "0"), ["--neg-candidate-hop-ms"]


@cases.add
def unknown_time_unit_for_events(base, tmp):
    return sample(base, tmp, "--time-unit", "minutes"), ["--time-unit"]


@cases.add
def labelled_neg_max_without_negative_labels(base, tmp):
    return sample(base, tmp, "--labelled-neg-max", "5"), ["--labelled-neg-max", "--negative-labels"]


def wfdb_record(folder, name: str = "100"):
    """A 10-s two-lead record at 360 Hz with V and N beats, written with the wfdb package."""
    wfdb = pytest.importorskip("wfdb", reason="the wfdb package (hardneg[wfdb]) is not installed")
    signal = np.stack([np.sin(np.arange(3600) / 7), np.cos(np.arange(3600) / 9)], axis=1)
    wfdb.wrsamp(name, fs=360, units=["mV", "mV"], sig_name=["MLII", "V5"], p_signal=signal, fmt=["212", "212"],
                write_dir=str(folder))  # fmt: skip
    wfdb.wrann(name, "atr", np.array([1000, 1500, 2000, 2600]), np.array(["N", "V", "N", "N"]), write_dir=str(folder))
    return folder / f"{name}.hea"


@cases.add
def wfdb_signal_file_given(base, tmp):
    wfdb_record(tmp)
    return sample(base, tmp, "--event-symbols", "V", logs=[tmp / "100.dat"]), ["100.dat", "100.hea"]


@cases.add
def wfdb_annotation_file_given(base, tmp):
    wfdb_record(tmp)
    return sample(base, tmp, "--event-symbols", "V", logs=[tmp / "100.atr"]), ["100.atr", "100.hea"]


@cases.add
def wfdb_symbol_no_annotation_has(base, tmp):
    header = wfdb_record(tmp)
    return ["sample", header, "--event-symbols", "VEB", "--out", tmp / "out"], ["--event-symbols", "'VEB'", "N, V"]


@cases.add
def wfdb_without_event_symbols(base, tmp):
    return ["sample", wfdb_record(tmp), "--out", tmp / "out"], ["--event-symbols"]


@cases.add
def wfdb_wrong_annotation_extension(base, tmp):
    header = wfdb_record(tmp)
    return ["sample", header, "--event-symbols", "V", "--annotation-ext", "qrs", "--out", tmp / "out"], [
        "100.qrs",
        "--annotation-ext",
    ]


@cases.add
def wfdb_lead_not_in_record(base, tmp):
    header = wfdb_record(tmp)
    return ["sample", header, "--event-symbols", "V", "--channels", "V1", "--out", tmp / "out"], ["100", "V1"]


@pytest.mark.parametrize("case_id", cases.ids)
def test_sample_mistake(base, tmp_path, case_id):
    result, needles = cases.run(case_id, base, tmp_path)
    assert_refused(result, *needles)
    assert not (tmp_path / "out" / "index.parquet").exists()


@pytest.mark.parametrize("separator", [" ", "\t", ";"])
def test_a_txt_table_is_read_with_its_own_separator(base, tmp_path, separator):
    """A .txt export (spaces, tabs or semicolons between columns) gives the same dataset as the Parquet log."""
    from tests.helpers.cli import run_in_process

    frame = log_frame(base)
    text = tmp_path / "s01.txt"
    lines = [separator.join(frame.columns)]
    lines += [separator.join(repr(float(value)) for value in row) for row in frame.itertuples(index=False)]
    text.write_text("\n".join(lines) + "\n")
    made = {}
    for name, log in (("parquet", base.logs[0]), ("txt", text)):
        done = run_in_process("sample", log, "--events", base.events, "--out", tmp_path / name, "-q")
        assert done.returncode == 0, done.stderr
        made[name] = np.load(tmp_path / name / "windows.npy")
    assert made["txt"].shape == made["parquet"].shape and len(made["txt"]) > 0
    np.testing.assert_array_equal(made["txt"], made["parquet"])
