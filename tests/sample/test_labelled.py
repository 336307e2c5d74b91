"""Labelled look-alike events as negatives (kind=labelled), event labels in the index, events of other recordings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hardneg import InputOptions, SamplingConfig, build_dataset
from hardneg.errors import InputError
from hardneg.io import Recording, read_events_csv, select_events
from hardneg.sample import sample_windows

MITDB = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mitdb"


def _recordings(n=2, samples=4000):
    return [
        Recording(f"r{i}", f"g{i}", 0.0, 100.0, ["ax"], [np.sin(np.arange(samples) / (7 + i))], f"r{i}.csv")
        for i in range(n)
    ]


def _events():
    return pd.DataFrame(
        {
            "recording": ["r0", "r0", "r0", "r0", "r1", "r1", "r1"],
            "t_ms": [5000.0, 5300.0, 12000.0, 39900.0, 8000.0, 20000.0, 25000.0],
            "end_ms": [5000.0, 5300.0, 12000.0, 39900.0, 8000.0, 20000.0, 25000.0],
            "label": ["V", "N", "N", "N", "V", "A", "V"],
            "event_id": np.arange(7),
        }
    )


def test_select_events_marks_look_alikes_and_drops_the_rest():
    events = _events()
    picked = select_events(events, positive_labels=["V"], negative_labels=["N"])
    assert picked["label"].tolist() == ["V", "N", "N", "N", "V", "V"]  # "A" is neither
    assert picked["negative"].tolist() == [False, True, True, True, False, False]
    # without positive labels, every event that is not a look-alike is a positive
    default = select_events(events, negative_labels=["N"])
    assert default.loc[~default["negative"], "label"].tolist() == ["V", "V", "A", "V"]
    assert select_events(events, positive_labels=["V"], negative_labels=["Z"]).attrs["warnings"] == [
        "no event is labelled 'Z'"
    ]
    with pytest.raises(InputError, match="'V' is also a positive label") as raised:
        select_events(events, positive_labels=["V"], negative_labels=["V"])
    assert raised.value.parameter == "negative_labels"


def test_one_labelled_window_per_look_alike_aligned_like_a_positive():
    config = SamplingConfig(window_ms=600, align="center", neg_mult=1)
    events = select_events(_events(), positive_labels=["V"], negative_labels=["N", "A"])
    index = sample_windows(_recordings(), events, config, seed=0).index
    labelled = index[index["kind"] == "labelled"].sort_values(["recording", "start_ms"])
    # 39900 ms: the window [39600, 40200) ends after r0's last sample (4000 samples at 100 Hz), so it is left out
    assert labelled["event_t_ms"].tolist() == [5300.0, 12000.0, 20000.0]
    assert (labelled["start_ms"] == labelled["event_t_ms"] - 300.0).all()  # centred, as the positives
    assert (labelled["label"] == 0).all() and labelled["event_label"].tolist() == ["N", "N", "A"]
    positives = index[index["kind"] == "pos"]
    assert positives["event_label"].eq("V").all()
    near = index[index["kind"] == "near"]
    assert near["event_label"].isin(["V"]).all()  # the label of the positive a near negative sits by
    # 5300 ms overlaps the positive at 5000 ms: kept by default, dropped when asked
    avoid = SamplingConfig(window_ms=600, align="center", neg_mult=1, labelled_avoid_positives=True)
    sampled = sample_windows(_recordings(), events, avoid, seed=0)
    assert sampled.index.query("kind == 'labelled'")["event_t_ms"].tolist() == [12000.0, 20000.0]
    assert sampled.report["labelled"]["overlap_positive"] == 1


def test_a_window_touching_the_exclusion_zone_is_not_an_overlap():
    config = SamplingConfig(window_ms=600, align="center", neg_mult=0, labelled_avoid_positives=True)
    # positive at 5000: window [4700, 5300); a look-alike at 5600 has window [5300, 5900): touching, kept
    events = pd.DataFrame({"recording": "r0", "t_ms": [5000.0, 5600.0, 5599.0], "label": ["V", "N", "N"]})
    events = select_events(events.assign(end_ms=events["t_ms"], event_id=[0, 1, 2]), positive_labels=["V"],
                           negative_labels=["N"])  # fmt: skip
    found = sample_windows(_recordings(1), events, config, seed=0).index.query("kind == 'labelled'")
    assert found["event_t_ms"].tolist() == [5600.0]


def test_other_draws_do_not_change_when_look_alikes_are_added():
    config = SamplingConfig(window_ms=600, align="center", neg_mult=2)
    plain = select_events(_events(), positive_labels=["V"])
    with_labelled = select_events(_events(), positive_labels=["V"], negative_labels=["N", "A"])
    a = sample_windows(_recordings(), plain, config, seed=3).index
    b = sample_windows(_recordings(), with_labelled, config, seed=3).index
    columns = ["recording", "start_ms", "kind", "event_id"]
    pd.testing.assert_frame_equal(a[columns].reset_index(drop=True),
                                  b.loc[b["kind"] != "labelled", columns].reset_index(drop=True))  # fmt: skip


@pytest.mark.parametrize("scope", ["total", "recording"])
def test_the_cap_is_drawn_with_the_seed(scope):
    recordings = _recordings(3, samples=20000)
    rows = [(r.id, t, "N") for r in recordings for t in np.arange(1000.0, 190000.0, 900.0)]
    rows += [(r.id, 500.0 + 1000.0 * i, "V") for i, r in enumerate(recordings)]
    events = pd.DataFrame(rows, columns=["recording", "t_ms", "label"])
    events = select_events(events.assign(end_ms=events["t_ms"], event_id=np.arange(len(events))),
                           positive_labels=["V"], negative_labels=["N"])  # fmt: skip
    config = SamplingConfig(window_ms=600, align="center", neg_mult=0, labelled_neg_max=7, labelled_neg_scope=scope)
    first = sample_windows(recordings, events, config, seed=1)
    labelled = first.index.query("kind == 'labelled'")
    if scope == "total":
        assert len(labelled) == 7
    else:
        assert labelled.groupby("recording").size().tolist() == [7, 7, 7]
    assert first.report["labelled"]["kept"] == len(labelled)
    again = sample_windows(recordings, events, config, seed=1).index
    pd.testing.assert_frame_equal(first.index, again)
    other = sample_windows(recordings, events, config, seed=2).index.query("kind == 'labelled'")
    assert other["event_id"].tolist() != labelled["event_id"].tolist()


def test_events_of_recordings_not_among_the_inputs_are_skipped_with_a_warning(tmp_path):
    path = tmp_path / "events.csv"
    pd.DataFrame({"recording": ["r0", "s03", "s03", "s04"], "t_ms": [1000.0, 2000.0, 3000.0, 4000.0]}).to_csv(
        path, index=False
    )
    events = read_events_csv(path, _recordings(1))
    assert events["recording"].tolist() == ["r0"]
    assert events.attrs["warnings"] == [
        f"{path}: 3 events on 2 recordings that are not among the inputs (s03, s04) were skipped"
    ]
    sampled = sample_windows(_recordings(1), events, SamplingConfig(neg_mult=1), seed=0)
    assert any("not among the inputs" in warning for warning in sampled.report["warnings"])
    pd.DataFrame({"recording": ["s03"], "t_ms": [1.0]}).to_csv(path, index=False)
    with pytest.raises(InputError, match="no event is on one of the inputs"):
        read_events_csv(path, _recordings(1))


@pytest.mark.skipif(not MITDB.is_dir(), reason=f"MIT-BIH records not found at {MITDB} (../shared/data/mitdb)")
def test_mitdb_one_window_per_beat(tmp_path):
    """Every V/E beat a positive, every other beat a labelled negative, as wfdb's own annotations count them."""
    import wfdb

    records = ["100", "119", "208"]
    positive, negative = ("V", "E"), ("N", "L", "R", "e", "j", "A", "a", "J", "S", "F", "/", "f", "Q")
    dataset = build_dataset(
        [MITDB / f"{r}.hea" for r in records],
        tmp_path / "beats",
        inputs=InputOptions(event_symbols=positive, negative_symbols=negative, channels=("MLII",)),
        config=SamplingConfig(align="center", window_ms=600, neg_mult=0),
    )
    index = dataset.index
    for record in records:
        annotation = wfdb.rdann(str(MITDB / record), "atr")
        n = wfdb.rdheader(str(MITDB / record)).sig_len
        samples, symbols = np.asarray(annotation.sample), np.asarray(annotation.symbol)
        half = int(round(0.3 * 360))
        fits = (samples - half >= 0) & (samples - half + 216 <= n)
        here = index[index["recording"] == record]
        assert (here["kind"] == "pos").sum() == int((np.isin(symbols, positive) & fits).sum())
        assert (here["kind"] == "labelled").sum() == int((np.isin(symbols, negative) & fits).sum())
    assert set(index.loc[index["kind"] == "labelled", "event_label"]) <= set(negative)


