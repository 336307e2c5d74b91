"""Audio files as recordings: `hardneg sample` builds audio datasets the way it builds sensor ones."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

sf = pytest.importorskip("soundfile")

from hardneg.build import InputOptions, build_dataset  # noqa: E402
from hardneg.dataset import Dataset  # noqa: E402
from hardneg.errors import InputError  # noqa: E402
from hardneg.io._audio import read_audio_recordings  # noqa: E402
from hardneg.sample import SamplingConfig  # noqa: E402

def cli(*args):
    return subprocess.run([sys.executable, "-m", "hardneg", *map(str, args)], capture_output=True, text=True)


RATE = 8000
WINDOW_MS = 250.0
LENGTH = int(WINDOW_MS * RATE / 1000)


def write_clip(path, seconds, channels=1, rate=RATE, seed=0):
    """A noise clip, written as 16-bit PCM; returns the samples as soundfile reads them back."""
    rng = np.random.default_rng(seed)
    sf.write(str(path), rng.uniform(-0.3, 0.3, (int(seconds * rate), channels)), rate, subtype="PCM_16")
    samples, _ = sf.read(str(path), dtype="float32", always_2d=True)
    return samples.T


@pytest.fixture
def audio_world(tmp_path):
    clips = {f"rec{i}": write_clip(tmp_path / f"rec{i}.wav", 6 + i, channels=2, seed=i) for i in range(3)}
    rng = np.random.default_rng(9)
    rows = []
    for name in clips:
        for t in np.sort(rng.choice(np.arange(600, 5000, 10), 4, replace=False)):
            rows.append((name, float(t), float(t) + 120.0, "call"))
    events = pd.DataFrame(rows, columns=["recording", "t_ms", "end_ms", "label"])
    events.to_csv(tmp_path / "events.csv", index=False)
    pd.DataFrame({"recording": list(clips), "group": ["site_a", "site_a", "site_b"]}).to_csv(
        tmp_path / "groups.csv", index=False
    )
    return tmp_path, clips, events


def test_recordings_hold_the_decoded_samples(audio_world):
    folder, clips, _ = audio_world
    recordings = read_audio_recordings(sorted(folder.glob("*.wav")), groups=folder / "groups.csv")
    assert [r.id for r in recordings] == ["rec0", "rec1", "rec2"]
    assert [r.group for r in recordings] == ["site_a", "site_a", "site_b"]
    for recording in recordings:
        assert recording.sample_rate_hz == RATE and recording.t0_ms == 0.0
        assert recording.channels == ["ch0", "ch1"]
        np.testing.assert_array_equal(np.stack(recording.data), clips[recording.id])
    only_right = read_audio_recordings([folder / "rec0.wav"], channels=["1"])
    np.testing.assert_array_equal(only_right[0].data[0], clips["rec0"][1])
    assert only_right[0].channels == ["ch1"]


def test_sample_cuts_audio_windows_where_the_events_are(audio_world):
    folder, clips, events = audio_world
    dataset = build_dataset(
        sorted(folder.glob("*.wav")), folder / "dataset",
        inputs=InputOptions(events=folder / "events.csv", groups=folder / "groups.csv"),
        config=SamplingConfig(window_ms=WINDOW_MS, align="center", neg_strategy="uniform", neg_mult=2), seed=0,
    )  # fmt: skip
    index, windows = dataset.index, np.asarray(dataset.windows)
    assert windows.shape[1:] == (2, LENGTH)
    positives = index[index["kind"] == "pos"]
    assert len(positives) == len(events)
    for row in index.itertuples():
        start = int(round(row.start_ms * RATE / 1000))
        # every window, positive or negative, is the exact slice of the decoded file at its start
        np.testing.assert_array_equal(windows[row.window_id], clips[row.recording][:, start : start + LENGTH])
    for row in positives.itertuples():
        event = events.iloc[int(row.event_id)]
        # --align center centres the window on the event time: the first sample at or after t - window / 2
        expected = np.ceil((event.t_ms - WINDOW_MS / 2) * RATE / 1000 - 1e-9) * 1000 / RATE
        assert row.start_ms == pytest.approx(expected)
    assert set(index["group"]) == {"site_a", "site_b"}
    negatives = index[index["label"] == 0]
    for row in negatives.itertuples():  # no negative overlaps an event of its recording
        own = events[events["recording"] == row.recording]
        assert ((own["end_ms"] < row.start_ms) | (own["t_ms"] >= row.end_ms)).all()


def test_bad_audio_inputs_are_one_clear_error(audio_world, tmp_path):
    folder, _, _ = audio_world
    write_clip(tmp_path / "fast.wav", 2, channels=2, rate=16000)
    with pytest.raises(InputError, match="16000 Hz .* 8000 Hz"):
        read_audio_recordings([folder / "rec0.wav", tmp_path / "fast.wav"])
    (tmp_path / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage")
    with pytest.raises(InputError, match="broken.wav: cannot be read as audio"):
        read_audio_recordings([tmp_path / "broken.wav"])
    skipped = []
    recordings = read_audio_recordings(
        [folder / "rec0.wav", tmp_path / "broken.wav"], on_bad_file=lambda path, message: skipped.append(path)
    )
    assert [r.id for r in recordings] == ["rec0"] and skipped == [tmp_path / "broken.wav"]
    with pytest.raises(InputError, match="out of range"):
        read_audio_recordings([folder / "rec0.wav"], channels=["2"])
    with pytest.raises(InputError, match="mix of input kinds"):
        build_dataset([folder / "rec0.wav", folder / "events.csv"], tmp_path / "x",
                      inputs=InputOptions(events=folder / "events.csv"))  # fmt: skip
    with pytest.raises(InputError, match="audio files need --events"):
        build_dataset([folder / "rec0.wav"], tmp_path / "y", inputs=InputOptions())


def test_mined_audio_windows_come_back_as_hard_negatives(audio_world):
    folder, clips, events = audio_world
    pool = folder / "pool"
    pool.mkdir()
    pool_clip = write_clip(pool / "night1.wav", 5, channels=2, seed=42)
    (folder / "loud.py").write_text(
        "import numpy as np\n"
        "def make():\n"
        "    return lambda batch: np.clip(np.abs(np.asarray(batch)).mean(axis=(1, 2)) * 4, 0, 1)\n"
    )
    mined = cli("mine", pool, "--model", f"{folder / 'loud.py'}:make", "--window-ms", WINDOW_MS, "--min-score",
                "0.55", "--out", folder / "mined")  # fmt: skip
    assert mined.returncode == 0, mined.stderr
    candidates = pd.read_parquet(folder / "mined" / "candidates.parquet")
    assert len(candidates) > 0
    made = cli("sample", *sorted(folder.glob("*.wav")), "--events", folder / "events.csv", "--window-ms", WINDOW_MS,
               "--align", "center", "--hard-negatives", folder / "mined", "--out", folder / "with-hard", "--quiet")  # fmt: skip
    assert made.returncode == 0, made.stderr
    dataset = Dataset.load(folder / "with-hard")
    hard = dataset.index[dataset.index["kind"] == "hard"]
    assert len(hard) == len(candidates)
    windows = np.asarray(dataset.windows)
    for row in hard.itertuples():
        assert row.recording == "night1"
        start = int(round(row.start_ms * RATE / 1000))
        np.testing.assert_array_equal(windows[row.window_id], pool_clip[:, start : start + LENGTH])
