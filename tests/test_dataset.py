"""The dataset directory: loading back, memory-mapping, byte-identical reruns, refusing --out, atomic writes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from tests.helpers import reference, run, synth

from hardneg.dataset import Dataset, write_dataset
from hardneg.errors import InputError
from hardneg.io import read_events_csv, read_sensor_logs
from hardneg.sample import SamplingConfig, sample_windows, write_sampled

PARAMS = dict(neg_strategy="mixed", neg_mult=3, neg_min_sep_ms=100, seed=5)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return synth.world_1khz(tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="module")
def sampled(world):
    recordings, _ = read_sensor_logs([str(p) for p in world.log_paths])
    events = read_events_csv(world.events_path, recordings)
    params = {k: v for k, v in PARAMS.items() if k != "seed"}
    return sample_windows(recordings, events, SamplingConfig(**params), seed=PARAMS["seed"]), recordings


def _write(sampled, out, **kwargs):
    s, recordings = sampled
    return write_sampled(out, s, recordings, meta={"parameters": {"note": "test"}}, **kwargs)


# --------------------------------------------------------------------------- loading back


def test_load_round_trip(sampled, tmp_path):
    written = _write(sampled, tmp_path / "ds")
    ds = Dataset.load(tmp_path / "ds")
    s, recordings = sampled
    assert len(ds) == len(s.index) == len(written)
    pd.testing.assert_frame_equal(ds.index, pq.read_table(tmp_path / "ds" / "index.parquet").to_pandas())
    for col in reference.INDEX_COLUMNS:
        assert col in ds.index.columns
    assert list(ds.index["window_id"]) == list(range(len(ds)))
    assert ds.meta == json.loads((tmp_path / "ds" / "meta.json").read_text())
    assert ds.meta["parameters"]["note"] == "test"
    assert ds.meta["counts"] == json.loads(json.dumps(s.report))
    assert np.array_equal(np.asarray(ds.windows), s.extract(recordings))
    # the index round-trips the values the sampler produced
    for col in ("recording", "group", "kind"):
        assert list(ds.index[col]) == list(s.index[col])
    for col in ("start_ms", "end_ms", "motion"):
        np.testing.assert_array_equal(ds.index[col].to_numpy(float), s.index[col].to_numpy(float))
    assert set(ds.index["label"].astype(int)) == {0, 1}
    assert ds.index.loc[ds.index["kind"] == "far", "event_id"].isna().all()
    assert ds.index.loc[ds.index["kind"].isin(["pos", "near"]), "event_id"].notna().all()


def test_windows_are_memory_mappable(sampled, tmp_path):
    _write(sampled, tmp_path / "ds")
    arr = np.load(tmp_path / "ds" / "windows.npy", mmap_mode="r")
    assert isinstance(arr, np.memmap)
    assert arr.dtype == np.float32 and arr.ndim == 3
    assert arr.shape[0] == len(sampled[0].index)
    assert arr.shape[1:] == (6, sampled[0].samples_per_window)
    ds = Dataset.load(tmp_path / "ds")
    assert isinstance(ds.windows, np.memmap)
    assert ds.windows.mode == "r" or not ds.windows.flags.writeable
    with pytest.raises((ValueError, TypeError)):
        ds.windows[0, 0, 0] = 1.0


def test_written_dataset_obeys_the_reference(world, tmp_path):
    run.sample_api(world.log_paths, world.events_path, tmp_path / "ds", PARAMS)
    reference.check_dataset(tmp_path / "ds", world.logs, world.events, PARAMS)


# --------------------------------------------------------------------------- determinism


def test_same_inputs_and_seed_same_bytes(world, tmp_path):
    """Two runs (different --out) and a third over the first with --overwrite: identical files."""
    opts = [*run.params_to_cli(PARAMS), "--quiet"]
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        proc = run.sample_cli(world.log_paths, world.events_path, out, opts)
        assert proc.returncode == 0, proc.stderr
    first = run.files_bytes(a)
    assert first == run.files_bytes(b), [k for k in first if first[k] != run.files_bytes(b)[k]]
    proc = run.sample_cli(world.log_paths, world.events_path, a, [*opts, "--overwrite"])
    assert proc.returncode == 0, proc.stderr
    assert run.files_bytes(a) == first


def test_api_same_seed_same_bytes(sampled, tmp_path):
    _write(sampled, tmp_path / "a")
    _write(sampled, tmp_path / "b")
    assert run.files_bytes(tmp_path / "a") == run.files_bytes(tmp_path / "b")


def test_different_seed_different_negatives(world, tmp_path):
    for seed, out in ((0, tmp_path / "a"), (1, tmp_path / "b")):
        run.sample_api(world.log_paths, world.events_path, out, {**PARAMS, "seed": seed})
    a = Dataset.load(tmp_path / "a").index
    b = Dataset.load(tmp_path / "b").index
    pa_, pb = a[a["label"] == 1], b[b["label"] == 1]
    assert list(pa_["event_id"]) == list(pb["event_id"])
    na = set(zip(a.loc[a["label"] == 0, "recording"], a.loc[a["label"] == 0, "start_ms"]))
    nb = set(zip(b.loc[b["label"] == 0, "recording"], b.loc[b["label"] == 0, "start_ms"]))
    assert na != nb


# --------------------------------------------------------------------------- --out handling


def test_cli_refuses_non_empty_out_without_overwrite(world, tmp_path):
    out = tmp_path / "ds"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    proc = run.sample_cli(world.log_paths, world.events_path, out, ["--quiet"])
    assert proc.returncode == 2
    assert proc.stderr.startswith("error:") and "--overwrite" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    assert (out / "keep.txt").read_text() == "mine"


def test_cli_accepts_existing_empty_out(world, tmp_path):
    out = tmp_path / "ds"
    out.mkdir()
    proc = run.sample_cli(world.log_paths, world.events_path, out, ["--quiet"])
    assert proc.returncode == 0, proc.stderr
    assert (out / "index.parquet").is_file()


def test_cli_overwrite_replaces_dataset(world, tmp_path):
    out = tmp_path / "ds"
    proc = run.sample_cli(world.log_paths, world.events_path, out, ["--quiet", "--seed", "1"])
    assert proc.returncode == 0, proc.stderr
    (out / "stale.txt").write_text("old")
    proc = run.sample_cli(world.log_paths, world.events_path, out, ["--quiet", "--seed", "2"])
    assert proc.returncode == 2
    assert Dataset.load(out).meta["parameters"]["seed"] == 1
    proc = run.sample_cli(world.log_paths, world.events_path, out, ["--quiet", "--seed", "2", "--overwrite"])
    assert proc.returncode == 0, proc.stderr
    assert Dataset.load(out).meta["parameters"]["seed"] == 2
    assert not (out / "stale.txt").exists()


def test_api_refuses_non_empty_out(sampled, tmp_path):
    out = tmp_path / "ds"
    out.mkdir()
    (out / "x").write_text("x")
    with pytest.raises(InputError):
        _write(sampled, out)
    _write(sampled, out, overwrite=True)
    assert (out / "index.parquet").is_file()


# --------------------------------------------------------------------------- atomic writes


def _no_partial_left(parent, out):
    assert not (out / "index.parquet").exists()
    leftovers = [p.name for p in parent.iterdir() if p.name != "keep"]
    assert leftovers == [], f"a failed write left {leftovers}"


def test_failed_write_leaves_no_index(sampled, tmp_path, monkeypatch):
    """An exception while writing (here: in the Parquet writer) leaves no dataset and no temp dir."""
    import hardneg.dataset as dataset_module

    def boom(*args, **kwargs):
        raise OSError("disk full (injected)")

    monkeypatch.setattr(dataset_module.pq, "write_table", boom)
    parent = tmp_path / "parent"
    parent.mkdir()
    out = parent / "ds"
    with pytest.raises(OSError, match="injected"):
        _write(sampled, out)
    _no_partial_left(parent, out)


def test_failed_write_while_copying_windows(sampled, tmp_path, monkeypatch):
    s, recordings = sampled

    def boom(*args, **kwargs):
        raise RuntimeError("crash while copying windows (injected)")

    monkeypatch.setattr(type(s), "extract", boom)
    parent = tmp_path / "parent"
    parent.mkdir()
    with pytest.raises(RuntimeError, match="injected"):
        _write(sampled, parent / "ds")
    _no_partial_left(parent, parent / "ds")


def test_failed_overwrite_keeps_the_old_dataset(sampled, tmp_path, monkeypatch):
    """With --overwrite, a failure must not leave a half-new dataset: the old one stays whole."""
    import hardneg.dataset as dataset_module

    out = tmp_path / "ds"
    _write(sampled, out)
    before = run.files_bytes(out)

    def boom(*args, **kwargs):
        raise OSError("injected")

    monkeypatch.setattr(dataset_module, "package_versions", boom)  # after windows and index are staged
    with pytest.raises(OSError):
        _write(sampled, out, overwrite=True)
    assert run.files_bytes(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]


def test_run_without_positives_exits_2_and_writes_nothing(world, tmp_path):
    """Events whose windows all fall outside their recordings: exit 2, one line, no dataset."""
    events = tmp_path / "events.csv"
    synth.write_events(events, [("s1", 1100.0), ("s2", 100.0), ("s3", 200.0)])
    out = tmp_path / "ds"
    proc = run.sample_cli(world.log_paths, events, out, ["--quiet"])
    assert proc.returncode == 2
    assert proc.stderr.startswith("error:") and "positive" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert not (out / "index.parquet").exists()
    assert not out.exists() or not any(out.iterdir())


# --------------------------------------------------------------------------- the writer takes plain arrays


def test_plain_arrays_write_the_same_bytes_as_the_sampler_adapter(sampled, tmp_path):
    """write_dataset knows nothing of sampling: the sampler's arrays, index and meta give the same files."""
    from hardneg.sample import sampled_meta

    s, recordings = sampled
    _write(sampled, tmp_path / "adapted")
    meta = sampled_meta(s, recordings, {"parameters": {"note": "test"}})
    write_dataset(tmp_path / "plain", s.extract(recordings), s.index, meta)
    assert run.files_bytes(tmp_path / "plain") == run.files_bytes(tmp_path / "adapted")


