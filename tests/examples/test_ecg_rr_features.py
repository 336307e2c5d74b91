"""examples/ecg_rr_features.py against a brute-force loop over wfdb's own annotations and signals."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

from hardneg import InputOptions, SamplingConfig, build_dataset
from tests.examples._load import MITDB, MITDB_MISSING, NEGATIVE, POSITIVE, has_mitdb, load_example

ecg = load_example()
RATE = 360
HALF_WINDOW = 108  # 600 ms centred on the beat at 360 Hz
QRS = 36  # 100 ms
RECORDS = ("100", "119", "208")  # normal rhythm; ventricular bigeminy; many V beats and fusion beats


def test_docstring_examples_run():
    failures, tried = doctest.testmod(ecg, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried >= 4 and failures == 0


@pytest.fixture(scope="module")
def beats(tmp_path_factory):
    if not has_mitdb():
        pytest.skip(MITDB_MISSING)
    dataset = build_dataset(
        [MITDB / f"{r}.hea" for r in RECORDS],
        tmp_path_factory.mktemp("beats") / "beats",
        inputs=InputOptions(event_symbols=POSITIVE, negative_symbols=NEGATIVE, channels=("MLII",)),
        config=SamplingConfig(align="center", window_ms=600, neg_mult=0),
    )
    return dataset.index, np.asarray(dataset.windows), ecg.features(dataset.windows, dataset.index)


def _brute_force(record: str) -> pd.DataFrame:
    """Every feature of every beat of one record, one beat at a time, from wfdb's annotations and signal."""
    import wfdb

    annotation = wfdb.rdann(str(MITDB / record), "atr")
    signal_record = wfdb.rdrecord(str(MITDB / record))
    signal = signal_record.p_signal[:, signal_record.sig_name.index("MLII")].astype(np.float32).astype(np.float64)
    n = len(signal)
    beats = [
        int(sample)
        for sample, symbol in zip(annotation.sample, annotation.symbol)
        if symbol in POSITIVE + NEGATIVE and sample - HALF_WINDOW >= 0 and sample + HALF_WINDOW <= n
    ]
    times = [sample * 1000.0 / RATE for sample in beats]
    rows = []
    for i in range(len(times)):
        pre = times[i] - times[i - 1] if i > 0 else times[1] - times[0]
        post = times[i + 1] - times[i] if i < len(times) - 1 else times[i] - times[i - 1]
        rows.append({"t": times[i], "pre_rr": pre, "post_rr": post})
    for i, row in enumerate(rows):
        previous = [rows[j]["pre_rr"] for j in range(max(0, i - 9), i + 1)]
        row["local_rr"] = sum(previous) / len(previous)
        row["avg_rr"] = (times[-1] - times[0]) / (len(times) - 1)
    segments = []
    for row, sample in zip(rows, beats):
        window = signal[sample - HALF_WINDOW : sample + HALF_WINDOW]
        x = window - np.median(window)
        segment = x[HALF_WINDOW - QRS : HALF_WINDOW + QRS + 1]
        segments.append(segment)
        peak = int(np.argmax(np.abs(segment)))
        left = right = peak
        while left - 1 >= 0 and abs(segment[left - 1]) >= 0.5 * abs(segment[peak]):
            left -= 1
        while right + 1 < len(segment) and abs(segment[right + 1]) >= 0.5 * abs(segment[peak]):
            right += 1
        row.update(
            qrs_pp=segment.max() - segment.min(),
            r_amp=segment[peak],
            qrs_width_ms=(right - left + 1) * 1000.0 / RATE,
            qrs_rms=float(np.sqrt(np.mean(segment**2))),
            t_wave=float(np.mean(x[HALF_WINDOW + 54 :])),
        )
    table = pd.DataFrame(rows)
    template = np.median(np.array(segments), axis=0)
    table["corr_median"] = [np.corrcoef(segment, template)[0, 1] for segment in segments]
    table["pp_ratio"] = table["qrs_pp"] / table["qrs_pp"].median()
    table["width_ratio"] = table["qrs_width_ms"] / table["qrs_width_ms"].median()
    table["pre_avg"] = table["pre_rr"] / table["avg_rr"]
    table["post_avg"] = table["post_rr"] / table["avg_rr"]
    table["post_pre"] = table["post_rr"] / table["pre_rr"]
    table["pre_local"] = table["pre_rr"] / table["local_rr"]
    return table


