"""WFDB reader and the MIT-BIH V-beat dataset, checked against ``wfdb.rdrecord`` / ``wfdb.rdann`` directly.

The records are the issue's ``../shared/data/mitdb`` (the ``shared`` folder beside the repository
checkout); every test here is skipped, with the reason, when that folder is absent.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

wfdb = pytest.importorskip("wfdb", reason="the wfdb package (hardneg[wfdb]) is not installed")

from hardneg import Dataset  # noqa: E402
from hardneg.errors import InputError  # noqa: E402
from hardneg.io import read_wfdb_records  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
MITDB = (REPO / ".." / "shared" / "data" / "mitdb").resolve()
RELATIVE_MITDB = "../shared/data/mitdb"  # as the issue writes it, from the repository root

pytestmark = [
    pytest.mark.skipif(
        not (MITDB / "100.hea").is_file(),
        reason=f"MIT-BIH records not found: {MITDB} (the issue's ../shared/data/mitdb beside the repo) is absent",
    ),
    pytest.mark.filterwarnings("ignore:The inplace keyword:Warning"),  # inside wfdb.rdann, with pandas >= 3
]

TWO = ["100", "119"]
FS = 360.0
HALF = 108  # 300 ms at 360 Hz: a centred 600 ms window is samples [s - 108, s + 108)
T = 216


def reference(name: str):
    """(p_signal, sig_name, fs, annotation samples, annotation symbols) straight from wfdb."""
    record = wfdb.rdrecord(str(MITDB / name))
    annotation = wfdb.rdann(str(MITDB / name), "atr")
    return record, np.asarray(annotation.sample), list(annotation.symbol)


@pytest.fixture(scope="module")
def two_records():
    return {name: reference(name) for name in TWO}


def test_samples_rate_channels_and_times(two_records):
    recordings, _ = read_wfdb_records([MITDB / f"{name}.hea" for name in TWO], event_symbols=["V"])
    assert [r.id for r in recordings] == TWO
    for recording in recordings:
        record, _, _ = two_records[recording.id]
        assert recording.group == recording.id
        assert recording.sample_rate_hz == FS == record.fs
        assert recording.t0_ms == 0.0
        assert recording.channels == list(record.sig_name)
        assert recording.n_samples == record.sig_len == 650000
        for k, channel in enumerate(recording.data):
            np.testing.assert_array_equal(channel, record.p_signal[:, k])  # physical units, bit for bit
        # sample i at i * 1000 / fs
        i = np.array([0, 1, 2, 359, 360, 12345, recording.n_samples - 1])
        np.testing.assert_allclose(recording.sample_time_ms(i), i * 1000.0 / FS, rtol=1e-15, atol=0)
        np.testing.assert_array_equal(recording.first_sample_at_or_after(i * 1000.0 / FS), i)
        assert recording.end_ms == pytest.approx((record.sig_len - 1) * 1000.0 / FS, abs=1e-9)


def test_v_annotations_become_events(two_records):
    _, events = read_wfdb_records([MITDB / f"{name}.hea" for name in TWO], event_symbols=["V"])
    for name in TWO:
        _, samples, symbols = two_records[name]
        index = [k for k, symbol in enumerate(symbols) if symbol == "V"]
        mine = events[events["recording"] == name]
        assert len(mine) == len(index)
        assert mine["event_id"].tolist() == index  # annotation index in the record
        np.testing.assert_allclose(mine["t_ms"], samples[index] * 1000.0 / FS, rtol=1e-15, atol=0)
        assert (mine["label"] == "V").all()
    assert (events["recording"] == "100").sum() == 1
    assert (events["recording"] == "119").sum() == 444


def test_several_symbols_and_record_path_without_suffix(two_records):
    _, events = read_wfdb_records([MITDB / "119"], event_symbols=["V", "N"])
    _, samples, symbols = two_records["119"]
    index = [k for k, symbol in enumerate(symbols) if symbol in ("V", "N")]
    assert events["event_id"].tolist() == index
    assert events["label"].tolist() == [symbols[k] for k in index]


def test_groups_override(tmp_path):
    paths = [MITDB / f"{name}.hea" for name in TWO]
    recordings, _ = read_wfdb_records(paths, event_symbols=["V"], groups={"100": "p1", "119": "p1"})
    assert [r.group for r in recordings] == ["p1", "p1"]
    groups = tmp_path / "groups.csv"
    groups.write_text("recording,group\n100,a\n119,b\n")
    recordings, _ = read_wfdb_records(paths, event_symbols=["V"], groups=groups)
    assert [r.group for r in recordings] == ["a", "b"]
    groups.write_text("recording,group\n100,a\n")
    with pytest.raises(InputError, match=r"groups\.csv.*119"):
        read_wfdb_records(paths, event_symbols=["V"], groups=groups)


def test_channel_selection(two_records):
    recordings, _ = read_wfdb_records([MITDB / "100.hea"], event_symbols=["V"], channels=["V5"])
    record, _, _ = two_records["100"]
    assert recordings[0].channels == ["V5"]
    np.testing.assert_array_equal(recordings[0].data[0], record.p_signal[:, 1])
    with pytest.raises(InputError, match=r"119\.hea.*V5"):
        read_wfdb_records([MITDB / "119.hea"], event_symbols=["V"], channels=["V5"])


def test_missing_header_and_annotations_are_named(tmp_path):
    with pytest.raises(InputError, match=r"999\.hea"):
        read_wfdb_records([tmp_path / "999.hea"], event_symbols=["V"])
    with pytest.raises(InputError, match=r"100\.xyz.*--annotation-ext"):
        read_wfdb_records([MITDB / "100.hea"], event_symbols=["V"], annotation_extension="xyz")


def test_damaged_record_is_named(tmp_path):
    for suffix in (".hea", ".atr"):
        shutil.copy(MITDB / f"100{suffix}", tmp_path / f"100{suffix}")
    (tmp_path / "100.dat").write_bytes((MITDB / "100.dat").read_bytes()[:1000])
    with pytest.raises(InputError, match=r"100\.hea"):
        read_wfdb_records([tmp_path / "100.hea"], event_symbols=["V"])
    shutil.copy(MITDB / "100.dat", tmp_path / "100.dat")
    (tmp_path / "100.atr").write_bytes((MITDB / "100.atr").read_bytes()[:37])
    with pytest.raises(InputError, match=r"100\.atr"):
        read_wfdb_records([tmp_path / "100.hea"], event_symbols=["V"])


# ---------------------------------------------------------------------------- end to end through the CLI


def run_sample(records: list[str], out: Path, *extra: str) -> subprocess.CompletedProcess:
    args = [f"{RELATIVE_MITDB}/{name}.hea" for name in records]
    command = [
        sys.executable,
        "-m",
        "hardneg",
        "sample",
        *args,
        "--event-symbols",
        "V",
        "--align",
        "center",
        "--window-ms",
        "600",
        "--neg-strategy",
        "mixed",
        "--out",
        str(out),
        *extra,
    ]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)


def fitting_v_beats(name: str) -> tuple[list[int], np.ndarray, int]:
    """(annotation indices, samples) of the V beats whose [t-300, t+300) window lies inside the record."""
    annotation = wfdb.rdann(str(MITDB / name), "atr")
    length = wfdb.rdheader(str(MITDB / name)).sig_len
    samples = np.asarray(annotation.sample)
    index = [
        k
        for k, symbol in enumerate(annotation.symbol)
        if symbol == "V" and samples[k] - HALF >= 0 and samples[k] + HALF <= length
    ]
    n_v = sum(symbol == "V" for symbol in annotation.symbol)
    return index, samples, n_v


def test_cli_v_beat_dataset_on_two_records(tmp_path, two_records):
    out = tmp_path / "vbeats"
    result = run_sample(TWO, out, "--allow-mixed-channels")  # 100 has MLII,V5 and 119 MLII,V1
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "pos" in result.stdout  # the summary

    ds = Dataset.load(out)
    index, windows = ds.index, ds.windows
    assert windows.shape == (len(index), 2, T)
    assert windows.dtype == np.float32
    np.testing.assert_array_equal(index["window_id"].to_numpy(), np.arange(len(index)))
    assert set(index["group"]) <= set(TWO)
    assert (index["group"] == index["recording"].astype(str)).all()  # group = record name

    positives = index[index["kind"] == "pos"]
    assert (positives["label"] == 1).all() and (index.loc[index["kind"] != "pos", "label"] == 0).all()
    total = 0
    for name in TWO:
        record, samples, symbols = two_records[name]
        fit, _, _ = fitting_v_beats(name)
        mine = positives[positives["recording"].astype(str) == name].sort_values("event_id")
        assert mine["event_id"].tolist() == fit  # one positive per V beat that fits
        t = samples[fit] * 1000.0 / FS
        np.testing.assert_allclose(mine["start_ms"], t - 300.0, rtol=0, atol=1e-9)
        np.testing.assert_allclose(mine["end_ms"], t + 300.0, rtol=0, atol=1e-9)
        for window_id, s in zip(mine["window_id"], samples[fit]):
            np.testing.assert_array_equal(windows[window_id], record.p_signal[s - HALF : s + HALF].T.astype(np.float32))
        total += len(fit)
        # negatives too are raw slices, starting on a sample, and overlap no V beat's exclusion zone
        negatives = index[(index["kind"] != "pos") & (index["recording"].astype(str) == name)]
        v_t = samples[[k for k, symbol in enumerate(symbols) if symbol == "V"]] * 1000.0 / FS
        for row in negatives.itertuples():
            first = int(round(row.start_ms * FS / 1000.0))
            assert first * 1000.0 / FS == pytest.approx(row.start_ms, abs=1e-6)
            np.testing.assert_array_equal(
                windows[row.window_id], record.p_signal[first : first + T].T.astype(np.float32)
            )
            overlaps = (row.start_ms < v_t + 300.0) & (v_t - 300.0 < row.end_ms)
            assert not overlaps.any()
    assert ds.meta["counts"]["positives"] == total == len(positives)
    assert set(index["kind"]) == {"pos", "near", "far"}
    assert {r["id"]: r["group"] for r in ds.meta["recordings"]} == {"100": "100", "119": "119"}
    assert ds.meta["sample_rate_hz"] == FS and ds.meta["samples_per_window"] == T


def test_cli_v_beat_dataset_on_all_48_records(tmp_path):
    names = (MITDB / "RECORDS").read_text().split()
    assert len(names) == 48
    out = tmp_path / "all"
    result = run_sample(names, out, "--channels", "MLII", "--skip-bad-files")
    assert result.returncode == 0, result.stderr
    meta = json.loads((out / "meta.json").read_text())
    assert [Path(item["path"]).name for item in meta["skipped_files"]] == ["102.hea", "104.hea"]  # no MLII lead
    assert meta["channels"] == ["MLII"]
    names = [name for name in names if name not in ("102", "104")]
    index = pd.read_parquet(out / "index.parquet")
    expected_pos, expected_v, expected_ids = 0, 0, {}
    for name in names:
        fit, _, n_v = fitting_v_beats(name)
        expected_pos += len(fit)
        expected_v += n_v
        expected_ids[name] = fit
    positives = index[index["kind"] == "pos"]
    assert meta["counts"]["positives"] == expected_pos == len(positives)
    assert meta["counts"]["events"]["total"] == expected_v
    assert meta["counts"]["events"]["outside_recording"] == expected_v - expected_pos
    for name, fit in expected_ids.items():
        got = positives.loc[positives["recording"].astype(str) == name, "event_id"].sort_values().tolist()
        assert got == fit, name
    assert {r["id"]: r["group"] for r in meta["recordings"]} == {name: name for name in names}
    assert (index["group"] == index["recording"].astype(str)).all()


# ---------------------------------------------------------------------------- leads chosen by name


def test_mlii_is_found_by_name_in_record_114(two_records):
    record = wfdb.rdrecord(str(MITDB / "114"))
    assert list(record.sig_name) == ["V5", "MLII"]
    recordings, _ = read_wfdb_records([MITDB / "100.hea", MITDB / "114.hea"], event_symbols=["V"], channels=["MLII"])
    assert [r.channels for r in recordings] == [["MLII"], ["MLII"]]
    np.testing.assert_array_equal(recordings[0].data[0], two_records["100"][0].p_signal[:, 0])
    np.testing.assert_array_equal(recordings[1].data[0], record.p_signal[:, 1])


def test_cli_mixed_leads_are_refused_and_a_record_without_mlii_is_named(tmp_path):
    result = run_sample(["100", "114", "119"], tmp_path / "mixed")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: channel names differ")
    assert "MLII,V5 in 1 (100); V5,MLII in 1 (114); MLII,V1 in 1 (119)" in line
    assert "--channels NAME[,NAME]" in line and "--allow-mixed-channels" in line

    result = run_sample(["100", "102"], tmp_path / "no-mlii", "--channels", "MLII")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "102.hea" in line and "(it has V5, V2)" in line and "--skip-bad-files" in line

    out = tmp_path / "mlii"
    result = run_sample(["100", "102", "114"], out, "--channels", "MLII", "--skip-bad-files")
    assert result.returncode == 0, result.stderr
    meta = json.loads((out / "meta.json").read_text())
    assert meta["channels"] == ["MLII"]
    assert [Path(item["path"]).name for item in meta["skipped_files"]] == ["102.hea"]
    assert "102.hea: signal(s) MLII not in record 102 (it has V5, V2)" in meta["skipped_files"][0]["error"]
    assert [r["id"] for r in meta["recordings"]] == ["100", "114"]
    index = pd.read_parquet(out / "index.parquet")
    windows = np.load(out / "windows.npy")
    mlii = wfdb.rdrecord(str(MITDB / "114")).p_signal[:, 1]
    for row in index[index["recording"].astype(str) == "114"].itertuples():
        first = round(row.start_ms * FS / 1000.0)
        np.testing.assert_array_equal(windows[row.window_id, 0], mlii[first : first + T].astype(np.float32))
