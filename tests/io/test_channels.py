"""Channels are chosen by name in every file; names that differ across files are refused unless allowed.

Synthetic WFDB records stand in for MIT-BIH's lead layouts (MLII first in most records, second in 114,
absent from 102 and 104), so these run without the real data; ``tests/io/test_wfdb.py`` checks the real ones.
"""

from __future__ import annotations

import numpy as np
import pytest

from hardneg import InputOptions, read_inputs
from hardneg.errors import InputError
from hardneg.io import Recording, check_channel_names, read_sensor_logs, read_wfdb_records
from tests.helpers.synth import write_log

wfdb = pytest.importorskip("wfdb", reason="the wfdb package (hardneg[wfdb]) is not installed")
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:Warning")  # inside wfdb.rdann, with pandas >= 3

FS = 360
N = 3600  # 10 s
LAYOUTS = {"a": ["MLII", "V5"], "b": ["V5", "MLII"], "c": ["V5", "V2"]}  # like records 100, 114 and 102


def write_records(folder, layouts=LAYOUTS) -> dict[str, np.ndarray]:
    """One record per layout, each channel a distinct ramp; returns record -> p_signal as wfdb reads it back."""
    signals = {}
    for k, (name, channels) in enumerate(layouts.items()):
        signal = np.stack([np.sin(np.arange(N) / (7 + k + j)) for j in range(len(channels))], axis=1)
        wfdb.wrsamp(name, fs=FS, units=["mV"] * len(channels), sig_name=channels, p_signal=signal,
                    fmt=["212"] * len(channels), write_dir=str(folder))  # fmt: skip
        wfdb.wrann(name, "atr", np.array([1000, 2000]), np.array(["V", "N"]), write_dir=str(folder))
        signals[name] = wfdb.rdrecord(str(folder / name)).p_signal
    return signals


def test_a_signal_is_found_by_name_wherever_it_sits(tmp_path):
    signals = write_records(tmp_path, {"a": LAYOUTS["a"], "b": LAYOUTS["b"]})
    recordings, _ = read_wfdb_records([tmp_path / "a.hea", tmp_path / "b.hea"], event_symbols=["V"], channels=["MLII"])
    assert [r.channels for r in recordings] == [["MLII"], ["MLII"]]
    np.testing.assert_array_equal(recordings[0].data[0], signals["a"][:, 0])
    np.testing.assert_array_equal(recordings[1].data[0], signals["b"][:, 1])  # MLII is b's second column


def test_a_record_without_the_signal_names_itself_its_signals_and_skip_bad_files(tmp_path):
    write_records(tmp_path)
    paths = [tmp_path / f"{name}.hea" for name in LAYOUTS]
    with pytest.raises(
        InputError, match=r"c\.hea: signal\(s\) MLII not in record c \(it has V5, V2\).*--skip-bad-files"
    ):
        read_wfdb_records(paths, event_symbols=["V"], channels=["MLII"])
    skipped = []
    recordings, _ = read_wfdb_records(
        paths, event_symbols=["V"], channels=["MLII"], on_bad_file=lambda path, message: skipped.append(message)
    )
    assert [r.id for r in recordings] == ["a", "b"]
    (message,) = skipped  # skipped already: the hint to skip it is left out
    assert message.endswith(
        "c.hea: signal(s) MLII not in record c (it has V5, V2); choose signals every record has with --channels"
    )


def test_read_inputs_refuses_mixed_names_unless_allowed(tmp_path):
    write_records(tmp_path)
    paths = [tmp_path / f"{name}.hea" for name in LAYOUTS]
    with pytest.raises(InputError) as caught:
        read_inputs(paths, InputOptions(event_symbols=("V",)))
    message = str(caught.value)
    assert "MLII,V5 in 1 (a); V5,MLII in 1 (b); V5,V2 in 1 (c)" in message
    assert "--channels NAME[,NAME]" in message and "--allow-mixed-channels" in message
    recordings, _ = read_inputs(paths, InputOptions(event_symbols=("V",), allow_mixed_channels=True))
    assert [r.channels for r in recordings] == list(LAYOUTS.values())
    skipped = []
    recordings, _ = read_inputs(
        paths, InputOptions(event_symbols=("V",), channels=("MLII",), skip_bad_files=True), skipped=skipped
    )
    assert [r.id for r in recordings] == ["a", "b"]
    assert [item["path"] for item in skipped] == [str(tmp_path / "c.hea")]


def test_check_channel_names_groups_recordings_by_layout():
    def record(name, channels):
        return Recording(name, name, 0.0, 100.0, channels, [np.zeros(2)] * len(channels), f"{name}.csv")

    same = [record(f"r{k}", ["x", "y"]) for k in range(5)]
    check_channel_names(same)
    with pytest.raises(InputError, match=r"x,y in 5 \(r0, r1, r2, \.\.\.\); y,x in 1 \(odd\);"):
        check_channel_names([*same, record("odd", ["y", "x"])])
    check_channel_names([*same, record("odd", ["y", "x"])], allow_mixed=True)


def test_logs_with_other_column_names_are_refused_unless_allowed(tmp_path):
    t = np.arange(50) * 10.0
    a = write_log(tmp_path / "a.csv", t, {"ax": np.zeros(50)})
    b = write_log(tmp_path / "b.parquet", t, {"ay": np.ones(50)})
    with pytest.raises(InputError, match=r"b\.parquet.*--channels.*--allow-mixed-channels"):
        read_sensor_logs([a, b])
    recordings, _ = read_sensor_logs([a, b], allow_mixed_channels=True)
    assert [r.channels for r in recordings] == [["ax"], ["ay"]]
    # by name, the column is found in every log that has it, and a log without it is named
    c = write_log(tmp_path / "c.csv", t, {"ay": np.full(50, 2.0), "ax": np.full(50, 3.0)})
    recordings, _ = read_sensor_logs([a, c], channels=["ax"])
    assert [r.data[0][0] for r in recordings] == [0.0, 3.0]
    with pytest.raises(InputError, match=r"b\.parquet: channel column\(s\) ax not found.*--skip-bad-files"):
        read_sensor_logs([a, b], channels=["ax"])
    skipped = []
    recordings, _ = read_sensor_logs([a, b], channels=["ax"], on_bad_file=lambda path, message: skipped.append(message))
    assert [r.id for r in recordings] == ["a"]
    assert skipped == [f"{b}: channel column(s) ax not found; columns are: t_ms, ay"]
