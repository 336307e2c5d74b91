"""The README's MIT-BIH case study, run as written on the first minutes of each record."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tests.examples._load import MITDB, MITDB_MISSING, REPO, has_mitdb

HEADING = "### Case study: inter-patient VEB detection on MIT-BIH"
DATA = "../shared/data/mitdb"
SECONDS = 120  # of each record: enough V beats in most DS2 records for a bootstrap, small enough for a quick bench
METRICS = ("recall_at_val_threshold", "precision_at_val_threshold", "f1_at_val_threshold")

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not has_mitdb(), reason=MITDB_MISSING)]


def readme_blocks(language: str) -> list[str]:
    """The fenced ``language`` blocks of the case-study section, in order."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert HEADING in text, f"README.md has no section {HEADING!r}"
    section = text.split(HEADING, 1)[1]
    section = re.split(r"^#{2,3} ", section, maxsplit=1, flags=re.MULTILINE)[0]
    return re.findall(rf"^```{language}\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)


def _short_records(folder, records) -> None:
    """The first SECONDS of each record, signal and annotations, written as WFDB files with the same names."""
    import wfdb

    folder.mkdir(parents=True)
    for record in records:
        source = str(MITDB / record)
        signal = wfdb.rdrecord(source, sampto=SECONDS * 360, physical=False)
        signal.wrsamp(write_dir=str(folder))
        wfdb.rdann(source, "atr", sampto=SECONDS * 360).wrann(write_dir=str(folder))


def test_case_study_commands_run_as_written(tmp_path):
    (shell,) = readme_blocks("sh")
    records = [r for group in re.findall(r"\{([\d,]+)\}\.hea", shell) for r in group.split(",")]
    assert len(set(records)) == 44 and not {"102", "104", "107", "217"} & set(records)
    _short_records(tmp_path / "mitdb", records)
    (tmp_path / "examples").symlink_to(REPO / "examples")
    script = f'hardneg() {{ "{sys.executable}" -m hardneg "$@"; }}\nset -e\n' + shell.replace(
        DATA, str(tmp_path / "mitdb")
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        ["bash", "-c", script], check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    index = pd.read_parquet(tmp_path / "mitdb-ds" / "index.parquet")
    assert set(index["kind"]) == {"pos", "labelled"} and index["recording"].nunique() == 44

    bench_dirs = [path for path in tmp_path.iterdir() if (path / "summary.parquet").is_file()]
    assert len(bench_dirs) == 1
    summary = pd.read_parquet(bench_dirs[0] / "summary.parquet")
    test = summary[(summary["subset"] == "test") & summary["metric"].isin(METRICS)]
    for split in ("ds1ds2", "random-beats"):
        rows = test[(test["split"] == split) & test["model"].isin(["logreg", "et", "mlp"])]
        assert len(rows) == 9, f"{split}: Se, +P and F1 of three models expected, got\n{rows}"
        assert np.isfinite(rows[["mean", "ci_low", "ci_high"]].to_numpy()).all()
        assert (rows["ci_low"] <= rows["mean"]).all() and (rows["mean"] <= rows["ci_high"]).all()
    ds2 = test[test["split"] == "ds1ds2"]
    assert (ds2["n_test_groups"] == 22).all() and (ds2["ci_method"] == "cluster").all()

    # The Python lines that read the table, run against this bench's folder.
    for block in readme_blocks("python"):
        subprocess.run([sys.executable, "-c", block], cwd=tmp_path, env=env, check=True, capture_output=True)
