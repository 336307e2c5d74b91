"""``hardneg sample`` picks channels by name and refuses to stack different channel names by position."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.io.test_channels import LAYOUTS, write_records

pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:Warning")  # inside wfdb.rdann, with pandas >= 3
WFDB_ARGS = ["--event-symbols", "V", "--align", "center", "--window-ms", "600", "--neg-mult", "1"]


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def test_mixed_wfdb_leads_are_refused_with_one_error_line(tmp_path, cli):
    write_records(tmp_path)
    result = cli("sample", *(tmp_path / f"{name}.hea" for name in LAYOUTS), *WFDB_ARGS, "--out", tmp_path / "out")
    assert result.returncode == 2
    (line,) = error_lines(result.stderr)
    assert line.startswith("error: channel names differ across recordings")
    assert "MLII,V5 in 1 (a); V5,MLII in 1 (b); V5,V2 in 1 (c)" in line
    assert "--channels NAME[,NAME]" in line and "--allow-mixed-channels" in line
    assert not (tmp_path / "out" / "index.parquet").exists()


def test_allow_mixed_channels_stacks_by_position_with_the_warning(tmp_path, cli):
    write_records(tmp_path)
    out = tmp_path / "out"
    paths = [tmp_path / f"{name}.hea" for name in LAYOUTS]
    result = cli("sample", *paths, *WFDB_ARGS, "--allow-mixed-channels", "--out", out, columns=2000)
    assert result.returncode == 0, result.stderr
    assert "stack channels by position" in result.stdout
    meta = json.loads((out / "meta.json").read_text())
    assert meta["channels"] == ["MLII", "V5"]  # the first record's names, as before
    assert any("stack channels by position" in warning for warning in meta["counts"]["warnings"])
    assert meta["input_options"]["allow_mixed_channels"] is True


def test_channels_by_name_and_a_record_without_them(tmp_path, cli):
    signals = write_records(tmp_path)
    paths = [tmp_path / f"{name}.hea" for name in LAYOUTS]
    out = tmp_path / "out"
    result = cli("sample", *paths, *WFDB_ARGS, "--channels", "MLII", "--out", out)
    assert result.returncode == 2
    (line,) = error_lines(result.stderr)
    assert "c.hea" in line and "(it has V5, V2)" in line and "--skip-bad-files" in line

    result = cli("sample", *paths, *WFDB_ARGS, "--channels", "MLII", "--skip-bad-files", "--out", out, columns=2000)
    assert result.returncode == 0, result.stderr
    assert f"skipped file: {tmp_path / 'c.hea'}: signal(s) MLII not in record c (it has V5, V2)" in result.stdout
    meta = json.loads((out / "meta.json").read_text())
    assert meta["channels"] == ["MLII"]
    assert [item["path"] for item in meta["skipped_files"]] == [str(tmp_path / "c.hea")]
    index = pd.read_parquet(out / "index.parquet")
    windows = np.load(out / "windows.npy")
    assert set(index["recording"].astype(str)) == {"a", "b"}
    for row in index.itertuples():
        first = round(row.start_ms * 360 / 1000)
        column = LAYOUTS[str(row.recording)].index("MLII")
        expected = signals[str(row.recording)][first : first + 216, column].astype(np.float32)
        np.testing.assert_array_equal(windows[row.window_id, 0], expected)


def test_logs_with_other_column_names(world, cli, tmp_path):
    renamed = world.root / "s2.csv"
    world.data["s2"].rename(columns={"gx": "wx"}).to_csv(renamed, index=False)
    result = cli("sample", *world.logs, "--events", world.events, "--out", tmp_path / "out")
    assert result.returncode == 2
    (line,) = error_lines(result.stderr)
    assert "s2.csv" in line and "--channels" in line and "--allow-mixed-channels" in line

    result = cli(
        "sample", *world.logs, "--events", world.events, "--allow-mixed-channels", "--out", tmp_path / "mixed",
        columns=2000,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "stack channels by position" in result.stdout

    out = tmp_path / "named"
    result = cli("sample", *world.logs, "--events", world.events, "--channels", "az,ax", "--out", out)
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "meta.json").read_text())["channels"] == ["az", "ax"]
