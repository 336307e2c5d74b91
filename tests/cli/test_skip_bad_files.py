"""--skip-bad-files: a broken input is left out, named in meta.json and the summary, and the run goes on."""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

MITDB = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mitdb"


def test_broken_log_is_refused_without_the_option(world, cli, tmp_path):
    broken = world.root / "s3.csv"
    broken.write_text("t_ms,ax,ay,az,gx,gy,gz\n0,1,2\n")  # ragged
    result = cli("sample", *world.logs, broken, "--events", world.events, "--out", tmp_path / "out")
    assert result.returncode == 2
    assert "s3.csv" in result.stderr
    assert not (tmp_path / "out" / "index.parquet").exists()


def test_broken_log_is_skipped_and_reported(world, cli, tmp_path):
    broken = world.root / "s3.csv"
    broken.write_text("t_ms,ax,ay,az,gx,gy,gz\n0,1,2\n")
    empty = world.root / "s4.parquet"
    empty.write_bytes(b"")
    out = tmp_path / "out"
    result = cli("sample", *world.logs, broken, empty, "--events", world.events, "--out", out, "--skip-bad-files")
    assert result.returncode == 0, result.stderr
    meta = json.loads((out / "meta.json").read_text())
    skipped = {Path(item["path"]).name: item["error"] for item in meta["skipped_files"]}
    assert set(skipped) == {"s3.csv", "s4.parquet"}
    assert "empty" in skipped["s4.parquet"]
    index = pd.read_parquet(out / "index.parquet")
    assert set(index["recording"]) == {"s1", "s2"}
    assert int((index["kind"] == "pos").sum()) == 6  # every event of the two good logs
    assert "skipped file" in result.stdout and "s3.csv" in result.stdout


def test_all_logs_broken_is_an_error(world, cli, tmp_path):
    broken = world.root / "s3.csv"
    broken.write_text("")
    result = cli("sample", broken, "--event-col", "shot", "--out", tmp_path / "out", "--skip-bad-files")
    assert result.returncode == 2
    assert result.stderr.startswith("error: none of the 1 logs could be read")


@pytest.mark.skipif(not MITDB.is_dir(), reason=f"MIT-BIH records not found at {MITDB}")
def test_truncated_wfdb_record_is_skipped(tmp_path, cli):
    for record in ("100", "119"):
        for suffix in (".hea", ".dat", ".atr"):
            shutil.copy(MITDB / f"{record}{suffix}", tmp_path / f"{record}{suffix}")
    data = (tmp_path / "119.dat").read_bytes()
    (tmp_path / "119.dat").write_bytes(data[:1000])
    out = tmp_path / "out"
    result = cli(
        "sample", tmp_path / "100.hea", tmp_path / "119.hea", "--event-symbols", "V", "--align", "center",
        "--window-ms", "600", "--out", out, "--skip-bad-files",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    meta = json.loads((out / "meta.json").read_text())
    assert [Path(item["path"]).name for item in meta["skipped_files"]] == ["119.hea"]
    assert set(pd.read_parquet(out / "index.parquet")["recording"]) == {"100"}