def test_plain_arrays_from_anywhere(tmp_path):
    windows = np.arange(2 * 3 * 4, dtype=np.float64).reshape(2, 3, 4)
    index = pd.DataFrame({"window_id": [0, 1], "label": [0, 1], "group": ["a", "b"]})
    ds = write_dataset(tmp_path / "ds", windows, index, {"made_by": "hand"})
    assert ds.windows.dtype == np.float32 and np.array_equal(ds.windows, windows)
    assert list(ds.meta) == ["format_version", "made_by", "windows_shape", "versions"]
    assert ds.meta["windows_shape"] == [2, 3, 4]
    pd.testing.assert_frame_equal(ds.index, index)


@pytest.mark.parametrize(
    "windows, index, message",
    [
        (np.zeros((2, 4)), pd.DataFrame({"window_id": [0, 1], "label": [0, 1]}), "must be a 3-D array"),
        (np.zeros((3, 1, 4)), pd.DataFrame({"window_id": [0, 1], "label": [0, 1]}), "index has 2 rows but windows 3"),
        (np.zeros((2, 1, 4)), pd.DataFrame({"window_id": [1, 0], "label": [0, 1]}), "window_id is not 0..N-1"),
        (np.zeros((2, 1, 4)), pd.DataFrame({"window_id": [0, 1]}), "column 'label' missing"),
    ],
)
def test_plain_arrays_that_do_not_fit_are_refused_before_writing(tmp_path, windows, index, message):
    with pytest.raises(InputError, match=message):
        write_dataset(tmp_path / "ds", windows, index)
    assert not (tmp_path / "ds").exists()
    assert list(tmp_path.iterdir()) == []
