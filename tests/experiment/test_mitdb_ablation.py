"""A lead ablation on MIT-BIH beats: every lead left out in turn, compared with both leads, sorted by impact.

Six records whose two leads are MLII and V1, the first three minutes of each (written as WFDB records of the
same names), V/E beats positive and every other labelled beat negative, the record as the group.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from tests.examples._load import MITDB, MITDB_MISSING, NEGATIVE, POSITIVE, has_mitdb

pytestmark = pytest.mark.skipif(not has_mitdb(), reason=MITDB_MISSING)

RECORDS = ["106", "109", "116", "119", "208", "233"]
SECONDS = 180
FS = 360


@pytest.fixture(scope="module")
def ablation(tmp_path_factory):
    import wfdb

    from hardneg import InputOptions, SamplingConfig, build_dataset
    from hardneg.experiment import run_experiment

    root = tmp_path_factory.mktemp("mitdb-ablation")
    records = root / "records"
    records.mkdir()
    for record in RECORDS:
        source = str(MITDB / record)
        wfdb.rdrecord(source, sampto=SECONDS * FS, physical=False).wrsamp(write_dir=str(records))
        wfdb.rdann(source, "atr", sampto=SECONDS * FS).wrann(write_dir=str(records))
    dataset = build_dataset(
        [str(records / f"{r}.hea") for r in RECORDS], root / "beats",
        inputs=InputOptions(event_symbols=POSITIVE, negative_symbols=NEGATIVE, channels=("MLII", "V1")),
        config=SamplingConfig(window_ms=600, align="center", neg_mult=0),
    )  # fmt: skip
    assert dataset.meta["channels"] == ["MLII", "V1"]
    (root / "ablation.yaml").write_text("""\
dataset: beats
seeds: 3
model: logreg
n_resamples: 200
baseline: {leads: all}
arms: {leads: each}
eval:
  iid: {split: group}
""")
    return run_experiment(root / "ablation.yaml", root / "out", jobs=2)


def test_each_lead_left_out_is_compared_with_both_leads(ablation):
    assert [arm.name for arm in ablation.experiment.arms] == ["all", "no_MLII", "no_V1"]
    assert set(ablation.runs["status"]) == {"done"}
    comparisons = ablation.tables["comparisons"]
    f1 = comparisons[comparisons["metric"] == "f1"].set_index("arm")
    assert sorted(f1.index) == ["no_MLII", "no_V1"] and set(f1["baseline"]) == {"all"}
    assert (f1["n_pairs"] == 3).all()
    results = ablation.tables["results"]
    for arm in ("no_MLII", "no_V1"):
        a = results.query("arm == @arm and metric == 'f1'").set_index("seed")["value"]
        b = results.query("arm == 'all' and metric == 'f1'").set_index("seed")["value"]
        assert f1.loc[arm, "mean_delta"] == pytest.approx((a - b).mean())
    # the run left the lead out: its log says so
    log = (ablation.out / "runs" / "no_V1" / "0" / "log.txt").read_text()
    assert "without channels V1" in log


def _section(report: str, title: str) -> str:
    start = report.index(f"## {title}")
    end = report.find("\n## ", start + 1)
    return report[start : end if end >= 0 else None]


def test_the_report_ablation_table_is_sorted_by_impact(ablation):
    report = (ablation.out / "report.md").read_text()
    section = _section(report, "Ablation (sorted by impact)")
    rows = [line for line in section.splitlines() if line.startswith("|") and re.search(r"`?no_(MLII|V1)`?", line)]
    order = [re.search(r"no_(MLII|V1)", line).group(0) for line in rows]
    assert sorted(order) == ["no_MLII", "no_V1"], section
    comparisons = ablation.tables["comparisons"]
    f1 = comparisons[(comparisons["metric"] == ablation.experiment.primary_metric)]
    expected = f1.assign(size=f1["mean_delta"].abs()).sort_values("size", ascending=False)["arm"].tolist()
    assert order == expected
    assert not np.isclose(*f1["mean_delta"].abs().to_numpy())  # the order is decided, not a tie
    assert isinstance(pd.read_parquet(ablation.out / "comparisons.parquet"), pd.DataFrame)
