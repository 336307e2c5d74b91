"""The ``hardneg`` command itself: help texts, ``hardneg demo`` end to end, and re-running it."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hardneg import Dataset

#: every option of the issue's section 3 (sampling) and section 2 (readers)
SAMPLE_OPTIONS = [
    "--align",
    "--lead-ms",
    "--window-ms",
    "--min-event-gap-ms",
    "--neg-avoid-post-ms",
    "--neg-avoid-edges",
    "--edge-ms",
    "--neg-strategy",
    "--near-max-ms",
    "--far-min-ms",
    "--neg-mixed-near-frac",
    "--neg-mult",
    "--neg-candidate-hop-ms",
    "--motion-accel-weight",
    "--gyro-cols",
    "--accel-cols",
    "--neg-min-motion-quantile",
    "--neg-match-pos-motion",
    "--neg-pos-motion-q",
    "--neg-min-sep-ms",
    "--neg-with-replacement",
    "--seed",
    "--overwrite",
    "--out",
]
READER_OPTIONS = [
    "--recording-col",
    "--time-col",
    "--time-unit",
    "--channels",
    "--group-col",
    "--groups",
    "--events",
    "--event-col",
    "--event-symbols",
    "--resample-hz",
]


def option_names(help_text: str) -> set[str]:
    """Every complete ``--long-option`` token in a help text (a name cut short by '…' is not one)."""
    return set(re.findall(r"(--[a-z][a-z0-9-]*)(?![a-z0-9…-])", help_text))


def test_top_level_help(cli):
    result = cli("--help")
    assert result.returncode == 0, result.stderr
    assert "sample" in result.stdout and "demo" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_no_arguments_shows_help(cli):
    result = cli()
    assert "sample" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_version(cli):
    from hardneg import __version__

    result = cli("--version")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"hardneg {__version__}"


@pytest.mark.parametrize("columns", [200, 80])
def test_sample_help_names_every_option(cli, columns):
    """Every option is named in full, also on an ordinary 80-column terminal."""
    result = cli("sample", "--help", columns=columns)
    assert result.returncode == 0, result.stderr
    missing = sorted(set(SAMPLE_OPTIONS + READER_OPTIONS) - option_names(result.stdout))
    assert not missing, f"not in `hardneg sample --help` at {columns} columns: {missing}"


def test_sample_help_keeps_bracketed_text(cli):
    """Help strings such as '[q, 1-q]' must survive rich markup (they explain the option)."""
    result = cli("sample", "--help", columns=200)
    text = " ".join(result.stdout.split())
    assert "[q, 1-q]" in text


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "hardneg"
    if not script.exists():
        pytest.skip(f"no console script next to {sys.executable}")
    import subprocess

    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "sample" in result.stdout


def find_dataset(root: Path) -> Path:
    found = sorted(path.parent for path in root.rglob("index.parquet") if path.parent.name == "dataset")
    assert len(found) == 1, found
    return found[0]


def test_demo_end_to_end_and_rerun(tmp_path, cli):
    out = tmp_path / "demo"
    # two benchmark seeds keep the test fast; this run is timed in benchmarks/bench_unit_timings.py and the full
    # 30-seed demo benchmark in benchmarks/bench_bench.py
    result = cli("demo", "--out", out, "--seeds", "2", timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    # the command that opens the mined windows for review, and the extra it needs, as printed
    flat = " ".join(result.stdout.split())
    assert "pip install 'hardneg[review]'" in flat and f"hardneg review {out / 'mined'}" in flat

    path = find_dataset(out)
    ds = Dataset.load(path)
    index = ds.index
    assert len(ds) == len(index) == ds.windows.shape[0] > 0
    assert set(index["kind"]) >= {"pos", "near", "far"}
    assert (index["label"] == (index["kind"] == "pos")).all()
    assert ds.windows.dtype == np.float32 and ds.windows.ndim == 3
    assert ds.windows.shape[1] == len(ds.meta["channels"]) and ds.windows.shape[2] == ds.meta["samples_per_window"]
    assert np.isfinite(np.asarray(ds.windows)).all()
    counts = ds.meta["counts"]
    assert counts["positives"] == int((index["kind"] == "pos").sum())
    for kind, n in counts["negatives"]["achieved"].items():
        assert int((index["kind"] == kind).sum()) == n
    # near negatives carry their event's id, far ones none
    assert index.loc[index["kind"] == "near", "event_id"].notna().all()
    assert index.loc[index["kind"] == "far", "event_id"].isna().all()

    # the printed summary: what was made, per kind, requested and achieved
    printed = " ".join(result.stdout.split())
    assert str(path.name) in printed
    for kind in ("pos", "near", "far"):
        assert re.search(rf"\b{kind}\b", printed)
    assert f"{len(index)} windows" in printed
    # the bench step: its report, and the printed table of test scores per split
    assert (out / "bench" / "report.html").is_file() and (out / "bench" / "results.parquet").is_file()
    assert "Test scores" in printed and "(best baseline)" in printed
    # the time split tests every shooter in every seed; its interval still covers new shooters, so it is not zero-wide
    summary = pd.read_parquet(out / "bench" / "summary.parquet")
    time_logreg = summary.query("split == 'time' and model == 'logreg' and metric == 'average_precision'")
    assert len(time_logreg) == 2 and (time_logreg["ci_method"] == "cluster").all()
    assert ((time_logreg["ci_high"] - time_logreg["ci_low"]) > 0.02).all()
    assert (time_logreg["n_test_groups"] == 6).all()
    report = (out / "bench" / "report.md").read_text()
    for section in ("## Errors by kind of negative", "## At the chosen threshold", "## Per group",
                    "## Recall at low false-positive rates"):
        assert section in report
    windows_before = (path / "windows.npy").read_bytes()
    index_before = (path / "index.parquet").read_bytes()

    # the same folder again: replaced, not refused, and the same bytes (same seed)
    again = cli("demo", "--out", out, "--quiet", "--no-bench", timeout=120)
    assert again.returncode == 0, again.stderr
    assert find_dataset(out) == path
    assert (path / "windows.npy").read_bytes() == windows_before
    assert (path / "index.parquet").read_bytes() == index_before


def test_demo_refuses_a_folder_it_did_not_make(tmp_path, cli):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    result = cli("demo", "--out", out)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "--out" in lines[0]
    assert (out / "thesis.tex").read_text() == "precious"
