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
        inputs=InputOptions(event_symbols=("V",), allow_mixed_channels=True),  # V1, V2 and V5 second leads
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


DS1_ALL = "101,106,108,109,112,114,115,116,118,119,122,124,201,203,205,207,208,209,215,220,223,230".split(",")
DS2_ALL = "100,103,105,111,113,117,121,123,200,202,210,212,213,214,219,221,222,228,231,232,233,234".split(",")


@pytest.mark.skipif(not MITDB.is_dir(), reason=f"MIT-BIH records not found at {MITDB} (../shared/data/mitdb)")
def test_ds1_ds2_interval_covers_the_22_test_records(tmp_path):
    """The AP interval on the fixed inter-patient split is as wide as resampling the 22 DS2 records.

    The independent computation: a plain loop that draws 22 records with replacement, repeats each record's
    windows, and calls scikit-learn for every seed. The older interval (over seeds only) is far narrower.
    """
    import numpy as np
    from sklearn.metrics import average_precision_score

    dataset = build_dataset(
        [MITDB / f"{record}.hea" for record in DS1_ALL + DS2_ALL],
        tmp_path / "v",
        inputs=InputOptions(event_symbols=("V",), allow_mixed_channels=True),  # V1, V2 and V5 second leads
        config=SamplingConfig(align="center", window_ms=600, neg_mult=2),
    )
    frame, info = make_split(dataset, "group", test_groups=DS2_ALL, seed=0)
    save_split(dataset.path, "ds1ds2", frame, info)
    result = run_bench(
        dataset.path, tmp_path / "bench", models=["et"], features=["summary"], splits=["ds1ds2"], seeds=3
    )
    row = result.summary.query("model == 'et' and metric == 'average_precision'").iloc[0]
    assert row["n_test_groups"] == 22 and row["n_seeds"] == 3 and row["ci_method"] == "cluster"

    test = result.scores.query("model == 'et' and subset == 'test'").sort_values(["seed", "window_id"])
    matrix = np.stack([part["score"].to_numpy() for _, part in test.groupby("seed")])
    first = test[test["seed"] == 0]
    labels, records = first["label"].to_numpy(), first["group"].astype(str).to_numpy()
    names = np.unique(records)
    codes = np.searchsorted(names, records)
    assert np.mean([average_precision_score(labels, s) for s in matrix]) == pytest.approx(row["mean"], abs=1e-12)
    draws = np.random.default_rng(12345).integers(0, len(names), size=(1000, len(names)))
    statistics = []
    for draw in draws:
        repeats = np.bincount(draw, minlength=len(names))[codes]
        if labels[repeats > 0].min() == labels[repeats > 0].max():
            continue
        y = np.repeat(labels, repeats)
        statistics.append(np.mean([average_precision_score(y, np.repeat(s, repeats)) for s in matrix]))
    low, high = np.percentile(statistics, [2.5, 97.5])
    width, loop_width = row["ci_high"] - row["ci_low"], high - low
    assert width >= 0.85 * loop_width  # the same estimator, up to Monte Carlo error of 1,000 draws each
    assert width <= 1.2 * loop_width
    assert row["ci_low"] < row["mean"] < row["ci_high"]

    seeds_only = result.results.query("model == 'et' and subset == 'test' and metric == 'average_precision'")
    spread = seeds_only["value"].max() - seeds_only["value"].min()
    print(f"DS1/DS2 et AP {row['mean']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]; loop width {loop_width:.3f}")
    assert width > 3 * spread  # what the interval over seeds alone would have said
