"""On real MIT-BIH records: a random window split scores higher than the inter-patient split and is marked."""

from pathlib import Path

import pytest

from hardneg import InputOptions, SamplingConfig, build_dataset
from hardneg.bench._runner import run_bench
from hardneg.split import make_split, save_split

MITDB = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mitdb"
# Four DS1 and four DS2 records (de Chazal et al.), each with V beats.
DS1 = ["106", "119", "208", "215"]
DS2 = ["200", "203", "213", "233"]


@pytest.mark.skipif(not MITDB.is_dir(), reason=f"MIT-BIH records not found at {MITDB} (../shared/data/mitdb)")
def test_random_split_is_inflated_and_marked_next_to_the_inter_patient_split(tmp_path):
    dataset = build_dataset(
        [MITDB / f"{record}.hea" for record in DS1 + DS2],
        tmp_path / "v",
        inputs=InputOptions(event_symbols=("V",)),
        config=SamplingConfig(align="center", window_ms=600, neg_mult=2),
    )
    frame, info = make_split(dataset, "group", test_groups=DS2, seed=0)
    save_split(dataset.path, "ds1ds2", frame, info)
    result = run_bench(
        dataset.path, tmp_path / "bench", models=["logreg"], features=["summary"], splits=["random", "ds1ds2"], seeds=2
    )
    assert result.audits["random"]["verdict"] == "FAIL"
    verdicts = {check["check"]: check["verdict"] for check in result.audits["ds1ds2"]["checks"]}
    assert verdicts["group_overlap"] == "PASS"
    test = result.results.query("model == 'logreg' and subset == 'test' and metric == 'average_precision'")
    mean = test.groupby("split")["value"].mean()
    assert mean["random"] > mean["ds1ds2"]  # the inflated score, next to the honest one
    report = (result.out / "report.md").read_text()
    assert "Untrustworthy splits: `random`" in report
    assert "ds1ds2 ⚠" not in report