@pytest.mark.skipif(not MITDB.is_dir(), reason=f"MIT-BIH records not found at {MITDB} (../shared/data/mitdb)")
def test_readme_beat_level_command(tmp_path):
    """README section 3: the one command that gives every beat of MIT-BIH, positives V/E, the rest labelled."""
    import json
    import subprocess
    import sys

    import wfdb

    positive, negative = "V,E", "N,L,R,e,j,A,a,J,S,F,/,f,Q"
    headers = sorted(str(path) for path in MITDB.glob("*.hea"))
    result = subprocess.run(
        [sys.executable, "-m", "hardneg", "sample", *headers, "--event-symbols", positive, "--negative-symbols",
         negative, "--align", "center", "--window-ms", "600", "--neg-mult", "0", "--channels", "MLII",
         "--skip-bad-files", "--out", str(tmp_path / "mitdb-beats"), "-q"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    meta = json.loads((tmp_path / "mitdb-beats" / "meta.json").read_text())
    assert meta["channels"] == ["MLII"]
    index = pd.read_parquet(tmp_path / "mitdb-beats" / "index.parquet")
    expected = {"pos": 0, "labelled": 0}
    for record in sorted(index["recording"].unique()):
        annotation = wfdb.rdann(str(MITDB / record), "atr")
        n = wfdb.rdheader(str(MITDB / record)).sig_len
        samples, symbols = np.asarray(annotation.sample), np.asarray(annotation.symbol)
        fits = (samples - 108 >= 0) & (samples - 108 + 216 <= n)
        expected["pos"] += int((np.isin(symbols, positive.split(",")) & fits).sum())
        expected["labelled"] += int((np.isin(symbols, negative.split(",")) & fits).sum())
    assert index["kind"].value_counts().to_dict() == expected
    assert index["recording"].nunique() == 46  # 102 and 104 have no MLII
