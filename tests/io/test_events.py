"""Events CSV reader: columns, stable event ids (0-based data row) and the errors that name the line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hardneg.errors import InputError
from hardneg.io import EVENT_COLUMNS, Recording, read_events_csv


def recording(rid: str, n: int = 1000, fs: float = 100.0) -> Recording:
    return Recording(rid, rid, 0.0, fs, ["x"], [np.zeros(n)], f"{rid}.csv")


RECORDINGS = [recording("s1"), recording("s2"), recording("100")]


def write(tmp_path, text: str, name: str = "events.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_minimal_columns(tmp_path):
    path = write(tmp_path, "recording,t_ms\ns2,1500\ns1,250.5\ns2,40\n100,7\n")
    events = read_events_csv(path, RECORDINGS)
    assert list(events.columns) == EVENT_COLUMNS
    assert events["recording"].tolist() == ["s2", "s1", "s2", "100"]  # "100" stays a string id
    assert events["t_ms"].dtype == np.float64
    assert events["t_ms"].tolist() == [1500.0, 250.5, 40.0, 7.0]
    assert events["end_ms"].tolist() == events["t_ms"].tolist()  # end_ms = t_ms when absent
    assert events["label"].isna().all()
    assert events["event_id"].dtype == np.int64
    assert events["event_id"].tolist() == [0, 1, 2, 3]  # data rows, whatever the time order


def test_end_ms_and_label(tmp_path):
    text = "label,end_ms,t_ms,recording\nshot,1200,1000,s1\n7,,2000,s1\naim,3100.25,3000,s2\n"
    events = read_events_csv(write(tmp_path, text), RECORDINGS)
    expected = pd.read_csv(tmp_path / "events.csv", dtype={"label": str, "recording": str})
    np.testing.assert_array_equal(events["t_ms"], expected["t_ms"].astype(float))
    # an empty end_ms is the instant t_ms
    np.testing.assert_array_equal(events["end_ms"], expected["end_ms"].fillna(expected["t_ms"]))
    assert events["label"].tolist() == ["shot", "7", "aim"]  # labels are text, even "7"
    assert events["recording"].tolist() == ["s1", "s1", "s2"]
    assert events["event_id"].tolist() == [0, 1, 2]


def test_event_id_is_the_data_row_for_many_rows(tmp_path):
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame({"recording": rng.choice(["s1", "s2"], n), "t_ms": rng.uniform(0, 9000, n).round(3)})
    frame.to_csv(tmp_path / "events.csv", index=False)
    events = read_events_csv(tmp_path / "events.csv", RECORDINGS)
    np.testing.assert_array_equal(events["event_id"], np.arange(n))
    np.testing.assert_array_equal(events["t_ms"], frame["t_ms"])
    assert events["recording"].tolist() == frame["recording"].tolist()


def test_parquet_events(tmp_path):
    frame = pd.DataFrame({"recording": ["s1", "s2"], "t_ms": [10.0, 20.0], "label": ["a", "b"]})
    frame.to_parquet(tmp_path / "events.parquet", index=False)
    events = read_events_csv(tmp_path / "events.parquet", RECORDINGS)
    assert events["t_ms"].tolist() == [10.0, 20.0]
    assert events["event_id"].tolist() == [0, 1]


@pytest.mark.parametrize("bad_row", [0, 2, 5])
def test_events_of_an_unknown_recording_are_skipped_and_counted(tmp_path, bad_row):
    """A subset of the recordings with the full events file: the others' events are set aside with a warning."""
    ids = ["s1", "s2", "s1", "100", "s2", "s1"]
    ids[bad_row] = "s9"
    text = "recording,t_ms\n" + "".join(f"{rid},{100 * i}\n" for i, rid in enumerate(ids))
    events = read_events_csv(write(tmp_path, text), RECORDINGS)
    assert "s9" not in set(events["recording"]) and len(events) == 5
    assert bad_row not in set(events["event_id"])  # event ids stay the file's rows
    (warning,) = events.attrs["warnings"]
    assert "events.csv" in warning and "1 event on 1 recording that is not among the inputs (s9)" in warning


def test_events_on_no_input_at_all_are_refused(tmp_path):
    with pytest.raises(InputError) as info:
        read_events_csv(write(tmp_path, "recording,t_ms\ns9,100\ns8,200\n"), RECORDINGS)
    message = str(info.value)
    assert "events.csv" in message and "line 2" in message and "'s9'" in message and "\n" not in message


def test_non_numeric_t_ms_names_the_line(tmp_path):
    text = "recording,t_ms\ns1,100\ns1,200\ns2,12:30\ns2,400\n"
    with pytest.raises(InputError) as info:
        read_events_csv(write(tmp_path, text), RECORDINGS)
    message = str(info.value)
    assert "events.csv" in message and "line 4" in message and "t_ms" in message and "12:30" in message


def test_datetime_t_ms_becomes_epoch_milliseconds(tmp_path):
    """An ISO datetime is read as milliseconds since 1970, never as a bare count in a guessed unit."""
    text = "recording,t_ms\ns1,2024-01-01T00:00:05\ns1,2024-01-01T00:00:07.250\n"
    events = read_events_csv(write(tmp_path, text), RECORDINGS)
    expected = [pd.Timestamp("2024-01-01T00:00:05").value / 1e6, pd.Timestamp("2024-01-01T00:00:07.250").value / 1e6]
    assert events["t_ms"].tolist() == pytest.approx(expected, abs=1e-3)


def test_non_numeric_end_ms_names_the_line(tmp_path):
    text = "recording,t_ms,end_ms\ns1,100,150\ns1,200,later\n"
    with pytest.raises(InputError, match=r"events\.csv.*end_ms.*line 3"):
        read_events_csv(write(tmp_path, text), RECORDINGS)


def test_missing_t_ms_value_names_the_line(tmp_path):
    text = "recording,t_ms\ns1,100\ns1,\ns2,400\n"
    with pytest.raises(InputError, match=r"events\.csv.*t_ms.*line 3"):
        read_events_csv(write(tmp_path, text), RECORDINGS)


def test_end_before_start_names_the_line(tmp_path):
    text = "recording,t_ms,end_ms\ns1,100,150\ns2,200,200\ns2,500,499.5\n"
    with pytest.raises(InputError) as info:
        read_events_csv(write(tmp_path, text), RECORDINGS)
    message = str(info.value)
    assert "events.csv" in message and "line 4" in message and "end_ms" in message


@pytest.mark.parametrize("header", ["recording,time\n", "rec,t_ms\n"])
def test_missing_required_column(tmp_path, header):
    with pytest.raises(InputError, match=r"events\.csv.*recording,t_ms"):
        read_events_csv(write(tmp_path, header + "s1,1\n"), RECORDINGS)


def test_empty_events_file(tmp_path):
    with pytest.raises(InputError, match=r"events\.csv"):
        read_events_csv(write(tmp_path, ""), RECORDINGS)


def test_missing_events_file(tmp_path):
    with pytest.raises(InputError, match=r"nothere\.csv"):
        read_events_csv(tmp_path / "nothere.csv", RECORDINGS)