@pytest.mark.parametrize("record", RECORDS)
def test_features_match_a_loop_over_wfdb_annotations(beats, record):
    index, _, table = beats
    mine = table[(index["recording"] == record).to_numpy()].assign(
        t=index.loc[index["recording"] == record, "event_t_ms"].to_numpy()
    )
    mine = mine.sort_values("t").reset_index(drop=True)
    expected = _brute_force(record)
    assert len(mine) == len(expected)
    np.testing.assert_allclose(mine["t"], expected["t"], atol=1e-6)
    for name in ecg.FEATURE_NAMES:
        np.testing.assert_allclose(mine[name], expected[name], rtol=1e-6, atol=1e-6, err_msg=name)
    # The boundaries: the first beat's pre-RR is its post-RR, the last beat's post-RR its pre-RR.
    assert mine["pre_rr"].iloc[0] == mine["post_rr"].iloc[0] == pytest.approx(mine["t"].iloc[1] - mine["t"].iloc[0])
    assert mine["post_rr"].iloc[-1] == mine["pre_rr"].iloc[-1] == pytest.approx(mine["t"].iloc[-1] - mine["t"].iloc[-2])


def test_ventricular_beats_are_premature_and_wide(beats):
    """What the features are for: on record 119 (bigeminy) V beats come early and are wider than the others."""
    index, _, table = beats
    here = (index["recording"] == "119").to_numpy()
    positive = here & (index["kind"] == "pos").to_numpy()
    other = here & (index["kind"] == "labelled").to_numpy()
    assert table.loc[positive, "pre_avg"].median() < 0.8 < table.loc[other, "pre_avg"].median()
    assert table.loc[positive, "qrs_width_ms"].median() > table.loc[other, "qrs_width_ms"].median()


def _synthetic(kinds, times, recordings, samples=216):
    rng = np.random.default_rng(0)
    windows = rng.normal(size=(len(times), 1, samples)).astype(np.float32)
    index = pd.DataFrame({"recording": recordings, "kind": kinds, "event_t_ms": times})
    index.loc[~index["kind"].isin(ecg.BEAT_KINDS), "event_t_ms"] = np.nan
    centre = np.asarray(times, dtype=float)
    index["start_ms"], index["end_ms"] = centre - 300.0, centre + 300.0
    return windows, index


def test_a_recording_with_one_beat_takes_the_dataset_median_interval():
    windows, index = _synthetic(
        ["pos", "labelled", "labelled", "labelled", "labelled"],
        [500.0, 0.0, 700.0, 1500.0, 2400.0],
        ["solo", "r", "r", "r", "r"],
    )
    table = ecg.features(windows, index)
    assert table.loc[0, ["pre_rr", "post_rr", "local_rr", "avg_rr"]].tolist() == [800.0] * 4  # median of 700, 800, 900
    assert table.loc[0, ["pre_avg", "post_avg", "post_pre", "pre_local"]].tolist() == [1.0] * 4
    assert np.isfinite(table.to_numpy()).all()


def test_windows_that_are_not_beats_take_the_nearest_beat():
    windows, index = _synthetic(
        ["labelled", "labelled", "near", "labelled", "far"],
        [0.0, 1000.0, 1450.0, 1600.0, 9000.0],
        ["r"] * 5,
    )
    table = ecg.features(windows, index)
    beat_rows = table.loc[[0, 1, 3]].reset_index(drop=True)
    np.testing.assert_allclose(
        table.loc[2, ["pre_rr", "post_rr", "avg_rr"]], beat_rows.loc[2, ["pre_rr", "post_rr", "avg_rr"]]
    )
    np.testing.assert_allclose(
        table.loc[4, ["pre_rr", "post_rr", "avg_rr"]], beat_rows.loc[2, ["pre_rr", "post_rr", "avg_rr"]]
    )
    assert table.loc[2, "pre_rr"] == 600.0 and table.loc[2, "avg_rr"] == 800.0


def test_no_interval_anywhere_is_an_error():
    windows, index = _synthetic(["pos", "labelled"], [0.0, 100.0], ["a", "b"])
    with pytest.raises(ValueError, match="two beats"):
        ecg.features(windows, index)
